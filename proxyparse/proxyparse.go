// Package proxyparse reads the exchange that opens a tunnel through a proxy
// at the start of a TCP connection: an HTTP CONNECT request and its reply
// (RFC 9110, Section 9.3.6), or a SOCKS4/4a or SOCKS5 negotiation (RFC 1928,
// RFC 1929). It is pure: bytes in, facts out, no I/O.
package proxyparse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Kind is the proxy protocol of an exchange.
type Kind uint8

const (
	KindNone        Kind = iota
	KindHTTPConnect      // HTTP CONNECT
	KindSOCKS4           // SOCKS4 or SOCKS4a
	KindSOCKS5           // SOCKS5
)

// String returns the kind's stable snake_case name.
func (k Kind) String() string {
	switch k {
	case KindHTTPConnect:
		return "http_connect"
	case KindSOCKS4:
		return "socks4"
	case KindSOCKS5:
		return "socks5"
	}
	return "none"
}

// Words names the kind in a sentence: "CONNECT", "SOCKS4", "SOCKS5".
func (k Kind) Words() string {
	switch k {
	case KindHTTPConnect:
		return "CONNECT"
	case KindSOCKS4:
		return "SOCKS4"
	case KindSOCKS5:
		return "SOCKS5"
	}
	return "proxy"
}

// Outcome is what the proxy answered.
type Outcome uint8

const (
	// Unanswered: no complete reply (yet).
	Unanswered Outcome = iota
	// Granted: the tunnel is open (HTTP 2xx, SOCKS success).
	Granted
	// Refused: the proxy will not open this tunnel (HTTP 403 and other
	// refusals, SOCKS4 0x5B, SOCKS5 "not allowed by ruleset").
	Refused
	// AuthRequired: the proxy wants credentials it did not get (HTTP 407,
	// SOCKS5 no acceptable method or a failed user name/password).
	AuthRequired
	// UpstreamFailed: the proxy could not reach the target (HTTP 502, 503,
	// 504; SOCKS5 host or network unreachable, connection refused).
	UpstreamFailed
)

// String returns the outcome's stable snake_case name.
func (o Outcome) String() string {
	switch o {
	case Granted:
		return "granted"
	case Refused:
		return "refused"
	case AuthRequired:
		return "auth_required"
	case UpstreamFailed:
		return "upstream_failed"
	}
	return "unanswered"
}

// Exchange is what the first bytes of both directions of a connection show
// of a proxy negotiation.
type Exchange struct {
	Kind Kind
	// Target is the host and port the client asked for, as "host:port"
	// (IPv6 in brackets); Host and Port are its parts.
	Target string
	Host   string
	Port   uint16
	// RequestEnd is the offset in the client's stream just past its last
	// negotiation message (the CONNECT request with its headers, or the
	// SOCKS request); 0 while incomplete.
	RequestEnd int
	// ReplyEnd is the offset in the server's stream just past the reply
	// that decided the outcome; 0 while there is none.
	ReplyEnd int
	// ReplyPartial is set while an HTTP reply's header block is
	// incomplete: ReplyEnd then ends its status line, and the rest of its
	// header fields (a 407's challenges) may be in bytes still to come.
	ReplyPartial bool
	// Status is the HTTP status code, or the SOCKS reply code.
	Status int
	// StatusLine is the HTTP status line, or the SOCKS reply in words,
	// e.g. "SOCKS5 reply 0x05 (connection refused)".
	StatusLine string
	Outcome    Outcome
	// Credentials is set when the client sent proxy credentials
	// (Proxy-Authorization, SOCKS5 user name/password).
	Credentials bool
	// ReplyStart is the offset in the server's stream where the deciding
	// reply starts: 0 unless the client asked again after a 407.
	ReplyStart int
	// Retries counts the CONNECT requests the client sent on the same
	// connection after a 407 (curl --proxy-anyauth, the second round of
	// NTLM and Negotiate); the other fields are then the last exchange's.
	Retries int
	// CredentialScheme is the authentication scheme of the client's HTTP
	// Proxy-Authorization ("Basic", "NTLM", "Negotiate", …), as sent;
	// empty without one.
	CredentialScheme string
	// AuthSchemes are the authentication schemes an HTTP 407 reply
	// offered (its Proxy-Authenticate challenges, RFC 9110, Section
	// 11.7.1), in order, as sent, joined by ", " (a string keeps Exchange
	// comparable); empty when it offered none or the reply is no 407.
	AuthSchemes string
}

// MaxHead is how many bytes of each direction Parse ever needs: a CONNECT
// request or reply whose headers are longer is judged by its first line.
const MaxHead = 16384

// Starts reports whether a client's first bytes may be the start of a
// proxy request: then the caller should keep up to MaxHead bytes of both
// directions for Parse.
func Starts(client []byte) bool {
	switch {
	case len(client) == 0:
		return false
	case client[0] == 4:
		return len(client) < 2 || client[1] == 1 || client[1] == 2
	case client[0] == 5:
		return len(client) < 2 || client[1] >= 1
	}
	const m = "CONNECT "
	n := min(len(client), len(m))
	return string(client[:n]) == m[:n]
}

// Parse reads the proxy negotiation from the first bytes of the client's
// and the server's streams (at most MaxHead of each). It returns ok false
// when the client's bytes are not a proxy request.
func Parse(client, server []byte) (Exchange, bool) {
	switch {
	case len(client) == 0:
		return Exchange{}, false
	case len(client) < len("CONNECT ") && string(client) == "CONNECT "[:len(client)]:
		return Exchange{Kind: KindHTTPConnect}, true
	case bytes.HasPrefix(client, []byte("CONNECT ")):
		return parseHTTP(client, server)
	case client[0] == 4:
		return parseSOCKS4(client, server)
	case client[0] == 5:
		return parseSOCKS5(client, server)
	}
	return Exchange{}, false
}

// line returns the first CRLF- (or LF-) terminated line of b and the
// offset after it; ok is false when b holds no complete line.
func line(b []byte) (string, int, bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return "", 0, false
	}
	return string(bytes.TrimRight(b[:i], "\r")), i + 1, true
}

// headersEnd returns the offset after the empty line that ends an HTTP
// header block, or 0.
func headersEnd(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return i + 2
	}
	return 0
}

// parseHTTP reads the CONNECT exchanges of one connection: a client that
// authenticates after a 407 (curl --proxy-anyauth, NTLM's and Negotiate's
// second round) sends its next CONNECT on the same connection once the
// 407 and its body are over, and the last exchange is the one that
// decides.
func parseHTTP(client, server []byte) (Exchange, bool) {
	x, ok := parseHTTPRound(client, server)
	if !ok {
		return x, false
	}
	// x's offsets are the whole streams'; sOff is where its reply starts.
	sOff := 0
	for x.Outcome == AuthRequired && !x.ReplyPartial && x.Retries < maxRetries {
		next := client[x.RequestEnd:]
		if len(next) == 0 || !bytes.HasPrefix(next, []byte("CONNECT "[:min(len(next), len("CONNECT "))])) {
			break
		}
		body, known := contentLength(server[sOff:x.ReplyEnd])
		if !known {
			break // the 407's body has no known end: the next reply cannot be found
		}
		nc, ns := x.RequestEnd, min(x.ReplyEnd+body, len(server))
		y, ok := parseHTTPRound(client[nc:], server[ns:])
		if !ok {
			break
		}
		if x.ReplyEnd+body > len(server) {
			// The rest of the 407's body is still to come.
			y.Status, y.StatusLine, y.ReplyEnd, y.ReplyPartial, y.Outcome, y.AuthSchemes = 0, "", 0, false, Unanswered, ""
		}
		y.Retries, y.ReplyStart = x.Retries+1, x.ReplyEnd+body
		if y.RequestEnd > 0 {
			y.RequestEnd += nc
		}
		if y.ReplyEnd > 0 {
			y.ReplyEnd += ns
		}
		x, sOff = y, ns
	}
	return x, true
}

// maxRetries bounds the CONNECT exchanges read after the first.
const maxRetries = 3

// contentLength returns the length of the body of an HTTP reply whose
// header block is head: its Content-Length, or 0 without one (a 407 that
// keeps the connection must say where its body ends; chunked bodies are
// not followed, known false).
func contentLength(head []byte) (int, bool) {
	h := string(head)
	if len(fieldValues(h, "Transfer-Encoding")) > 0 {
		return 0, false // it overrides Content-Length (RFC 9112, Section 6.3)
	}
	v := fieldValues(h, "Content-Length")
	if len(v) == 0 {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	return n, err == nil && n >= 0
}

// fieldValues returns the values of the header fields named name (case
// ignored) of an HTTP header block, whose first line is the request or
// status line, in order.
func fieldValues(head, name string) []string {
	var out []string
	for _, l := range strings.Split(head, "\n")[1:] {
		if n, value, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, value)
		}
	}
	return out
}

// parseHTTPRound reads one CONNECT request and its reply.
func parseHTTPRound(client, server []byte) (Exchange, bool) {
	x := Exchange{Kind: KindHTTPConnect}
	first, _, ok := line(client)
	if !ok {
		return x, true
	}
	// CONNECT authority-form HTTP/1.x (RFC 9112, Section 3.2.3).
	f := strings.Fields(first)
	if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") {
		return Exchange{}, false
	}
	x.Target = f[1]
	if h, p, err := splitHostPort(f[1]); err == nil {
		x.Host, x.Port = h, p
	}
	end := headersEnd(client)
	if end == 0 {
		return x, true
	}
	x.RequestEnd = end
	for _, value := range fieldValues(string(client[:end]), "Proxy-Authorization") {
		x.Credentials = true
		if f := strings.Fields(value); len(f) > 0 && x.CredentialScheme == "" {
			x.CredentialScheme = printable(f[0])
		}
	}
	status, n, ok := line(server)
	if !ok {
		return x, true
	}
	// HTTP-version SP status-code SP [reason-phrase] (RFC 9112, Section 4).
	f = strings.SplitN(status, " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") || len(f[1]) != 3 {
		return x, true
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return x, true
	}
	x.Status, x.StatusLine = code, printable(status)
	x.ReplyEnd, x.ReplyPartial = n, true
	if e := headersEnd(server); e > 0 {
		x.ReplyEnd, x.ReplyPartial = e, false
	}
	switch {
	case code/100 == 1:
		// An interim reply: the final one follows.
		x.Status, x.StatusLine, x.ReplyEnd, x.ReplyPartial = 0, "", 0, false
	case code/100 == 2:
		x.Outcome = Granted
	case code == 407:
		x.Outcome = AuthRequired
		if e := headersEnd(server); e > 0 {
			x.AuthSchemes = strings.Join(challengeSchemes(string(server[:e])), ", ")
		}
	case code == 502 || code == 503 || code == 504:
		x.Outcome = UpstreamFailed
	default:
		x.Outcome = Refused
	}
	return x, true
}

// maxSchemes bounds Exchange.AuthSchemes.
const maxSchemes = 8

// challengeSchemes returns the authentication schemes of the
// Proxy-Authenticate fields of an HTTP header block: each challenge starts
// with its scheme, a token followed by a space or the challenge's end,
// and a field may carry several challenges separated by commas, which
// also separate a challenge's parameters (name=value).
func challengeSchemes(head string) []string {
	var out []string
	for _, value := range fieldValues(head, "Proxy-Authenticate") {
		for _, part := range splitOutsideQuotes(value) {
			f := strings.Fields(part)
			if len(f) == 0 || strings.ContainsAny(f[0], "=\"") || len(out) >= maxSchemes {
				continue
			}
			out = append(out, printable(f[0]))
		}
	}
	return out
}

// splitOutsideQuotes splits s at the commas that are not inside a quoted
// string.
func splitOutsideQuotes(s string) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case ',':
			if !quoted {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// splitHostPort splits "host:port" and "[v6]:port".
func splitHostPort(s string) (string, uint16, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("no port in %q", s)
	}
	host, port := s[:i], s[i+1:]
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || host == "" {
		return "", 0, fmt.Errorf("bad authority %q", s)
	}
	return host, uint16(p), nil
}

// printable replaces control and non-ASCII bytes with '.', so that a
// status line is text whatever the proxy sent.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '.'
		}
	}
	return string(b)
}

func setTarget(x *Exchange, host string, port uint16) {
	x.Host, x.Port = host, port
	if strings.Contains(host, ":") {
		x.Target = "[" + host + "]:" + strconv.Itoa(int(port))
	} else {
		x.Target = host + ":" + strconv.Itoa(int(port))
	}
}

// parseSOCKS4 reads VN=4 CD PORT(2) IP(4) USERID NUL [HOST NUL] and the
// 8-byte reply VN=0 CD PORT IP (SOCKS4 and the SOCKS4a extension).
func parseSOCKS4(client, server []byte) (Exchange, bool) {
	x := Exchange{Kind: KindSOCKS4}
	if len(client) < 8 {
		return x, true
	}
	if client[1] != 1 && client[1] != 2 {
		return Exchange{}, false
	}
	port := binary.BigEndian.Uint16(client[2:4])
	ip := netip.AddrFrom4([4]byte(client[4:8]))
	rest := client[8:]
	uid := bytes.IndexByte(rest, 0)
	if uid < 0 {
		if len(rest) > 255 {
			return Exchange{}, false
		}
		return x, true
	}
	end := 8 + uid + 1
	host := ip.String()
	if a := ip.As4(); a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] != 0 {
		// SOCKS4a: the proxy resolves the name that follows.
		name := client[end:]
		n := bytes.IndexByte(name, 0)
		if n < 0 {
			if len(name) > 255 {
				return Exchange{}, false
			}
			return x, true
		}
		host = printable(string(name[:n]))
		end += n + 1
	}
	x.Credentials = uid > 0
	setTarget(&x, host, port)
	x.RequestEnd = end
	if len(server) < 8 {
		return x, true
	}
	if server[0] != 0 {
		return x, true
	}
	x.ReplyEnd, x.Status = 8, int(server[1])
	x.StatusLine = fmt.Sprintf("SOCKS4 reply 0x%02X (%s)", server[1], socks4Reply(server[1]))
	switch server[1] {
	case 0x5A:
		x.Outcome = Granted
	case 0x5D:
		x.Outcome = AuthRequired
	default:
		x.Outcome = Refused
	}
	return x, true
}

func socks4Reply(c byte) string {
	switch c {
	case 0x5A:
		return "request granted"
	case 0x5B:
		return "request rejected or failed"
	case 0x5C:
		return "rejected: the proxy cannot reach the client's identd"
	case 0x5D:
		return "rejected: identd reports a different user"
	}
	return "unknown"
}

// parseSOCKS5 reads the greeting, the method choice, the optional
// user name/password subnegotiation (RFC 1929), the request and its reply.
func parseSOCKS5(client, server []byte) (Exchange, bool) {
	x := Exchange{Kind: KindSOCKS5}
	// Greeting: VER NMETHODS METHODS.
	if len(client) < 2 {
		return x, true
	}
	if client[1] == 0 {
		return Exchange{}, false
	}
	c := 2 + int(client[1])
	if len(client) < c || len(server) < 2 {
		return x, true
	}
	if server[0] != 5 {
		return x, true
	}
	s := 2
	switch method := server[1]; method {
	case 0xFF:
		x.ReplyEnd, x.Status, x.Outcome = s, 0xFF, AuthRequired
		x.StatusLine = "SOCKS5 method 0xFF (no acceptable authentication method among those the client offered)"
		x.RequestEnd = c
		return x, true
	case 0x02:
		// RFC 1929: VER=1 ULEN UNAME PLEN PASSWD, answered VER STATUS.
		x.Credentials = true
		if len(client) < c+2 {
			return x, true
		}
		ulen := int(client[c+1])
		if len(client) < c+2+ulen+1 {
			return x, true
		}
		plen := int(client[c+2+ulen])
		c += 2 + ulen + 1 + plen
		if len(client) < c || len(server) < s+2 {
			x.RequestEnd = min(c, len(client))
			return x, true
		}
		if server[s+1] != 0 {
			x.RequestEnd, x.ReplyEnd, x.Status, x.Outcome = c, s+2, int(server[s+1]), AuthRequired
			x.StatusLine = fmt.Sprintf("SOCKS5 authentication status 0x%02X (user name and password rejected)", server[s+1])
			return x, true
		}
		s += 2
	}
	// Request: VER CMD RSV ATYP DST.ADDR DST.PORT.
	req := client[min(c, len(client)):]
	host, n, ok := socks5Addr(req, 3)
	if !ok {
		return x, true
	}
	if len(req) < n+2 {
		return x, true
	}
	setTarget(&x, host, binary.BigEndian.Uint16(req[n:n+2]))
	x.RequestEnd = c + n + 2
	rep := server[min(s, len(server)):]
	_, m, ok := socks5Addr(rep, 3)
	if !ok || len(rep) < m+2 || rep[0] != 5 {
		return x, true
	}
	x.ReplyEnd, x.Status = s+m+2, int(rep[1])
	x.StatusLine = fmt.Sprintf("SOCKS5 reply 0x%02X (%s)", rep[1], SOCKS5ReplyText(rep[1]))
	x.Outcome = SOCKS5ReplyOutcome(rep[1])
	return x, true
}

// SOCKS5ReplyOutcome is what a SOCKS5 reply code (RFC 1928, Section 6)
// says of the tunnel: a failure to reach the target (general failure,
// network or host unreachable, connection refused, TTL expired) or a
// refusal (the ruleset, an unsupported command or address type).
func SOCKS5ReplyOutcome(code byte) Outcome {
	switch code {
	case 0:
		return Granted
	case 1, 3, 4, 5, 6:
		return UpstreamFailed
	}
	return Refused
}

// socks5Addr reads ATYP and the address at b[at:]; it returns the
// address and the offset after it.
func socks5Addr(b []byte, at int) (string, int, bool) {
	if len(b) < at+1 {
		return "", 0, false
	}
	switch b[at] {
	case 1:
		if len(b) < at+5 {
			return "", 0, false
		}
		return netip.AddrFrom4([4]byte(b[at+1 : at+5])).String(), at + 5, true
	case 3:
		if len(b) < at+2 {
			return "", 0, false
		}
		n := int(b[at+1])
		if len(b) < at+2+n {
			return "", 0, false
		}
		return printable(string(b[at+2 : at+2+n])), at + 2 + n, true
	case 4:
		if len(b) < at+17 {
			return "", 0, false
		}
		return netip.AddrFrom16([16]byte(b[at+1 : at+17])).String(), at + 17, true
	}
	return "", 0, false
}

// SOCKS5ReplyText names a SOCKS5 reply code as RFC 1928, Section 6 does:
// "connection refused"; "unknown" for a code it does not define.
func SOCKS5ReplyText(c byte) string {
	switch c {
	case 0:
		return "succeeded"
	case 1:
		return "general SOCKS server failure"
	case 2:
		return "connection not allowed by ruleset"
	case 3:
		return "network unreachable"
	case 4:
		return "host unreachable"
	case 5:
		return "connection refused"
	case 6:
		return "TTL expired"
	case 7:
		return "command not supported"
	case 8:
		return "address type not supported"
	}
	return "unknown"
}
