package diagnose

// Verdicts for completed handshakes, and the warnings every verdict carries.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// ok is the verdict on a completed handshake: ok, or
// renegotiation_refused when the server answered the request by asking to
// renegotiate and the client refused.
func (d *diagnosis) ok() Verdict {
	c := d.c
	cipher := c.Cipher.String()
	if c.ServerHelloSSLv2 != nil {
		cipher = ""
		if c.SSLv2Cipher != 0 {
			cipher = c.SSLv2Cipher.String()
		}
	}
	// Written in one buffer: every ok connection has this summary.
	var b strings.Builder
	b.Grow(128)
	b.WriteString(c.Version.String())
	if c.IsQUIC() {
		b.WriteString(" handshake over QUIC ")
		b.WriteString(quicVersion(c))
		b.WriteString(" completed")
	} else {
		b.WriteString(" handshake completed")
	}
	if dur, ok := c.Duration(); ok && dur > 0 {
		b.WriteString(" in ")
		var w [32]byte
		b.Write(appendWait(w[:0], dur))
	}
	if c.Resumed {
		b.WriteString(" (resumed session)")
	}
	b.WriteString(": ")
	parts := 0
	part := func(label, p string) {
		if p == "" {
			return
		}
		if parts > 0 {
			b.WriteString(", ")
		}
		parts++
		b.WriteString(label)
		b.WriteString(p)
	}
	part("", cipher)
	part("", groupName(c.Group))
	part("ALPN ", c.ALPN)
	switch h := d.hello; {
	case h == nil:
	case h.ServerName == "":
		part("", "no SNI")
	default:
		part("SNI ", h.ServerName)
	}
	summary := b.String()
	frames := []capture.Frame{d.helloFrame, c.ServerHelloFrame, c.HandshakeDone}
	if v, ok := d.renegotiationRefused(summary, frames); ok {
		// The handshake completed, but the request failed at the TLS
		// layer: renegotiation_refused, which says both.
		return v
	}
	// TLS did its part; the verdict stays ok, but the summary leads with
	// what the user is looking at (a warning repeats it).
	f, ok := d.afterHandshake()
	if ok {
		summary = f.summary + " (" + summary + ")"
		frames = append(frames, f.evidence...)
	} else if s := d.answered(); s != "" {
		summary += "; " + s
	}
	v := Verdict{Category: OK, Summary: summary, Fix: f.fix, Headline: f.headline}
	v.Evidence = d.evidence(frames)
	return v
}

// doneWithoutServerHello explains a handshake that both sides finished
// while its ServerHello is not in the record: without it nothing says which
// version and cipher were negotiated, so it is never ok. The usual cause is
// a hole in the server's stream (a lost or unreassembled frame).
func (d *diagnosis) doneWithoutServerHello() Verdict {
	c := d.c
	done := fmt.Sprintf("both sides finished a handshake (%s, %s)", frameRef(c.ClientSide.Finished.Number), frameRef(c.ServerSide.Finished.Number))
	evidence := []capture.Frame{d.helloFrame, c.ClientSide.Finished, c.ServerSide.Finished}
	var why string
	var gaps []analysis.Gap
	for _, g := range c.TCP.Gaps {
		if g.Dir == server && (c.HandshakeDone.Number == 0 || g.Frame.Number <= c.HandshakeDone.Number) {
			gaps = append(gaps, g)
		}
	}
	switch {
	case len(gaps) > 0:
		size := 0
		for _, g := range gaps {
			size += g.Size
			evidence = append(evidence, g.Frame)
		}
		why = fmt.Sprintf("%s of the server's handshake are missing from the capture (%s), and the ServerHello was in them", prose.Count(size, "byte"), gapWhy(gaps[0]))
	case slices.Contains(c.Anomalies, tlsparse.AnomalyMalformedServerHello):
		why = "the server's ServerHello did not parse (malformed_server_hello)"
	default:
		why = "the ServerHello is not in the capture"
	}
	return verdict(IncompleteCapture,
		done+", but "+why+": the negotiated version and cipher suite are unknown, and so is whether the handshake was sound",
		"capture again with a larger buffer (tcpdump -B) and without truncation (-s 0), on the client or the server itself",
		evidence...)
}

// gapWhy says why a gap's bytes are missing: "noticed at frame 8" (the
// frame that proved the loss, which may come well after the bytes were
// sent), or "cut by the snap length of 200 bytes in frame 6".
func gapWhy(g analysis.Gap) string {
	if g.SnapLen > 0 {
		return fmt.Sprintf("cut by the snap length of %d bytes in %s", g.SnapLen, frameRef(g.Frame.Number))
	}
	return "noticed at " + frameRef(g.Frame.Number)
}

// snapHid names what a snap-length cut hid from the diagnosis, as "the
// snap length of 200 bytes cut the certificate chain (frame 6): chain
// checks not done".
func (d *diagnosis) snapHid(g analysis.Gap) string {
	c := d.c
	what, so := fmt.Sprintf("%s of the %s's handshake", prose.Count(g.Size, "byte"), g.Dir), "the verdict may miss something"
	switch {
	case g.Dir == client && c.ClientHello == nil && c.CutClientHello != nil:
		what, so = "the ClientHello", fmt.Sprintf("what the client offered is known only from its first %d of %d bytes", len(c.CutClientHello.Raw), c.CutClientHelloSize)
	case g.Dir == client && c.ClientHello == nil:
		what, so = "the ClientHello", "what the client offered is unknown"
	case g.Dir == server && c.ServerHello == nil && c.HelloRetry == nil:
		what, so = "the ServerHello", "the negotiated version and cipher suite are unknown"
	case g.Dir == server && !c.Version.IsTLS13() && c.Certificates == nil && !c.Resumed:
		what, so = "the certificate chain", "chain checks not done"
	}
	return fmt.Sprintf("the snap length of %d bytes cut %s (%s): %s", g.SnapLen, what, frameRef(g.Frame.Number), so)
}

// snapWarning says what a snap-length cut hid.
func (d *diagnosis) snapWarning(g analysis.Gap) string {
	return d.snapHid(g) + "; capture again with -s 0"
}

// snapGap returns the snap-length cut that hid the most: in the server's
// handshake (its certificate) before the client's.
func (d *diagnosis) snapGap() (analysis.Gap, bool) {
	var best analysis.Gap
	for _, g := range d.handshakeGaps() {
		if g.SnapLen > 0 && (best.SnapLen == 0 || g.Dir == server && best.Dir != server) {
			best = g
		}
	}
	return best, best.SnapLen > 0
}

// cutBeforeOK keeps a handshake whose messages the snap length cut from
// reading as ok when nothing else shows that the client accepted it: a
// client that hangs up after the handshake without sending data may have
// rejected what the cut hid (curl checks the certificate's name only after
// the handshake).
func (d *diagnosis) cutBeforeOK() (Verdict, bool) {
	c := d.c
	if c.ClientSide.AppData.Records > 0 {
		return Verdict{}, false
	}
	g, ok := d.snapGap()
	if !ok {
		return Verdict{}, false
	}
	return verdict(IncompleteCapture,
		fmt.Sprintf("the handshake completed (%s) but the client sent no data, and %s: whether the client accepted the server is not known",
			frameRef(c.HandshakeDone.Number), d.snapHid(g)),
		"capture again without a snap length (tcpdump -s 0) to see the whole handshake",
		d.helloFrame, g.Frame, c.HandshakeDone), true
}

func groupName(g tlsparse.NamedGroup) string {
	if g == 0 {
		return ""
	}
	return g.String()
}

// hungUpHiddenChain says, of a TLS 1.3 client that completed the
// handshake and then hung up without an alert or a byte of data, that it
// may have rejected the certificate TLS 1.3 hid: programs that judge the
// chain only after the handshake (wget on GnuTLS, then a FIN or RST without
// close_notify) look so on the wire, as does a client with nothing to send.
// "" otherwise, and for a client not recognised as one that may judge
// the chain after the handshake.
func (d *diagnosis) hungUpHiddenChain() string {
	c := d.c
	done := c.HandshakeDone.Number
	if !c.Version.IsTLS13() || done == 0 || len(d.chain) > 0 || c.ClientSide.AppData.Records > 0 || !mayJudgeAfterHandshake(d.client().Stack) {
		return ""
	}
	if f, _ := d.serverClosedFirst(); f.Number != 0 {
		return ""
	}
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number >= done {
			return "" // a close_notify as a rule: a health check
		}
	}
	f, who, how := d.firstClose()
	if who != client || f.Number < done {
		return ""
	}
	return fmt.Sprintf("the client hung up (%s, %s) right after the handshake without sending any data or an alert: a client that judges the certificate only after the handshake (wget, on GnuTLS) does so when it rejects it, which TLS 1.3's encryption hides; or it had nothing to send; %s",
		how, frameRef(f.Number), d.keyLogAdvice("the certificate"))
}

// mayJudgeAfterHandshake reports whether the recognised client is one
// that may judge the server's chain only after its TLS 1.3 Finished:
// programs on GnuTLS or plain libssl that check it once connected (wget),
// and Node.js. Go, Java, browsers, curl and Python judge it before their
// Finished, so a hang-up after it is a connection with nothing to send (a
// browser's spare one); an unrecognised client is not guessed at.
func mayJudgeAfterHandshake(s fingerprint.Stack) bool {
	switch s {
	case fingerprint.StackGnuTLS, fingerprint.StackOpenSSL, fingerprint.StackNode:
		return true
	}
	return false
}

// rejectedAfterHandshake catches a client that completed the handshake
// and then hung up without sending a byte of data, when the chain has a
// problem the client may check only then: curl checks the certificate's
// name only after the handshake, then sends an encrypted close_notify and
// resets; Node.js judges the whole chain only then, and closes without an
// alert. A trust problem alone, whose reading depends on the client's
// trust store, is no rejection when a client that checks trust during the
// handshake (OpenSSL with verification, GnuTLS, Go, Python) closed with an
// alert, its close_notify as a rule: that is a health check or `openssl
// s_client </dev/null`, and the client trusted the chain or verifies
// nothing. A server that closed first was not hung up on.
func (d *diagnosis) rejectedAfterHandshake() (Verdict, bool) {
	c := d.c
	done := c.HandshakeDone.Number
	if done == 0 || c.ClientSide.AppData.Records > 0 {
		return Verdict{}, false
	}
	if f, _ := d.serverClosedFirst(); f.Number != 0 {
		return Verdict{}, false
	}
	if isBrowser(d.client()) {
		// Chromium judges the chain, trust, dates and name, before its
		// Finished and aborts with an alert there; one that finished
		// accepted the chain, and a hang-up without data is a spare
		// connection it did not need.
		return Verdict{}, false
	}
	var end capture.Frame
	how, alerted := "", false
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number >= done {
			end, how, alerted = a.Frame, alertText(a), true
			break
		}
	}
	if f, who, h := d.firstClose(); end.Number == 0 && who == client && f.Number >= done {
		end, how = f, h
	}
	if end.Number == 0 || alerted && judgesInHandshake(d.client()) {
		return Verdict{}, false
	}
	closedCleanly := alerted && d.client().Stack != fingerprint.StackUnknown
	unknownAlerted := alerted && d.unknownClosedAfterHandshake() != 0
	i := slices.IndexFunc(d.probs, func(p CertProblem) bool {
		if unknownAlerted {
			return p.Category == CertHostnameMismatch
		}
		return !p.byTrust() || !closedCleanly
	})
	if i < 0 {
		return d.addressRejectedAfterHandshake(end, how, alerted)
	}
	p := &d.probs[i]
	d.used = p
	summary := fmt.Sprintf("the handshake completed (%s), then the client hung up (%s, %s) without sending any data: it rejected the server's certificate after the handshake: %s",
		frameRef(done), how, frameRef(end.Number), d.problemText(*p))
	if unknownAlerted {
		// Only the name is checked after the handshake, and only by
		// some clients; the alert of an unrecognised client is, as a
		// rule, its close_notify.
		summary = fmt.Sprintf("the handshake completed (%s), then the client hung up (%s, %s) without sending any data. Likely: it rejected the server's certificate after the handshake, as clients that check the name only then do (curl, closing with its close_notify): %s; possible: the alert is the close_notify of a client that checks no name (openssl s_client, a scanner, a health check) and had nothing to send",
			frameRef(done), how, frameRef(end.Number), d.problemText(*p))
	}
	if trustDependent(p.Category) {
		summary = fmt.Sprintf("the handshake completed (%s), then the client hung up (%s, %s) without sending any data. Likely: it rejected the server's certificate after the handshake, as clients that judge the chain only then do (Node.js, Apple's SecureTransport): %s; possible: the client trusts that chain (a private CA) and had nothing to send, as a health check does (pass its root with %s to check)",
			frameRef(done), how, frameRef(end.Number), d.problemText(*p), d.setting(SettingRoots))
	}
	return verdict(p.Category, summary, d.certFix(*p), c.CertificateFrame, c.HandshakeDone, end), true
}

// addressRejectedAfterHandshake is rejectedAfterHandshake for a client
// that sent no SNI to an address the leaf does not cover (d.addrProb):
// wget and Node.js check the address only after the handshake, then hang
// up with a bare FIN, while Go, Python, Java, gnutls-cli and browsers
// refuse it during the handshake with an alert. A client that checks no
// name at all (a health check by address) hangs up the same way when it
// has nothing to send, so the rejection is only likely. curl, which also
// checks after the handshake, closes with its close_notify as `openssl
// s_client` by address does when its input ends: that stays ok, with
// both readings in addressWarning.
func (d *diagnosis) addressRejectedAfterHandshake(end capture.Frame, how string, alerted bool) (Verdict, bool) {
	p := d.addrProb
	curl := d.client().Stack == fingerprint.StackCurl
	if p == nil || alerted && !curl {
		return Verdict{}, false
	}
	d.used = p
	summary := fmt.Sprintf("the handshake completed (%s), then the client hung up (%s, %s) without sending any data or an alert. Likely: it rejected the server's certificate after the handshake, as clients that check the address only then do (wget, Node.js): %s; possible: a client that checks no name (a health check) had nothing to send",
		frameRef(d.c.HandshakeDone.Number), how, frameRef(end.Number), p.Detail)
	if alerted {
		// curl sends its request as soon as it accepts the server
		// (curlRejectedHiddenName reads the same close in TLS 1.3).
		summary = fmt.Sprintf("the handshake completed (%s), then the client closed with %s (%s) without sending any data. The client is curl, which sends its request as soon as it accepts the server and checks the address only after the handshake, then closes with its close_notify. Likely: it rejected the server's certificate: %s; possible: a curl that was only to connect (--connect-only) had nothing to send",
			frameRef(d.c.HandshakeDone.Number), how, frameRef(end.Number), p.Detail)
	}
	return verdict(p.Category, summary, d.certFix(*p), d.c.CertificateFrame, d.c.HandshakeDone, end), true
}

// judgesInHandshake reports whether the recognised client judges the
// server's chain, dates and name during the handshake, before its
// Finished, and aborts there with an alert when it refuses them: Go's
// crypto/tls (its VerifyPeerCertificate and VerifyConnection hooks run
// there too) and Firefox. One that completed the handshake and then
// closed with an alert (Go's Conn.Close sends its close_notify) accepted
// the certificate or verifies nothing (InsecureSkipVerify, as port checks
// set it): a check with nothing to send. A program that checks the chain
// itself after the handshake and drops the connection without an alert
// is still read as a rejection.
func judgesInHandshake(cl fingerprint.Client) bool {
	return (cl.Stack == fingerprint.StackGo || cl.Stack == fingerprint.StackFirefox) && cl.Certainty >= fingerprint.Likely
}

// unknownClosedAfterHandshake returns the frame of the first alert of a
// client whose stack is not recognised, when it came after a completed
// TLS 1.2 (or older) handshake; 0 otherwise. Clients verify the chain during such a handshake, as soon as
// the Certificate message arrives, and refuse it there with a cleartext
// alert before their Finished; an encrypted alert after it is, as a rule,
// a close_notify: openssl s_client when its input ends, a scanner, a
// health check. Only the name is checked after the handshake by some
// (curl; Python before 3.7), which then closes with its close_notify.
// TLS 1.3 hides the chain and is judged by hungUpHiddenChain.
func (d *diagnosis) unknownClosedAfterHandshake() int64 {
	c := d.c
	if d.client().Stack != fingerprint.StackUnknown || c.Version.IsTLS13() || c.HandshakeDone.Number == 0 || c.ClientSide.AppData.Records > 0 {
		return 0
	}
	for _, a := range c.Alerts {
		if a.Sender == client {
			if a.Frame.Number >= c.HandshakeDone.Number {
				return a.Frame.Number
			}
			return 0
		}
	}
	return 0
}

// closedAfterHandshakeWarning ranks the two readings of an ok verdict for
// a client that closed with an encrypted alert after the handshake while
// the chain has a problem (unknownClosedAfterHandshake).
func (d *diagnosis) closedAfterHandshakeWarning() string {
	end := d.unknownClosedAfterHandshake()
	if len(d.probs) == 0 || end == 0 {
		return ""
	}
	if f, _ := d.serverClosedFirst(); f.Number != 0 {
		return ""
	}
	return fmt.Sprintf("the client closed with an encrypted alert (%s) after the handshake without sending data. Likely: its close_notify (openssl s_client, a scanner, a health check): a client that refuses a chain during a TLS 1.2 handshake says so there, with a cleartext alert; possible: a program that judges the chain only after the handshake rejected it for the problems above",
		frameRef(end))
}

// addressWarning is the warning of an ok verdict for a client that sent
// no SNI to an address the leaf does not cover (p). One that closed with
// an alert after the handshake without sending data either had nothing
// to send (its close_notify: openssl s_client by address, a scanner) or
// rejected the address after the handshake, as curl does, which sends
// its close_notify then.
func (d *diagnosis) addressWarning(p CertProblem) string {
	c := d.c
	if done := c.HandshakeDone.Number; done != 0 && c.ClientSide.AppData.Records == 0 {
		for _, a := range c.Alerts {
			if a.Sender != client || a.Frame.Number < done {
				continue
			}
			closed := fmt.Sprintf("the client sent no SNI and closed with %s (%s) after the handshake without sending data", alertText(a), frameRef(a.Frame.Number))
			rejected := fmt.Sprintf("it connected by address (%s), which the certificate does not cover, and rejected it after the handshake, as curl does: %s", p.Address, p.Detail)
			idle := "its close_notify, from a client with nothing to send that checks no name (openssl s_client, a scanner, a health check)"
			if d.hello != nil && slices.ContainsFunc(d.hello.ALPN, func(s string) bool { return s == "http/1.1" || s == "h2" }) {
				// An HTTP client (curl offers h2 and http/1.1) that
				// connected and sent no request.
				return fmt.Sprintf("%s, although it offered HTTP (ALPN %s). Likely: %s; possible: %s", closed, alpnOffer(d.hello), rejected, idle)
			}
			return fmt.Sprintf("%s. Likely: %s; possible: %s", closed, idle, rejected)
		}
	}
	return fmt.Sprintf("the client sent no SNI: if it connected by address (%s), it accepted a certificate that does not cover that address (is certificate verification disabled?); if it connected by name, it checked the name", p.Address)
}

// ifOK returns warn's warning when the verdict is ok, the only one it is
// given for: not made for the others (the server's close right after the
// handshake, for instance, was a text for a third of the failed
// connections of a capture, never shown).
func (d *diagnosis) ifOK(cat Category, warn func(*diagnosis) string) string {
	if cat != OK {
		return ""
	}
	return warn(d)
}

// warnings appends to ws what did not decide the verdict but deserves
// attention.
func (d *diagnosis) warnings(ws []string, cat Category) []string {
	c := d.c
	if cat == RenegotiationRefused {
		// The client completed the handshake and sent its request before
		// it refused: it accepted the server, and is warned of as for ok.
		cat = OK
	}
	var certWs []string
	also := "also: "
	if cat == Heartbleed {
		also = "the server's certificate, which a Heartbleed probe does not judge: "
	}
	var wentOn string // what shows a refused client accepted the server's chain
	if cat == ClientCertRequired {
		wentOn = d.clientWentOn()
	}
	for i := range d.probs {
		p := &d.probs[i]
		switch {
		case p == d.used:
		case cat == OK && p.CrossSign > 0:
			certWs = append(certWs, d.crossSignAccepted(*p))
		case cat == OK && trustDependent(p.Category):
			certWs = append(certWs, d.acceptedWarning(*p))
		case cat == OK && p.Lenient != "":
			certWs = append(certWs, p.Detail+"; the client accepted it, which fits: "+p.Lenient)
		case cat == OK:
			certWs = append(certWs, p.Detail+", but the client accepted it, which no trust store explains: is certificate verification disabled?")
		case trustDependent(p.Category) && wentOn != "":
			certWs = append(certWs, also+d.acceptedWarningBy(*p, "the client accepted it ("+wentOn+")"))
		case trustDependent(p.Category):
			certWs = append(certWs, also+p.Detail+", unless the client trusts it (a private CA): pass that root with "+d.setting(SettingRoots)+" to check")
		default:
			certWs = append(certWs, also+p.Detail)
		}
	}
	for _, p := range d.then {
		certWs = append(certWs, thenWarning(p))
	}
	if len(certWs) > 4 {
		certWs = append(certWs[:4], fmt.Sprintf("and %d more certificate problems", len(certWs)-4))
	}
	ws = append(ws, certWs...)
	if w := d.ifOK(cat, (*diagnosis).closedAfterHandshakeWarning); w != "" {
		ws = append(ws, w)
	}
	if w := d.ifOK(cat, (*diagnosis).hungUpHiddenChain); w != "" {
		ws = append(ws, w)
	}
	if w := d.ifOK(cat, (*diagnosis).noALPNTolerated); w != "" {
		ws = append(ws, w)
	}
	if w := d.ifOK(cat, (*diagnosis).h2ForbiddenSuiteWarning); w != "" {
		ws = append(ws, w)
	}
	if w := d.ifOK(cat, (*diagnosis).publicClientCertWarning); w != "" {
		ws = append(ws, w)
	}
	ws = append(ws, d.clockWarnings()...)
	switch p := d.addrProb; {
	case p == nil:
		if d.noSNI && len(d.chain) > 0 {
			ws = append(ws, "the client sent no SNI, so the certificate's names were not checked (a client connecting by IP address checks the address instead)")
		}
	case cat == OK:
		ws = append(ws, d.addressWarning(*p))
	case c.Established && (d.used == nil || d.used.Address == ""):
		// Not in probs (the handshake completed): say it here.
		ws = append(ws, also+p.Detail)
	}
	switch v := c.Version; {
	case c.ServerHelloSSLv2 != nil:
		ws = append(ws, fmt.Sprintf("the server answered in SSLv2 (SERVER-HELLO, %s) and %s was negotiated: RFC 6176 prohibits SSL 2.0 (broken since 1996: DROWN, export ciphers, no handshake integrity); disable it on the server and enable TLS 1.2 or 1.3",
			frameRef(c.ServerHelloFrame.Number), v))
	case v != 0 && v <= tlsparse.VersionTLS11 && cat != VersionMismatch:
		rfc := "RFC 8996"
		if v < tlsparse.VersionTLS10 {
			rfc = "RFC 7568"
		}
		ws = append(ws, fmt.Sprintf("%s was negotiated: it is deprecated (%s); enable TLS 1.2 or 1.3 on both sides", v, rfc))
	}
	if w := weakCipher(c.Cipher); w != "" && c.ServerHelloSSLv2 == nil {
		ws = append(ws, fmt.Sprintf("the negotiated cipher suite %s is %s", c.Cipher, w))
	}
	if g, ok := d.snapGap(); ok && cat != IncompleteCapture {
		ws = append(ws, d.snapWarning(g))
	}
	for _, g := range d.handshakeGaps() {
		if g.SnapLen > 0 {
			continue
		}
		if cat == IncompleteCapture || cat == PathMTUBlackhole {
			break // the verdict is about the missing bytes already
		}
		ws = append(ws, fmt.Sprintf("%d bytes of the %s's stream are missing from the capture during the handshake (%s): the verdict may miss something", g.Size, g.Dir, gapWhy(g)))
		break
	}
	if c.ClientHelloSSLv2 {
		ws = append(ws, "the client used the obsolete SSLv2-compatible hello format")
	}
	reneg, explained := renegotiation(c)
	if reneg != "" {
		ws = append(ws, reneg)
	}
	if w := d.ifOK(cat, (*diagnosis).echUnreadAbort); w != "" {
		ws = append(ws, w)
	}
	if cat == OK {
		for _, a := range c.Alerts {
			if a.Known() && a.Level == tlsparse.AlertLevelFatal && a.Frame.Number != explained {
				ws = append(ws, fmt.Sprintf("the %s sent a fatal alert %s after the handshake (%s)", a.Sender, alertName(a), frameRef(a.Frame.Number)))
				break
			}
		}
	}
	if w := d.ifOK(cat, (*diagnosis).closedAtOnce); w != "" {
		ws = append(ws, w)
	}
	if w := d.ifOK(cat, (*diagnosis).lossAfterHandshake); w != "" {
		ws = append(ws, w)
	}
	if w := d.icmpIncidental(); w != "" {
		ws = append(ws, w)
	}
	if w := d.stalePortWarning(); w != "" {
		ws = append(ws, w)
	}
	if cat == OK {
		if f, ok := d.afterHandshake(); ok {
			ws = append(ws, f.warning)
		}
	}
	if c.Roles == analysis.RolesGuessed {
		ws = append(ws, "neither the SYN nor a hello was captured: which side is the client was guessed")
	}
	if w := d.downgradeWarning(); w != "" {
		ws = append(ws, w)
	}
	var anomalies []string // but the downgrade sentinels, explained above
	for _, a := range c.Anomalies {
		switch a {
		case tlsparse.AnomalyDowngradeTLS12, tlsparse.AnomalyDowngradeTLS11:
		case tlsparse.AnomalyHeartbeat:
			if cat != Heartbleed { // the verdict is about the heartbeats
				anomalies = append(anomalies, string(a))
			}
		case tlsparse.AnomalyUnreadableCompressedCertificate:
			ws = append(ws, "a certificate chain came compressed (RFC 8879) and did not decompress (an algorithm other than zlib, brotli and zstd, or data that does not match its length): its certificates were not read, so nothing was checked about them")
		default:
			anomalies = append(anomalies, string(a))
		}
	}
	if len(anomalies) > 0 {
		ws = append(ws, "parser anomalies: "+strings.Join(anomalies, ", "))
	}
	return ws
}

// acceptedWarning explains a trust problem of a chain the client accepted:
// the client's trust store is not the one given here, which is normal
// for a private PKI, not a sign of disabled verification.
func (d *diagnosis) acceptedWarning(p CertProblem) string {
	return d.acceptedWarningBy(p, "the client accepted it")
}

// acceptedWarningBy is acceptedWarning with what shows the acceptance.
func (d *diagnosis) acceptedWarningBy(p CertProblem, accepted string) string {
	switch p.Category {
	case CertIncompleteChain:
		return fmt.Sprintf("%s; %s: it completed the chain itself (an intermediate it caches or fetches, as browsers do), but other clients will fail: send the intermediate", p.Detail, accepted)
	case CertSelfSigned:
		return fmt.Sprintf("%s; %s, so it trusts this certificate itself (pinned, or in its store) or verifies nothing (%s): pass it with %s to check the rest", p.Detail, accepted, verifiesNothing, d.setting(SettingRoots))
	}
	root := "'" + p.MissingIssuer + "'"
	if p.MissingIssuer == "" {
		root = "that root"
		if p.Cert >= 0 && p.Cert < len(d.chain) && d.chain[p.Cert] != nil {
			root = name(d.chain[p.Cert]) // the root was sent
		}
	}
	if p.Category == CertUntrustedCA && p.MissingIssuer != "" && d.crossSign(p.Cert) {
		root = fmt.Sprintf("the root %s, which certificate %d stands for, or %s", name(d.chain[p.Cert]), p.Cert, root)
	}
	nothing := verifiesNothing
	if isBrowser(d.client()) {
		nothing = "its user chose to proceed past the browser's warning, or --ignore-certificate-errors"
	}
	return fmt.Sprintf("%s; %s, so it trusts %s (a private CA) or verifies nothing (%s): pass that root with %s to check the chain against it", p.Detail, accepted, root, nothing, d.setting(SettingRoots))
}

// verifiesNothing names the common ways a client accepts any chain.
const verifiesNothing = "openssl s_client without -verify_return_error, curl -k, InsecureSkipVerify"

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
	offered := d.offeredVersions()
	if slices.Max(offered) > c.Version {
		return fmt.Sprintf("the server chose %s with a downgrade sentinel although the client offers %s: something between them altered the handshake", c.Version, d.offerText(offered))
	}
	// Many connections get this one: built in one buffer, without fmt.
	var buf [256]byte
	b := append(buf[:0], "the server supports "...)
	b = append(b, newer...)
	b = append(b, " (downgrade sentinel in its ServerHello) but the client offers "...)
	b = d.appendOfferText(b, offered)
	return d.text(append(b, ": raise the client's maximum version"...))
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

// joinAnomalies lists anomaly IDs for a summary or warning.
func joinAnomalies(as []tlsparse.Anomaly) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// renegotiationAsked returns the message that began a renegotiation a key
// log revealed (RFC 5246 Section 7.4.1: a ClientHello, or the server's
// HelloRequest, under the established keys), or nil.
func renegotiationAsked(c *analysis.Connection) *analysis.Message {
	for i, m := range c.DecryptedMessages() {
		if m.Type == tlsparse.HandshakeTypeClientHello && m.Sender == client || m.Type == tlsparse.HandshakeTypeHelloRequest && m.Sender == server {
			return &c.DecryptedMessages()[i]
		}
	}
	return nil
}

// renegotiationStart returns the frame that began a renegotiation: the
// decrypted ClientHello or HelloRequest, or without a key log the first
// encrypted handshake record after the handshake, whichever side sent it;
// zero when there was none.
func renegotiationStart(c *analysis.Connection) capture.Frame {
	if m := renegotiationAsked(c); m != nil {
		return m.Frame
	}
	f, _ := sealedRenegotiation(c)
	return f
}

// sealedRenegotiation returns the first encrypted handshake record after a
// TLS ≤ 1.2 handshake that no key log opened, and its sender.
func sealedRenegotiation(c *analysis.Connection) (capture.Frame, capture.Direction) {
	r := c.Afterwards().Renegotiation
	if r[server].Number != 0 && (r[client].Number == 0 || r[server].Number < r[client].Number) {
		return r[server], server
	}
	return r[client], client
}

// renegotiation describes a renegotiation and its outcome: accepted, or
// refused with a no_renegotiation warning (RFC 5746 Section 4.2 servers
// refuse client-initiated ones by default, OpenSSL 3 among them) that the
// client may answer with a fatal alert. explained is the frame of that
// fatal alert, which the description covers. Without a key log the
// renegotiation is known by its encrypted handshake records and the
// answer by what the other side sent next.
func renegotiation(c *analysis.Connection) (text string, explained int64) {
	asked := renegotiationAsked(c)
	if asked == nil {
		return sealedRenegotiationText(c), 0
	}
	who := "the client asked to renegotiate (ClientHello, " + frameRef(asked.Frame.Number) + ")"
	if asked.Type == tlsparse.HandshakeTypeHelloRequest {
		who = "the server asked the client to renegotiate (HelloRequest, " + frameRef(asked.Frame.Number) + ")"
	}
	var refusal *analysis.Alert
	for i, a := range c.Alerts {
		if a.Known() && a.Frame.Number >= asked.Frame.Number && a.Description == tlsparse.AlertNoRenegotiation {
			refusal = &c.Alerts[i]
			break
		}
	}
	if refusal == nil {
		for _, m := range c.DecryptedMessages() {
			if m.Frame.Number > asked.Frame.Number && m.Type == tlsparse.HandshakeTypeServerHello {
				return who + fmt.Sprintf(" and the server renegotiated (ServerHello, %s)", frameRef(m.Frame.Number)), 0
			}
		}
		return who + "; the capture shows no answer", 0
	}
	text = who + fmt.Sprintf(" and the %s refused (no_renegotiation, %s)", refusal.Sender, frameRef(refusal.Frame.Number))
	for _, a := range c.Alerts {
		if a.Known() && a.Frame.Number > refusal.Frame.Number && a.Level == tlsparse.AlertLevelFatal {
			text += fmt.Sprintf("; the %s then ended the connection (%s, %s)", a.Sender, alertName(a), frameRef(a.Frame.Number))
			return text, a.Frame.Number
		}
	}
	return text, 0
}

// sealedRenegotiationText describes a renegotiation no key log opened:
// the side that began it, and whether the other answered with handshake
// records (it went along) or with an alert (a refusal as a rule, which
// only the key log can confirm).
func sealedRenegotiationText(c *analysis.Connection) string {
	f, by := sealedRenegotiation(c)
	if f.Number == 0 {
		return ""
	}
	other := server
	who := fmt.Sprintf("the client began a renegotiation after the handshake (an encrypted handshake record, %s: a ClientHello)", frameRef(f.Number))
	if by == server {
		other = client
		who = fmt.Sprintf("the server asked the client to renegotiate after the handshake (an encrypted handshake record, %s: a HelloRequest)", frameRef(f.Number))
	}
	if g := c.Afterwards().Renegotiation[other]; g.Number > f.Number {
		return who + fmt.Sprintf(" and the %s answered with encrypted handshake records (%s): the renegotiation went ahead (--keylog shows its messages)", other, frameRef(g.Number))
	}
	for i, a := range c.Alerts {
		if a.Sender != other || a.Frame.Number < f.Number {
			continue
		}
		text := who + fmt.Sprintf(" and the %s answered with an encrypted alert (%s): likely a refusal (no_renegotiation; most servers refuse a client's renegotiation, OpenSSL 3 and nginx among them)", other, frameRef(a.Frame.Number))
		if by == server {
			text = who + fmt.Sprintf(" and the client answered with an encrypted alert (%s): likely a refusal (no_renegotiation)", frameRef(a.Frame.Number))
		}
		for _, b := range c.Alerts[i+1:] {
			if b.Sender == by {
				text += fmt.Sprintf("; the %s then sent an encrypted alert (%s), a fatal one or close_notify", by, frameRef(b.Frame.Number))
				break
			}
		}
		return text + " (--keylog reads the alerts)"
	}
	return who + "; the capture shows no answer"
}

// closedAtOnce says so when the server closed the connection right after
// the handshake, before the client sent anything: TLS worked, and a
// client then fails reading its answer (Go's EOF, curl's "Empty reply").
func (d *diagnosis) closedAtOnce() string {
	c := d.c
	end, how := d.serverClosedFirst()
	if end.Number == 0 || c.Afterwards().Request.Number != 0 {
		return ""
	}
	if sent := c.ClientSide.AppData; sent.Records > 0 && sent.First.Number < end.Number {
		return ""
	}
	return fmt.Sprintf("the server closed the connection right after the handshake (%s, %s), before the client sent anything: a server application that accepts and then closes at once (a connection limit, a crash, a port meant for health checks) — look at the server's log, not at TLS",
		how, frameRef(end.Number))
}
