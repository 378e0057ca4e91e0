package report

import "github.com/tlsdiag/tlsdiag/internal/textsafe"

// The text formats (table, trace, markdown, a Stream's blocks) write every
// string from the wire or from a verdict through one of these two, which
// apply textsafe's rule: control characters, bidirectional controls and
// invalid UTF-8 are written as visible escapes (\x1b, \u202e), and long
// values are cut with the size they had. The csv format escapes but keeps
// values whole; the json formats write them exactly.

// clean is a sentence (a summary, a fix, a warning, a note, a frame's
// Info): escaped, and any word longer than a name cut.
func clean(s string) string { return textsafe.Sentence(s) }

// cleanName is one value (a server name, a file name): escaped and cut at
// textsafe.NameWidth.
func cleanName(s string) string { return textsafe.Cut(s, textsafe.NameWidth) }
