package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"good.test", "good.test"},
		{"", ""},
		{"TLS 1.0–TLS 1.2 → ok", "TLS 1.0–TLS 1.2 → ok"},
		{"evil\x1b[31m.test", `evil\x1b[31m.test`},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", `\x1b]8;;http://x\x1b\link\x1b]8;;\x1b\`},
		{"\x1b]52;c;aGk=\x07", `\x1b]52;c;aGk=\x07`},
		{"a\nb\tc\rd", `a\x0ab\x09c\x0dd`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085\u009b", `c1\u0085\u009b`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
		{"real\uFFFDreplacement", "real\uFFFDreplacement"},
		{"moc.\u202elive", `moc.\u202elive`},
		{"\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{`already \x1b`, `already \x1b`},
	}
	for _, tt := range tests {
		got := Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if Text(got) != got {
			t.Errorf("Text(Text(%q)) = %q, not idempotent", tt.in, Text(got))
		}
		if i := Find(got, false); i >= 0 {
			t.Errorf("Text(%q) = %q keeps a forbidden character at %d", tt.in, got, i)
		}
	}
}

func TestLines(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\n\tbody \x1b[2J\u202e\n"
	want := "HTTP/1.1 200 OK\\x0d\n\tbody \\x1b[2J\\u202e\n"
	if got := Lines(in); got != want {
		t.Errorf("Lines(%q) = %q, want %q", in, got, want)
	}
	if i := Find(Lines(in), true); i >= 0 {
		t.Errorf("Lines output has a forbidden character at %d", i)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven cha…(11 bytes)"},
		{"\x1b\x1b\x1b", 8, `\x1b\x1b…(3 bytes)`}, // an escape is never split
		{"\x1b\x1b\x1b", 7, `\x1b…(3 bytes)`},     // …nor half-written
		{"ééééé", 3, "ééé…(10 bytes)"},            // characters, not bytes
		{strings.Repeat("a", 60000), 4, "aaaa…(60000 bytes)"},
	}
	for _, tt := range tests {
		if got := Cut(tt.in, tt.width); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestSentence(t *testing.T) {
	long := strings.Repeat("x", 60000)
	got := Sentence("the server does not serve the name " + long + ", it says")
	want := "the server does not serve the name " + strings.Repeat("x", NameWidth) + "…(60001 bytes) it says"
	if got != want {
		t.Errorf("Sentence kept %d bytes: %.80q…, want %.80q…", len(got), got, want)
	}
	words := strings.Repeat("word ", 2000)
	got = Sentence(words)
	if n := utf8.RuneCountInString(got); n > TextWidth+20 || !strings.HasSuffix(got, "…(10000 bytes)") {
		t.Errorf("Sentence of 10,000 bytes of words: %d characters, ends %q", n, got[len(got)-30:])
	}
	if got := Sentence("a  b \x1b c "); got != `a  b \x1b c ` {
		t.Errorf("Sentence changed the spacing: %q", got)
	}
}

// FuzzText checks the rule's properties on arbitrary bytes: nothing
// forbidden survives, escaping twice changes nothing, and text without
// anything to escape is left alone.
func FuzzText(f *testing.F) {
	f.Add("evil\x1b[2J\u202e\xff\r\n", 10)
	f.Fuzz(func(t *testing.T, s string, width int) {
		width = max(0, width%512)
		for name, got := range map[string]string{"Text": Text(s), "Cut": Cut(s, width), "Sentence": Sentence(s)} {
			if i := Find(got, false); i >= 0 {
				t.Fatalf("%s(%q) = %q: forbidden at %d", name, s, got, i)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("%s(%q) = %q: invalid UTF-8", name, s, got)
			}
		}
		if l := Lines(s); Find(l, true) >= 0 || Lines(l) != l {
			t.Fatalf("Lines(%q) = %q", s, l)
		}
		if Text(Text(s)) != Text(s) {
			t.Fatalf("Text is not idempotent on %q", s)
		}
		if Find(s, false) < 0 && Text(s) != s {
			t.Fatalf("Text changed safe %q", s)
		}
		if c := Cut(s, width); utf8.RuneCountInString(c) > width+len("…( bytes)")+20 {
			t.Fatalf("Cut(%q, %d) = %q is too long", s, width, c)
		}
	})
}
