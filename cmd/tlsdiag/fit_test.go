package main

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"github.com/tlsdiag/tlsdiag/internal/textsafe"
)

// sgr matches the colour escapes the table format writes: red, yellow,
// green and reset, nothing else.
var sgr = regexp.MustCompile("\x1b\\[(?:3[123]|0)m")

// cellWidth counts display cells as the report does (East Asian
// ambiguous characters narrow).
var cellWidth = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

// captureFiles lists every capture under testdata: the lab's, the derived
// and compressed ones, the key log captures, QUIC and the public ones.
func captureFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("../../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		for _, ext := range []string{".pcap", ".pcapng", ".cap", ".gz", ".lz4", ".zst"} {
			if strings.HasSuffix(name, ext) {
				files = append(files, path)
				break
			}
		}
		return nil
	})
	if err != nil || len(files) < 150 {
		t.Fatalf("%d captures under testdata (%v)", len(files), err)
	}
	return files
}

// TestTableFitsWidth reads every capture in testdata with the table
// format at 80 and 120 columns (and at 80 in colour) and checks that no
// line is wider than the terminal, that colour adds nothing but the
// verdicts' escapes, and that nothing the network sent is written raw.
func TestTableFitsWidth(t *testing.T) {
	for _, f := range captureFiles(t) {
		name := strings.TrimPrefix(f, "../../testdata/")
		t.Run(name, func(t *testing.T) {
			for _, columns := range []int{80, 120} {
				t.Setenv("COLUMNS", strconv.Itoa(columns))
				var plain, colored, stderr bytes.Buffer
				if status := run([]string{"read", "--no-system-roots", f}, &plain, &stderr); status == 2 && plain.Len() == 0 {
					t.Fatalf("exit status 2: %s", stderr.String())
				}
				if plain.Len() == 0 {
					t.Fatalf("no output")
				}
				checkFits(t, plain.String(), columns)
				if columns != 80 {
					continue
				}
				run([]string{"read", "--no-system-roots", "--color", "always", f}, &colored, &stderr)
				stripped := sgr.ReplaceAllString(colored.String(), "")
				if stripped != plain.String() {
					t.Errorf("colour changed more than the verdicts:\n%s", colored.String())
				}
				if i := textsafe.Find(stripped, true); i >= 0 {
					t.Errorf("forbidden %q at %d", stripped[i:min(i+4, len(stripped))], i)
				}
			}
		})
	}
}

func checkFits(t *testing.T, out string, columns int) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if w := cellWidth.StringWidth(line); w > columns {
			t.Errorf("%d columns: line %d is %d wide: %q", columns, i+1, w, line)
		}
	}
}
