package diagnose

import (
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// stamp formats a certificate date or capture time, always in UTC so that
// output does not depend on the machine's zone.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// span formats a long duration (between dates) coarsely, rounded to the
// unit it is given in.
func span(d time.Duration) string {
	round := func(unit time.Duration) int { return int((d + unit/2) / unit) }
	switch {
	case d >= 48*time.Hour:
		return prose.Count(round(24*time.Hour), "day")
	case d >= 2*time.Hour:
		return prose.Count(round(time.Hour), "hour")
	case d >= 2*time.Minute:
		return prose.Count(round(time.Minute), "minute")
	}
	return wait(d)
}

// Span formats a duration as the verdicts do, with a precision that suits
// its size: "1 hour", "3 minutes", "2.5 s", "40 ms".
func Span(d time.Duration) string { return span(d) }

// wait formats a short duration (a handshake's pace) with a precision
// that suits its size.
func wait(d time.Duration) string {
	var b [32]byte
	return string(appendWait(b[:0], d))
}

// appendWait appends wait(d): formatted in place, the number and its
// unit are one string, not three.
func appendWait(b []byte, d time.Duration) []byte {
	switch {
	case d < 0:
		return append(b, "0 ms"...)
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, int64(d/time.Microsecond), 10), " µs"...)
	case d < time.Second:
		return append(strconv.AppendInt(b, int64(d/time.Millisecond), 10), " ms"...)
	case d < 2*time.Minute:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 1, 64), " s"...)
	}
	return append(b, span(d)...)
}

// list joins items, naming at most max of them.
func list(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:max], ", "), len(items)-max)
}

// names maps values with a String method to their names.
func names[T fmt.Stringer](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// versionList names versions, e.g. "TLS 1.3, TLS 1.2".
func versionList(vs []tlsparse.Version) string {
	var b [128]byte
	return string(appendVersionList(b[:0], vs))
}

// appendVersionList appends versionList(vs), as list(names(vs), 6) joins
// them, without a string for each name and one for the list.
func appendVersionList(b []byte, vs []tlsparse.Version) []byte {
	const max = 6
	if len(vs) == 0 {
		return append(b, "no version"...)
	}
	for i, v := range vs[:min(len(vs), max)] {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v.String()...)
	}
	if len(vs) > max {
		b = append(strconv.AppendInt(append(b, " and "...), int64(len(vs)-max), 10), " more"...)
	}
	return b
}

// quoteList quotes strings: 'h2', 'http/1.1'.
func quoteList(ss []string, max int) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return list(q, max)
}

// frameRef names a frame in a summary: "frame 12".
func frameRef(n int64) string {
	// Formatted on the stack: most verdicts name a frame or two, and
	// "frame " + strconv.FormatInt made two strings for each.
	var b [32]byte
	return string(appendFrameRef(b[:0], n))
}

// appendFrameRef appends frameRef(n) to b.
func appendFrameRef(b []byte, n int64) []byte {
	return strconv.AppendInt(append(b, "frame "...), n, 10)
}

// textMemo holds texts a diagnosis made, one in each slot, the slot
// chosen by a hash of the text: the connections of a capture get the same
// few warnings and fixes again and again (the downgrade warning, a fix of
// a KB or two for each kind of failure), each a string of its own before.
// Only texts up to maxMemoText bytes are kept, so that it holds at most
// 256 KB.
type textMemo [128]string

const maxMemoText = 2 << 10

var textSeed = maphash.MakeSeed()

// text returns b as a string: the one made before for the same bytes
// when d's memo holds it, else a new one, which the memo then holds.
func (d *diagnosis) text(b []byte) string {
	if d.texts == nil || len(b) > maxMemoText {
		return string(b)
	}
	t := &d.texts[maphash.Bytes(textSeed, b)%uint64(len(d.texts))]
	if *t != string(b) { // compared without a copy
		*t = string(b)
	}
	return *t
}
