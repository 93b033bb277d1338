// Command mkpayload builds the sample ROM's A/B OTA package: a zip holding
// payload.bin (a full payload of REPLACE_XZ operations written by
// payload.Write), payload_properties.txt and META-INF/com/android/metadata,
// every member STORED (as update_engine reads payload.bin at its offset in the
// zip) and with a fixed timestamp, so the output is deterministic.
//
// Usage:
//
//	mkpayload -o ota-payload.zip -metadata METADATA [-epoch SECONDS] NAME=IMAGE...
package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload"
)

func main() {
	out := flag.String("o", "", "output zip")
	meta := flag.String("metadata", "", "file to store as META-INF/com/android/metadata")
	epoch := flag.Int64("epoch", 1700000000, "timestamp of every zip member (SOURCE_DATE_EPOCH)")
	flag.Parse()
	if *out == "" || *meta == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkpayload -o ota-payload.zip -metadata FILE [-epoch SECONDS] NAME=IMAGE...")
		os.Exit(2)
	}
	if err := run(*out, *meta, time.Unix(*epoch, 0).UTC(), flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkpayload:", err)
		os.Exit(1)
	}
}

func run(out, metaPath string, mtime time.Time, args []string) error {
	meta, err := os.ReadFile(metaPath)
	if err != nil {
		return fmt.Errorf("read metadata: %w", err)
	}
	var parts []payload.PartitionSpec
	for _, a := range args {
		name, file, ok := strings.Cut(a, "=")
		if !ok || name == "" || file == "" {
			return fmt.Errorf("argument %q: want NAME=IMAGE", a)
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		parts = append(parts, payload.PartitionSpec{Name: name, Data: f, Size: st.Size()})
	}
	var pl bytes.Buffer
	if err := payload.Write(&pl, parts, payload.WriteOptions{XZ: true}); err != nil {
		return err
	}
	props, err := properties(pl.Bytes())
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(out), ".mkpayload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	zw := zip.NewWriter(tmp)
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"META-INF/com/android/metadata", meta},
		{"payload.bin", pl.Bytes()},
		{"payload_properties.txt", props},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store, Modified: mtime})
		if err != nil {
			return err
		}
		if _, err := w.Write(m.data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(tmp.Name(), mtime, mtime); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// properties renders payload_properties.txt as ota_from_target_files does:
// the SHA-256 (base64) and size of the whole payload and of its metadata
// (header and manifest, before the metadata signature).
func properties(pl []byte) ([]byte, error) {
	p, err := payload.Open(bytes.NewReader(pl), int64(len(pl)), extract.Limits{})
	if err != nil {
		return nil, fmt.Errorf("reopen payload: %w", err)
	}
	metaSize, _ := p.MetadataSignature()
	if metaSize <= 0 || metaSize > int64(len(pl)) {
		return nil, errors.New("reopen payload: no metadata size")
	}
	fileHash := sha256.Sum256(pl)
	metaHash := sha256.Sum256(pl[:metaSize])
	enc := base64.StdEncoding.EncodeToString
	return fmt.Appendf(nil, "FILE_HASH=%s\nFILE_SIZE=%d\nMETADATA_HASH=%s\nMETADATA_SIZE=%d\n",
		enc(fileHash[:]), len(pl), enc(metaHash[:]), metaSize), nil
}
