// Package textsafe is the one rule by which text from the network is made
// safe to write for a human: in a terminal, a spreadsheet or a ticket.
//
// Server names, certificate subjects, ALPN values, HTTP responses and what
// a non-TLS peer sent are chosen by whoever is at the other end. Written
// raw, a C0 or C1 control character moves the cursor, recolours or clears
// the terminal, sets its title (OSC 0), makes a hyperlink (OSC 8) or fills
// the clipboard (OSC 52); a carriage return or line feed forges a line of
// the report; a bidirectional control (U+202E) makes one name read as
// another; and invalid UTF-8 is interpreted differently by each reader.
//
// Every such code point is written visibly instead, as a Go escape:
// C0 controls, DEL and invalid bytes as \x1b, C1 controls, bidirectional
// controls and the line and paragraph separators as \u0085, \u202e. Every
// other character, including U+FFFD as sent, is kept. The escapes are
// plain ASCII and a backslash is kept as it is, so escaping text twice
// changes nothing the second time.
//
// The rule is applied where text is written for a human (report's text
// formats, probe's text, cmd's messages), never earlier: records and
// verdicts keep the exact bytes, and the JSON formats write them exactly
// (encoding/json escapes by itself).
package textsafe

import (
	"strconv"
	"unicode/utf8"
)

// Widths for Cut.
const (
	// NameWidth is the most a name (a server name, a file name, a
	// certificate subject, one word of a sentence) shows in the text
	// formats: more than a DNS name may have (253), less than a 60 KB
	// SNI would make of a table.
	NameWidth = 256
	// TextWidth is the most a sentence (a summary, a fix, a note) shows.
	TextWidth = 2048
)

// Forbidden reports whether r must not be written raw for a human: a C0
// control, DEL, a C1 control, a bidirectional control (U+061C, U+200E,
// U+200F, U+202A–U+202E, U+2066–U+2069), or the line or paragraph
// separator (U+2028, U+2029), which some terminals and editors break lines
// on. utf8.RuneError stands for an invalid byte only when the caller
// decoded one; the character U+FFFD itself is allowed.
func Forbidden(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Find returns the byte index of the first thing in s that the rule
// forbids (an invalid UTF-8 byte or a Forbidden rune; a line feed or a tab
// too unless lines is set), or -1 when s is safe. Tests use it to check
// output.
func Find(s string, lines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if lines && (c == '\n' || c == '\t') {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || Forbidden(r) {
			return i
		}
		i += n
	}
	return -1
}

// Text returns s with every forbidden character escaped, line feeds and
// tabs included: a value stays on its line and in its cell.
func Text(s string) string {
	if Find(s, false) < 0 {
		return s
	}
	b, _ := appendEscaped(nil, s, false, -1)
	return string(b)
}

// Lines returns s escaped like Text but with line feeds and tabs kept:
// for text that is meant to span lines, such as a response body.
func Lines(s string) string {
	if Find(s, true) < 0 {
		return s
	}
	b, _ := appendEscaped(nil, s, true, -1)
	return string(b)
}

// Cut returns Text(s) cut to at most width characters of escaped text
// followed by "…(N bytes)", N being the length of s, when it is longer.
func Cut(s string, width int) string {
	if len(s) <= width && Find(s, false) < 0 {
		return s
	}
	b, cut := appendEscaped(make([]byte, 0, min(len(s), width)+16), s, false, width)
	if cut {
		b = append(b, "…("...)
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, " bytes)"...)
	}
	return string(b)
}

// Sentence returns Text(s) with each word (a run without spaces) longer
// than NameWidth cut as Cut cuts it, and the whole cut at TextWidth: a
// verdict's summary that quotes a 60 KB server name shows its start, the
// rest of the sentence stays whole.
func Sentence(s string) string {
	if len(s) <= TextWidth && Find(s, false) < 0 && longestWord(s) <= NameWidth {
		return s
	}
	b := make([]byte, 0, min(len(s), TextWidth)+32)
	for start := 0; start < len(s); {
		end := start
		for end < len(s) && s[end] != ' ' {
			end++
		}
		word := s[start:end]
		if len(word) > NameWidth || Find(word, false) >= 0 {
			word = Cut(word, NameWidth)
		}
		b = append(b, word...)
		if end < len(s) {
			b = append(b, ' ')
		}
		start = end + 1
	}
	out := string(b)
	if utf8.RuneCountInString(out) > TextWidth {
		// Already escaped: cut it by characters, naming the original size.
		n, i := 0, 0
		for i = range out {
			if n == TextWidth {
				break
			}
			n++
		}
		out = out[:i] + "…(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return out
}

// longestWord is the length in bytes of the longest run of s without
// spaces.
func longestWord(s string) int {
	longest, n := 0, 0
	for i := range len(s) {
		if s[i] == ' ' {
			n = 0
			continue
		}
		n++
		longest = max(longest, n)
	}
	return longest
}

// appendEscaped appends s escaped to b. With width ≥ 0 it stops before the
// escaped text would pass width characters and reports that it cut.
func appendEscaped(b []byte, s string, lines bool, width int) ([]byte, bool) {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece, w := s[i:i+size], 1
		switch {
		case r == utf8.RuneError && size == 1:
			piece = `\x` + hex2(s[i])
		case lines && (r == '\n' || r == '\t'):
		case r < 0x20 || r == 0x7f:
			piece = `\x` + hex2(byte(r))
		case Forbidden(r):
			piece = `\u` + hex4(r)
		}
		if piece[0] == '\\' {
			w = len(piece)
		}
		if width >= 0 && n+w > width {
			return b, true
		}
		b = append(b, piece...)
		n += w
		i += size
	}
	return b, false
}

const hexDigits = "0123456789abcdef"

func hex2(c byte) string { return string([]byte{hexDigits[c>>4], hexDigits[c&0xf]}) }

func hex4(r rune) string {
	return string([]byte{hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf]})
}
