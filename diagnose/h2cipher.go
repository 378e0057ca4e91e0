package diagnose

// HTTP/2 over TLS 1.2 with a cipher suite RFC 9113 forbids (Section
// 9.2.2 and Appendix A: TLS 1.2 needs an ephemeral key exchange and an
// AEAD cipher): a client may end such a connection with a GOAWAY
// INADEQUATE_SECURITY. Chromium does (ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY:
// its connection preface, the GOAWAY, then close, all encrypted); Go's
// net/http and http2.Transport, curl (nghttp2) and Node.js's http2 go on
// (testdata/field/h2).

import (
	"fmt"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// h2CipherFix is what to change on a server that negotiates HTTP/2 with a
// forbidden suite.
const h2CipherFix = "HTTP/2 over TLS 1.2 needs an ECDHE (or DHE) suite with AES-GCM or ChaCha20-Poly1305 (RFC 9113, Section 9.2.2): put such suites in the server's list, ahead of the others, and allow TLS 1.3, whose suites all qualify; or turn HTTP/2 off on that server (nginx: `http2` off the `listen`, or `http2 off;`)"

// h2ForbiddenSuite reports whether HTTP/2 forbids cs over TLS 1.2: every
// suite but those with an ephemeral, authenticated key exchange and an
// AEAD cipher is on RFC 9113's list (Appendix A).
func h2ForbiddenSuite(cs tlsparse.CipherSuite) bool {
	switch cs.KeyExchange() {
	case tlsparse.KeyExchangeECDHE, tlsparse.KeyExchangeDHE, tlsparse.KeyExchangeECDHEPSK, tlsparse.KeyExchangeDHEPSK:
	case tlsparse.KeyExchangeUnknown, tlsparse.KeyExchangeTLS13:
		return false
	default:
		return true
	}
	n := cs.String()
	aead := strings.Contains(n, "_GCM") || strings.Contains(n, "_CCM") || strings.Contains(n, "_CHACHA20_POLY1305")
	return !aead || strings.Contains(n, "_anon_")
}

// h2WithForbiddenSuite reports whether the connection negotiated HTTP/2
// over TLS 1.2 with a suite RFC 9113 forbids, and words it.
func (d *diagnosis) h2WithForbiddenSuite() (string, bool) {
	c := d.c
	if c.Version != tlsparse.VersionTLS12 || c.ALPN != "h2" || !h2ForbiddenSuite(c.Cipher) {
		return "", false
	}
	return fmt.Sprintf("HTTP/2 (ALPN h2) over TLS 1.2 with %s (ServerHello, %s), a suite RFC 9113 forbids for HTTP/2 (Section 9.2.2: TLS 1.2 needs an ephemeral key exchange and an AEAD cipher)",
		c.Cipher, frameRef(c.ServerHelloFrame.Number)), true
}

// h2InadequateSecurity reads a client that refused HTTP/2 over a suite
// RFC 9113 forbids: certain when a key log opened its GOAWAY
// INADEQUATE_SECURITY; likely, without one, for Chromium that sent a few
// records after the handshake, got no answer and closed within a second,
// as it does when it refuses (the GOAWAY is encrypted).
func (d *diagnosis) h2InadequateSecurity() (Verdict, bool) {
	c := d.c
	what, ok := d.h2WithForbiddenSuite()
	done := c.HandshakeDone
	if !ok || done.Number == 0 {
		return Verdict{}, false
	}
	fix := d.serverSide(h2CipherFix, ChangeCiphers)
	end, who, how := d.firstClose()
	if g := c.Afterwards().GoAway[client]; g.Frame.Number != 0 && g.Code == analysis.H2InadequateSecurity {
		closed := ""
		if who == client && end.Number >= g.Frame.Number {
			closed = fmt.Sprintf(", then it closed (%s, %s)", how, frameRef(end.Number))
		}
		summary := fmt.Sprintf("the server negotiated %s, and the client refused it: it sent GOAWAY INADEQUATE_SECURITY (%s, opened with the key log)%s; Chromium reports this as ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY",
			what, frameRef(g.Frame.Number), closed)
		return verdict(NoSharedCipher, summary, fix, d.helloFrame, c.ServerHelloFrame, g.Frame, end), true
	}
	cd := c.ClientSide.AppData
	if c.Decryption == analysis.DecryptionDecrypted || d.client().Stack != fingerprint.StackChromium || cd.Records == 0 ||
		c.Afterwards().Response.Number != 0 || who != client || end.Number < cd.First.Number || done.Time.IsZero() || end.Time.Sub(done.Time) > h2Close {
		return Verdict{}, false
	}
	summary := fmt.Sprintf("the server negotiated %s; the client, a Chromium-based browser (%s), sent %d encrypted records (from %s), got no answer and closed %s after the handshake (%s, %s). Likely: it refused the suite (Chromium: ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY), which it does by sending its connection preface and a GOAWAY INADEQUATE_SECURITY and closing; TLS 1.2 encrypts the GOAWAY, so this rests on the suite and the client's close; less likely: the browser closed for a reason of its own (a navigation cancelled); %s",
		what, d.client().Reason, cd.Records, frameRef(cd.First.Number), wait(end.Time.Sub(done.Time)), how, frameRef(end.Number), d.keyLogAdvice("the client's GOAWAY"))
	return verdict(NoSharedCipher, summary, fix, d.helloFrame, c.ServerHelloFrame, cd.First, end), true
}

// h2ForbiddenSuiteWarning warns, on a connection read as ok, that it
// negotiated HTTP/2 with a suite RFC 9113 forbids: this client went on
// (or closed without a sign of refusal), browsers refuse.
func (d *diagnosis) h2ForbiddenSuiteWarning() string {
	what, ok := d.h2WithForbiddenSuite()
	if !ok {
		return ""
	}
	return what + ": browsers refuse it (Chromium: ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY) while Go's net/http, curl and Node.js go on; put ECDHE AEAD suites first in the server's list (nginx: `ssl_ciphers`; Go: `tls.Config.CipherSuites`) or turn HTTP/2 off there (nginx: `http2`)"
}
