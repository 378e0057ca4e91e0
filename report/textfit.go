package report

import (
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// Fitting text to a terminal's width. Widths are display cells, not bytes
// or runes: a CJK server name takes two cells a character. The condition
// is fixed (not read from the locale) so that the output is the same
// everywhere.
var cells = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

const ellipsis = "…"

// width is the number of cells s takes.
func width(s string) int { return cells.StringWidth(s) }

// cutRight cuts s to at most w cells, ending it with an ellipsis when it
// was cut. w ≤ 0 is no limit.
func cutRight(s string, w int) string {
	if w <= 0 || width(s) <= w {
		return s
	}
	return cells.Truncate(s, w, ellipsis)
}

// cutLeft cuts s to at most w cells from its start, beginning it with an
// ellipsis when it was cut: the end of an address (its port) stays.
func cutLeft(s string, w int) string {
	if w <= 0 || width(s) <= w {
		return s
	}
	if w == 1 {
		return ellipsis
	}
	rs := []rune(s)
	n := 0
	i := len(rs)
	for i > 0 && n+cells.RuneWidth(rs[i-1]) <= w-1 {
		i--
		n += cells.RuneWidth(rs[i])
	}
	return ellipsis + string(rs[i:])
}

// pad fills s with spaces to w cells.
func pad(s string, w int) string {
	if n := width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// padLeft fills s with spaces on the left to w cells.
func padLeft(s string, w int) string {
	if n := width(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return s
}

// wrapFit breaks text into lines of at most w cells at spaces; unlike
// prose.Wrap, a word longer than w is broken too, so no line passes w.
// w ≤ 0 is no limit: the text is one line, its runs of spaces one space.
func wrapFit(text string, w int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return []string{""}
	}
	if w <= 0 {
		return []string{strings.Join(words, " ")}
	}
	var lines []string
	line, lw := "", 0
	for _, word := range words {
		ww := width(word)
		switch {
		case lw > 0 && lw+1+ww <= w:
			line, lw = line+" "+word, lw+1+ww
			continue
		case lw > 0:
			lines = append(lines, line)
			line, lw = "", 0
		}
		for ww > w { // a word wider than the line: break it
			head := cells.Truncate(word, w, "")
			if head == "" { // one character wider than the line
				_, n := utf8.DecodeRuneInString(word)
				head = word[:n]
			}
			lines = append(lines, head)
			word = word[len(head):]
			ww = width(word)
		}
		line, lw = word, ww
	}
	return append(lines, line)
}

// tone is how a verdict is coloured on a terminal.
type tone int

const (
	toneOK   tone = iota // green: the handshake worked, nothing to say
	toneWarn             // yellow: worked with warnings, or not judged
	toneFail             // red: failed
)

func toneOf(r pipeline.Result) tone {
	switch {
	case r.Verdict.Failed():
		return toneFail
	case r.Verdict.NotJudged || len(r.Verdict.Warnings) > 0:
		return toneWarn
	}
	return toneOK
}

// ANSI SGR sequences: foreground red, yellow, green, and reset.
var toneColor = [...]string{toneOK: "\x1b[32m", toneWarn: "\x1b[33m", toneFail: "\x1b[31m"}

const colorReset = "\x1b[0m"

// paint colours s, which is already escaped and fitted: colour is added
// after escaping (the network's own escapes never reach the terminal) and
// takes no cells.
func paint(s string, t tone, on bool) string {
	if !on || s == "" {
		return s
	}
	return toneColor[t] + s + colorReset
}
