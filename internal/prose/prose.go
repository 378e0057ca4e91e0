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

// Wrap breaks text into lines of at most width characters at spaces,
// runs of spaces becoming one; a word longer than width gets a line of
// its own, whole, so that a name or an address can still be copied.
// Empty text is one empty line.
func Wrap(text string, width int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	line := words[0]
	for _, w := range words[1:] {
		if utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line += " " + w
	}
	return append(lines, line)
}
