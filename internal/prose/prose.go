// Package prose words counts and wraps sentences for the text tlsdiag
// writes for people.
package prose

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Plural returns one when n is 1 and the plural otherwise: many[0] if
// given (for irregular plurals, "it was" / "they were"), or one with an s.
func Plural[N ~int | ~int64](n N, one string, many ...string) string {
	if n == 1 {
		return one
	}
	if len(many) > 0 {
		return many[0]
	}
	return one + "s"
}

// Count writes n and the noun, plural when n is not 1: "1 frame",
// "3 frames".
func Count[N ~int | ~int64](n N, noun string) string {
	return strconv.FormatInt(int64(n), 10) + " " + Plural(n, noun)
}

// Thousands writes n with comma separators: 1,812; 157,593.
func Thousands[N ~int | ~int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Wrap breaks text into lines of at most width characters at spaces,
// runs of spaces becoming one; a word longer than width gets a line of
// its own, whole, so that a name or an address can still be copied.
// Empty text is one empty line.
func Wrap(text string, width int) []string {
	// The lines are written one after the other into all, then cut out
	// of it: adding word after word to a line made a string per word and
	// counted the line's characters again each time.
	all := make([]byte, 0, len(text))
	var ends []int // where each line but the last ends in all
	n := -1        // characters in the line being written; -1 before the first word
	for w := range strings.FieldsSeq(text) {
		wn := utf8.RuneCountInString(w)
		switch {
		case n < 0:
			n = wn
		case n+1+wn > width:
			ends = append(ends, len(all))
			n = wn
		default:
			all = append(all, ' ')
			n += 1 + wn
		}
		all = append(all, w...)
	}
	text = string(all)
	lines := make([]string, 0, len(ends)+1)
	start := 0
	for _, end := range ends {
		lines = append(lines, text[start:end])
		start = end
	}
	return append(lines, text[start:])
}
