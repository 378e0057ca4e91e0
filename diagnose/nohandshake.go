package diagnose

// Verdicts for connections without a TLS handshake: TCP trouble, peers that
// speak something else, captures that missed the start.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// noHandshake explains a connection without any hello: TCP trouble, a
// peer speaking something else, or a capture that missed the start.
func (d *diagnosis) noHandshake() Verdict {
	c := d.c
	t := &c.TCP
	switch n, s := c.ClientSide.NonTLS, c.ServerSide.NonTLS; {
	case serverGreeted(n, s):
		return verdict(NotTLSServer,
			fmt.Sprintf("the server greeted the client with %s (%s) and the client answered in plaintext too (%s, %s): neither side started TLS",
				s.Looks, frameRef(s.Frame.Number), n.Looks, frameRef(n.Frame.Number)),
			notTLSServerFix(s.Looks, c.Server.Port()), s.Frame, n.Frame)
	case n != nil:
		return d.notTLSClient()
	case s != nil:
		return verdict(NotTLSServer,
			fmt.Sprintf("the server sent %s before any TLS (%s) and the client never sent a ClientHello", s.Looks, frameRef(s.Frame.Number)),
			notTLSServerFix(s.Looks, c.Server.Port()), t.SYN, s.Frame)
	case c.MalformedClientHelloFrame.Number != 0:
		return d.malformedClientHello()
	case c.CarriesTLS() || t.SYN.Number == 0:
		return d.incomplete()
	case t.SYNACK.Number == 0 && t.RST.Number != 0 && t.RSTFrom == server:
		return verdict(ConnectionRefused,
			fmt.Sprintf("%s refused the connection: the SYN (%s) was answered by a RST (%s) after %s",
				c.Server, frameRef(t.SYN.Number), frameRef(t.RST.Number), d.waitFrom(t.SYN, t.RST)),
			fmt.Sprintf("nothing listens on port %d at %s (or a firewall rejects it): start the server, or connect to the port it listens on",
				c.Server.Port(), c.Server.Addr()),
			t.SYN, t.RST)
	case t.SYNACK.Number == 0 && c.Path != nil && c.Path.StaleACK.Number != 0:
		return d.staleNoAnswer()
	case t.SYNACK.Number == 0:
		sent := fmt.Sprintf("%s over %s", prose.Count(max(t.SYNCount, 1), "SYN"), d.waitFrom(t.SYN, c.Last))
		if c.Last.Number == t.SYN.Number {
			sent = "1 SYN" // the client gave up on it without sending another
		}
		return verdict(NoTCPAnswer,
			fmt.Sprintf("%s never answered: %s, no SYN-ACK", c.Server, sent),
			fmt.Sprintf("check that %s is the right address and that the server is up; something (a firewall, a security group) silently drops the SYNs to port %d",
				c.Server.Addr(), c.Server.Port()),
			t.SYN, c.Last)
	}
	return d.emptyConnection()
}

// serverGreeted reports whether the server's plaintext s, in a protocol
// it names (a MySQL greeting, an SMTP banner), began before the client's
// plaintext n: a greeting the client answered in its protocol, so that
// no side tried TLS. Which began first is read from the frames of their
// first bytes when both are known, else from the frames that completed
// them.
func serverGreeted(n, s *analysis.NonTLS) bool {
	switch {
	case n == nil || s == nil || strings.HasPrefix(s.Looks, tlsparse.Unrecognised):
		return false
	case n.First.Number != 0 && s.First.Number != 0:
		return s.First.Number < n.First.Number
	}
	return s.Frame.Number < n.Frame.Number
}

// malformedClientHello explains a connection whose only ClientHello was
// whole in the capture but does not parse: the client (or a middlebox
// that rewrote it) sent a broken one, and what the server answered, an
// alert such as decode_error as a rule, is its verdict on it.
func (d *diagnosis) malformedClientHello() Verdict {
	c := d.c
	f := c.MalformedClientHelloFrame
	summary := fmt.Sprintf("the client's ClientHello (%s) is malformed: it does not parse (%s)", frameRef(f.Number), c.MalformedClientHelloError)
	evidence := []capture.Frame{f}
	if i := slices.IndexFunc(c.Alerts, func(a analysis.Alert) bool { return a.Sender == server }); i >= 0 {
		a := c.Alerts[i]
		summary += fmt.Sprintf(", and the server rejected it with %s (%s)", alertText(a), frameRef(a.Frame.Number))
		evidence = append(evidence, a.Frame)
	} else {
		if end, who, how := d.firstClose(); who == server && end.Number > f.Number {
			summary += fmt.Sprintf(", and the server closed the connection (%s, %s) without a TLS answer", how, frameRef(end.Number))
			evidence = append(evidence, end)
		}
		summary += "; no alert says the server found it malformed too"
	}
	return verdict(HandshakeFailure, summary,
		"the client, or a middlebox that rewrites ClientHellos on the way (a TLS-inspecting proxy, a load balancer), sends a broken ClientHello: tshark -V -Y tls.handshake.type==1 names the bad field; capture on the client to tell which, and update its TLS library",
		evidence...)
}

// lateSYNACKReset is how soon after a SYN-ACK a client's reset answers it
// from the client's system (no program waits for it any more): a program
// that opened the connection and then gave up takes longer.
const lateSYNACKReset = 10 * time.Millisecond

// emptyConnection explains a TCP connection that was accepted but over
// which the client never sent anything.
func (d *diagnosis) emptyConnection() Verdict {
	c := d.c
	t := &c.TCP
	switch {
	case slices.Contains(c.Anomalies, tlsparse.AnomalyOversizedHandshakeMessage):
		return verdict(NotTLSClient,
			"the client's first handshake message announces more than 128 KiB (oversized_handshake_message): no TLS server accepts a ClientHello that large (most stop at 64 KiB or less), so this is a broken or hostile client",
			"find the client in the capture and check what it runs; a TLS client's ClientHello is a few hundred bytes to a few KiB", t.SYN, c.Last)
	case len(t.Gaps) > 0 || len(c.Anomalies) > 0:
		// Bytes flowed but no hello came out of them: lost or truncated
		// packets (a short snaplen) rather than a silent client.
		what := "bytes are missing from the capture"
		if len(c.Anomalies) > 0 {
			what = "the first messages did not parse (" + joinAnomalies(c.Anomalies) + ")"
		}
		return verdict(IncompleteCapture,
			fmt.Sprintf("no hello in this connection: %s", what),
			"capture again without truncation (tcpdump -s 0) and with a larger buffer (-B)", t.SYN, c.Last)
	case t.RST.Number != 0 && t.RSTFrom == server,
		t.FIN[server].Number != 0 && t.RST.Number == 0 && (t.FIN[client].Number == 0 || t.FIN[server].Number < t.FIN[client].Number):
		// The server hung up first.
		how, f := "reset", t.RST
		if t.RST.Number == 0 {
			how, f = "closed", t.FIN[server]
		}
		return verdict(ConnectionReset,
			fmt.Sprintf("the server accepted the TCP connection (%s) and %s it (%s) %s later, before the client sent its ClientHello",
				frameRef(t.SYNACK.Number), how, frameRef(f.Number), d.waitFrom(t.SYNACK, f)),
			"the server (or a proxy or load balancer in front of it) drops connections as soon as it accepts them: check its connection limits, access rules and logs",
			t.SYN, t.SYNACK, f)
	case t.SYNCount > 1 && t.RST.Number != 0 && t.RSTFrom == client && c.ClientSide.Bytes == 0 &&
		t.RST.Number > t.SYNACK.Number && t.RST.Time.Sub(t.SYNACK.Time) < lateSYNACKReset && (t.SYNACK.Time.Sub(t.SYN.Time) >= time.Second || d.c.SteppedBetween(t.SYN, t.SYNACK)):
		// The client's system resets a SYN-ACK for a connection its
		// program gave up on: the SYNs or SYN-ACKs were lost on the way.
		// When the capture's clock stepped back between the SYN and the
		// SYN-ACK, the SYNs sent again say the wait was long (the first
		// retransmission comes a second after the SYN).
		return verdict(NoTCPAnswer,
			fmt.Sprintf("the server's SYN-ACK (%s) came %s after the first SYN, after the client had given up (it sent %s): its system reset the connection at once (%s); the SYNs or the SYN-ACKs were lost or held on the way",
				frameRef(t.SYNACK.Number), d.waitFrom(t.SYN, t.SYNACK), prose.Count(t.SYNCount, "SYN"), frameRef(t.RST.Number)),
			fmt.Sprintf("find where the path between the client and %s loses packets (a congested or lossy link, a firewall's SYN rate limit), or give the client a longer connect timeout", c.Server),
			t.SYN, t.SYNACK, t.RST)
	case t.RST.Number != 0 || t.FIN[client].Number != 0 || c.TCP.Close == capture.ClosedIdle:
		f, how := t.RST, "reset"
		switch {
		case t.FIN[client].Number != 0 && (t.RST.Number == 0 || t.FIN[client].Number < t.RST.Number):
			f, how = t.FIN[client], "closed"
		case t.RST.Number == 0:
			f, how = c.Last, "left idle"
		}
		if n := c.ClientSide.Bytes; n > 0 {
			return verdict(NotTLSClient,
				fmt.Sprintf("the client opened the TCP connection, sent %s, less than a TLS record, and %s it %s later (%s): not a TLS client",
					prose.Count(int(n), "byte"), how, d.waitFrom(t.SYN, f), frameRef(f.Number)),
				"a TLS client starts with a ClientHello of a few hundred bytes at least: find out what the client runs and check that it is configured for TLS on this port",
				t.SYN, f)
		}
		return verdict(NotTLSClient,
			fmt.Sprintf("the client opened the TCP connection and %s it %s later without sending anything (%s): a port check, a health probe or a browser's unused preconnection, not a TLS client",
				how, d.waitFrom(t.SYN, f), frameRef(f.Number)),
			"nothing to fix on the server if this is a health check; otherwise the client never started TLS: check that it is configured for TLS on this port",
			t.SYN, f)
	}
	if v, ok := d.silentAfterHandshake(); ok {
		return v
	}
	sent := "before the client sent anything"
	if n := c.ClientSide.Bytes; n > 0 {
		sent = "when the client had sent " + prose.Count(int(n), "byte") + ", less than a TLS record"
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("the capture ended %s after the TCP handshake, %s", d.waitFrom(t.SYN, d.captureEnd()), sent),
		"capture longer, until the connection closes", t.SYN, c.Last)
}

// incomplete explains a connection whose handshake is not in the capture.
func (d *diagnosis) incomplete() Verdict {
	c := d.c
	var facts []string
	if r := c.ClientSide.AppData.Records + c.ServerSide.AppData.Records; r > 0 {
		facts = append(facts, fmt.Sprintf("%d application data records (%d from the client, %d from the server) show it was already established",
			r, c.ClientSide.AppData.Records, c.ServerSide.AppData.Records))
	}
	if len(c.Alerts) > 0 {
		a := c.Alerts[0]
		facts = append(facts, fmt.Sprintf("the %s sent %s (%s)", a.Sender, alertText(a), frameRef(a.Frame.Number)))
	}
	if v, ok := d.snapCut(facts); ok {
		return v
	}
	summary := "the capture does not contain the TLS handshake of this connection"
	if c.Partial {
		summary = "the capture began after this connection started: its TLS handshake is not in the capture"
	}
	if len(facts) > 0 {
		summary += "; " + strings.Join(facts, "; ")
	}
	v := verdict(IncompleteCapture, summary,
		"start the capture before the client connects (or make the client open a new connection) to see the handshake",
		c.First, c.ClientSide.AppData.First, c.ServerSide.AppData.First)
	// Begun before the capture: nothing says whether its handshake
	// worked.
	v.NotJudged = c.Partial
	return v
}

// snapCut explains a connection whose start was captured but whose
// handshake the snap length cut: the capture began in time, its frames
// were kept short. Unless an alert that survived the cut says it failed,
// nothing says whether the handshake worked.
func (d *diagnosis) snapCut(facts []string) (Verdict, bool) {
	c := d.c
	if c.Partial {
		return Verdict{}, false
	}
	var cut []capture.Frame
	snap := 0
	for _, g := range c.TCP.Gaps {
		if g.SnapLen > 0 {
			cut = append(cut, g.Frame)
			snap = g.SnapLen
		}
	}
	if len(cut) == 0 {
		return Verdict{}, false
	}
	summary := fmt.Sprintf("the capture began before this connection, but its frames were cut to %d bytes (the snap length), so its TLS handshake was not kept whole (%s)", snap, frameList("cut:", cut))
	if len(facts) > 0 {
		summary += "; " + strings.Join(facts, "; ")
	}
	if len(c.Alerts) > 0 {
		cut = append(cut, c.Alerts[0].Frame)
	}
	v := verdict(IncompleteCapture, summary, "capture again without truncation (tcpdump -s 0; Wireshark and dumpcap keep whole frames by default)", cut...)
	v.NotJudged = !slices.ContainsFunc(c.Alerts, func(a analysis.Alert) bool { return a.Known() && a.Level == tlsparse.AlertLevelFatal })
	return v, true
}

// noClientHello explains a connection whose server hello was captured but
// not the client's.
func (d *diagnosis) noClientHello() Verdict {
	c := d.c
	sh := c.ServerHello
	what := "the server's hello"
	if sh != nil {
		what = fmt.Sprintf("the server chose %s with %s", c.Version, c.Cipher)
	}
	if c.Established && sh == nil {
		return d.doneWithoutServerHello()
	}
	if c.Established {
		if v, ok := d.cutBeforeOK(); ok {
			return v
		}
		v := d.ok()
		if !slices.ContainsFunc(c.TCP.Gaps, func(g analysis.Gap) bool { return g.SnapLen > 0 && g.Dir == client }) {
			v.Warnings = append(v.Warnings, "the ClientHello is not in the capture: what the client offered is unknown")
		}
		return v
	}
	if v, ok := d.cutClientHello(what); ok {
		return v
	}
	v := verdict(IncompleteCapture,
		fmt.Sprintf("the ClientHello is not in the capture (%s, %s) and the handshake did not complete", what, frameRef(d.serverHelloFrame().Number)),
		"capture from before the client connects to see what it offered",
		d.serverHelloFrame())
	v.NotJudged = c.Partial
	return v
}

// cutClientHello explains an unfinished handshake whose ClientHello the
// capture cut short: the offer is known only up to the cut, so nothing is
// judged from it.
func (d *diagnosis) cutClientHello(what string) (Verdict, bool) {
	c := d.c
	h := c.CutClientHello
	if h == nil {
		return Verdict{}, false
	}
	i := slices.IndexFunc(c.TCP.Gaps, func(g analysis.Gap) bool { return g.Dir == client })
	if i < 0 {
		return Verdict{}, false
	}
	g := c.TCP.Gaps[i]
	fix := "capture again with a larger buffer (tcpdump -B) to see the whole ClientHello"
	if g.SnapLen > 0 {
		fix = "capture again without a snap length (tcpdump -s 0) to see the whole ClientHello"
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("only the first %d of the ClientHello's %d bytes are in the capture (the rest %s; %s, %s) and the handshake did not complete: what the client offered after the cut is unknown",
			len(h.Raw), c.CutClientHelloSize, gapWhy(g), what, frameRef(d.serverHelloFrame().Number)),
		fix, c.CutClientHelloFrame, d.serverHelloFrame()), true
}

func (d *diagnosis) notTLSClient() Verdict {
	c := d.c
	n := c.ClientSide.NonTLS
	summary := fmt.Sprintf("the client sent %s (%s) instead of a TLS ClientHello", n.Looks, frameRef(n.Frame.Number))
	answer := capture.Frame{}
	switch s := c.ServerSide.NonTLS; {
	case s != nil && s.Frame.Number > n.Frame.Number:
		answer = s.Frame
		summary += fmt.Sprintf("; the server answered %s (%s)", s.Looks, frameRef(s.Frame.Number))
	case len(c.Alerts) > 0 && c.Alerts[0].Sender == server:
		answer = c.Alerts[0].Frame
		summary += fmt.Sprintf("; the server answered with %s (%s)", alertText(c.Alerts[0]), frameRef(answer.Number))
	case c.TCP.RST.Number != 0 && c.TCP.RSTFrom == server:
		answer = c.TCP.RST
		summary += fmt.Sprintf("; the server reset the connection (%s)", frameRef(answer.Number))
	case c.TCP.FIN[server].Number != 0:
		answer = c.TCP.FIN[server]
		summary += fmt.Sprintf("; the server closed the connection (%s)", frameRef(answer.Number))
	}
	port := c.Server.Port()
	fix := fmt.Sprintf("port %d expects TLS: configure the client to use TLS on this port, or point it at the server's plaintext port", port)
	switch l := strings.ToUpper(n.Looks); {
	case strings.HasPrefix(l, "HTTP/2 CONNECTION PREFACE"):
		fix = fmt.Sprintf("the client speaks HTTP/2 without TLS (h2c, prior knowledge) to a TLS port (%d), as a gRPC client with plaintext credentials does: give the client TLS credentials (gRPC-Go: grpc.WithTransportCredentials(credentials.NewTLS(cfg)) instead of insecure.NewCredentials(); grpcurl without -plaintext; curl https:// instead of --http2-prior-knowledge http://), or point it at the server's plaintext port", port)
	case strings.Contains(l, "HTTP"):
		fix = d.serverSide(fmt.Sprintf("the client speaks plain HTTP to a TLS port (%d): use https:// in the URL, or the server's plain-HTTP port", port), ChangeRedirectPlain)
	case strings.Contains(l, "STARTTLS"), strings.Contains(l, "XMPP"), strings.Contains(l, "POSTGRESQL"):
		fix = fmt.Sprintf("the client starts in plaintext (STARTTLS style) on port %d, where the server expects TLS at once: configure the client for implicit TLS, or point it at the STARTTLS port", port)
	}
	return verdict(NotTLSClient, summary, fix, n.Frame, answer)
}

// notTLSServer reports a server that answered the ClientHello with
// something other than TLS, or greeted the client in plaintext (an SMTP
// banner on a port where the client expected TLS from the start).
func (d *diagnosis) notTLSServer() (Verdict, bool) {
	c := d.c
	if c.ServerHello != nil || c.HelloRetry != nil {
		return Verdict{}, false
	}
	n := c.ServerSide.NonTLS
	when := "answered the ClientHello (" + frameRef(d.helloFrame.Number) + ") with"
	if n == nil && c.ServerSide.Prelude != nil && c.ClientSide.Prelude == nil {
		// Plaintext from the server only, before the ClientHello: the
		// server speaks a protocol that starts in the clear, the client
		// expected TLS at once.
		n, when = c.ServerSide.Prelude, "greeted the client with"
	}
	if n == nil {
		return Verdict{}, false
	}
	if c.Proxy != nil && c.Proxy.Outcome == proxyparse.Granted {
		return d.plaintextInTunnel(n), true
	}
	if desc, ok := tlsparse.GarbledAlert(n.Short); ok && n == c.ServerSide.NonTLS {
		return d.garbledAlert(n, desc), true
	}
	fix := notTLSServerFix(n.Looks, c.Server.Port())
	if strings.Contains(strings.ToUpper(n.Looks), "HTTP") || htmlPage(n.Looks) {
		fix = d.serverSide(fix, ChangeListenTLS)
	}
	summary := fmt.Sprintf("the server %s %s (%s), not TLS", when, n.Looks, frameRef(n.Frame.Number))
	if p := c.Server.Port(); badRequest(n.Looks) && c.ProxyHeader() == nil && p != 80 && p != 8080 {
		// A backend that does not expect a load balancer's PROXY
		// protocol header answers it so (nginx, at once): the client
		// does not see the header, only the answer
		// (testdata/field/proxyproto). A ClientHello sent to a plain
		// HTTP port is the wrong port.
		if n != c.ServerSide.NonTLS {
			summary += "; an HTTP server speaks only when asked, and the client had sent nothing yet, so the request it answered came from elsewhere: " +
				"likely a load balancer in front that sends the backend a PROXY protocol header, which the backend does not expect and answered with this 400 (nginx does so at once)"
			fix = proxyProtocolFix + "; if there is no such load balancer: " + fix
		} else if RecognizeServer(d.response) == ServerNginx {
			// Only nginx answers the header with a 400 (Go's TLS
			// server closes; the 400 of a plain HTTP server of
			// another kind is that server's).
			fix += ". Possible too: a load balancer in front sends the backend a PROXY protocol header that it does not expect, which nginx answers with the same 400; then " + proxyProtocolFix
		}
	}
	return verdict(NotTLSServer, summary, fix, d.helloFrame, n.Frame), true
}

// badRequest reports whether a server's plaintext answer is an HTTP 400,
// what nginx answers a PROXY protocol header with, as it answers a
// ClientHello on a plain HTTP port.
func badRequest(looks string) bool {
	return strings.HasPrefix(looks, "HTTP response (HTTP/1.") && strings.Contains(looks, " 400")
}

// htmlPage reports whether a server's plaintext answer is an HTML page
// without an HTTP status line: an HTTP server answering in HTTP/0.9's
// way a request line it could not read (Python's http.server).
func htmlPage(looks string) bool {
	l := strings.ToUpper(looks)
	return strings.Contains(l, "<!DOCTYPE HTML") || strings.Contains(l, "<HTML")
}

// notTLSServerFix suggests what to do about a server that does not speak
// TLS, by what it does speak.
func notTLSServerFix(looks string, port uint16) string {
	l := strings.ToUpper(looks)
	switch {
	case strings.HasPrefix(l, "HTTP/2 SETTINGS"):
		return fmt.Sprintf("port %d serves HTTP/2 without TLS (h2c), as a gRPC server without TLS credentials does: connect without TLS (gRPC-Go: grpc.WithTransportCredentials(insecure.NewCredentials()); grpcurl -plaintext), or enable TLS on the server (gRPC-Go: grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg))))", port)
	case strings.Contains(l, "HTTP"):
		return fmt.Sprintf("port %d serves plain HTTP: use http://, or connect to the server's HTTPS port (or enable TLS on this one)", port)
	case htmlPage(looks):
		return fmt.Sprintf("port %d serves plain HTTP (an error page without a status line, as Python's http.server answers a request line it cannot read): use http://, or connect to the server's HTTPS port (or enable TLS on this one)", port)
	case strings.Contains(l, "SSH"):
		return fmt.Sprintf("port %d is an SSH server: connect to the TLS service's port", port)
	case strings.Contains(l, "MYSQL"):
		return fmt.Sprintf("port %d is a MySQL server, which negotiates TLS inside its own protocol: a MySQL client asks for it with its TLS option (mysql --ssl-mode=REQUIRED, a driver's tls setting), not with raw TLS", port)
	case strings.Contains(l, "SMTP"), strings.Contains(l, "IMAP"), strings.Contains(l, "POP"), strings.Contains(l, "FTP"), strings.Contains(l, "XMPP"),
		strings.HasPrefix(l, "220"), strings.HasPrefix(l, "* OK"), strings.HasPrefix(l, "+OK"):
		return fmt.Sprintf("the server on port %d starts in plaintext and expects STARTTLS: use the protocol's STARTTLS command, or its implicit-TLS port (465, 993, 995, 990)", port)
	}
	return fmt.Sprintf("something other than a TLS server listens on port %d: check the port, or enable TLS on the server", port)
}

// oneWay explains a capture that holds one direction of the connection
// only: none of one side's packets were captured, though the other side
// acknowledged its bytes (tcpdump -Q, a mirror port copying one
// direction, asymmetric routing). Nothing can be judged from half a
// handshake: what the missing side sent is unknown.
func (d *diagnosis) oneWay() (Verdict, bool) {
	c := d.c
	i := slices.IndexFunc(c.TCP.Gaps, func(g analysis.Gap) bool { return g.Unseen })
	if i < 0 {
		return Verdict{}, false
	}
	g := c.TCP.Gaps[i]
	missing, other := g.Dir, g.Dir.Reverse()
	summary := fmt.Sprintf("the capture holds the %s's packets only: none of the %s's were captured, though the %s acknowledged %s from it (by %s): a capture of one direction",
		other, missing, other, prose.Count(g.Size, "byte"), frameRef(g.Frame.Number))
	ev := []capture.Frame{g.Frame}
	if s := c.Side(other); s.Finished.Number != 0 {
		summary += fmt.Sprintf("; the %s sent its Finished (%s), so the handshake went on at least that far", other, frameRef(s.Finished.Number))
		ev = append(ev, s.Finished)
	}
	v := verdict(IncompleteCapture, summary,
		"capture both directions: tcpdump without -Q (or --direction), a mirror port that copies both directions (SPAN of rx and tx), or a capture on the client or the server itself; with asymmetric routing, capture where both directions pass",
		ev...)
	v.NotJudged = true
	return v, true
}

// garbledAlert explains a server whose whole answer to the ClientHello
// was an alert record with its header zeroed (tlsparse.GarbledAlert): the
// alert it most likely sent, as handshakeFailure would explain it, said
// to rest on the shape of the bytes.
func (d *diagnosis) garbledAlert(n *analysis.NonTLS, desc tlsparse.AlertDescription) Verdict {
	a := analysis.Alert{Frame: n.Frame, Sender: server, Level: tlsparse.AlertLevelFatal, Description: desc}
	closed := ""
	if end, who, how := d.firstClose(); end.Number != 0 && who == server {
		closed = fmt.Sprintf(", then closed the connection (%s, %s)", how, frameRef(end.Number))
	}
	head := fmt.Sprintf("the server answered the ClientHello (%s) with %s%s; they are no TLS record, but have the shape of one carrying alert %s (length 2, description %d) whose content type, version and level were zeroed: likely the server's %s alert, garbled on the way or in the capture (possible: a device that speaks no TLS answered instead)",
		frameRef(d.helloFrame.Number), prose.Count(int64(len(n.Short)), "byte")+" ("+frameRef(n.Frame.Number)+": "+fmt.Sprintf("% x", n.Short)+")", closed, desc, int(desc), desc)
	var v Verdict
	switch desc {
	case tlsparse.AlertHandshakeFailure, tlsparse.AlertInsufficientSecurity:
		// The cause of a plaintext alert of the same description: a
		// client whose suites no server enables by default (only NULL
		// or export suites) shares none with the server, whatever its
		// groups and SNI.
		if d.alertCause(&a, phaseHello).cat == NoSharedCipher {
			v = d.noSharedCipher(&a)
			if d.hello.ServerName == "" {
				v.Summary += "; possible: the server also requires SNI, which the client did not send"
			}
			break
		}
		v = d.handshakeFailure(&a, phaseHello)
	default:
		v = d.fromAlert(&a)
	}
	if i := strings.Index(v.Summary, "; "); i >= 0 && strings.HasPrefix(v.Summary, "the server rejected the ClientHello with") {
		// handshakeFailure's hints, on what the ClientHello shows.
		v.Summary = head + v.Summary[i:]
	} else if i := strings.Index(v.Summary, ": "); i >= 0 && strings.HasPrefix(v.Summary, "the server answered the ClientHello with") {
		// noSharedCipher's reading of the alert, after the head that
		// already names it.
		v.Summary = head + v.Summary[i:]
	} else {
		v.Summary = head + ": " + v.Summary
	}
	if end, who, _ := d.firstClose(); end.Number != 0 && who == server {
		v.Evidence = append(v.Evidence, end.Number)
	}
	return v
}

// droppedHelloFix is the fix for a server that closed after the
// ClientHello without a word: what it refused is not on the wire, so the
// causes are possible ones, SNI first only when the hello had none.
func (d *diagnosis) droppedHelloFix() string {
	fix := "the server dropped the ClientHello without an alert: look at its log. Possible causes, none visible in the capture: "
	// Servers that close so instead of sending their alert
	// (testdata/field/servers).
	const silent = " (the JDK's HttpsServer closes so on any failed handshake instead of sending its alert, and Node.js when its SNICallback fails)"
	if d.hello == nil {
		return fix + "it supports nothing the client offers" + silent
	}
	version := ""
	switch v := d.offeredVersions(); {
	case len(v) == 1 && v[0] == tlsparse.VersionTLS13:
		version = ", such as TLS 1.3, the only version the client offers"
	case len(v) > 0 && slices.Max(v) == tlsparse.VersionTLS12:
		version = ", such as a server that requires TLS 1.3, which the client does not offer"
	}
	if d.hello.ServerName == "" {
		if d.front != nil {
			d.frontSaid = true
			return fix + "it requires SNI, which the proxy did not send (" + proxySNISettings + "); or it supports nothing the client offers" + version + silent + d.proxyProtocolExpected()
		}
		return fix + "it requires SNI, which the client did not send (send the server's name; a reverse proxy: nginx `proxy_ssl_server_name on;`, off by default; HAProxy `sni req.hdr(host)` on the `server` line); or it supports nothing the client offers" + version + silent + d.proxyProtocolExpected()
	}
	return fix + "it supports nothing the client offers" + version + ", or it refuses the name the client sent (SNI)" + silent + d.proxyProtocolExpected()
}
