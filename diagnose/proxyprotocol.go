package diagnose

// The PROXY protocol (HAProxy's proxy-protocol.txt): a load balancer that
// passes TCP through writes a header naming the original client before
// the client's bytes, and the backend must be set to read it. When one
// end is set and the other is not, the handshake fails
// (testdata/field/proxyproto): a backend that does not expect the header
// reads it as the start of the client's TLS and fails (nginx takes it for
// plain HTTP and answers 400, OpenSSL servers close); a backend that
// expects one reads the ClientHello as a broken header and closes at once
// (nginx: a reset, the hello unread, and "broken header" in its log).

import (
	"fmt"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// proxyProtocolFix names both ways to make the ends agree.
const proxyProtocolFix = "make the load balancer and the server agree: either have the server read the header " +
	"(nginx: `listen … ssl proxy_protocol;` with `set_real_ip_from` the load balancer and `real_ip_header proxy_protocol;`; " +
	"Apache: `RemoteIPProxyProtocol On` (mod_remoteip); HAProxy: `accept-proxy` on the `bind`; " +
	"Caddy: `proxy_protocol { allow <the load balancer's addresses> }` before `tls` in the global `servers { listener_wrappers { … } }`; " +
	"Go: wrap the net.Listener in a PROXY protocol listener, such as github.com/pires/go-proxyproto) " +
	"or stop sending it (HAProxy: drop `send-proxy`/`send-proxy-v2` from the `server` line; " +
	"AWS NLB: target group attribute proxy_protocol_v2.enabled=false; nginx stream: `proxy_protocol off;`)"

// proxyHeaderUnexpected explains a connection whose client (a load
// balancer, or a client such as curl --haproxy-protocol) began with a
// PROXY protocol header that the server did not read as one: it answered
// with something other than TLS, or closed before the ClientHello, which
// is certain; or it closed after the ClientHello without a TLS answer
// and without an alert, which is likely (a server that reads the header
// answers the ClientHello, with an alert when it refuses it).
func (d *diagnosis) proxyHeaderUnexpected() (Verdict, bool) {
	c := d.c
	p := c.ProxyHeader()
	if p == nil || c.ServerHello != nil || c.HelloRetry != nil {
		return Verdict{}, false
	}
	for _, a := range c.Alerts {
		if a.Sender == server {
			return Verdict{}, false // the server spoke TLS
		}
	}
	n := c.ServerSide.NonTLS
	if n == nil {
		n = c.ServerSide.Prelude
	}
	end, who, how := d.firstClose()
	var answer, sure string
	frames := []int64{p.Frame.Number}
	switch {
	case n != nil:
		answer = fmt.Sprintf("it answered with %s (%s), not TLS", n.Looks, frameRef(n.Frame.Number))
		sure = "certain: the header came first, and the server did not answer it with TLS"
		frames = append(frames, n.Frame.Number)
	case who == server && end.Number != 0 && (c.ClientHello == nil || end.Number < d.helloFrame.Number):
		answer = fmt.Sprintf("it closed the connection (%s, %s) before the ClientHello", how, frameRef(end.Number))
		sure = "certain: the server refused the connection on the header alone"
		frames = append(frames, end.Number)
	case who == server && end.Number != 0 && c.ClientHello != nil:
		answer = fmt.Sprintf("it closed the connection (%s, %s) %s after the ClientHello (%s), without a TLS answer or an alert",
			how, frameRef(end.Number), d.waitFrom(d.helloFrame, end), frameRef(d.helloFrame.Number))
		sure = "likely: a server that reads the header answers the ClientHello after it, with an alert if it refuses it; OpenSSL-based servers that read the header as a TLS record close so"
		frames = append(frames, d.helloFrame.Number, end.Number)
	default:
		return Verdict{}, false
	}
	if d.hello != nil && n == nil {
		frames = append(frames, d.helloFrame.Number)
	}
	summary := fmt.Sprintf("the connection began with a PROXY protocol header (%s, %s), which the server does not expect: %s (%s)",
		proxyHeaderWords(p), frameRef(p.Frame.Number), answer, sure)
	if p.Malformed != "" {
		summary += "; the header is malformed besides: " + p.Malformed
	}
	v := verdict(NotTLSClient, summary, proxyProtocolFix)
	slices.Sort(frames)
	v.Evidence = slices.Compact(frames)
	return v, true
}

// proxyHeaderWords says what a header is and whom it names:
// "version 1, client 10.92.0.2:39652".
func proxyHeaderWords(p *analysis.ProxyHeader) string {
	s := fmt.Sprintf("version %d", p.Version)
	switch {
	case p.Source.IsValid():
		s += fmt.Sprintf(", naming the client %s", p.Source)
	case p.Local:
		s += ", LOCAL: the load balancer's own connection"
	}
	return s
}

// proxyProtocolExpected is the possible cause to add to the fix of a
// ClientHello that the server answered, within proxyExpectedClose and
// without a byte, by closing the connection: a server that expects a
// PROXY protocol header, which did not come, reads the ClientHello as a
// broken one and closes at once. "" when the client's stream began with
// a header, or the close does not fit.
func (d *diagnosis) proxyProtocolExpected() string {
	c := d.c
	if c.ProxyHeader() != nil || d.hello == nil || c.ServerSide.Bytes > 0 {
		return ""
	}
	end, who, _ := d.firstClose()
	if who != server || end.Number == 0 || end.Time.Sub(d.helloFrame.Time) > proxyExpectedClose {
		return ""
	}
	return ". Possible too: the server expects a PROXY protocol header before the ClientHello and got none " +
		"(nginx with `listen … proxy_protocol;` reads the ClientHello as a broken header and closes at once, " +
		"its error log saying `broken header: \"…\" while reading PROXY protocol`): " +
		"then send it from the load balancer in front (HAProxy `send-proxy`, nginx stream `proxy_protocol on;`, " +
		"AWS NLB proxy_protocol_v2.enabled) or drop `proxy_protocol` from that `listen`. " +
		"The packets do not tell these causes apart; the server's log does"
}

// proxyExpectedClose bounds the time from the ClientHello to the close of
// a server that read it as a broken PROXY protocol header: it closes as
// soon as the hello arrives, so the close is one round trip away at most.
const proxyExpectedClose = time.Second
