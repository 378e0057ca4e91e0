package report

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The trace format lists, connection by connection, the frames that
// carried TLS the way Wireshark's packet list shows them: frame number,
// time since the capture's first frame, source → destination and the Info
// column, worded exactly as tshark 4.0 words it without decryption keys,
// or with them (-o tls.keylog_file:) for the records a key log opened.
// The frames that carried the connection's SYN, SYN-ACK, RST and FINs are
// listed among them, with Wireshark's flag notation ("[SYN]"), when they
// carried no TLS, and the frame after a hole in the capture says so as
// Wireshark does ("[TCP Previous segment not captured] , "), and a frame cut
// by the snap length says that ("[Packet size limited during capture]"). The
// connection's verdict follows its frames.

var traceFormat = formatSpec{
	name:    FormatTrace,
	summary: true,
	doc:     "the TLS frames of each connection, as Wireshark lists them, then its verdict",
	frames:  true,
	new:     func(*Stream) formatter { return traceFormatter{} },
}

type traceFormatter struct{}

func (traceFormatter) connection(s *Stream, r pipeline.Result) error {
	var b bytes.Buffer
	if s.n > 1 {
		b.WriteString("\n")
	}
	r, start := s.framesOf(r)
	writeTrace(&b, s.n, r, start)
	_, err := s.w.Write(b.Bytes())
	return err
}

func (traceFormatter) close(s *Stream, sum Summary) error {
	var b bytes.Buffer
	if s.n > 0 {
		b.WriteString("\n")
	}
	b.WriteString("Summary: " + summaryLine(sum) + "\n")
	for _, n := range sum.Notes {
		writeWrapped(&b, "", "note: ", n)
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

// traceLine is one frame of the trace.
type traceLine struct {
	frame capture.Frame
	dir   capture.Direction
	info  string
}

func writeTrace(b *bytes.Buffer, n int, r pipeline.Result, start time.Time) {
	c := r.Conn
	fmt.Fprintf(b, "=== #%d %s → %s", n, c.Client, c.Server)
	if h := c.ShownClientHello(); h != nil && h.ServerName != "" {
		fmt.Fprintf(b, "  SNI %s", cleanName(h.ServerName))
	}
	if ja4 := c.Fingerprints().JA4; ja4 != "" {
		fmt.Fprintf(b, "  JA4 %s", ja4)
	}
	if p := c.Proxy; p != nil && p.Target != "" && p.TLS != nil {
		fmt.Fprintf(b, "  via https:// proxy to %s (its TLS decrypted: %s)", clean(p.Target), p.TLS.Version)
	} else if p != nil && p.Target != "" {
		fmt.Fprintf(b, "  via %s proxy to %s", p.Kind.Words(), clean(p.Target))
	}
	if r.Source != "" {
		fmt.Fprintf(b, "  (%s)", cleanName(r.Source))
	}
	b.WriteString("\n")
	if c.Tunnel != nil {
		fmt.Fprintf(b, "    in %s\n", tunnelText(*c.Tunnel))
	}

	lines := traceLines(c)
	if len(lines) == 0 {
		b.WriteString("   (no frames recorded)\n")
	}
	nano := start.Nanosecond()%1000 != 0
	numWidth := 1
	for _, l := range lines {
		nano = nano || l.frame.Time.Nanosecond()%1000 != 0
		numWidth = max(numWidth, len(strconv.FormatInt(l.frame.Number, 10)))
	}
	addrs := [2]string{c.Client.String(), c.Server.String()}
	addrWidth := max(len(addrs[0]), len(addrs[1]))
	for _, l := range lines {
		src, dst := addrs[l.dir], addrs[l.dir.Reverse()]
		fmt.Fprintf(b, "%*d %12s  %-*s → %-*s  %s\n",
			numWidth+3, l.frame.Number, relativeTime(l.frame.Time, start, nano),
			addrWidth, src, addrWidth, dst, clean(l.info))
	}
	if c.TraceOmitted > 0 {
		fmt.Fprintf(b, "   … %s not listed (trace cap)\n", prose.Count(c.TraceOmitted, "more TLS frame"))
	}
	if s := afterHandshake(c); s != "" {
		writeWrapped(b, detailIndent, "after the handshake: ", s)
	}
	v := r.Verdict
	writeWrapped(b, detailIndent, "verdict: ", string(v.Category)+": "+v.Summary)
	writeDetails(b, r)
}

// afterHandshake words the request, the answer and the time to first byte
// of a completed handshake, or "" when the client sent no data.
func afterHandshake(c *analysis.Connection) string {
	a := c.Afterwards()
	if c.HandshakeDone.Number == 0 || a.Request.Number == 0 {
		return ""
	}
	s := fmt.Sprintf("request frame %d", a.Request.Number)
	if a.RequestLine != "" {
		s += fmt.Sprintf(" (%s)", a.RequestLine)
	}
	if a.Response.Number == 0 {
		s += ", no answer"
	} else {
		s += fmt.Sprintf(", first answer frame %d", a.Response.Number)
		if a.ResponseLine != "" {
			s += fmt.Sprintf(" (%s)", a.ResponseLine)
		}
		if d, ok := c.TimeToFirstByte(); ok {
			s += ", time to first byte " + strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
		} else {
			s += ", time to first byte not known (the capture's clock stepped back between them)"
		}
	}
	if a.ServerFirst > 0 {
		s += fmt.Sprintf("; %s before the request", prose.Count(a.ServerFirst, "server record"))
	}
	if a.Tickets > 0 {
		s += fmt.Sprintf("; %s after it taken for session tickets (size and timing)", prose.Count(a.Tickets, "server record"))
	}
	return s
}

// traceLines merges the TLS frames with the TCP events that happened in
// frames carrying no TLS, in frame order.
func traceLines(c *analysis.Connection) []traceLine {
	lines := make([]traceLine, 0, len(c.Trace)+4)
	tls := map[int64]bool{}
	for _, tf := range c.Trace {
		tls[tf.Frame.Number] = true
		lines = append(lines, traceLine{frame: tf.Frame, dir: tf.Dir, info: frameInfo(c, tf)})
	}
	event := func(f capture.Frame, d capture.Direction, info string) {
		if f.Number == 0 || tls[f.Number] {
			return
		}
		for i, l := range lines {
			if l.frame.Number == f.Number && l.dir == d {
				// One frame can carry a FIN and a RST, or (in this
				// record) a FIN of each side's view: say both.
				if !strings.Contains(l.info, info) {
					lines[i].info = strings.TrimSuffix(l.info, "]") + ", " + strings.TrimPrefix(info, "[")
				}
				return
			}
		}
		lines = append(lines, traceLine{frame: f, dir: d, info: info})
	}
	t := &c.TCP
	syn := "[SYN]"
	if t.SYNCount > 1 {
		syn = fmt.Sprintf("[SYN] (sent %d times)", t.SYNCount)
	}
	event(t.SYN, capture.ClientToServer, syn)
	event(t.SYNACK, capture.ServerToClient, "[SYN, ACK]")
	if p := c.Path; p != nil {
		event(p.StaleACK, capture.ServerToClient, "[ACK] of an older connection between these ports (challenge ACK)")
		event(p.StaleReset, capture.ClientToServer, "[RST] of that older connection")
	}
	event(t.RST, t.RSTFrom, "[RST]")
	for _, d := range finOrder(t, nil) {
		event(t.FIN[d], d, "[FIN]")
	}
	for _, g := range t.Gaps {
		if g.SnapLen > 0 {
			// The frame itself was cut: Wireshark appends this to its Info.
			const cut = "[Packet size limited during capture]"
			if !tls[g.Frame.Number] {
				event(g.Frame, g.Dir, cut)
				continue
			}
			for i, l := range lines {
				if l.frame.Number == g.Frame.Number && !strings.HasSuffix(l.info, cut) {
					lines[i].info += cut
				}
			}
			continue
		}
		// Wireshark flags the frame after a hole with this expert info,
		// before the frame's own Info.
		const lost = "[TCP Previous segment not captured]"
		if !tls[g.Frame.Number] {
			event(g.Frame, g.Dir, lost)
			continue
		}
		for i, l := range lines {
			if l.frame.Number == g.Frame.Number && !strings.HasPrefix(l.info, lost) {
				lines[i].info = lost + " , " + l.info
			}
		}
	}
	if p := c.Proxy; p != nil {
		proxyLine(&lines, p.RequestFrame, capture.ClientToServer, fmt.Sprintf("%s proxy request: tunnel to %s", p.Kind.Words(), p.Target))
		reply := p.StatusLine + " (" + p.Outcome.String() + ")"
		if p.Outcome == proxyparse.Granted {
			reply = p.StatusLine + " (tunnel open)"
		}
		proxyLine(&lines, p.ReplyFrame, capture.ServerToClient, "proxy reply: "+reply)
	}
	slices.SortStableFunc(lines, func(x, y traceLine) int { return cmp.Compare(x.frame.Number, y.frame.Number) })
	return lines
}

// proxyLine words a frame of the proxy negotiation: its plaintext is the
// negotiation, not a peer speaking something else than TLS.
func proxyLine(lines *[]traceLine, f capture.Frame, d capture.Direction, info string) {
	if f.Number == 0 {
		return
	}
	for i, l := range *lines {
		if l.frame.Number == f.Number && l.dir == d {
			if strings.HasPrefix(l.info, "[") {
				(*lines)[i].info = l.info + " " + info
			} else {
				(*lines)[i].info = info
			}
			return
		}
	}
	*lines = append(*lines, traceLine{frame: f, dir: d, info: info})
}

// relativeTime formats the time of a frame since start as Wireshark's
// relative time column does: seconds with microseconds ("0.001820"), or
// nanoseconds when the capture has them.
func relativeTime(t, start time.Time, nano bool) string {
	d := t.Sub(start)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	sec, frac := d/time.Second, d%time.Second
	if nano {
		return fmt.Sprintf("%s%d.%09d", sign, sec, frac)
	}
	return fmt.Sprintf("%s%d.%06d", sign, sec, frac/time.Microsecond)
}

// frameInfo is Wireshark's Info column for the TLS items of one frame.
func frameInfo(c *analysis.Connection, tf analysis.TraceFrame) string {
	parts := make([]string, 0, len(tf.Items))
	for _, it := range tf.Items {
		parts = append(parts, itemInfo(c, tf, it))
	}
	return strings.Join(parts, ", ")
}

// itemInfo words one record or handshake message as tshark 4.0 does
// without keys (packet-tls.c: dissect_ssl3_record, dissect_ssl3_alert,
// tls_show_handshake_details).
func itemInfo(c *analysis.Connection, tf analysis.TraceFrame, it analysis.TraceItem) string {
	if it.QUIC != "" {
		return it.QUIC
	}
	if it.Segment {
		// Part of a record that never completed: Wireshark's TCP
		// dissector says so, and TLS adds nothing.
		return "[TCP segment of a reassembled PDU]"
	}
	switch it.Kind {
	case tlsparse.KindHandshake:
		if it.HelloRetry {
			return "Hello Retry Request"
		}
		return handshakeInfo(it.Handshake)
	case tlsparse.KindSSLv2ClientHello:
		return "Client Hello"
	case tlsparse.KindSSLv2ServerHello:
		return "Server Hello"
	case tlsparse.KindSSLv2Record:
		if it.SSLv2MasterKey {
			return "Client Master Key"
		}
		return "Encrypted Data"
	case tlsparse.KindChangeCipherSpec:
		return "Change Cipher Spec"
	case tlsparse.KindAlert:
		if it.Encrypted && !it.Decrypted {
			if c.Version.IsTLS13() {
				// An encrypted TLS 1.3 alert travels as application data
				// (RFC 8446, Section 5.2); only its size gave it away.
				return "Application Data"
			}
			return "Encrypted Alert"
		}
		return "Alert (Level: " + alertLevelInfo(it.Alert.Level) + ", Description: " + alertDescriptionInfo(it.Alert.Description) + ")"
	case tlsparse.KindApplicationData:
		return "Application Data"
	case tlsparse.KindEncryptedHandshake:
		if c.Version.IsTLS13() {
			// TLS 1.3 encrypts the handshake after the ServerHello into
			// application_data records; Wireshark shows what the wire says.
			return "Application Data"
		}
		return "Encrypted Handshake Message"
	case tlsparse.KindHeartbeat:
		// Wireshark says "Heartbeat Request" or "Heartbeat Response" from
		// the type byte, which the record does not keep.
		if ccs := c.Side(tf.Dir).ChangeCipherSpec; ccs.Number != 0 && ccs.Number < tf.Frame.Number {
			return "Encrypted Heartbeat"
		}
		return "Heartbeat"
	case tlsparse.KindNonTLS, tlsparse.KindProxyHeader:
		return it.NonTLS
	case tlsparse.KindMalformed:
		// Bytes that are no record: Wireshark ignores them under TLS 1.0
		// to 1.2 (RFC 2246, Section 6) and calls them continuation data
		// otherwise.
		if c.Version >= tlsparse.VersionTLS10 && c.Version <= tlsparse.VersionTLS12 {
			return "Ignored Unknown Record"
		}
		return "Continuation Data"
	}
	return it.Kind.String()
}

// handshakeInfo names a plaintext handshake message. Wireshark takes a
// message of a type it does not know for encrypted; it calls type 67
// (NPN's NextProtocol) "Encrypted Extensions" and type 6 (the
// HelloRetryRequest of TLS 1.3 drafts before 22) "Hello Retry Request".
func handshakeInfo(t tlsparse.HandshakeType) string {
	switch t {
	case 6:
		return "Hello Retry Request"
	case tlsparse.HandshakeTypeNextProtocol:
		return "Encrypted Extensions"
	case tlsparse.HandshakeTypeMessageHash:
		return "Encrypted Handshake Message"
	}
	if strings.HasPrefix(t.String(), "handshake_type(") {
		return "Encrypted Handshake Message"
	}
	return t.Title()
}

func alertLevelInfo(l tlsparse.AlertLevel) string {
	switch l {
	case tlsparse.AlertLevelWarning:
		return "Warning"
	case tlsparse.AlertLevelFatal:
		return "Fatal"
	}
	return "Unknown"
}

func alertDescriptionInfo(d tlsparse.AlertDescription) string {
	if strings.HasPrefix(d.String(), "alert(") {
		return "Unknown"
	}
	return d.Title()
}

// framesOf prepares r for a format that lists its frames: the source file
// left out when there is one (naming it on every connection says
// nothing), and the time its frames are counted from.
func (s *Stream) framesOf(r pipeline.Result) (pipeline.Result, time.Time) {
	if s.whole && !s.multiSource {
		r.Source = ""
	}
	start := s.opts.CaptureStart
	if !r.SourceStart.IsZero() {
		start = r.SourceStart
	}
	return r, start
}
