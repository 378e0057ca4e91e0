package diagnose

// Verdicts for connections that opened with a proxy negotiation (HTTP
// CONNECT, SOCKS): the proxy's refusal, and the labels of the TLS tunnelled
// through it.

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/proxyparse"
)

// ProxyRefused: the proxy refused to open the tunnel (HTTP 403 or
// another refusal of CONNECT, a SOCKS rejection).
const ProxyRefused Category = "proxy_refused"

var proxyRefusedCategory = categorySpec{
	name:          ProxyRefused,
	meaning:       "the proxy refused the tunnel: HTTP `403 Forbidden` or another refusal of CONNECT (`405`: it does not tunnel), a SOCKS4 rejection (`0x5B`), SOCKS5 \"not allowed by ruleset\"; evidence: the request and the status line",
	serverFix:     "—",
	clientClasses: []string{"proxy_connect_failed"},
}

// ProxyAuthRequired: the proxy wants credentials it did not get (HTTP
// 407, SOCKS5 authentication).
const ProxyAuthRequired Category = "proxy_auth_required"

var proxyAuthRequiredCategory = categorySpec{
	name:          ProxyAuthRequired,
	meaning:       "the proxy wants credentials: HTTP `407 Proxy Authentication Required` (without credentials, or with ones it rejected), SOCKS5 \"no acceptable method\" or a failed user name/password",
	serverFix:     "—",
	clientClasses: []string{"proxy_connect_failed"},
}

// ProxyUpstreamFailed: the proxy could not reach the target (HTTP 502,
// 503, 504; SOCKS host unreachable, connection refused).
const ProxyUpstreamFailed Category = "proxy_upstream_failed"

var proxyUpstreamFailedCategory = categorySpec{
	name:          ProxyUpstreamFailed,
	meaning:       "the proxy could not reach the target: HTTP `502 Bad Gateway`, `503`, `504 Gateway Timeout`; SOCKS5 network or host unreachable, connection refused",
	serverFix:     "—",
	clientClasses: []string{"proxy_connect_failed"},
}

// proxyVerdict explains a connection to a proxy that did not tunnel TLS:
// the proxy refused, wanted credentials, could not reach the target, never
// answered, or opened a tunnel the client did not use.
func (d *diagnosis) proxyVerdict() (Verdict, bool) {
	c := d.c
	p := c.Proxy
	if p == nil || c.ClientHello != nil || c.ServerHello != nil {
		return Verdict{}, false
	}
	target := p.Target
	if target == "" {
		target = "its target"
	}
	asked := fmt.Sprintf("the client asked the proxy %s for a tunnel to %s (%s request, %s)", c.Server, target, p.Kind.Words(), frameRef(p.RequestFrame.Number))
	answered := fmt.Sprintf("it answered %q (%s)", p.StatusLine, frameRef(p.ReplyFrame.Number))
	switch p.Outcome {
	case proxyparse.Refused:
		return verdict(ProxyRefused,
			fmt.Sprintf("%s; %s: the proxy refused the tunnel, so no TLS was sent", asked, answered),
			refusedFix(p.Kind, p.Status, target, c.Server.String()), p.RequestFrame, p.ReplyFrame), true
	case proxyparse.AuthRequired:
		what := "the request carried no credentials"
		fix := fmt.Sprintf("give the client the proxy's credentials: in the proxy URL (HTTPS_PROXY=http://user:password@%s) or the client's proxy settings (Go: http.Transport.Proxy, or ProxyConnectHeader with Proxy-Authorization)", c.Server)
		if p.Credentials {
			what = "it rejected the credentials the request carried"
			fix = fmt.Sprintf("the proxy at %s rejected the client's credentials: check the user name and password in the proxy URL (special characters must be percent-encoded) and that the account may use the proxy", c.Server)
		}
		if p.Kind == proxyparse.KindSOCKS5 && !p.Credentials {
			fix = fmt.Sprintf("the SOCKS5 proxy at %s accepts none of the authentication methods the client offered: configure the client with the proxy's user name and password (socks5://user:password@%s)", c.Server, c.Server)
		}
		return verdict(ProxyAuthRequired,
			fmt.Sprintf("%s; %s: the proxy requires authentication and %s, so no TLS was sent", asked, answered, what),
			fix, p.RequestFrame, p.ReplyFrame), true
	case proxyparse.UpstreamFailed:
		why := "it could not reach the target"
		switch {
		case p.Kind == proxyparse.KindHTTPConnect && p.Status == 504:
			why = "the target did not answer the proxy in time"
		case p.Kind == proxyparse.KindHTTPConnect && p.Status == 503:
			why = "the proxy could not connect to the target (or is overloaded)"
		}
		return verdict(ProxyUpstreamFailed,
			fmt.Sprintf("%s; %s: %s, so the TLS server was never reached", asked, answered, why),
			fmt.Sprintf("the problem is between the proxy and %s, not in TLS: check that %s is the right host and port, that it is up, and that the proxy can reach it (its DNS, its firewall; curl -x from the proxy's network)", target, target),
			p.RequestFrame, p.ReplyFrame), true
	case proxyparse.Unanswered:
		if p.RequestEnd == 0 {
			return Verdict{}, false
		}
		end, told := c.Last, d.captureEnd()
		how := "the capture ended"
		if f, who, h := d.firstClose(); f.Number != 0 {
			end, told, how = f, f, fmt.Sprintf("the %s %s the connection", proxySide(who), closedWord(h))
		}
		return verdict(ServerNoResponse,
			fmt.Sprintf("%s; the proxy never answered: %s (%s) %s later", asked, how, frameRef(told.Number), wait(told.Time.Sub(p.RequestFrame.Time))),
			fmt.Sprintf("the proxy at %s accepted the TCP connection but did not answer the %s request: check that it is an HTTP/SOCKS proxy of the kind the client expects, and its logs", c.Server, p.Kind.Words()),
			p.RequestFrame, end), true
	}
	// Granted, but no TLS followed.
	end, told := c.Last, d.captureEnd()
	how := "the capture ended"
	if f, who, h := d.firstClose(); f.Number != 0 {
		end, told, how = f, f, fmt.Sprintf("the %s %s the connection", proxySide(who), closedWord(h))
	}
	cat := NotTLSClient
	if how == "the capture ended" {
		cat = IncompleteCapture
	}
	return verdict(cat,
		fmt.Sprintf("%s; %s: the tunnel was open, but no ClientHello went through it before %s (%s)", asked, answered, how, frameRef(told.Number)),
		fmt.Sprintf("the proxy opened the tunnel; the client then sent no TLS: check that it is configured for TLS (https://) to %s", target),
		p.RequestFrame, p.ReplyFrame, end), true
}

// refusedFix says what to do about a proxy that refused the tunnel, by
// its answer.
func refusedFix(k proxyparse.Kind, status int, target, proxy string) string {
	if k == proxyparse.KindHTTPConnect {
		switch status {
		case 405, 501:
			return fmt.Sprintf("the proxy at %s does not tunnel (it refuses the CONNECT method): use a proxy that supports CONNECT for https://, or connect without it", proxy)
		case 400:
			return fmt.Sprintf("the proxy at %s could not read the CONNECT request: check the client's proxy setting (an http:// proxy URL, host:port) and the target %s", proxy, target)
		}
	}
	return fmt.Sprintf("the proxy at %s does not allow tunnels to %s: ask its administrator to allow the destination (Squid: an http_access rule; its SSL_ports ACL for ports other than 443), or exclude the host from the proxy (NO_PROXY) if it can be reached directly", proxy, target)
}

// tunnelNote labels a verdict about TLS that went through a proxy, and
// flags a ClientHello that names another host than the tunnel's target.
func (d *diagnosis) tunnelNote(v *Verdict) {
	c := d.c
	p := c.Proxy
	if p == nil || c.ClientHello == nil {
		return
	}
	v.Summary += fmt.Sprintf(" (through the %s proxy %s to %s, %s)", p.Kind.Words(), c.Server, p.Target, frameRef(p.ReplyFrame.Number))
	sni := ""
	if d.hello != nil {
		sni = strings.TrimSuffix(d.hello.ServerName, ".")
	}
	host := strings.TrimSuffix(p.Host, ".")
	if _, err := netip.ParseAddr(host); err == nil || sni == "" || host == "" || strings.EqualFold(sni, host) {
		return
	}
	v.Warnings = append(v.Warnings, fmt.Sprintf("the client asked the proxy for a tunnel to %s (%s) but its ClientHello names %s (SNI, %s): the server reached is %s's, and the certificate is checked against %s; check the client's proxy settings (a tunnel target that differs from the SNI is also what domain fronting looks like)",
		host, frameRef(p.RequestFrame.Number), sni, frameRef(d.helloFrame.Number), host, sni))
}

// closedWord turns firstClose's "RST" or "FIN" into a verb.
func closedWord(how string) string {
	if how == "RST" {
		return "reset"
	}
	return "closed"
}

// proxySide names an end of a connection to a proxy.
func proxySide(d capture.Direction) string {
	if d == server {
		return "proxy"
	}
	return "client"
}
