package tlsparse

import (
	"bytes"
	"fmt"
	"strings"
)

// nonTLSMax bounds the length of an Item.NonTLS description.
const nonTLSMax = 60

var httpMethods = []string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "}

// DescribeNonTLS says what the first bytes of a stream that is not TLS
// look like, as Item.NonTLS does: "HTTP response (HTTP/1.1 403
// Forbidden)". It reads at most the first line.
func DescribeNonTLS(b []byte) string { return describeNonTLS(b) }

// describeNonTLS says what the first bytes of a non-TLS stream look like,
// naming the protocols that commonly sit where TLS was expected: a plaintext
// HTTP peer, an SSH server on 443, or a STARTTLS protocol's greeting.
func describeNonTLS(b []byte) string {
	line := firstLine(b)
	s := string(line)
	switch {
	case strings.HasPrefix(s, "PROXY "):
		// HAProxy's PROXY protocol, version 1: a load balancer's header.
		return label("PROXY protocol header", line)
	case bytes.HasPrefix(b, proxyV2Sig):
		return "PROXY protocol version 2 header"
	case strings.HasPrefix(s, "PRI * HTTP/2.0"):
		// RFC 9113 Section 3.4: an HTTP/2 client with prior knowledge
		// (h2c), as gRPC clients without TLS credentials are.
		return label("HTTP/2 connection preface", line)
	case hasAnyPrefix(s, httpMethods):
		return label("HTTP request", line)
	case strings.HasPrefix(s, "HTTP/"):
		return label("HTTP response", line)
	case strings.HasPrefix(s, "SSH-"):
		return label("SSH banner", line)
	case len(s) >= 4 && isDigits(s[:3]) && (s[3] == ' ' || s[3] == '-'):
		return label("SMTP/FTP banner", line)
	case strings.HasPrefix(s, "+OK"):
		return label("POP3 greeting", line)
	case strings.HasPrefix(s, "* OK"), strings.HasPrefix(s, "* PREAUTH"):
		return label("IMAP greeting", line)
	case hasAnyPrefix(strings.ToUpper(s), []string{"EHLO ", "HELO ", "STARTTLS", "STLS", "AUTH TLS"}),
		hasAnyPrefix(s, []string{". STARTTLS", "a STARTTLS"}):
		return label("STARTTLS-protocol command", line)
	case strings.HasPrefix(s, "<?xml"), strings.HasPrefix(s, "<stream:stream"):
		return label("XMPP stream", line)
	case bytes.HasPrefix(b, []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}):
		// PostgreSQL SSLRequest (protocol docs, "SSL Session Encryption").
		return "PostgreSQL SSLRequest"
	case len(b) >= 3 && b[0]&0x80 != 0 && b[2] == 4:
		// SSLv2 SERVER-HELLO (draft-hickman-netscape-ssl-00): an SSLv2-only server.
		return "SSLv2 server hello"
	case http2ServerSettings(b) > 0:
		// RFC 9113 Section 3.4: an HTTP/2 server's first frame, sent
		// without waiting for the client (gRPC servers without TLS do).
		return "HTTP/2 SETTINGS frame (HTTP/2 without TLS, h2c)"
	case len(b) >= 5 && b[3] == 0 && b[4] == 0x0a:
		// MySQL Initial Handshake packet: 3-byte length, sequence 0, protocol 10.
		return "MySQL server greeting"
	case isText(b):
		// Plain text of another kind (an HTML page without a status line,
		// a greeting): shown as text, which says more than hex.
		return label("text", firstLine(bytes.TrimLeft(b, " \t\r\n")))
	}
	if desc, ok := GarbledAlert(b); ok {
		return fmt.Sprintf("%d bytes shaped as a TLS alert record (length 2, %s) with a zeroed header: %s", len(b), desc, hexPrefix(b, 12))
	}
	return Unrecognised + hexPrefix(b, 12)
}

// Unrecognised begins DescribeNonTLS's description of bytes of no protocol
// it knows.
const Unrecognised = "unrecognised bytes "

// GarbledAlert reports whether b, all a peer sent, has the shape of a TLS
// alert record whose content type, version and level were zeroed: a
// 5-byte header whose length says 2, then a level of 0 to 2 and a known
// description (00 00 00 00 02 00 28 is such a handshake_failure).
// Capture tools and middleboxes that garble records leave such bytes; the
// description is likely, not sure.
func GarbledAlert(b []byte) (AlertDescription, bool) {
	if len(b) != 7 || b[0] != 0 || b[1] != 0 || b[2] != 0 || b[3] != 0 || b[4] != 2 || b[5] > 2 {
		return 0, false
	}
	desc := AlertDescription(b[6])
	_, known := alertNames[desc]
	return desc, known
}

// isText reports whether b starts with at least 4 bytes of printable ASCII
// text (tabs and line ends allowed), up to its first 60 bytes.
func isText(b []byte) bool {
	b = b[:min(len(b), nonTLSMax)]
	if len(bytes.TrimSpace(b)) < 4 {
		return false
	}
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimRight(b, "\r")
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// label formats "kind (line)", the line made printable and shortened so the
// whole description stays within nonTLSMax characters.
func label(kind string, line []byte) string {
	room := nonTLSMax - len(kind) - 3
	var sb strings.Builder
	// Its size is known: one allocation, not one per doubling.
	sb.Grow(len(kind) + len(" (") + min(len(line), room) + len("…") + len(")"))
	sb.WriteString(kind)
	sb.WriteString(" (")
	for i, c := range line {
		if i >= room {
			sb.WriteString("…")
			break
		}
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		sb.WriteByte(c)
	}
	sb.WriteByte(')')
	return sb.String()
}

func hexPrefix(b []byte, n int) string {
	var sb strings.Builder
	for i, c := range b {
		if i == n {
			sb.WriteString(" …")
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// http2ServerSettings returns the length of the HTTP/2 SETTINGS frame b
// begins with (RFC 9113 Sections 4.1 and 6.5: a 9-byte header of length,
// type 0x4, no flags, stream 0, then 6 bytes per setting; a server's
// connection preface), or 0 when b does not begin with a whole one.
func http2ServerSettings(b []byte) int {
	if len(b) < 9 || b[3] != 0x4 || b[4] != 0 || b[5]|b[6]|b[7]|b[8] != 0 {
		return 0
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	if n%6 != 0 || n > 6*16 || len(b) < 9+n {
		return 0
	}
	return 9 + n
}

// http2SettingsPrefix reports whether b may still grow into an HTTP/2
// SETTINGS frame: every byte of its 9-byte header that b holds fits one.
func http2SettingsPrefix(b []byte) bool {
	if len(b) >= 3 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if n%6 != 0 || n > 6*16 {
			return false
		}
	}
	for i := 3; i < min(len(b), 9); i++ {
		if i == 3 && b[i] != 0x4 || i > 3 && b[i] != 0 {
			return false
		}
	}
	return len(b) > 0 && b[0] == 0
}
