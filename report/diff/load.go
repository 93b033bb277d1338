package diff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/report"
)

// MaxReportSize bounds a JSON report read back.
const MaxReportSize = 2 * extract.GiB

var (
	// ErrSchema says a JSON report has a schema version this romscan
	// cannot read (another major version).
	ErrSchema = errors.New("unsupported report schema version")
	// ErrNotReport says a JSON file is not a romscan report.
	ErrNotReport = errors.New("not a romscan report")
)

// ReadReportFile reads a report saved by `romscan scan -o json=FILE`. isJSON
// is false, with no error, when the file does not start like JSON (it is
// then something to scan: an image, an APK); an error with isJSON true
// means a JSON file that is not a readable report (ErrNotReport,
// ErrSchema).
func ReadReportFile(path string) (r *report.Report, isJSON bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return nil, false, err
	}
	br := bufio.NewReader(f)
	if !startsLikeJSON(br) {
		return nil, false, nil
	}
	r, err = ReadReport(io.LimitReader(br, MaxReportSize))
	if err != nil {
		return nil, true, fmt.Errorf("read report %q: %w", path, err)
	}
	return r, true, nil
}

// startsLikeJSON peeks at the first non-space byte.
func startsLikeJSON(br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	return len(head) > 0 && head[0] == '{'
}

// ReadReport decodes a JSON report and checks its schema version: the same
// major version as report.SchemaVersion is read (newer minors only add
// fields), any other is ErrSchema.
func ReadReport(r io.Reader) (*report.Report, error) {
	br := bufio.NewReaderSize(r, int(64*extract.KiB))
	// A report of another major version may not even decode into today's
	// types: look for its version first, so the error says what is wrong.
	head, _ := br.Peek(int(64 * extract.KiB))
	if m := schemaRE.FindSubmatch(head); m != nil && major(string(m[1])) != major(report.SchemaVersion) {
		return nil, schemaErr(string(m[1]))
	}
	var rep report.Report
	dec := json.NewDecoder(br)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotReport, err)
	}
	if rep.SchemaVersion == "" {
		return nil, fmt.Errorf("%w: no schema_version", ErrNotReport)
	}
	if rep.Apps == nil {
		// Every report lists its apps, even none; a delta does not.
		return nil, fmt.Errorf("%w: no apps list (a diff output?)", ErrNotReport)
	}
	if major(rep.SchemaVersion) != major(report.SchemaVersion) {
		return nil, schemaErr(rep.SchemaVersion)
	}
	return &rep, nil
}

var schemaRE = regexp.MustCompile(`"schema_version"\s*:\s*"([^"]{0,32})"`)

func schemaErr(v string) error {
	return fmt.Errorf("%w: %q (this romscan reads %s.x; re-scan the input, or use the romscan that wrote it)",
		ErrSchema, report.Clean(v), major(report.SchemaVersion))
}

func major(v string) string {
	m, _, _ := strings.Cut(strings.TrimSpace(v), ".")
	return m
}
