package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

func checkIndent(t *testing.T, src []byte) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, src); err != nil {
		return // only valid JSON comes from json.Marshal
	}
	for _, prefix := range []string{"", "    "} {
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), prefix, "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndent(nil, compact.Bytes(), prefix, "  "); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendIndent(%q, prefix %q):\n%s\njson.Indent:\n%s", compact.Bytes(), prefix, got, want.Bytes())
		}
	}
}

// TestAppendIndent compares appendIndent with json.Indent on the JSON of
// the report's fixtures and on edge cases.
func TestAppendIndent(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":[]}`, `{"a":{},"b":[1,2,{}]}`, `"x"`, `1`, `null`,
		`{"s":"a\"b\\","t":"{[,:]}","u":"\u00e9<>&"}`, `[[[]],[[1]]]`, `{"a":"\\\\"}`,
	} {
		checkIndent(t, []byte(s))
	}
	for _, r := range fixtures(t) {
		b, err := json.Marshal(NewConnection(r))
		if err != nil {
			t.Fatal(err)
		}
		checkIndent(t, b)
	}
}

func FuzzAppendIndent(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":{}}`, `[]`, `"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkIndent(t, b) })
}
