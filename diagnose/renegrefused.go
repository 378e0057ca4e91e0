package diagnose

// A request answered by a renegotiation the client refused: the handshake
// completed, the client sent its request, and the server, instead of
// answering, asked to renegotiate (RFC 5246, Section 7.4.1.1) — as Apache
// httpd does for a client certificate or cipher suite configured for one
// <Location> or <Directory>, and IIS for client certificates it did not
// ask for in the first handshake. Go's crypto/tls refuses every
// renegotiation by default (tls.Config.Renegotiation is RenegotiateNever)
// and net/http reports "local error: tls: no renegotiation". The handshake
// was sound, but the request failed at the TLS layer: a failure of its
// own, not ok.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// RenegotiationRefused: the server asked to renegotiate after the request and the client refused
const RenegotiationRefused Category = "renegotiation_refused"

var renegotiationRefusedCategory = categorySpec{
	name:          RenegotiationRefused,
	meaning:       "the handshake completed and the client sent its request, but the server, instead of answering, asked to renegotiate (TLS 1.2 HelloRequest) and the client refused (no_renegotiation), so the request failed; certain with a key log, most likely without one (an encrypted handshake record from the server answered by an encrypted alert); likely a client certificate or cipher suite the server wants for one path only",
	serverFix:     "ask for the client certificate in the first handshake, not per path (Apache httpd: `SSLVerifyClient` in the `<VirtualHost>`, not a `<Location>`; IIS: `clientcertnegotiation=enable` on the binding)",
	clientClasses: []string{"renegotiation_refused"},
}

// renegotiationRefused is the verdict on a completed handshake whose
// request the server answered by asking to renegotiate, which the client
// refused; summary is the completed handshake's (see ok).
func (d *diagnosis) renegotiationRefused(summary string, frames []capture.Frame) (Verdict, bool) {
	s, why, fix, ev, ok := d.refusedRenegotiation()
	if !ok {
		return Verdict{}, false
	}
	return verdict(RenegotiationRefused, s+" ("+summary+"). "+why, fix, append(frames, ev...)...), true
}

// refusedRenegotiation describes a renegotiation the server asked for
// after the client's request and before answering it, which the client
// refused: certainly with a key log (its no_renegotiation alert), likely
// without one (an encrypted alert where a client that went along would
// send its ClientHello). It returns the facts, the likely causes, the
// fix, the evidence frames and whether it applies.
func (d *diagnosis) refusedRenegotiation() (facts, why, fix string, ev []capture.Frame, ok bool) {
	c := d.c
	after := c.Afterwards()
	req := after.Request
	if req.Number == 0 || c.Version.IsTLS13() {
		return "", "", "", nil, false
	}
	asked, refusal, sure := d.renegotiationRefusal()
	if asked.Number <= req.Number || refusal.Number == 0 || (after.Response.Number != 0 && after.Response.Number < asked.Number) {
		return "", "", "", nil, false
	}
	s := fmt.Sprintf("the server did not answer the client's request (%s): it asked the client to renegotiate (HelloRequest, %s) and the client refused (no_renegotiation, %s), so the request failed",
		frameRef(req.Number), frameRef(asked.Number), frameRef(refusal.Number))
	if !sure {
		s = fmt.Sprintf("the server did not answer the client's request (%s): it sent an encrypted handshake record (%s), which after the handshake is a HelloRequest asking the client to renegotiate, and the client answered with an encrypted alert (%s), where one that went along would have sent a ClientHello: most likely it refused (no_renegotiation; --keylog reads the alert), so the request failed",
			frameRef(req.Number), frameRef(asked.Number), frameRef(refusal.Number))
	}
	if d.client().Stack == fingerprint.StackGo {
		s += ` (Go: "local error: tls: no renegotiation")`
	}
	why = "Likely: the server asks for a client certificate (or other TLS settings) for this path only, by renegotiating (Apache httpd's SSLVerifyClient or SSLCipherSuite inside a <Location> or <Directory>; IIS with client certificates set to Accept or Require); possible: a server that renegotiates on a timer or byte count"
	client := "or let the client accept one renegotiation (OpenSSL-based clients such as curl over HTTP/1.1 do; HTTP/2 forbids renegotiation)"
	if d.client().Stack == fingerprint.StackGo {
		client = "or let the Go client renegotiate once: `tls.Config.Renegotiation = tls.RenegotiateOnceAsClient` (net/http: in Transport.TLSClientConfig; it works over HTTP/1.1 only, as HTTP/2 forbids renegotiation)"
	}
	fix = "have the server ask for the client certificate in the first handshake instead of renegotiating: Apache httpd: move `SSLVerifyClient require` (or `optional`) and any `SSLCipherSuite` out of the <Location>/<Directory> into the <VirtualHost>; IIS: enable client certificate negotiation on the binding (`netsh http add sslcert … clientcertnegotiation=enable`); " + client
	return s, why, fix, []capture.Frame{req, asked, refusal}, true
}

// renegotiationRefusal returns the frame where the server asked to
// renegotiate and the client's refusal, and whether a key log showed
// both (else they are read from the encrypted records' kinds).
func (d *diagnosis) renegotiationRefusal() (asked, refusal capture.Frame, sure bool) {
	c := d.c
	if m := renegotiationAsked(c); m != nil {
		if m.Type != tlsparse.HandshakeTypeHelloRequest {
			return capture.Frame{}, capture.Frame{}, false
		}
		for _, a := range c.Alerts {
			if a.Known() && a.Sender == client && a.Frame.Number > m.Frame.Number && a.Description == tlsparse.AlertNoRenegotiation {
				return m.Frame, a.Frame, true
			}
		}
		return capture.Frame{}, capture.Frame{}, false
	}
	f, by := sealedRenegotiation(c)
	if f.Number == 0 || by != server {
		return capture.Frame{}, capture.Frame{}, false
	}
	if g := c.Afterwards().Renegotiation[client]; g.Number > f.Number {
		return capture.Frame{}, capture.Frame{}, false // the client went along
	}
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number > f.Number {
			return f, a.Frame, false
		}
	}
	return capture.Frame{}, capture.Frame{}, false
}
