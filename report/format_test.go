package report

import (
	"bytes"
	"strings"
	"testing"
)

// Every registered format is reachable by name, described, and writes
// through a Stream as through Write; help and validation come from the
// same list.
func TestFormatRegistry(t *testing.T) {
	seen := map[Format]bool{}
	help := FormatHelp(false)
	liveHelp := FormatHelp(true)
	for _, spec := range formats {
		f := spec.name
		if seen[f] {
			t.Errorf("format %q registered twice", f)
		}
		seen[f] = true
		if string(f) != strings.ToLower(string(f)) || strings.ContainsAny(string(f), " ,") {
			t.Errorf("format name %q: want lower case, no spaces or commas", f)
		}
		if spec.doc == "" || f.Doc() != spec.doc {
			t.Errorf("format %q has no doc", f)
		}
		if got, err := ParseFormat(" " + strings.ToUpper(string(f)) + " "); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
		if !strings.Contains(help, "\n  "+string(f)+": ") {
			t.Errorf("help does not name %q:\n%s", f, help)
		}
		if strings.Contains(liveHelp, "\n  "+string(f)+": ") == spec.frames {
			t.Errorf("live help and frames disagree for %q", f)
		}
		if f.ListsFrames() != spec.frames {
			t.Errorf("%q.ListsFrames() = %v", f, f.ListsFrames())
		}
		var b bytes.Buffer
		s, err := NewStream(&b, f, Options{})
		if err != nil {
			t.Fatalf("NewStream(%q): %v", f, err)
		}
		if err := s.Close(nil); err != nil {
			t.Errorf("%q: Close: %v", f, err)
		}
	}
	if len(Formats) != len(formats) {
		t.Errorf("Formats has %d names, the registry %d", len(Formats), len(formats))
	}
	_, err := ParseFormat("yaml")
	if err == nil || !strings.Contains(err.Error(), strings.Join(FormatNames(false), ", ")) {
		t.Errorf("ParseFormat(yaml) error = %v, want the list of formats", err)
	}
	if _, err := NewStream(&bytes.Buffer{}, "yaml", Options{}); err == nil {
		t.Error("NewStream accepted an unknown format")
	}
}
