package report

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// The json and ndjson formats write one Connection per connection. On a
// capture of short connections, encoding them with encoding/json's
// reflection and then indenting the result was about a quarter of the
// time of the whole run, so a Connection writes itself: the same bytes
// that appendJSON gives (encoding/json without HTML escaping, indented by
// appendIndent), field by field. The rare parts (QUIC, proxy, heartbeats, tunnel, cut
// ClientHello) still go through appendJSON. TestConnectionJSON and
// FuzzConnectionJSON hold the two to the same output, over every capture
// in testdata and over Connections filled at random by reflection, which
// also catches a field added to the struct and not here.

// jsonWriter appends JSON, indented under prefix as appendIndent does,
// or compact when prefix is "".
type jsonWriter struct {
	b      []byte
	prefix string
	spaced bool // prefix is only spaces
	depth  int
	first  bool // no element yet in the innermost object or array
}

// newlineSpaces is a line break and the indentation of every line the
// json format writes, when its prefix is spaces, in one append.
const newlineSpaces = "\n                                                                "

func (w *jsonWriter) newline() {
	if w.prefix == "" {
		return
	}
	if n := 1 + len(w.prefix) + 2*w.depth; w.spaced && n <= len(newlineSpaces) {
		w.b = append(w.b, newlineSpaces[:n]...)
		return
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.prefix...)
	for range w.depth {
		w.b = append(w.b, "  "...)
	}
}

// open starts a non-empty object or array.
func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.first = true
}

func (w *jsonWriter) close(c byte) {
	w.depth--
	w.newline()
	w.b = append(w.b, c)
	w.first = false
}

// elem starts an element of the innermost object or array.
func (w *jsonWriter) elem() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.newline()
}

// key starts the member k, a name that needs no escaping.
func (w *jsonWriter) key(k string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	if w.prefix != "" {
		w.b = append(w.b, ' ')
	}
}

func (w *jsonWriter) str(s string)    { w.b = appendJSONString(w.b, s) }
func (w *jsonWriter) int(n int64)     { w.b = strconv.AppendInt(w.b, n, 10) }
func (w *jsonWriter) bool(v bool)     { w.b = strconv.AppendBool(w.b, v) }
func (w *jsonWriter) null()           { w.b = append(w.b, "null"...) }
func (w *jsonWriter) float(f float64) { w.b = appendJSONFloat(w.b, f) }

// addrPort writes a's String, formatted in place: digits, dots, colons
// and brackets need no escaping; an address with a zone (which no packet
// carries) may need it and goes through str.
func (w *jsonWriter) addrPort(a netip.AddrPort) {
	if a.Addr().Zone() != "" {
		w.str(a.String())
		return
	}
	w.b = append(w.b, '"')
	w.b = appendAddrPort(w.b, a)
	w.b = append(w.b, '"')
}

// appendAddrPort appends a.String() without making the string.
func appendAddrPort(b []byte, a netip.AddrPort) []byte {
	if !a.Addr().IsValid() {
		return append(b, a.String()...) // AppendTo writes nothing
	}
	return a.AppendTo(b)
}

func (w *jsonWriter) intRef(p *int64) {
	if p == nil {
		w.null()
		return
	}
	w.int(*p)
}

func (w *jsonWriter) floatRef(p *float64) {
	if p == nil {
		w.null()
		return
	}
	w.float(*p)
}

func (w *jsonWriter) strings(ss []string) {
	if len(ss) == 0 {
		if ss == nil {
			w.null()
		} else {
			w.b = append(w.b, "[]"...)
		}
		return
	}
	w.open('[')
	for _, s := range ss {
		w.elem()
		w.str(s)
	}
	w.close(']')
}

func (w *jsonWriter) ints(ns []int64) {
	if len(ns) == 0 {
		if ns == nil {
			w.null()
		} else {
			w.b = append(w.b, "[]"...)
		}
		return
	}
	w.open('[')
	for _, n := range ns {
		w.elem()
		w.int(n)
	}
	w.close(']')
}

// openList starts a list of n objects: it writes null (a nil slice) or
// [] when there are none, and reports whether elements follow, each after
// elem, then close(']'). (A generic list taking the writer of one
// element as a function value made every jsonWriter escape to the heap.)
func (w *jsonWriter) openList(n int, isNil bool) bool {
	if n == 0 {
		if isNil {
			w.null()
		} else {
			w.b = append(w.b, "[]"...)
		}
		return false
	}
	w.open('[')
	return true
}

// list writes s as a JSON array (null when nil), each element with each.
func list[T any](w *jsonWriter, s []T, each func(*T)) {
	if !w.openList(len(s), s == nil) {
		return
	}
	for i := range s {
		w.elem()
		each(&s[i])
	}
	w.close(']')
}

// any writes v through encoding/json, at the current depth.
func (w *jsonWriter) any(v any) error {
	p := w.prefix
	if p != "" {
		for range w.depth {
			p += "  "
		}
	}
	var err error
	w.b, err = appendJSON(w.b, v, p)
	return err
}

// appendJSON appends c as appendJSON(dst, c, prefix) does.
func (c *Connection) appendJSON(dst []byte, prefix string) ([]byte, error) {
	return c.appendJSONOf(dst, prefix, unformatted{})
}

// unformatted is the connection a Connection was converted from by
// setUnformatted, which left Client, Server, CommunityID and Start empty:
// appendJSONOf formats them from it straight into its output, where
// strings of their own were four allocations for every connection (two
// for each address). With conn nil, the Connection's own fields are
// written.
type unformatted struct {
	conn *analysis.Connection
	seed uint16 // of the Community ID
}

// appendJSONOf appends c as appendJSON does, its Client, Server,
// CommunityID and Start formatted from u.conn when that is set.
func (c *Connection) appendJSONOf(dst []byte, prefix string, u unformatted) ([]byte, error) {
	if !c.finite() {
		cc := *c // c itself must not escape: it is on the caller's stack
		if u.conn != nil {
			cc.Client, cc.Server = u.conn.Client.String(), u.conn.Server.String()
			cc.CommunityID = connectionCommunityID(u.seed, u.conn)
			cc.Start = timestamp(u.conn.First.Time)
		}
		return appendJSON(dst, &cc, prefix) // encoding/json's error
	}
	// A connection of a handshake takes 2 to 5 KB indented: growing
	// from nothing, append copied it over and over.
	w := jsonWriter{b: slices.Grow(dst, 6<<10), prefix: prefix, spaced: strings.Trim(prefix, " ") == ""}
	w.open('{')
	if c.Source != "" {
		w.key("source")
		w.str(c.Source)
	}
	if c.Transport != "" {
		w.key("transport")
		w.str(c.Transport)
	}
	if u.conn == nil {
		w.key("client")
		w.str(c.Client)
		w.key("server")
		w.str(c.Server)
		w.key("community_id")
		w.str(c.CommunityID)
	} else {
		w.key("client")
		w.addrPort(u.conn.Client)
		w.key("server")
		w.addrPort(u.conn.Server)
		w.key("community_id")
		// Base64 and "1:" need no escaping.
		w.b = append(w.b, '"')
		w.b = appendConnectionCommunityID(w.b, u.seed, u.conn)
		w.b = append(w.b, '"')
	}
	w.key("first_frame")
	w.int(c.FirstFrame)
	w.key("last_frame")
	w.int(c.LastFrame)
	w.key("start")
	if u.conn == nil {
		w.str(c.Start)
	} else {
		// Digits, '-', ':', '.', 'T' and 'Z' need no escaping.
		w.b = append(w.b, '"')
		w.b = appendTimestamp(w.b, u.conn.First.Time)
		w.b = append(w.b, '"')
	}
	w.key("handshake_ms")
	w.floatRef(c.HandshakeMS)
	w.key("sni")
	w.str(c.SNI)
	w.key("offered_versions")
	w.strings(c.OfferedVersions)
	w.key("offered_ciphers")
	w.strings(c.OfferedCiphers)
	w.key("alpn_offered")
	w.strings(c.ALPNOffered)
	w.key("version")
	w.str(c.Version)
	w.key("cipher")
	w.str(c.Cipher)
	w.key("group")
	w.str(c.Group)
	w.key("alpn")
	w.str(c.ALPN)
	w.key("hello_retry")
	w.bool(c.HelloRetry)
	w.key("resumed")
	w.bool(c.Resumed)
	w.key("certificates")
	list(&w, c.Certificates, w.certificate)
	w.key("alerts")
	list(&w, c.Alerts, w.alert)
	w.key("established")
	w.bool(c.Established)
	w.key("decrypted")
	w.bool(c.Decrypted)
	w.key("decryption")
	w.str(c.Decryption)
	w.key("decryption_reason")
	w.str(c.DecryptionReason)
	w.key("decrypted_messages")
	list(&w, c.DecryptedMessages, w.message)
	w.key("app_data_head")
	w.perSideString(c.AppDataHead)
	w.key("client_cert_requested")
	w.bool(c.ClientCertRequested)
	w.key("app_bytes")
	w.open('{')
	w.key("client")
	w.int(c.AppBytes.Client)
	w.key("server")
	w.int(c.AppBytes.Server)
	w.close('}')
	w.key("after_handshake")
	if a := c.AfterHandshake; a == nil {
		w.null()
	} else {
		w.afterHandshake(a)
	}
	w.key("non_tls")
	w.perSideString(c.NonTLS)
	w.key("tcp")
	w.tcp(&c.TCP)
	if c.QUIC != nil {
		w.key("quic")
		if err := w.any(c.QUIC); err != nil {
			return dst, err
		}
	}
	if c.Proxy != nil {
		w.key("proxy")
		if err := w.any(c.Proxy); err != nil {
			return dst, err
		}
	}
	if c.ProxyProtocol != nil {
		w.key("proxy_protocol")
		if err := w.any(c.ProxyProtocol); err != nil {
			return dst, err
		}
	}
	if c.Heartbeat != nil {
		w.key("heartbeat")
		if err := w.any(c.Heartbeat); err != nil {
			return dst, err
		}
	}
	if c.DNS != nil {
		w.key("dns")
		if err := w.any(c.DNS); err != nil {
			return dst, err
		}
	}
	if c.DNSFailure != nil {
		w.key("dns_failure")
		if err := w.any(c.DNSFailure); err != nil {
			return dst, err
		}
	}
	w.key("partial")
	w.bool(c.Partial)
	if c.HelloTruncated != nil {
		w.key("client_hello_truncated")
		if err := w.any(c.HelloTruncated); err != nil {
			return dst, err
		}
	}
	if c.Tunnel != nil {
		w.key("tunnel")
		if err := w.any(c.Tunnel); err != nil {
			return dst, err
		}
	}
	w.key("ja3")
	w.str(c.JA3)
	w.key("ja3s")
	w.str(c.JA3S)
	w.key("ja4")
	w.str(c.JA4)
	w.key("ja4_r")
	w.str(c.JA4R)
	w.key("anomalies")
	w.strings(c.Anomalies)
	w.key("verdict")
	w.verdict(&c.Verdict)
	w.close('}')
	return w.b, nil
}

// finite reports whether c's own numbers are ones JSON can hold.
func (c *Connection) finite() bool {
	ok := func(p *float64) bool { return p == nil || !math.IsNaN(*p) && !math.IsInf(*p, 0) }
	return ok(c.HandshakeMS) && (c.AfterHandshake == nil || ok(c.AfterHandshake.TimeToFirstByteMS))
}

func (w *jsonWriter) perSideString(p PerSide[string]) {
	w.open('{')
	w.key("client")
	w.str(p.Client)
	w.key("server")
	w.str(p.Server)
	w.close('}')
}

func (w *jsonWriter) certificate(c *Certificate) {
	w.open('{')
	w.key("subject")
	w.str(c.Subject)
	w.key("issuer")
	w.str(c.Issuer)
	w.key("sans")
	w.strings(c.SANs)
	w.key("not_before")
	w.str(c.NotBefore)
	w.key("not_after")
	w.str(c.NotAfter)
	w.key("key")
	w.str(c.Key)
	w.key("signature_algorithm")
	w.str(c.SignatureAlgorithm)
	w.key("sha256")
	w.str(c.SHA256)
	w.key("self_signed")
	w.bool(c.SelfSigned)
	if c.ParseError != "" {
		w.key("parse_error")
		w.str(c.ParseError)
	}
	w.close('}')
}

func (w *jsonWriter) alert(a *Alert) {
	w.open('{')
	w.key("frame")
	w.int(a.Frame)
	w.key("sender")
	w.str(a.Sender)
	w.key("level")
	w.str(a.Level)
	w.key("description")
	w.str(a.Description)
	w.key("encrypted")
	w.bool(a.Encrypted)
	w.key("decrypted")
	w.bool(a.Decrypted)
	w.close('}')
}

func (w *jsonWriter) message(m *Message) {
	w.open('{')
	w.key("frame")
	w.int(m.Frame)
	w.key("sender")
	w.str(m.Sender)
	w.key("message")
	w.str(m.Message)
	w.close('}')
}

func (w *jsonWriter) afterHandshake(a *AfterHandshake) {
	w.open('{')
	w.key("request_frame")
	w.intRef(a.RequestFrame)
	w.key("response_frame")
	w.intRef(a.ResponseFrame)
	w.key("time_to_first_byte_ms")
	w.floatRef(a.TimeToFirstByteMS)
	w.key("server_records_before_request")
	w.int(int64(a.ServerRecordsBeforeRequest))
	w.key("session_tickets_after_request")
	w.int(int64(a.SessionTicketsAfterRequest))
	w.key("request_line")
	w.str(a.RequestLine)
	w.key("response_line")
	w.str(a.ResponseLine)
	w.close('}')
}

func (w *jsonWriter) frameFrom(f *FrameFrom) {
	w.open('{')
	w.key("frame")
	w.int(f.Frame)
	w.key("sender")
	w.str(f.Sender)
	w.close('}')
}

func (w *jsonWriter) gap(g *Gap) {
	w.open('{')
	w.key("sender")
	w.str(g.Sender)
	w.key("offset")
	w.int(g.Offset)
	w.key("bytes")
	w.int(int64(g.Bytes))
	w.key("frame")
	w.int(g.Frame)
	w.close('}')
}

func (w *jsonWriter) tcp(t *TCP) {
	w.open('{')
	w.key("syn")
	w.intRef(t.SYN)
	w.key("syn_count")
	w.int(int64(t.SYNCount))
	w.key("syn_ack")
	w.intRef(t.SYNACK)
	w.key("rst")
	if t.RST == nil {
		w.null()
	} else {
		w.frameFrom(t.RST)
	}
	if t.RSTText != "" {
		w.key("rst_text")
		w.str(t.RSTText)
	}
	if t.StaleACK != nil {
		w.key("stale_ack")
		w.int(*t.StaleACK)
	}
	if t.StaleReset != nil {
		w.key("stale_reset")
		w.int(*t.StaleReset)
	}
	w.key("fin")
	list(w, t.FIN, w.frameFrom)
	w.key("gaps")
	list(w, t.Gaps, w.gap)
	w.key("retransmissions")
	w.int(int64(t.Retransmissions))
	w.key("close")
	w.str(t.Close)
	if len(t.ICMP) > 0 {
		w.key("icmp")
		list(w, t.ICMP, w.icmp)
	}
	w.close('}')
}

func (w *jsonWriter) icmp(e *ICMP) {
	w.open('{')
	w.key("frame")
	w.int(e.Frame)
	w.key("about")
	w.str(e.About)
	w.key("from")
	w.str(e.From)
	w.key("type")
	w.int(int64(e.Type))
	w.key("code")
	w.int(int64(e.Code))
	w.key("message")
	w.str(e.Message)
	if e.MTU != 0 {
		w.key("mtu")
		w.int(int64(e.MTU))
	}
	w.close('}')
}

func (w *jsonWriter) verdict(v *Verdict) {
	w.open('{')
	w.key("category")
	w.str(v.Category)
	w.key("summary")
	w.str(v.Summary)
	w.key("evidence_frames")
	w.ints(v.EvidenceFrames)
	w.key("fix")
	w.str(v.Fix)
	w.key("warnings")
	w.strings(v.Warnings)
	if v.NotJudged {
		w.key("not_judged")
		w.bool(true)
	}
	w.close('}')
}

// appendJSONFloat appends f as encoding/json does (f is finite).
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' {
		// e-09 → e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// skipPlain8 returns i advanced past the 8-byte words of s that are
// plain ASCII for JSON, a word at a time: none of their bytes ≥ 0x80,
// < 0x20, '"' or '\\'. (Each test is nonzero exactly when some byte
// matches, the borrows of the subtraction notwithstanding.)
func skipPlain8(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q, bs := x^'"'*ones, x^'\\'*ones
		if (x|(x-0x20*ones)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	return i
}

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := range t {
		t[b] = b >= 0x20 && b != '"' && b != '\\'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json does without HTML
// escaping: \" \\ \b \f \n \r \t, other control bytes as \u00XX, invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = skipPlain8(s, i); i == len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
