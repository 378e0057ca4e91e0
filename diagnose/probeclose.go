package diagnose

// A bare FIN in the middle of a TLS 1.2 handshake, after the server's
// flight, from a client whose TLS library alerts when it rejects a
// certificate. Go's crypto/tls, OpenSSL (curl, Python, openssl s_client)
// and Chromium's BoringSSL send an alert when their verification fails in
// the handshake (testdata/field/matrix: every one of them against an
// untrusted CA, an expired certificate, a wrong name). Such a client that
// hangs up without one did not reject the certificate there: its program
// stopped the handshake, as probes, health checks and scanners that read
// the server's certificate do, as an application's timeout does
// (testdata/field/gapclose/probe_full.pcap), or as a browser does with a
// connection it no longer needs (testdata/field/abandon). Java's JSSE
// does close with a bare FIN when it rejects a certificate
// (matrix/untrusted_ca_java.pcap), so it is not among them, nor are
// clients not recognised.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// alertsOnRejection reports whether a client recognised as cl sends an
// alert when it rejects the server's certificate during a TLS 1.2
// handshake.
func alertsOnRejection(cl fingerprint.Client) bool {
	alerts := func(s fingerprint.Stack) bool {
		switch s {
		case fingerprint.StackGo, fingerprint.StackOpenSSL, fingerprint.StackCurl, fingerprint.StackPython, fingerprint.StackChromium:
			return true
		}
		return false
	}
	return cl.Certainty >= fingerprint.Likely && alerts(cl.Stack) && (cl.Also == fingerprint.StackUnknown || alerts(cl.Also))
}

// closedMidHandshake explains a TLS 1.2 client that closed with a bare FIN
// (at frame abort) after the server's flight although its library would
// have sent an alert to reject the certificate.
func (d *diagnosis) closedMidHandshake(abort capture.Frame, how string) (Verdict, bool) {
	c := d.c
	if how != "FIN" || c.Version.IsTLS13() || c.CertificateFrame.Number == 0 {
		return Verdict{}, false
	}
	cl := d.client()
	if !alertsOnRejection(cl) {
		return Verdict{}, false
	}
	after, at := d.lastMessageBefore(abort.Number)
	stopped := "a probe, health check or scanner that reads the server's certificate and leaves, or a timeout or error in the program"
	fix := "nothing on the server if this is a probe or a health check; else look at the client program's log and timeouts"
	if isBrowser(cl) {
		stopped = "a browser closes the extra connections it opened to a server once another one is ready, and those of a page load cancelled as they ran"
		fix = "nothing on the server: a browser closes the connections it no longer needs this way; if a page failed, its error page names the reason"
	}
	summary := fmt.Sprintf("the client closed the connection (FIN, %s) %s after %s (%s), in the middle of the handshake and without an alert; it is %s, whose TLS library sends an alert when it rejects a certificate, so most likely its program stopped the handshake: %s",
		frameRef(abort.Number), d.waitFrom(at, abort), after, frameRef(at.Number), clientName(cl), stopped)
	return verdict(HandshakeFailure, summary, fix, d.helloFrame, at, abort), true
}
