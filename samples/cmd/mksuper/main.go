// Command mksuper builds the sample ROM's super.img (Android dynamic
// partitions, LP metadata) with superimg.Write: each NAME=IMAGE argument
// becomes a read-only logical partition in the "default" group, on one block
// device "super", with two metadata slots and 1 MiB alignment as lpmake
// writes them. The output depends only on the inputs.
//
// Usage:
//
//	mksuper -o super.img NAME=IMAGE...
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/romscan/romscan/extract/superimg"
)

func main() {
	out := flag.String("o", "", "output super image")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mksuper -o super.img NAME=IMAGE...")
		os.Exit(2)
	}
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mksuper:", err)
		os.Exit(1)
	}
}

func run(out string, args []string) error {
	var parts []superimg.PartitionSpec
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
		parts = append(parts, superimg.PartitionSpec{Name: name, Data: f, Size: st.Size()})
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mksuper-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := superimg.Write(tmp, parts, superimg.WriteOptions{}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
