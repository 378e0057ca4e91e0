package diagnose

// Verdicts read from the wire rather than from an alert: the server's
// choice refused by the client, and handshakes ended by RST, FIN or silence.

import (
	"fmt"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// refusedChoice checks the wire rather than the alert: a server that chose
// a version, ALPN protocol or suite the client did not offer (or a version
// it no longer accepts) and a client that aborted right after. The alert,
// if any, is often generic.
func (d *diagnosis) refusedChoice() (Verdict, bool) {
	c := d.c
	sh := c.ServerHello
	if sh == nil {
		return Verdict{}, false
	}
	abort, how := d.clientAbort()
	if abort.Number == 0 {
		return Verdict{}, false
	}
	offered := d.offeredVersions()
	v := c.Version
	explicit := len(d.hello.SupportedVersions) > 0 && len(offered) > 0
	// A client without supported_versions names only its highest version
	// (its minimum is not on the wire): TLS 1.1 or older below it may be
	// under its minimum; its highest itself it accepts.
	belowMax := len(offered) > 0 && v < slices.Max(offered)
	switch {
	case v != 0 && (!slices.Contains(offered, v) || v <= tlsparse.VersionTLS11 && !explicit && belowMax):
		summary := fmt.Sprintf("the server chose %s (ServerHello, %s) and the client refused it (%s, %s): the client offers %s",
			v, frameRef(c.ServerHelloFrame.Number), how, frameRef(abort.Number), d.offerText(offered))
		if explicit {
			summary = fmt.Sprintf("the server chose %s (ServerHello, %s) but the client requires ≥ %s (it offers %s) and aborted (%s, %s)",
				v, frameRef(c.ServerHelloFrame.Number), slices.Min(offered), versionList(offered), how, frameRef(abort.Number))
		}
		return verdict(VersionMismatch, summary,
			d.serverSide(fmt.Sprintf("the server supports only %s or older: enable TLS 1.2 or later on the server (lowering the client's minimum version to %s would be insecure)", v, v), ChangeModernVersions),
			d.helloFrame, c.ServerHelloFrame, abort), true
	case sh.ALPN != "" && !slices.Contains(d.hello.ALPN, sh.ALPN):
		return verdict(ALPNMismatch,
			fmt.Sprintf("the server selected ALPN protocol '%s' (%s), which the client did not offer (it offered %s), and the client aborted (%s, %s)",
				sh.ALPN, frameRef(c.ServerHelloFrame.Number), alpnOffer(d.hello), how, frameRef(abort.Number)),
			fmt.Sprintf("the server must select one of the client's protocols or none: fix the server's ALPN configuration, or offer '%s' from the client", sh.ALPN),
			d.helloFrame, c.ServerHelloFrame, abort), true
	case c.Cipher != 0 && !slices.Contains(d.hello.CipherSuites, c.Cipher):
		return verdict(HandshakeFailure,
			fmt.Sprintf("the server chose %s (%s), which the client did not offer, and the client aborted (%s, %s)",
				c.Cipher, frameRef(c.ServerHelloFrame.Number), how, frameRef(abort.Number)),
			"the server violates the protocol by choosing a suite the client did not offer: fix or upgrade the server (or a middlebox rewriting the handshake)",
			d.helloFrame, c.ServerHelloFrame, abort), true
	}
	return Verdict{}, false
}

func alpnOffer(h *tlsparse.ClientHello) string {
	if len(h.ALPN) == 0 {
		return "no ALPN"
	}
	return quoteList(h.ALPN, 6)
}

// clientAbort finds how the client ended the handshake after the server's
// hello and before its own next flight: an alert, a RST or a FIN. A zero
// frame means it did not.
func (d *diagnosis) clientAbort() (capture.Frame, string) {
	c := d.c
	after := d.serverHelloFrame().Number
	if after == 0 {
		return capture.Frame{}, ""
	}
	if d.gapIn(client) && d.serverAnsweredClientFlight() {
		// The server answered a flight of the client's that the capture
		// lost: the client did not give up where the capture shows
		// nothing from it.
		return capture.Frame{}, ""
	}
	before := d.clientFlight()
	in := func(f capture.Frame) bool {
		return f.Number > after && (before == 0 || f.Number < before)
	}
	var best capture.Frame
	var how string
	consider := func(f capture.Frame, h string) {
		if in(f) && (best.Number == 0 || f.Number < best.Number) {
			best, how = f, h
		}
	}
	for _, a := range c.Alerts {
		if a.Sender == client {
			consider(a.Frame, alertText(a))
		}
	}
	if c.TCP.RST.Number != 0 && c.TCP.RSTFrom == client {
		consider(c.TCP.RST, "RST")
	}
	consider(c.TCP.FIN[client], "FIN")
	return best, how
}

// serverAnsweredClientFlight reports whether the server sent what it only
// sends after the client's second flight: its Finished (TLS 1.2 and
// older) or application data (TLS 1.3).
func (d *diagnosis) serverAnsweredClientFlight() bool {
	c := d.c
	if c.Version.IsTLS13() {
		return c.ServerSide.AppData.Records > 0
	}
	return c.ServerSide.Finished.Number != 0
}

// serverHelloFrame is the server's first answer: its HelloRetryRequest or
// its ServerHello.
func (d *diagnosis) serverHelloFrame() capture.Frame {
	if d.c.HelloRetryFrame.Number != 0 {
		return d.c.HelloRetryFrame
	}
	return d.c.ServerHelloFrame
}

// clientFlight is the frame of the client's second flight (its
// Certificate, ChangeCipherSpec or Finished), or 0. In TLS 1.3 only the
// encrypted Finished counts: the compatibility ChangeCipherSpec may come
// before the server even answered.
func (d *diagnosis) clientFlight() int64 {
	c := d.c
	var buf [3]int64 // on the stack: an array for each diagnosis was needless
	fs := append(buf[:0], c.ClientSide.Finished.Number)
	if !c.Version.IsTLS13() {
		fs = append(fs, c.ClientCertificateFrame.Number, c.ClientSide.ChangeCipherSpec.Number)
	}
	fs = slices.DeleteFunc(fs, func(n int64) bool { return n == 0 })
	if len(fs) == 0 {
		return 0
	}
	return slices.Min(fs)
}

// abortWithoutAlert explains a handshake ended by a RST or FIN.
func (d *diagnosis) abortWithoutAlert() (Verdict, bool) {
	c := d.c
	if d.serverHelloFrame().Number == 0 {
		return d.noServerHello()
	}
	if v, ok := d.serverStalled(); ok {
		return v, true
	}
	if v, ok := d.gaveUpBeforeAnswer(); ok {
		return v, true
	}
	abort, how := d.clientAbort()
	if abort.Number != 0 {
		if a := d.warningUnrecognizedName(); a != nil {
			return verdict(SNIUnrecognized,
				fmt.Sprintf("the server warned unrecognized_name for '%s' (%s) and the client gave up (%s, %s): old Java clients treat this warning as fatal",
					d.hello.ServerName, frameRef(a.Frame.Number), how, frameRef(abort.Number)),
				d.serverSide(fmt.Sprintf("add '%s' to the server's names so it stops warning, or upgrade the client", d.hello.ServerName), ChangeServerName),
				d.helloFrame, a.Frame, abort), true
		}
		if v, ok := d.browserPicksClientCert(abort, how); ok {
			return v, true
		}
		if v, ok := d.closedMidHandshake(abort, how); ok {
			return v, true
		}
		if c.Version.IsTLS13() && c.ServerSide.Finished.Number != 0 {
			return d.certVerdict(d.pickCert(CertRejected), abort, how, false), true
		}
		if c.CertificateFrame.Number != 0 {
			return d.certVerdict(d.pickCert(CertRejected), abort, how, false), true
		}
	}
	if v, ok := d.abortBehindGap(); ok {
		return v, true
	}
	// The side that hung up first ended the handshake: the other side's
	// FIN or RST after it answers that close.
	end, who, how := d.firstClose()
	switch {
	case end.Number == 0:
	case how == "RST":
		after, at := d.lastMessageBefore(end.Number)
		return verdict(ConnectionReset,
			fmt.Sprintf("the %s reset the connection (%s) %s after %s (%s), during the handshake",
				who, frameRef(end.Number), d.waitFrom(at, end), after, frameRef(at.Number)),
			resetFix(who),
			at, end), true
	default:
		after, at := d.lastMessageBefore(end.Number)
		return verdict(HandshakeFailure,
			fmt.Sprintf("the %s closed the connection (FIN, %s) after %s (%s) without an alert", who, frameRef(end.Number), after, frameRef(at.Number)),
			fmt.Sprintf("the %s gave up on the handshake without saying why: look at its log", who),
			d.helloFrame, at, end), true
	}
	return Verdict{}, false
}

// abortBehindGap explains a RST or FIN that ended the handshake when the
// capture lost bytes of either side before it. The side that closed
// first ended the handshake (firstClose: the other side's FIN or RST
// after it answers that close). When the hole is in its own stream, what
// it sent before hanging up (an alert naming the cause, or its next
// flight) may be in it, so the absence of an alert proves nothing; when
// the hole is in the other side's stream, what it hung up on may be.
func (d *diagnosis) abortBehindGap() (Verdict, bool) {
	gaps := d.handshakeGaps()
	if len(gaps) == 0 {
		return Verdict{}, false
	}
	end, who, how := d.firstClose()
	if end.Number == 0 {
		return Verdict{}, false
	}
	// Every byte of the closing side's stream precedes its FIN or RST,
	// even when the loss was proved by a later frame.
	g := gaps[0]
	if i := slices.IndexFunc(gaps, func(g analysis.Gap) bool { return g.Dir == who }); i >= 0 {
		g = gaps[i]
	}
	after, at := d.lastMessageBefore(end.Number)
	whose, hid := "its", "they may hold an alert that says why"
	if g.Dir != who {
		whose, hid = "the "+g.Dir.String()+"'s", fmt.Sprintf("they may hold what the %s hung up on", who)
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("the %s ended the handshake (%s, %s) after %s (%s), but %s of %s stream are missing from the capture before that (%s): %s, so the cause is not visible",
			who, how, frameRef(end.Number), after, frameRef(at.Number), prose.Count(g.Size, "byte"), whose, gapWhy(g), hid),
		"capture again with a larger buffer (tcpdump -B) and without truncation (-s 0), on the client or the server itself",
		at, g.Frame, end), true
}

// gapBeforeAlert returns a hole in the capture that comes before alert a
// in the handshake: in the sender's own stream (anything it sent before
// the alert), or in the other side's stream when the loss was proved by
// the alert's frame or earlier. Where the alert came, and so what it
// answers, is then not known for sure.
func (d *diagnosis) gapBeforeAlert(a *analysis.Alert) (analysis.Gap, bool) {
	for _, g := range d.handshakeGaps() {
		if g.Dir == a.Sender || g.Frame.Number <= a.Frame.Number {
			return g, true
		}
	}
	return analysis.Gap{}, false
}

// alertBehindGap explains an alert that came after a hole in the capture.
// An encrypted alert says nothing but where it came, which the hole hides:
// the capture is incomplete. A plaintext alert still names its cause; the
// verdict keeps it and says what the hole may hide.
func (d *diagnosis) alertBehindGap(a *analysis.Alert, g analysis.Gap) Verdict {
	lost := fmt.Sprintf("%s of the %s's stream are missing from the capture before it (%s)", prose.Count(g.Size, "byte"), g.Dir, gapWhy(g))
	// A snap-length cut of the other side's frame leaves the frame, and so
	// where the alert came, in the capture.
	if !a.Known() && (g.SnapLen == 0 || g.Dir == a.Sender) {
		after, at := d.lastMessageBefore(a.Frame.Number)
		return verdict(IncompleteCapture,
			fmt.Sprintf("the %s ended the handshake with %s (%s) after %s (%s), but %s: the messages that would tell what it refused are not in the capture",
				a.Sender, alertText(*a), frameRef(a.Frame.Number), after, frameRef(at.Number), lost),
			"capture again with a larger buffer (tcpdump -B) and without truncation (-s 0), on the client or the server itself",
			d.helloFrame, at, g.Frame, a.Frame)
	}
	v := d.fromAlert(a)
	v.Summary += "; but " + lost + ", so what the alert answered may be in the hole"
	v.Evidence = append(v.Evidence, g.Frame.Number)
	return v
}

func resetFix(from capture.Direction) string {
	if from == server {
		return "the server (or a firewall, IPS or load balancer on the way) aborted the handshake: look at the server's log and at middleboxes that inspect TLS"
	}
	return "the client aborted the handshake without an alert: look at the client's log (and at middleboxes that inspect TLS)"
}

// warningUnrecognizedName returns a warning-level unrecognized_name from
// the server, which the handshake survives except with old clients.
func (d *diagnosis) warningUnrecognizedName() *analysis.Alert {
	for i, a := range d.c.Alerts {
		if a.Sender == server && a.Known() && a.Description == tlsparse.AlertUnrecognizedName {
			return &d.c.Alerts[i]
		}
	}
	return nil
}

// noServerHello explains a ClientHello that got no TLS answer.
func (d *diagnosis) noServerHello() (Verdict, bool) {
	c := d.c
	t := &c.TCP
	if d.gapIn(server) {
		return Verdict{}, false // unfinished reports the missing bytes
	}
	start := d.helloFrame
	end, who, how := d.firstClose()
	switch {
	case end.Number == 0 && t.Close == capture.ClosedIdle:
		return d.silentServer(fmt.Sprintf("no answer to the ClientHello (%s): the connection went idle until the capture's idle timeout", frameRef(start.Number)),
			start, c.Last), true
	case end.Number == 0:
		return Verdict{}, false
	case who == server && end.Number < start.Number:
		return d.closedBeforeHello(start, end, how), true
	case who == server && how == "RST":
		return verdict(ConnectionReset,
			fmt.Sprintf("the server reset the connection (%s) %s after the ClientHello (%s), without a TLS answer",
				frameRef(end.Number), d.waitFrom(start, end), frameRef(start.Number)),
			"the server (or a firewall or IPS on the way) rejects this ClientHello: look at the server's log, and at middleboxes filtering by SNI or by TLS version"+d.proxyProtocolExpected(),
			start, end), true
	case who == server:
		return verdict(ServerNoResponse,
			fmt.Sprintf("no answer to the ClientHello (%s): the server closed the connection (FIN, %s) %s later without a TLS answer",
				frameRef(start.Number), frameRef(end.Number), d.waitFrom(start, end)),
			d.droppedHelloFix(),
			start, end), true
	}
	if v, ok := d.slowFirstAnswer(); ok {
		return v, true
	}
	if v, ok := d.helloResentBeforeEnd(start, end, how); ok {
		return v, true
	}
	gaveUp := "reset the connection"
	if how == "FIN" {
		gaveUp = "gave up (FIN)"
	}
	return d.silentServer(fmt.Sprintf("no answer to the ClientHello (%s) for %s: the client %s in %s", frameRef(start.Number), d.waitFrom(start, end), gaveUp, frameRef(end.Number)),
		start, end), true
}

// silentServer is the verdict on a server that accepted TCP and never
// answered the ClientHello (start) until end: summary, and the frame in
// which the server's host acknowledged the hello when it did.
func (d *diagnosis) silentServer(summary string, start, end capture.Frame) Verdict {
	ack := d.helloAckedBy()
	if ack.Number != 0 {
		summary += fmt.Sprintf("; the server's host acknowledged the hello (%s), so it arrived", frameRef(ack.Number))
	}
	return verdict(ServerNoResponse, summary, d.silentServerFix(), start, ack, end)
}

// alertAfterServerClose explains a client's alert sent after the server
// closed the connection (FIN or RST) without any answer to the
// ClientHello: the close ended the handshake, and the alert is how the
// client reports it (OpenSSL 3 answers an unexpected end of the
// connection with decode_error), not a message it could not parse.
func (d *diagnosis) alertAfterServerClose(a *analysis.Alert) (Verdict, bool) {
	c := d.c
	if a.Sender != client || c.ServerHello != nil || c.HelloRetry != nil {
		return Verdict{}, false
	}
	if end, who, _ := d.firstClose(); who != server || end.Number == 0 || end.Number > a.Frame.Number {
		return Verdict{}, false
	}
	v, ok := d.noServerHello()
	if !ok {
		return Verdict{}, false
	}
	v.Summary += fmt.Sprintf("; the client's %s (%s) came after that close and reports it", alertText(*a), frameRef(a.Frame.Number))
	if a.Description == tlsparse.AlertDecodeError {
		v.Summary += " (OpenSSL 3 answers an unexpected end of the connection so)"
	}
	v.Evidence = append(v.Evidence, a.Frame.Number)
	return v, true
}

// helloResentBeforeEnd explains a connection whose SYN the capture missed,
// whose client closed (end, by how) right after its ClientHello (start):
// no client gives up on an answer within a fraction of a second, so the
// hello is a retransmission of a connection begun before the capture
// (its first hello and the client's wait with it), the tail of a
// connection that had already failed. The capture does not show how, so
// it is not judged.
func (d *diagnosis) helloResentBeforeEnd(start, end capture.Frame, how string) (Verdict, bool) {
	t := &d.c.TCP
	if t.SYN.Number != 0 || t.SYNACK.Number != 0 || d.c.SteppedBetween(start, end) || end.Time.Sub(start.Time) >= tooSoonToGiveUp {
		return Verdict{}, false
	}
	v := verdict(IncompleteCapture,
		fmt.Sprintf("the capture began after this connection started (no SYN): the client closed it (%s, %s) %s after the ClientHello (%s), too soon to be waiting for an answer, so that hello was most likely sent again and the connection had begun, and failed, before the capture",
			how, frameRef(end.Number), d.waitFrom(start, end), frameRef(start.Number)),
		"start the capture before the client connects to see the connection from its start",
		start, end)
	v.NotJudged = true
	return v, true
}

// tooSoonToGiveUp is less than any client waits for a ServerHello: its
// connect or handshake timeout is a second or more.
const tooSoonToGiveUp = 100 * time.Millisecond

// closedBeforeHello explains a server that ended the connection (its FIN
// or RST, end) before the ClientHello (start) reached it: it judged
// nothing TLS, it refuses connections. Through a proxy, the proxy closed
// the tunnel it had just opened.
func (d *diagnosis) closedBeforeHello(start, end capture.Frame, how string) Verdict {
	cat, did := ServerNoResponse, "closed the connection (FIN, "+frameRef(end.Number)+")"
	if how == "RST" {
		cat, did = ConnectionReset, "reset the connection ("+frameRef(end.Number)+")"
	}
	opened := ""
	if sa := d.c.TCP.SYNACK; sa.Number != 0 && sa.Number < end.Number {
		opened = fmt.Sprintf(" %s after accepting it", d.waitFrom(sa, end))
	}
	return verdict(cat,
		fmt.Sprintf("the server %s%s, before the client's ClientHello (%s): it refused the connection before any TLS, so nothing the client offers is the cause",
			did, opened, frameRef(start.Number)),
		"the server (or what answers on its port: a load balancer, a TLS terminator, a proxy) closes connections it will not serve: look at its log for a connection limit, an access rule (an allow list, tcpwrappers) or a backend that is down; through a proxy, its log says why its own connection to the server failed",
		end, start)
}

// helloAckedBy is the frame in which the server's end acknowledged the
// whole ClientHello; zero when the capture does not show it.
func (d *diagnosis) helloAckedBy() capture.Frame {
	if p := d.c.Path; p != nil {
		return p.HelloAcked
	}
	return capture.Frame{}
}

// silentServerFix is the fix for a server that accepted TCP and never
// answered the ClientHello. When the server's host acknowledged the whole
// hello, it arrived, and the program behind the port is what stayed
// silent.
func (d *diagnosis) silentServerFix() string {
	port := d.c.Server.Port()
	if d.helloAckedBy().Number != 0 {
		return fmt.Sprintf("the ClientHello reached the server's host and what listens on port %d never answered it. "+
			"Likely: that program is hung or overloaded — the kernel completes TCP handshakes and acknowledges data for a listening socket even when the program never accepts or reads them: look at its CPU, threads, connection limit and accept queue (`ss -ltn 'sport = :%d'`: a Recv-Q as large as the backlog means it is not accepting); "+
			"possible: a load balancer or SNI proxy in TCP passthrough mode accepted the connection for a backend that does not answer, or the port serves no TLS but a protocol that waits for more of its own message: check that port %d is the TLS port",
			port, port, port)
	}
	return fmt.Sprintf("the server accepted TCP but never spoke TLS: check that a TLS server (not a plaintext service waiting for its own protocol) listens on port %d, and that no middlebox drops ClientHellos", port)
}

// firstClose returns the first FIN or RST of the connection, who sent it
// and which it was ("FIN" or "RST"); a zero frame if there was none.
func (d *diagnosis) firstClose() (capture.Frame, capture.Direction, string) {
	t := &d.c.TCP
	var f capture.Frame
	var who capture.Direction
	how := ""
	consider := func(g capture.Frame, w capture.Direction, h string) {
		if g.Number != 0 && (f.Number == 0 || g.Number < f.Number) {
			f, who, how = g, w, h
		}
	}
	consider(t.RST, t.RSTFrom, "RST")
	consider(t.FIN[client], client, "FIN")
	consider(t.FIN[server], server, "FIN")
	return f, who, how
}

// lastMessageBefore names the last handshake message (or alert) seen
// before frame n, and its frame.
func (d *diagnosis) lastMessageBefore(n int64) (string, capture.Frame) {
	c := d.c
	msgs := []struct {
		name string
		f    capture.Frame
	}{
		{"the ClientHello", c.ClientHelloFrame},
		{"the HelloRetryRequest", c.HelloRetryFrame},
		{"the second ClientHello", c.RetryClientHelloFrame},
		{"the ServerHello", c.ServerHelloFrame},
		{"the server's Certificate", c.CertificateFrame},
		{"the ServerKeyExchange", c.ServerKeyExchangeFrame},
		{"the CertificateRequest", c.CertificateRequestFrame},
		{"the ServerHelloDone", c.ServerHelloDoneFrame},
		{"the client's Certificate", c.ClientCertificateFrame},
		{"the client's ChangeCipherSpec", c.ClientSide.ChangeCipherSpec},
		{"the server's ChangeCipherSpec", c.ServerSide.ChangeCipherSpec},
		{"the client's Finished", c.ClientSide.Finished},
		{"the server's encrypted handshake", c.ServerSide.Finished},
	}
	if !c.Version.IsTLS13() {
		msgs[12].name = "the server's Finished"
	}
	best, name := capture.Frame{}, "the start of the connection"
	for _, m := range msgs {
		if m.f.Number != 0 && m.f.Number < n && m.f.Number >= best.Number {
			best, name = m.f, m.name
		}
	}
	if best.Number == 0 {
		best = c.First
	}
	return name, best
}

// gapIn reports bytes of dir lost before the handshake ended.
func (d *diagnosis) gapIn(dir capture.Direction) bool {
	return slices.ContainsFunc(d.handshakeGaps(), func(g analysis.Gap) bool { return g.Dir == dir })
}

// handshakeGaps are the capture's losses before the handshake completed.
func (d *diagnosis) handshakeGaps() []analysis.Gap {
	end := d.c.HandshakeDone.Number
	var gs []analysis.Gap
	for _, g := range d.c.TCP.Gaps {
		if end == 0 || g.Frame.Number <= end {
			gs = append(gs, g)
		}
	}
	return gs
}

// unfinished explains a handshake that neither completed nor was aborted:
// the capture ended, bytes are missing, or it stalled.
func (d *diagnosis) unfinished() Verdict {
	c := d.c
	after, at := d.lastMessageBefore(c.Last.Number + 1)
	if gs := d.handshakeGaps(); len(gs) > 0 {
		g := gs[0]
		return verdict(IncompleteCapture,
			fmt.Sprintf("%d bytes of the %s's handshake are missing from the capture (%s); the last message seen is %s (%s)",
				g.Size, g.Dir, gapWhy(g), after, frameRef(at.Number)),
			"capture again with a larger buffer (tcpdump -B) and without truncation (-s 0), on the client or the server itself",
			at, g.Frame)
	}
	idle := c.Last.Time.Sub(at.Time)
	end := d.captureEnd()
	// A connection closed as idle saw no packet for the capture's idle
	// timeout while the capture went on.
	idleClosed := c.TCP.Close == capture.ClosedIdle
	wentOn := idleClosed || end.Time.Sub(c.Last.Time) >= minSilence
	// A connection whose packets went on after its last message (the
	// peer's acknowledgment, as a rule) and then stopped while the capture
	// went on fell silent: the capture holds its bare TCP packets, so it
	// was not filtered to its TLS records.
	silent := wentOn && c.Last.Number > at.Number && c.TCP.Retransmissions == 0
	// Not even the peer's acknowledgment of the last message, which its
	// system sends within a fraction of a second, while the capture went
	// on: the capture kept some of the connection's packets only, so
	// whether an end stalled is not in it.
	bare := wentOn && c.Last.Number == at.Number
	// The last speaker's bytes were never acknowledged in the capture, nor
	// sent again, though it went on for longer than a TCP waits before
	// it sends unacknowledged bytes again: the capture missed the
	// connection's later packets (the acknowledgment among them), which
	// then say nothing of a silence.
	speaker := d.lastSender(at)
	missed := wentOn && !bare && c.TCP.Unacked[speaker] && c.TCP.Retransmissions == 0 &&
		(idleClosed || end.Time.Sub(c.Last.Time) >= resendWithin)
	if !bare && !missed && (idleClosed || c.TCP.Close == capture.ClosedEOF && (idle >= time.Second || silent)) {
		// Who was expected to speak next? The side that did not send the
		// last message.
		waiting := server
		if d.lastSender(at) == server {
			waiting = client
		}
		nothing := "nothing for " + wait(idle)
		switch {
		case silent && idle < time.Second:
			nothing = fmt.Sprintf("the connection's packets stop at %s (an acknowledgment, as a rule) and the capture went on %s: a silence of the connection, not a gap of the capture, which holds its bare TCP packets",
				frameRef(c.Last.Number), d.wentOnWithout(end, "any"))
		case idleClosed && idle < time.Second:
			nothing = fmt.Sprintf("nothing after %s until the connection's idle timeout", frameRef(c.Last.Number))
		}
		if waiting == server {
			return verdict(ServerNoResponse,
				fmt.Sprintf("the server stopped answering after %s (%s): %s", after, frameRef(at.Number), nothing),
				"the server stalled mid-handshake: look at its log and load (an overloaded server, a backend it waits for, a middlebox holding packets)",
				d.helloFrame, at, c.Last)
		}
		return verdict(HandshakeFailure,
			fmt.Sprintf("the client stopped answering after %s (%s): %s", after, frameRef(at.Number), nothing),
			"the client stalled mid-handshake (waiting for user input, a smart card, or a certificate check that never returned): look at the client",
			d.helloFrame, at, c.Last)
	}
	summary := fmt.Sprintf("the capture ended %s after %s (%s), before the handshake completed", wait(idle), after, frameRef(at.Number))
	fix := "capture longer, until the handshake completes or the connection closes"
	if wentOn {
		// The capture went on without the connection: its own packets
		// do not show a silence, only their absence (a capture filtered
		// to some packets, or one that missed the rest).
		stop := fmt.Sprintf("%s after %s", wait(idle), after)
		if bare {
			stop = "at " + after
		}
		summary = fmt.Sprintf("the connection's packets stop %s (%s), before the handshake completed; the capture went on %s",
			stop, frameRef(at.Number), d.wentOnWithout(end, "them"))
		if missed {
			summary = fmt.Sprintf("the connection's packets stop at %s, %s after %s (%s), before the handshake completed; the capture went on %s, and shows neither the %s's acknowledgment of the %s's last bytes nor the %s sending them again, which its TCP does within a second or two when they are not acknowledged: the capture missed the connection's later packets (it dropped them, or kept only some; likely), or the %s's host stopped at that moment (less likely), so whether the %s answered is not in the capture",
				frameRef(c.Last.Number), wait(idle), after, frameRef(at.Number), d.wentOnWithout(end, "them"),
				speaker.Reverse(), speaker, speaker, speaker, speaker.Reverse())
			fix = fmt.Sprintf("capture again keeping all of the connection's packets, with a larger buffer (`tcpdump -B 8192 -s 0 -w FILE host %s and port %d`), on the client or the server itself",
				c.Server.Addr().Unmap(), c.Server.Port())
		}
		if bare {
			summary += fmt.Sprintf(", not even the acknowledgment of %s: the capture was filtered to some of the connection's packets (its TLS records, as an export with a display filter keeps them) or dropped the rest", frameRef(at.Number))
			fix = fmt.Sprintf("capturing longer would not help: capture again keeping all of the connection's packets (`tcpdump -s 0 -w FILE host %s and port %d`), or export its whole TCP stream, not its TLS records alone",
				c.Server.Addr().Unmap(), c.Server.Port())
		}
	}
	if missed {
		return verdict(IncompleteCapture, summary, fix, d.helloFrame, at, c.Last)
	}
	return verdict(IncompleteCapture, summary, fix, d.helloFrame, at)
}

// resendWithin is how long a capture must go on after a connection's
// unacknowledged bytes to show them sent again: TCP's first
// retransmission timeout is about a second at most after a round trip
// was measured (RFC 6298's floor; Linux's is 200 ms), and its second
// comes two timeouts later.
const resendWithin = 3 * time.Second

// wentOnWithout says how long the capture went on without the
// connection's packets after its last (what names them): to its end
// frame, or past the idle timeout that closed the connection.
func (d *diagnosis) wentOnWithout(end capture.Frame, what string) string {
	if d.c.TCP.Close == capture.ClosedIdle {
		return "without " + what + " until the connection's idle timeout"
	}
	return fmt.Sprintf("%s without %s (to %s)", d.waitFrom(d.c.Last, end), what, frameRef(end.Number))
}

// lastSender says who sent the message in frame f.
func (d *diagnosis) lastSender(f capture.Frame) capture.Direction {
	c := d.c
	for _, s := range []capture.Frame{c.ServerHelloFrame, c.HelloRetryFrame, c.CertificateFrame, c.ServerKeyExchangeFrame,
		c.CertificateRequestFrame, c.ServerHelloDoneFrame, c.ServerSide.ChangeCipherSpec, c.ServerSide.Finished} {
		if s.Number != 0 && s.Number == f.Number {
			return server
		}
	}
	return client
}
