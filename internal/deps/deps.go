package deps

import (
	_ "github.com/andybalholm/brotli"
	_ "github.com/avast/apkparser"
	_ "github.com/avast/apkverifier"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/hillu/go-yara/v4"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/owenrumney/go-sarif/v3/pkg/report"
	_ "github.com/pierrec/lz4/v4"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/shogo82148/androidbinary"
	_ "github.com/ulikunitz/xz"
	_ "golang.org/x/term"
	_ "google.golang.org/protobuf/proto"
)
