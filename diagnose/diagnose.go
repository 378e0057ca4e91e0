package diagnose

import (
	"cmp"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Config holds what a diagnosis needs besides the connection.
type Config struct {
	// Roots are the trusted roots: the system's plus --cacert (see
	// LoadRoots). nil means the system roots.
	Roots *x509.CertPool
}

const (
	client = capture.ClientToServer
	server = capture.ServerToClient
)

// Diagnose explains one connection. It is a pure function of the record:
// certificates are validated at the capture's own time, never the clock's.
//
// The order of the checks is the precedence of the causes: no handshake at
// all (TCP refused, unanswered, plaintext peers, capture without the
// handshake); a server that answered with something other than TLS; a
// completed handshake (ok, with warnings, unless the client hung up without
// sending data and the chain has a problem); what the wire shows the server
// chose and the client then refused (version, ALPN, cipher); the first
// decisive alert, through the one alert table (alertCause); an abort
// without an alert (RST or FIN); and last a handshake that stalled or was
// cut off by the end of the capture.
func Diagnose(c *analysis.Connection, cfg Config) Verdict {
	d := newDiagnosis(c, cfg)
	v := d.verdict()
	v.Warnings = append(v.Warnings, d.warnings(v.Category)...)
	v.Evidence = sortFrames(v.Evidence)
	return v
}

// diagnosis holds the facts derived once from a record.
type diagnosis struct {
	c *analysis.Connection
	// hello is the client's last hello: after a HelloRetryRequest, the
	// second one.
	hello      *tlsparse.ClientHello
	helloFrame capture.Frame
	// chain is the server's chain as sent; entries that did not parse are
	// nil.
	chain []*x509.Certificate
	// probs is what is wrong with chain, most important first; used is the
	// one the verdict is about (not repeated as a warning), or nil.
	probs []CertProblem
	used  *CertProblem
	// noSNI is set when the chain was visible but the client sent no SNI.
	noSNI bool
	roots *x509.CertPool
}

func newDiagnosis(c *analysis.Connection, cfg Config) *diagnosis {
	d := &diagnosis{c: c, hello: c.ClientHello, helloFrame: c.ClientHelloFrame, roots: cfg.Roots}
	if c.RetryClientHello != nil {
		d.hello, d.helloFrame = c.RetryClientHello, c.RetryClientHelloFrame
	}
	if len(c.Certificates) == 0 {
		return d
	}
	for i, cert := range c.Certificates {
		d.chain = append(d.chain, cert.X509)
		if cert.X509 == nil {
			d.probs = append(d.probs, CertProblem{Category: CertRejected, Cert: i,
				Detail: fmt.Sprintf("certificate %d does not parse: %v", i, cert.ParseError)})
		}
	}
	sni := ""
	if d.hello != nil {
		sni = d.hello.ServerName
		d.noSNI = sni == ""
	}
	d.probs = append(d.probs, CheckChain(d.chain, sni, d.certTime(), cfg.Roots)...)
	return d
}

// certTime is when the client judged the certificate: the frame that
// carried it, or failing that the nearest earlier frame seen.
func (d *diagnosis) certTime() time.Time {
	for _, f := range []capture.Frame{d.c.CertificateFrame, d.c.ServerHelloFrame, d.c.ClientHelloFrame, d.c.First} {
		if !f.Time.IsZero() {
			return f.Time
		}
	}
	return time.Time{}
}

func (d *diagnosis) verdict() Verdict {
	c := d.c
	switch {
	case c.ClientHello == nil && c.ServerHello == nil && c.HelloRetry == nil:
		return d.noHandshake()
	case c.ClientHello == nil:
		return d.noClientHello()
	}
	if v, ok := d.notTLSServer(); ok {
		return v
	}
	if c.Established {
		if v, ok := d.rejectedAfterHandshake(); ok {
			return v
		}
		return d.ok()
	}
	if v, ok := d.refusedChoice(); ok {
		return v
	}
	if a := d.decisiveAlert(); a != nil {
		return d.fromAlert(a)
	}
	if v, ok := d.abortWithoutAlert(); ok {
		return v
	}
	return d.unfinished()
}

// verdict builds a Verdict; frames that were not seen are dropped later.
func verdict(cat Category, summary, fix string, frames ...capture.Frame) Verdict {
	v := Verdict{Category: cat, Summary: summary, Fix: fix}
	for _, f := range frames {
		v.Evidence = append(v.Evidence, f.Number)
	}
	return v
}

// sortFrames sorts frame numbers and drops zeros (not seen) and repeats.
func sortFrames(ns []int64) []int64 {
	ns = slices.DeleteFunc(ns, func(n int64) bool { return n <= 0 })
	slices.Sort(ns)
	return slices.Compact(ns)
}

// ---- before any handshake ----

// noHandshake explains a connection without any hello: TCP trouble, a
// peer speaking something else, or a capture that missed the start.
func (d *diagnosis) noHandshake() Verdict {
	c := d.c
	t := &c.TCP
	switch {
	case c.NonTLS[client] != nil:
		return d.notTLSClient()
	case c.NonTLS[server] != nil:
		n := c.NonTLS[server]
		return verdict(NotTLSServer,
			fmt.Sprintf("the server sent %s before any TLS (%s) and the client never sent a ClientHello", n.Looks, frameRef(n.Frame.Number)),
			notTLSServerFix(n.Looks, c.Server.Port()), t.SYN, n.Frame)
	case d.anyTLS() || t.SYN.Number == 0:
		return d.incomplete()
	case t.SYNACK.Number == 0 && t.RST.Number != 0 && t.RSTFrom == server:
		return verdict(ConnectionRefused,
			fmt.Sprintf("%s refused the connection: the SYN (%s) was answered by a RST (%s) after %s",
				c.Server, frameRef(t.SYN.Number), frameRef(t.RST.Number), wait(t.RST.Time.Sub(t.SYN.Time))),
			fmt.Sprintf("nothing listens on port %d at %s (or a firewall rejects it): start the server, or connect to the port it listens on",
				c.Server.Port(), c.Server.Addr()),
			t.SYN, t.RST)
	case t.SYNACK.Number == 0:
		return verdict(NoTCPAnswer,
			fmt.Sprintf("%s never answered: %s over %s, no SYN-ACK", c.Server, plural(max(t.SYNCount, 1), "SYN"), wait(c.Last.Time.Sub(t.SYN.Time))),
			fmt.Sprintf("check that %s is the right address and that the server is up; something (a firewall, a security group) silently drops the SYNs to port %d",
				c.Server.Addr(), c.Server.Port()),
			t.SYN, c.Last)
	}
	return d.emptyConnection()
}

// anyTLS reports whether any TLS record was seen (a connection caught
// after its handshake).
func (d *diagnosis) anyTLS() bool {
	c := d.c
	return len(c.Alerts) > 0 || c.AppData[client].Records+c.AppData[server].Records > 0 ||
		c.Finished[client].Number+c.Finished[server].Number > 0 ||
		c.ChangeCipherSpec[client].Number+c.ChangeCipherSpec[server].Number > 0
}

// emptyConnection explains a TCP connection that was accepted but over
// which the client never sent anything.
func (d *diagnosis) emptyConnection() Verdict {
	c := d.c
	t := &c.TCP
	switch {
	case len(t.Gaps) > 0 || len(c.Anomalies) > 0:
		// Bytes flowed but no hello came out of them: lost or truncated
		// packets (a short snaplen) rather than a silent client.
		what := "bytes are missing from the capture"
		if len(c.Anomalies) > 0 {
			what = "the first messages did not parse (" + strings.Join(c.Anomalies, ", ") + ")"
		}
		return verdict(IncompleteCapture,
			fmt.Sprintf("no hello in this connection: %s", what),
			"capture again without truncation (tcpdump -s 0) and with a larger buffer (-B)", t.SYN, c.Last)
	case t.RST.Number != 0 && t.RSTFrom == server, t.FIN[server].Number != 0 && t.RST.Number == 0:
		how, f := "reset", t.RST
		if t.RST.Number == 0 {
			how, f = "closed", t.FIN[server]
		}
		return verdict(ConnectionReset,
			fmt.Sprintf("the server accepted the TCP connection (%s) and %s it (%s) %s later, before the client sent its ClientHello",
				frameRef(t.SYNACK.Number), how, frameRef(f.Number), wait(f.Time.Sub(t.SYNACK.Time))),
			"the server (or a proxy or load balancer in front of it) drops connections as soon as it accepts them: check its connection limits, access rules and logs",
			t.SYN, t.SYNACK, f)
	case t.RST.Number != 0 || t.FIN[client].Number != 0 || c.TCP.Close == capture.ClosedIdle:
		f, how := t.RST, "reset"
		switch {
		case t.FIN[client].Number != 0 && (t.RST.Number == 0 || t.FIN[client].Number < t.RST.Number):
			f, how = t.FIN[client], "closed"
		case t.RST.Number == 0:
			f, how = c.Last, "left idle"
		}
		return verdict(NotTLSClient,
			fmt.Sprintf("the client opened the TCP connection and %s it %s later without sending anything (%s): a port check or health probe, not a TLS client",
				how, wait(f.Time.Sub(t.SYN.Time)), frameRef(f.Number)),
			"nothing to fix on the server if this is a health check; otherwise the client never started TLS: check that it is configured for TLS on this port",
			t.SYN, f)
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("the capture ended %s after the TCP handshake, before the client sent anything", wait(c.Last.Time.Sub(t.SYN.Time))),
		"capture longer, until the connection closes", t.SYN, c.Last)
}

// incomplete explains a connection whose handshake is not in the capture.
func (d *diagnosis) incomplete() Verdict {
	c := d.c
	var facts []string
	if r := c.AppData[client].Records + c.AppData[server].Records; r > 0 {
		facts = append(facts, fmt.Sprintf("%d application data records (%d from the client, %d from the server) show it was already established",
			r, c.AppData[client].Records, c.AppData[server].Records))
	}
	if len(c.Alerts) > 0 {
		a := c.Alerts[0]
		facts = append(facts, fmt.Sprintf("the %s sent %s (%s)", a.Sender, alertText(a), frameRef(a.Frame.Number)))
	}
	summary := "the capture does not contain the TLS handshake of this connection"
	if c.Partial {
		summary = "the capture began after this connection started: its TLS handshake is not in the capture"
	}
	if len(facts) > 0 {
		summary += "; " + strings.Join(facts, "; ")
	}
	return verdict(IncompleteCapture, summary,
		"start the capture before the client connects (or make the client open a new connection) to see the handshake",
		c.First, c.AppData[client].First, c.AppData[server].First)
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
	if c.Established {
		v := d.ok()
		v.Warnings = append(v.Warnings, "the ClientHello is not in the capture: what the client offered is unknown")
		return v
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("the ClientHello is not in the capture (%s, %s) and the handshake did not complete", what, frameRef(d.serverHelloFrame().Number)),
		"capture from before the client connects to see what it offered",
		d.serverHelloFrame())
}

// ---- non-TLS peers ----

func (d *diagnosis) notTLSClient() Verdict {
	c := d.c
	n := c.NonTLS[client]
	summary := fmt.Sprintf("the client sent %s (%s) instead of a TLS ClientHello", n.Looks, frameRef(n.Frame.Number))
	answer := capture.Frame{}
	switch s := c.NonTLS[server]; {
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
	case strings.Contains(l, "HTTP"):
		fix = fmt.Sprintf("the client speaks plain HTTP to a TLS port (%d): use https:// in the URL, or the server's plain-HTTP port", port)
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
	n := c.NonTLS[server]
	when := "answered the ClientHello (" + frameRef(d.helloFrame.Number) + ") with"
	if n == nil && c.Prelude[server] != nil && c.Prelude[client] == nil {
		// Plaintext from the server only, before the ClientHello: the
		// server speaks a protocol that starts in the clear, the client
		// expected TLS at once.
		n, when = c.Prelude[server], "greeted the client with"
	}
	if n == nil {
		return Verdict{}, false
	}
	return verdict(NotTLSServer,
		fmt.Sprintf("the server %s %s (%s), not TLS", when, n.Looks, frameRef(n.Frame.Number)),
		notTLSServerFix(n.Looks, c.Server.Port()),
		d.helloFrame, n.Frame), true
}

// notTLSServerFix suggests what to do about a server that does not speak
// TLS, by what it does speak.
func notTLSServerFix(looks string, port uint16) string {
	l := strings.ToUpper(looks)
	switch {
	case strings.Contains(l, "HTTP"):
		return fmt.Sprintf("port %d serves plain HTTP: use http://, or connect to the server's HTTPS port (or enable TLS on this one)", port)
	case strings.Contains(l, "SSH"):
		return fmt.Sprintf("port %d is an SSH server: connect to the TLS service's port", port)
	case strings.Contains(l, "MYSQL"):
		return fmt.Sprintf("port %d is a MySQL server, which negotiates TLS inside its own protocol: use the MySQL client's TLS options (--ssl-mode) instead of raw TLS", port)
	case strings.Contains(l, "SMTP"), strings.Contains(l, "IMAP"), strings.Contains(l, "POP"), strings.Contains(l, "FTP"), strings.Contains(l, "XMPP"),
		strings.HasPrefix(l, "220"), strings.HasPrefix(l, "* OK"), strings.HasPrefix(l, "+OK"):
		return fmt.Sprintf("the server on port %d starts in plaintext and expects STARTTLS: use the protocol's STARTTLS command, or its implicit-TLS port (465, 993, 995, 990)", port)
	}
	return fmt.Sprintf("something other than a TLS server listens on port %d: check the port, or enable TLS on the server", port)
}

// ---- a completed handshake ----

func (d *diagnosis) ok() Verdict {
	c := d.c
	var parts []string
	for _, p := range []string{c.Cipher.String(), groupName(c.Group), alpnName(c.ALPN), sniName(d.hello)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	summary := fmt.Sprintf("%s handshake completed", c.Version)
	if dur := c.Duration(); dur > 0 {
		summary += " in " + wait(dur)
	}
	if c.Resumed {
		summary += " (resumed session)"
	}
	summary += ": " + strings.Join(parts, ", ")
	return verdict(OK, summary, "", d.helloFrame, c.ServerHelloFrame, c.HandshakeDone)
}

func groupName(g tlsparse.NamedGroup) string {
	if g == 0 {
		return ""
	}
	return g.String()
}

func alpnName(p string) string {
	if p == "" {
		return ""
	}
	return "ALPN " + p
}

func sniName(h *tlsparse.ClientHello) string {
	switch {
	case h == nil:
		return ""
	case h.ServerName == "":
		return "no SNI"
	}
	return "SNI " + h.ServerName
}

// rejectedAfterHandshake catches a client that completed the handshake
// and then hung up without sending a byte of data, when the chain has a
// problem: curl checks the certificate's name only after the handshake,
// then sends an encrypted close_notify and resets.
func (d *diagnosis) rejectedAfterHandshake() (Verdict, bool) {
	c := d.c
	done := c.HandshakeDone.Number
	if len(d.probs) == 0 || done == 0 || c.AppData[client].Records > 0 {
		return Verdict{}, false
	}
	var end capture.Frame
	how := ""
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number >= done {
			end, how = a.Frame, alertText(a)
			break
		}
	}
	if f, who, h := d.firstClose(); end.Number == 0 && who == client && f.Number >= done {
		end, how = f, h
	}
	if end.Number == 0 {
		return Verdict{}, false
	}
	p := &d.probs[0]
	d.used = p
	return verdict(p.Category,
		fmt.Sprintf("the handshake completed (%s), then the client hung up (%s, %s) without sending any data: it rejected the server's certificate after the handshake: %s",
			frameRef(done), how, frameRef(end.Number), p.Detail),
		d.certFix(*p), c.CertificateFrame, c.HandshakeDone, end), true
}

// ---- the server's choice, refused by the client ----

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
	switch {
	case v != 0 && (!slices.Contains(offered, v) || v <= tlsparse.VersionTLS11 && !explicit):
		summary := fmt.Sprintf("the server chose %s (ServerHello, %s) and the client refused it (%s, %s): the client offers %s",
			v, frameRef(c.ServerHelloFrame.Number), how, frameRef(abort.Number), d.offerText())
		if explicit {
			summary = fmt.Sprintf("the server chose %s (ServerHello, %s) but the client requires ≥ %s (it offers %s) and aborted (%s, %s)",
				v, frameRef(c.ServerHelloFrame.Number), slices.Min(offered), versionList(offered), how, frameRef(abort.Number))
		}
		return verdict(VersionMismatch, summary,
			fmt.Sprintf("the server supports only %s or older: enable TLS 1.2 or later on the server (lowering the client's minimum version to %s would be insecure)", v, v),
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
			break
		}
	}
	if c.TCP.RST.Number != 0 && c.TCP.RSTFrom == client {
		consider(c.TCP.RST, "RST")
	}
	consider(c.TCP.FIN[client], "FIN")
	return best, how
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
	fs := []int64{c.Finished[client].Number}
	if c.Version != tlsparse.VersionTLS13 {
		fs = append(fs, c.ClientCertificateFrame.Number, c.ChangeCipherSpec[client].Number)
	}
	fs = slices.DeleteFunc(fs, func(n int64) bool { return n == 0 })
	if len(fs) == 0 {
		return 0
	}
	return slices.Min(fs)
}

// ---- aborts without an alert ----

// abortWithoutAlert explains a handshake ended by a RST or FIN.
func (d *diagnosis) abortWithoutAlert() (Verdict, bool) {
	c := d.c
	if d.serverHelloFrame().Number == 0 {
		return d.noServerHello()
	}
	abort, how := d.clientAbort()
	if abort.Number != 0 {
		if a := d.warningUnrecognizedName(); a != nil {
			return verdict(SNIUnrecognized,
				fmt.Sprintf("the server warned unrecognized_name for '%s' (%s) and the client gave up (%s, %s): old Java clients treat this warning as fatal",
					d.hello.ServerName, frameRef(a.Frame.Number), how, frameRef(abort.Number)),
				fmt.Sprintf("add '%s' to the server's names (server_name / virtual host) so it stops warning, or upgrade the client", d.hello.ServerName),
				d.helloFrame, a.Frame, abort), true
		}
		if c.Version == tlsparse.VersionTLS13 && c.Finished[server].Number != 0 {
			return d.certVerdict(d.pickCert(CertRejected), abort, how, false), true
		}
		if c.CertificateFrame.Number != 0 {
			return d.certVerdict(d.pickCert(CertRejected), abort, how, false), true
		}
	}
	if t := &c.TCP; t.RST.Number != 0 {
		after, at := d.lastMessageBefore(t.RST.Number)
		return verdict(ConnectionReset,
			fmt.Sprintf("the %s reset the connection (%s) %s after %s (%s), during the handshake",
				t.RSTFrom, frameRef(t.RST.Number), wait(t.RST.Time.Sub(at.Time)), after, frameRef(at.Number)),
			resetFix(t.RSTFrom),
			at, t.RST), true
	}
	for _, dir := range []capture.Direction{server, client} {
		if f := c.TCP.FIN[dir]; f.Number != 0 {
			after, at := d.lastMessageBefore(f.Number)
			return verdict(HandshakeFailure,
				fmt.Sprintf("the %s closed the connection (FIN, %s) after %s (%s) without an alert", dir, frameRef(f.Number), after, frameRef(at.Number)),
				fmt.Sprintf("the %s gave up on the handshake without saying why: look at its log", dir),
				d.helloFrame, at, f), true
		}
	}
	return Verdict{}, false
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
		if a.Sender == server && !a.Encrypted && a.Description == tlsparse.AlertUnrecognizedName {
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
		return verdict(ServerNoResponse,
			fmt.Sprintf("no answer to the ClientHello (%s): the connection went idle until the capture's idle timeout", frameRef(start.Number)),
			silentServerFix(c.Server.Port()), start, c.Last), true
	case end.Number == 0:
		return Verdict{}, false
	case who == server && how == "RST":
		return verdict(ConnectionReset,
			fmt.Sprintf("the server reset the connection (%s) %s after the ClientHello (%s), without a TLS answer",
				frameRef(end.Number), wait(end.Time.Sub(start.Time)), frameRef(start.Number)),
			"the server (or a firewall or IPS on the way) rejects this ClientHello: look at the server's log, and at middleboxes filtering by SNI or by TLS version",
			start, end), true
	case who == server:
		return verdict(ServerNoResponse,
			fmt.Sprintf("no answer to the ClientHello (%s): the server closed the connection (FIN, %s) %s later without a TLS answer",
				frameRef(start.Number), frameRef(end.Number), wait(end.Time.Sub(start.Time))),
			"the server dropped the ClientHello without an alert: look at its log; it may require SNI, or support nothing the client offers",
			start, end), true
	}
	gaveUp := "reset the connection"
	if how == "FIN" {
		gaveUp = "gave up (FIN)"
	}
	return verdict(ServerNoResponse,
		fmt.Sprintf("no answer to the ClientHello (%s) for %s: the client %s in %s", frameRef(start.Number), wait(end.Time.Sub(start.Time)), gaveUp, frameRef(end.Number)),
		silentServerFix(c.Server.Port()), start, end), true
}

func silentServerFix(port uint16) string {
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
		{"the client's ChangeCipherSpec", c.ChangeCipherSpec[client]},
		{"the server's ChangeCipherSpec", c.ChangeCipherSpec[server]},
		{"the client's Finished", c.Finished[client]},
		{"the server's encrypted handshake", c.Finished[server]},
	}
	if c.Version != tlsparse.VersionTLS13 {
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
			fmt.Sprintf("%d bytes of the %s's handshake are missing from the capture (lost after %s); the last message seen is %s (%s)",
				g.Size, g.Dir, frameRef(g.Frame.Number), after, frameRef(at.Number)),
			"capture again with a larger buffer (tcpdump -B) and without truncation (-s 0), on the client or the server itself",
			at, g.Frame)
	}
	idle := c.Last.Time.Sub(at.Time)
	if c.TCP.Close == capture.ClosedIdle || c.TCP.Close == capture.ClosedEOF && idle >= time.Second {
		// Who was expected to speak next? The side that did not send the
		// last message.
		waiting := server
		if d.lastSender(at) == server {
			waiting = client
		}
		if waiting == server {
			return verdict(ServerNoResponse,
				fmt.Sprintf("the server stopped answering after %s (%s): nothing for %s", after, frameRef(at.Number), wait(idle)),
				"the server stalled mid-handshake: look at its log and load (an overloaded server, a backend it waits for, a middlebox holding packets)",
				d.helloFrame, at, c.Last)
		}
		return verdict(HandshakeFailure,
			fmt.Sprintf("the client stopped answering after %s (%s): nothing for %s", after, frameRef(at.Number), wait(idle)),
			"the client stalled mid-handshake (waiting for user input, a smart card, or a certificate check that never returned): look at the client",
			d.helloFrame, at, c.Last)
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("the capture ended %s after %s (%s), before the handshake completed", wait(idle), after, frameRef(at.Number)),
		"capture longer, until the handshake completes or the connection closes",
		d.helloFrame, at)
}

// lastSender says who sent the message in frame f.
func (d *diagnosis) lastSender(f capture.Frame) capture.Direction {
	c := d.c
	for _, s := range []capture.Frame{c.ServerHelloFrame, c.HelloRetryFrame, c.CertificateFrame, c.ServerKeyExchangeFrame,
		c.CertificateRequestFrame, c.ServerHelloDoneFrame, c.ChangeCipherSpec[server], c.Finished[server]} {
		if s.Number != 0 && s.Number == f.Number {
			return server
		}
	}
	return client
}

// ---- alerts ----

// decisiveAlert is the first alert that ended the handshake: encrypted,
// fatal, or a warning that is not one of the harmless ones.
func (d *diagnosis) decisiveAlert() *analysis.Alert {
	for i, a := range d.c.Alerts {
		if a.Encrypted || a.Level != tlsparse.AlertLevelWarning || !harmlessWarning(a.Description) {
			return &d.c.Alerts[i]
		}
	}
	return nil
}

// phase is where in the handshake an alert came.
type phase uint8

const (
	phaseHello        phase = iota // answering the ClientHello: the server judged the client's offer
	phaseServerFlight              // after the server's hello: the client judged the server's flight
	phaseClientFlight              // after the client's second flight: the server judged the client
)

func (d *diagnosis) phaseOf(f int64) phase {
	c := d.c
	sh := c.ServerHelloFrame.Number
	if sh == 0 || f < sh {
		if hrr := c.HelloRetryFrame.Number; hrr != 0 && f > hrr && (c.RetryClientHelloFrame.Number == 0 || f < c.RetryClientHelloFrame.Number) {
			return phaseServerFlight // the client's answer to the HelloRetryRequest
		}
		return phaseHello
	}
	if cf := d.clientFlight(); cf != 0 && f > cf {
		return phaseClientFlight
	}
	return phaseServerFlight
}

// pickCert returns the first chain problem of one of the wanted
// categories (any problem when want is empty), or fallback with no
// problem.
func (d *diagnosis) pickCert(fallback Category, want ...Category) certCause {
	for i, p := range d.probs {
		if len(want) == 0 || slices.Contains(want, p.Category) {
			return certCause{p.Category, &d.probs[i]}
		}
	}
	return certCause{fallback, nil}
}

// certCause is a certificate category and the chain problem behind it.
type certCause struct {
	cat  Category
	prob *CertProblem
}

func (d *diagnosis) fromAlert(a *analysis.Alert) Verdict {
	c := d.c
	ph := d.phaseOf(a.Frame.Number)
	cause := d.alertCause(a, ph)
	how := alertText(*a)
	switch cause.cat {
	case VersionMismatch:
		return d.versionMismatch(a, ph)
	case NoSharedCipher:
		return d.noSharedCipher(a)
	case ALPNMismatch:
		return verdict(ALPNMismatch,
			fmt.Sprintf("the %s supports none of the ALPN protocols the client offered (%s) and aborted (%s, %s)",
				a.Sender, alpnOffer(d.hello), how, frameRef(a.Frame.Number)),
			"enable one of the client's protocols on the server, or configure the client to offer one the server speaks (NextProtos / -alpn / --http1.1)",
			d.helloFrame, a.Frame)
	case SNIUnrecognized:
		return d.sniUnrecognized(a)
	case ClientCertRequired:
		return d.clientCert(a)
	case HandshakeFailure:
		return d.handshakeFailure(a, ph)
	}
	if !a.Encrypted && a.Description == tlsparse.AlertCertificateRevoked {
		leaf := "certificate"
		if len(d.chain) > 0 && d.chain[0] != nil {
			leaf = "certificate " + name(d.chain[0])
		}
		return verdict(CertRejected,
			fmt.Sprintf("the client rejected the server's %s as revoked (%s, %s): revocation (OCSP, CRL) is not visible in the capture", leaf, how, frameRef(a.Frame.Number)),
			fmt.Sprintf("the CA revoked the server's %s: get a new one and install it on the server", leaf),
			c.CertificateFrame, a.Frame)
	}
	return d.certVerdict(cause, a.Frame, how, !a.Encrypted)
}

func (d *diagnosis) versionMismatch(a *analysis.Alert, ph phase) Verdict {
	c := d.c
	offered := d.offeredVersions()
	how := fmt.Sprintf("%s (%s)", alertText(*a), frameRef(a.Frame.Number))
	if a.Description == tlsparse.AlertInappropriateFallback {
		return verdict(VersionMismatch,
			fmt.Sprintf("the client retried with a lower version (offering %s, with TLS_FALLBACK_SCSV) and the server refused the downgrade with %s", d.offerText(), how),
			"this is a retry: the first connection attempt failed for another reason; diagnose that earlier connection (the client's fallback hides it)",
			d.helloFrame, a.Frame)
	}
	if a.Sender == client || ph != phaseHello {
		chose := ""
		if c.ServerHello != nil {
			chose = fmt.Sprintf(" after the server chose %s (%s)", c.Version, frameRef(c.ServerHelloFrame.Number))
		}
		return verdict(VersionMismatch,
			fmt.Sprintf("the %s aborted with %s%s; the client offers %s", a.Sender, how, chose, d.offerText()),
			"make the client and the server share a version: both should enable TLS 1.2 and TLS 1.3",
			d.helloFrame, c.ServerHelloFrame, a.Frame)
	}
	hi := slices.Max(append([]tlsparse.Version{0}, offered...))
	summary := fmt.Sprintf("the server rejected every version the client offers (%s) with %s", d.offerText(), how)
	var fix string
	switch {
	case hi < tlsparse.VersionTLS12:
		fix = fmt.Sprintf("the client offers %s at most and the server requires a newer version: enable TLS 1.2 and 1.3 on the client (raise its MaxVersion / upgrade OpenSSL or Java)", hi)
	case hi == tlsparse.VersionTLS12:
		summary += "; the server probably requires TLS 1.3"
		fix = "the client offers TLS 1.2 at most and the server requires TLS 1.3: raise the client's MaxVersion / upgrade OpenSSL"
	default:
		summary += fmt.Sprintf("; the server probably supports only versions older than %s", slices.Min(offered))
		fix = fmt.Sprintf("the server seems limited to versions older than %s: enable TLS 1.2 and 1.3 on the server (lowering the client's minimum would be insecure)", slices.Min(offered))
	}
	return verdict(VersionMismatch, summary, fix, d.helloFrame, a.Frame)
}

// offeredVersions are the versions the client offered, highest first,
// without GREASE.
func (d *diagnosis) offeredVersions() []tlsparse.Version {
	return slices.DeleteFunc(slices.Clone(d.hello.OfferedVersions()), func(v tlsparse.Version) bool { return tlsparse.IsGREASE(uint16(v)) })
}

// offerText names the offered versions: the supported_versions list, or
// "up to" the legacy version of a client without the extension (its
// minimum is not on the wire).
func (d *diagnosis) offerText() string {
	offered := d.offeredVersions()
	if slices.ContainsFunc(d.hello.SupportedVersions, func(v tlsparse.Version) bool { return !tlsparse.IsGREASE(uint16(v)) }) || len(offered) != 1 {
		return versionList(offered)
	}
	return "up to " + offered[0].String()
}

// offeredSuites is the client's cipher suite list without GREASE and
// signalling values.
func (d *diagnosis) offeredSuites() []tlsparse.CipherSuite {
	return slices.DeleteFunc(slices.Clone(d.hello.CipherSuites), func(s tlsparse.CipherSuite) bool {
		return tlsparse.IsGREASE(uint16(s)) || s == 0x00FF || s == 0x5600 // TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV
	})
}

// Mainstream suites that any current server accepts: TLS 1.3's mandatory
// suite, and for TLS 1.2 the ECDHE AES-GCM/ChaCha20 suites for both RSA and
// ECDSA certificates.
var (
	suiteTLS13Mandatory = tlsparse.CipherSuite(0x1301) // TLS_AES_128_GCM_SHA256
	suitesECDHERSA      = []tlsparse.CipherSuite{0xC02F, 0xC030, 0xCCA8}
	suitesECDHEECDSA    = []tlsparse.CipherSuite{0xC02B, 0xC02C, 0xCCA9}
)

// cipherSuspect reports whether the client's suite list is unusual enough
// to explain a server's handshake_failure: the server's list is not on the
// wire, but a client offering the mainstream suites shares one with any
// current server, so then the cause is elsewhere (groups, signature
// algorithms, SNI).
func (d *diagnosis) cipherSuspect() bool {
	suites := d.offeredSuites()
	if slices.Contains(d.offeredVersions(), tlsparse.VersionTLS13) && slices.Contains(suites, suiteTLS13Mandatory) {
		return false
	}
	hasAny := func(set []tlsparse.CipherSuite) bool {
		return slices.ContainsFunc(set, func(s tlsparse.CipherSuite) bool { return slices.Contains(suites, s) })
	}
	return !hasAny(suitesECDHERSA) || !hasAny(suitesECDHEECDSA)
}

func (d *diagnosis) noSharedCipher(a *analysis.Alert) Verdict {
	suites := d.offeredSuites()
	named := names(suites)
	return verdict(NoSharedCipher,
		fmt.Sprintf("the server answered the ClientHello with %s (%s): it accepts none of the %d cipher suites the client offered (%s)",
			alertName(*a), frameRef(a.Frame.Number), len(suites), list(named, 4)),
		fmt.Sprintf("the client offers only %s; the server's list is not on the wire: enable a current suite on the client (TLS 1.3, or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 / TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), or one of the client's suites on the server",
			list(named, 4)),
		d.helloFrame, a.Frame)
}

func (d *diagnosis) sniUnrecognized(a *analysis.Alert) Verdict {
	how := fmt.Sprintf("%s, %s", alertText(*a), frameRef(a.Frame.Number))
	if d.hello.ServerName == "" {
		return verdict(SNIUnrecognized,
			fmt.Sprintf("the client sent no SNI and the server requires one (%s)", how),
			"make the client send the server's name: connect by hostname, not IP address, or set ServerName / -servername",
			d.helloFrame, a.Frame)
	}
	return verdict(SNIUnrecognized,
		fmt.Sprintf("the server does not serve the name '%s' the client asked for in SNI (%s)", d.hello.ServerName, how),
		fmt.Sprintf("connect with a name the server is configured for, or add '%s' to the server (server_name / virtual host and a certificate covering it)", d.hello.ServerName),
		d.helloFrame, a.Frame)
}

func (d *diagnosis) clientCert(a *analysis.Alert) Verdict {
	c := d.c
	how := fmt.Sprintf("%s, %s", alertText(*a), frameRef(a.Frame.Number))
	if a.Encrypted {
		return verdict(ClientCertRequired,
			fmt.Sprintf("the server rejected the client right after its Finished (%s) with an encrypted alert (%s): in TLS 1.3 this is a missing or refused client certificate (certificate_required); the CertificateRequest and the alert are encrypted",
				frameRef(c.Finished[client].Number), frameRef(a.Frame.Number)),
			"configure the client with a certificate and key the server accepts (curl --cert/--key, openssl s_client -cert/-key); re-run with --keylog or `tlsdiag probe` to see the encrypted messages",
			d.helloFrame, c.Finished[client], a.Frame)
	}
	asked := ""
	if c.CertificateRequestFrame.Number != 0 {
		asked = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s); ", frameRef(c.CertificateRequestFrame.Number))
	}
	switch {
	case c.ClientCertificates > 0:
		fix := "look at the server's log for why it refused the client certificate, and use one it accepts"
		switch a.Description {
		case tlsparse.AlertUnknownCA:
			fix = "the server does not trust the issuer of the client certificate: use a certificate from a CA in the server's client-CA list, or add its CA there"
		case tlsparse.AlertCertificateExpired:
			fix = "the client certificate has expired: renew it"
		}
		return verdict(ClientCertRequired,
			fmt.Sprintf("%sthe client sent %s (%s) and the server rejected it (%s)", asked, plural(c.ClientCertificates, "certificate"), frameRef(c.ClientCertificateFrame.Number), how),
			fix, c.CertificateRequestFrame, c.ClientCertificateFrame, a.Frame)
	case c.ClientCertificates == 0:
		asked += fmt.Sprintf("the client sent an empty Certificate (%s)", frameRef(c.ClientCertificateFrame.Number))
	case c.Version == tlsparse.VersionTLS13:
		asked += "the server requires a client certificate (the client's flight is encrypted)"
	default:
		asked += "the client sent no certificate"
	}
	fix := "the server requires a client certificate: configure the client with a certificate and key the server accepts (curl --cert/--key, openssl s_client -cert/-key, Go tls.Config.Certificates)"
	if cas := caNames(c.CertificateRequest); len(cas) > 0 {
		fix += "; it accepts certificates issued by " + quoteList(cas, 3)
	}
	return verdict(ClientCertRequired,
		fmt.Sprintf("%s and the server aborted (%s)", asked, how),
		fix, d.helloFrame, c.CertificateRequestFrame, c.ClientCertificateFrame, a.Frame)
}

// caNames decodes the distinguished names of the CAs a CertificateRequest
// accepts; names that do not decode are skipped.
func caNames(cr *tlsparse.CertificateRequest) []string {
	if cr == nil {
		return nil
	}
	var out []string
	for _, der := range cr.CANames {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		out = append(out, n.String())
	}
	return out
}

func (d *diagnosis) handshakeFailure(a *analysis.Alert, ph phase) Verdict {
	c := d.c
	how := fmt.Sprintf("%s (%s)", alertText(*a), frameRef(a.Frame.Number))
	after, at := d.lastMessageBefore(a.Frame.Number)
	summary := fmt.Sprintf("the %s aborted the handshake after %s (%s) with %s", a.Sender, after, frameRef(at.Number), how)
	if m := alertMeaning(a.Description); m != "" && !a.Encrypted {
		summary += ": " + m
	}
	fix := fmt.Sprintf("the %s rejected the handshake: its log says why (%s)", a.Sender, alertName(*a))
	if a.Sender == server && ph == phaseHello {
		summary = fmt.Sprintf("the server rejected the ClientHello with %s", how)
		var hints []string
		if !d.cipherSuspect() {
			hints = append(hints, fmt.Sprintf("the client offers mainstream cipher suites (%s), so they are probably not the cause", list(names(d.offeredSuites()), 3)))
		}
		fix = "check that the client and the server share a key exchange group and a signature algorithm"
		if g := d.hello.SupportedGroups; len(g) > 0 {
			fix += fmt.Sprintf(" (the client offers %s)", list(names(slices.DeleteFunc(slices.Clone(g), func(g tlsparse.NamedGroup) bool { return tlsparse.IsGREASE(uint16(g)) })), 5))
		}
		if d.hello.ServerName == "" {
			hints = append(hints, "the client sent no SNI, which some servers require")
			fix += ", and make the client send SNI"
		}
		if len(hints) > 0 {
			summary += "; " + strings.Join(hints, "; ")
		}
	}
	if c.HelloRetry != nil && c.RetryClientHello == nil && a.Sender == client {
		summary = fmt.Sprintf("the server asked the client to retry with group %s (HelloRetryRequest, %s) and the client aborted with %s",
			c.HelloRetry.KeyShare, frameRef(c.HelloRetryFrame.Number), how)
		fix = fmt.Sprintf("the client cannot use %s: enable it on the client, or enable on the server one of the groups the client offers", c.HelloRetry.KeyShare)
	}
	return verdict(HandshakeFailure, summary, fix, d.helloFrame, at, a.Frame)
}

// certVerdict explains a certificate rejected by the client, by alert or
// by abort (how, at frame f); plain says a plaintext alert named the
// reason.
func (d *diagnosis) certVerdict(cause certCause, f capture.Frame, how string, plain bool) Verdict {
	c := d.c
	d.used = cause.prob
	certFrame := c.CertificateFrame
	if certFrame.Number == 0 {
		certFrame = c.Finished[server] // TLS 1.3: the encrypted flight carries it
	}
	rejected := fmt.Sprintf("the client rejected the server's certificate (%s, %s)", how, frameRef(f.Number))
	ev := []capture.Frame{certFrame, f}
	if p := cause.prob; p != nil {
		return verdict(cause.cat, rejected+": "+p.Detail, d.certFix(*p), ev...)
	}
	var summary, fix string
	switch {
	case len(d.chain) == 0 && c.Version == tlsparse.VersionTLS13 && plain:
		// OpenSSL sends its alert in plaintext: it switches its write key
		// only when it sends its own Finished.
		summary = fmt.Sprintf("the client rejected the server's certificate with %s (%s) right after the server's encrypted flight (%s); in TLS 1.3 the certificate is encrypted, so only the alert says why",
			how, frameRef(f.Number), frameRef(certFrame.Number))
		switch cause.cat {
		case CertExpired:
			fix = "renew the server's certificate (the client says it expired; if it did not, check the client's clock); re-run with --keylog to see the certificate"
		case CertUntrustedCA:
			fix = "make the client trust the server's CA, or use a certificate from a CA it trusts; re-run with --keylog to see the chain"
		default:
			fix = "re-run with --keylog (the client's SSLKEYLOGFILE) or `tlsdiag probe` to see the certificate; check the client's log for its verification error"
		}
	case len(d.chain) == 0 && c.Version == tlsparse.VersionTLS13:
		summary = fmt.Sprintf("the client aborted (%s, %s) right after the server's encrypted flight (%s), without its Finished: it rejected the server's certificate; in TLS 1.3 the certificate and the alert are encrypted, so the exact reason is not visible",
			how, frameRef(f.Number), frameRef(certFrame.Number))
		fix = "re-run with --keylog (the client's SSLKEYLOGFILE) or `tlsdiag probe` to see the certificate and the alert; check the client's log for its verification error"
	case len(d.chain) == 0:
		summary = rejected + "; the certificate is not in the capture"
		fix = "capture the whole handshake to see the certificate; check the client's log for its verification error"
	case cause.cat == CertExpired:
		summary = fmt.Sprintf("%s as expired, but it was valid at the capture time (%s): the client's clock is probably wrong", rejected, stamp(d.certTime()))
		fix = "set the client machine's clock right (NTP)"
	case cause.cat == CertUntrustedCA:
		summary = fmt.Sprintf("%s: the client does not trust its issuer, although the chain verifies against the roots given here", rejected)
		fix = "add the server's root CA to the client's trust store, or use a certificate from a CA the client trusts"
		if root := d.trustedRoot(); root != nil {
			summary += " (it ends at " + name(root) + ")"
			fix = fmt.Sprintf("add the root %s to the client's trust store, or use a certificate from a CA the client trusts", name(root))
		}
	default:
		summary = rejected + ", although the chain verifies against the roots given here: the client applies other rules (its own trust store, pinning, revocation, key size)"
		fix = "check the client's log for its verification error"
	}
	return verdict(cause.cat, summary, fix, ev...)
}

// certFix says what to change for a chain problem.
func (d *diagnosis) certFix(p CertProblem) string {
	var subject string
	if p.Cert >= 0 && p.Cert < len(d.chain) && d.chain[p.Cert] != nil {
		subject = name(d.chain[p.Cert])
	}
	switch p.Category {
	case CertExpired:
		switch {
		case p.Cert == 0:
			return fmt.Sprintf("renew the server's certificate %s and install it on the server", subject)
		case p.Cert < 0:
			return "a root in the client's trust store has expired: update the client's trust store (ca-certificates)"
		}
		return fmt.Sprintf("the intermediate %s the server sends has expired: install the CA's current intermediate (the chain file from the CA) on the server", subject)
	case CertNotYetValid:
		return fmt.Sprintf("%s is not valid yet: check the clocks (the client's may be behind, or the certificate was issued with a future date), or wait", subject)
	case CertSelfSigned:
		return fmt.Sprintf("the server uses the self-signed certificate %s: replace it with one issued by a trusted CA, or make the client trust it (its trust store; --cacert here)", subject)
	case CertUntrustedCA:
		return fmt.Sprintf("the chain ends at %s, which the client does not trust: add that root to the client's trust store (--cacert here), or use a certificate from a publicly trusted CA", subject)
	case CertIncompleteChain:
		if len(d.chain) == 1 {
			return fmt.Sprintf("the server sent only its leaf certificate; configure it to send the intermediate '%s' too (the full chain file), or if '%s' is your private root make the client trust it", p.MissingIssuer, p.MissingIssuer)
		}
		return fmt.Sprintf("the server's chain stops at %s; configure it to send its issuer '%s' too (the full chain file), or if '%s' is your private root make the client trust it", subject, p.MissingIssuer, p.MissingIssuer)
	case CertHostnameMismatch:
		return fmt.Sprintf("connect with a name the certificate covers, or get a certificate whose subjectAltName includes '%s'", d.hello.ServerName)
	}
	return "reissue the certificate without this defect; clients refuse it"
}

// trustedRoot returns the root the server's chain verifies to here, or nil.
func (d *diagnosis) trustedRoot() *x509.Certificate {
	if len(d.chain) == 0 || d.chain[0] == nil {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range d.chain[1:] {
		if c != nil {
			inter.AddCert(c)
		}
	}
	chains, err := d.chain[0].Verify(x509.VerifyOptions{Roots: d.roots, Intermediates: inter, CurrentTime: within(d.chain[0], d.certTime())})
	if err != nil {
		return nil
	}
	shortest := slices.MinFunc(chains, func(a, b []*x509.Certificate) int { return cmp.Compare(len(a), len(b)) })
	return shortest[len(shortest)-1]
}

// ---- warnings ----

// warnings lists what did not decide the verdict but deserves attention.
func (d *diagnosis) warnings(cat Category) []string {
	c := d.c
	var ws []string
	var certWs []string
	for i := range d.probs {
		p := &d.probs[i]
		switch {
		case p == d.used:
		case cat == OK:
			certWs = append(certWs, p.Detail+", but the client accepted it: is certificate verification disabled?")
		default:
			certWs = append(certWs, "also: "+p.Detail)
		}
	}
	if len(certWs) > 4 {
		certWs = append(certWs[:4], fmt.Sprintf("and %d more certificate problems", len(certWs)-4))
	}
	ws = append(ws, certWs...)
	if d.noSNI && len(d.chain) > 0 {
		ws = append(ws, "the client sent no SNI, so the certificate's names were not checked (a client connecting by IP address checks the address instead)")
	}
	if v := c.Version; v != 0 && v <= tlsparse.VersionTLS11 && cat != VersionMismatch {
		ws = append(ws, fmt.Sprintf("%s was negotiated: it is deprecated (RFC 8996); enable TLS 1.2 or 1.3 on both sides", v))
	}
	if w := weakCipher(c.Cipher); w != "" {
		ws = append(ws, fmt.Sprintf("the negotiated cipher suite %s is %s", c.Cipher, w))
	}
	for _, g := range d.handshakeGaps() {
		ws = append(ws, fmt.Sprintf("%d bytes of the %s's stream are missing from the capture during the handshake (lost after %s): the verdict may miss something", g.Size, g.Dir, frameRef(g.Frame.Number)))
		break
	}
	if c.ClientHelloSSLv2 {
		ws = append(ws, "the client used the obsolete SSLv2-compatible hello format")
	}
	if cat == OK {
		for _, a := range c.Alerts {
			if !a.Encrypted && a.Level == tlsparse.AlertLevelFatal {
				ws = append(ws, fmt.Sprintf("the %s sent a fatal alert %s after the handshake (%s)", a.Sender, alertName(a), frameRef(a.Frame.Number)))
				break
			}
		}
	}
	if c.Roles == analysis.RolesGuessed {
		ws = append(ws, "neither the SYN nor a hello was captured: which side is the client was guessed")
	}
	anomalies := slices.DeleteFunc(slices.Clone(c.Anomalies), func(a string) bool {
		return a == tlsparse.AnomalyDowngradeTLS12 || a == tlsparse.AnomalyDowngradeTLS11
	})
	if w := d.downgradeWarning(); w != "" {
		ws = append(ws, w)
	}
	if len(anomalies) > 0 {
		ws = append(ws, "parser anomalies: "+strings.Join(anomalies, ", "))
	}
	return ws
}

// downgradeWarning explains a ServerHello's downgrade sentinel (RFC 8446,
// Section 4.1.3): a server that supports a newer version than it chose
// says so in its Random. With a client that offers no newer version it is
// an upgrade opportunity; with one that does, something rewrote the
// ClientHello on the way.
func (d *diagnosis) downgradeWarning() string {
	c := d.c
	newer := ""
	switch {
	case slices.Contains(c.Anomalies, tlsparse.AnomalyDowngradeTLS12):
		newer = "TLS 1.3"
	case slices.Contains(c.Anomalies, tlsparse.AnomalyDowngradeTLS11):
		newer = "TLS 1.2"
	default:
		return ""
	}
	if d.hello == nil {
		return fmt.Sprintf("the server supports %s but chose %s (downgrade sentinel in its ServerHello)", newer, c.Version)
	}
	if hi := slices.Max(d.offeredVersions()); hi > c.Version {
		return fmt.Sprintf("the server chose %s with a downgrade sentinel although the client offers %s: something between them altered the handshake", c.Version, d.offerText())
	}
	return fmt.Sprintf("the server supports %s (downgrade sentinel in its ServerHello) but the client offers %s: raise the client's maximum version", newer, d.offerText())
}

// weakCipher says what is wrong with a suite, by its IANA name, or "".
func weakCipher(cs tlsparse.CipherSuite) string {
	if cs == 0 {
		return ""
	}
	n := cs.String()
	switch {
	case strings.Contains(n, "_NULL_") || strings.HasSuffix(n, "_NULL"):
		return "unencrypted (NULL)"
	case strings.Contains(n, "EXPORT"):
		return "an export suite, breakable in minutes"
	case strings.Contains(n, "_anon_"):
		return "anonymous: it authenticates no one"
	case strings.Contains(n, "_RC4_"):
		return "RC4, which is broken (RFC 7465)"
	case strings.Contains(n, "_DES_") || strings.Contains(n, "_DES40_") || strings.Contains(n, "3DES"):
		return "DES/3DES, weak (Sweet32)"
	case strings.HasSuffix(n, "_MD5"):
		return "MAC'd with MD5, weak"
	case strings.HasSuffix(n, "_CBC_SHA"):
		return "a legacy CBC suite with a SHA-1 MAC; prefer AES-GCM or ChaCha20-Poly1305"
	}
	return ""
}
