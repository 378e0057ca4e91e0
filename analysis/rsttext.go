package analysis

import "strings"

// maxRSTText bounds TCPFacts.RSTText.
const maxRSTText = 256

// rstText returns the text a RST's payload holds: printable ASCII, after
// trailing NULs, line ends and spaces are dropped, cut to maxRSTText
// bytes; "" when the payload is empty or not such text (a RST that
// repeats the data it answers, say).
func rstText(payload []byte) string {
	b := payload[:min(len(payload), maxRSTText)]
	s := strings.TrimRight(string(b), "\x00\r\n\t ")
	if len(s) < 4 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' || c > '~') && c != '\t' {
			return ""
		}
	}
	return s
}
