package walk

import (
	"context"
	"fmt"
	"io"

	"github.com/romscan/romscan/extract"
)

// blockOTAMember turns a transfer list and its new.dat into the partition image.
func blockOTAMember(list, data Member, env *Env) Member {
	return Member{Path: data.Path, Size: data.Size, Open: func(ctx context.Context) (io.ReaderAt, func(), error) {
		return nil, nil, fmt.Errorf("block OTA: %w", extract.ErrUnsupported)
	}}
}
