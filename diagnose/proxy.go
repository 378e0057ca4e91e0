package diagnose

// Verdicts for connections that opened with a proxy negotiation (HTTP
// CONNECT, SOCKS): the proxy's refusal, and the labels of the TLS tunnelled
// through it.

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/proxyparse"
)

// ProxyRefused: the proxy refused to open the tunnel (HTTP 403 or
// another refusal of CONNECT, a SOCKS rejection).
const ProxyRefused Category = "proxy_refused"

var proxyRefusedCategory = categorySpec{
	name:          ProxyRefused,
	meaning:       "the proxy refused the tunnel: HTTP `403 Forbidden` or another refusal of CONNECT (`405`: it does not tunnel), a SOCKS4 rejection (`0x5B`), SOCKS5 \"not allowed by ruleset\"; or it granted the tunnel and wrote its own block page into it before the ClientHello; evidence: the request and the status line (and the page)",
	serverFix:     "—",
	clientClasses: []string{"proxy_connect_failed", "not_tls"},
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
	if p.Retries > 0 {
		asked = fmt.Sprintf("the client asked the proxy %s for a tunnel to %s, was answered 407 (Proxy Authentication Required) and asked again on the same connection, %s (%s request, %s)",
			c.Server, target, retriedWith(p), p.Kind.Words(), frameRef(p.RequestFrame.Number))
	}
	answered := fmt.Sprintf("it answered %q (%s)", p.StatusLine, frameRef(p.ReplyFrame.Number))
	if v, ok := d.proxyAnswer(p, target, asked, answered, "no TLS was sent"); ok {
		return v, true
	}
	switch p.Outcome {
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
			fmt.Sprintf("%s; the proxy never answered: %s (%s) %s later", asked, how, frameRef(told.Number), d.waitFrom(p.RequestFrame, told)),
			fmt.Sprintf("the proxy at %s accepted the TCP connection but did not answer the %s request: check that it is an HTTP/SOCKS proxy of the kind the client expects, and its logs", c.Server, p.Kind.Words()),
			p.RequestFrame, end), true
	}
	// Granted, but no TLS followed.
	if n := c.ServerSide.NonTLS; n != nil {
		return d.plaintextInTunnel(n), true
	}
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

// retriedWith words what the client's last CONNECT after a 407 carried.
func retriedWith(p *analysis.Proxy) string {
	switch {
	case p.Credentials && p.CredentialScheme != "":
		return "with " + p.CredentialScheme + " credentials"
	case p.Credentials:
		return "with credentials"
	}
	return "again without credentials"
}

// offersBasic reports whether a 407's challenges include the Basic
// scheme, the one a user:password in a proxy URL gives.
func offersBasic(schemes string) bool {
	for _, s := range strings.Split(schemes, ", ") {
		if strings.EqualFold(s, "Basic") {
			return true
		}
	}
	return false
}

// noBasicVerdict explains a 407 whose Proxy-Authenticate challenges name
// only schemes other than Basic (NTLM, Negotiate, …): credentials in the
// proxy URL, which clients send as Basic (Go's net/http sends nothing
// else), cannot satisfy the proxy whatever the password, so checking the
// password is not the fix. The challenge the proxy sent is what this
// rests on.
func (d *diagnosis) noBasicVerdict(p *analysis.Proxy, asked, answered, after string) Verdict {
	c := d.c
	offered := p.AuthSchemes
	what := "the request carried no credentials"
	switch {
	case p.Credentials && strings.EqualFold(p.CredentialScheme, "Basic"):
		what = "the request carried Basic credentials, which this proxy does not accept whatever the user name and password"
	case p.Credentials:
		what = fmt.Sprintf("it rejected the %s credentials the request carried", p.CredentialScheme)
	}
	summary := fmt.Sprintf("%s; %s: the proxy requires authentication and offers only %s (Proxy-Authenticate), not Basic, and %s, so %s", asked, answered, offered, what, after)
	fix := fmt.Sprintf("the proxy at %s accepts only %s authentication, not the Basic scheme that user:password in a proxy URL gives: Go's net/http sends proxy credentials only as Basic, so no password in HTTPS_PROXY or http.Transport.Proxy will do; curl: --proxy-ntlm -U user:password (NTLM) or --proxy-negotiate -U : (Negotiate, with a Kerberos ticket from kinit); for Go and other clients that send Basic only, run a local authenticating relay (Cntlm, Px) and point the proxy setting at it, or ask the proxy's administrator for Basic authentication or an exemption for %s",
		c.Server, offered, p.Target)
	if p.Credentials && !strings.EqualFold(p.CredentialScheme, "Basic") && p.CredentialScheme != "" {
		fix = fmt.Sprintf("the proxy at %s refused the client's %s credentials (it offers %s): check the user name, password or Kerberos ticket (klist) and that the account may use the proxy", c.Server, p.CredentialScheme, offered)
	}
	return verdict(ProxyAuthRequired, summary, fix, p.RequestFrame, p.ReplyFrame)
}

// proxyAnswer explains a proxy's refusal of a tunnel (p's outcome refused,
// auth_required or upstream_failed) to target; asked and answered name
// the request and the reply, after says what did not follow (no TLS was
// sent). ok is false for any other outcome.
func (d *diagnosis) proxyAnswer(p *analysis.Proxy, target, asked, answered, after string) (Verdict, bool) {
	c := d.c
	switch p.Outcome {
	case proxyparse.Refused:
		return verdict(ProxyRefused,
			fmt.Sprintf("%s; %s: the proxy refused the tunnel, so %s", asked, answered, after),
			refusedFix(p.Kind, p.Status, target, c.Server.String(), d.bypassProxy("exclude the host from the proxy (NO_PROXY)")), p.RequestFrame, p.ReplyFrame), true
	case proxyparse.AuthRequired:
		what := "the request carried no credentials"
		scheme := "http"
		if p == c.ProxyInTLS {
			scheme = "https"
		}
		where := "in the proxy URL (HTTPS_PROXY=" + scheme + "://user:password@" + c.Server.String() + ")"
		if d.explicitProxy {
			where = "in the proxy URL the client was given (" + scheme + "://user:password@" + c.Server.String() + ")"
		}
		fix := fmt.Sprintf("give the client the proxy's credentials: %s or the client's proxy settings (Go: http.Transport.Proxy, or ProxyConnectHeader with Proxy-Authorization)", where)
		if p.Credentials {
			what = "it rejected the credentials the request carried"
			fix = fmt.Sprintf("the proxy at %s rejected the client's credentials: check the user name and password in the proxy URL (special characters must be percent-encoded) and that the account may use the proxy", c.Server)
		}
		if p.Kind == proxyparse.KindSOCKS5 && !p.Credentials {
			fix = fmt.Sprintf("the SOCKS5 proxy at %s accepts none of the authentication methods the client offered: configure the client with the proxy's user name and password (socks5://user:password@%s)", c.Server, c.Server)
		}
		if p.Kind == proxyparse.KindHTTPConnect && p.AuthSchemes != "" && !offersBasic(p.AuthSchemes) {
			return d.noBasicVerdict(p, asked, answered, after), true
		}
		return verdict(ProxyAuthRequired,
			fmt.Sprintf("%s; %s: the proxy requires authentication and %s, so %s", asked, answered, what, after),
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
	}
	return Verdict{}, false
}

// proxyInTLS reads the CONNECT exchange a key log showed inside the TLS
// of a connection to an https:// proxy (Connection.ProxyInTLS), once the
// handshake with the proxy completed (v is ok): the proxy's refusal is
// the verdict, with the request and the reply as evidence, as for an
// http:// proxy; a tunnel it granted carries the client's TLS to the
// target nested inside the proxy's, which is not read, so the verdict
// says it is about the proxy's connection only.
func (d *diagnosis) proxyInTLS(v Verdict) Verdict {
	c := d.c
	p := c.ProxyInTLS
	if p == nil || v.Category != OK {
		return v
	}
	target := p.Target
	if target == "" {
		target = "its target"
	}
	asked := fmt.Sprintf("the TLS handshake with the https:// proxy %s completed, and inside it (decrypted) the client asked the proxy for a tunnel to %s (CONNECT request, %s)", c.Server, target, frameRef(p.RequestFrame.Number))
	answered := fmt.Sprintf("it answered %q (%s)", p.StatusLine, frameRef(p.ReplyFrame.Number))
	if r, ok := d.proxyAnswer(p, target, asked, answered, "no TLS went to the target"); ok {
		return r
	}
	if p.Outcome == proxyparse.Granted {
		// A tunnel that carried anything is read (Proxy.TLS): this one
		// carried nothing the key log opened.
		v.Summary += fmt.Sprintf("; this is the connection to an https:// proxy, which granted the client's CONNECT to %s (%s), and no decrypted byte went through the tunnel after it, so this verdict is about the connection to the proxy: there is no handshake with the target to judge", target, frameRef(p.ReplyFrame.Number))
		v.Warnings = append(v.Warnings, fmt.Sprintf("the target %s's TLS handshake is not judged here: none went through the tunnel in the records the key log opened (the client sent nothing after the proxy's answer, or the capture or the key log misses the records that carried it)", target))
	}
	return v
}

// plaintextInTunnel explains a tunnel the proxy granted through which the
// other end sent plaintext (n) instead of TLS. Sent before the client's
// ClientHello, it is the proxy's own page — a server waits for the
// client's first bytes — so the proxy refused after all; sent after it,
// the target more likely speaks plaintext on that port.
func (d *diagnosis) plaintextInTunnel(n *analysis.NonTLS) Verdict {
	c, p := d.c, d.c.Proxy
	// tunnelNote names the proxy, the target and the reply's frame.
	granted := fmt.Sprintf("the tunnel the proxy granted (%q) carried %s (%s) instead of TLS", p.StatusLine, n.Looks, frameRef(n.Frame.Number))
	if d.helloFrame.Number == 0 || n.Frame.Number < d.helloFrame.Number {
		summary := granted + fmt.Sprintf(", before the client's ClientHello (%s)", frameRef(d.helloFrame.Number)) +
			" (likely: the proxy's own block or error page, written into the tunnel it had just granted — a TLS server waits for the client's hello and never speaks first; less likely, a service at the target that greets in plaintext, such as SMTP or FTP)"
		if d.helloFrame.Number == 0 {
			summary = granted + ", and the client sent no ClientHello (likely: the proxy's own block or error page, written into the tunnel it had just granted; less likely, a service at the target that greets in plaintext)"
		}
		fix := fmt.Sprintf("the proxy at %s accepted the CONNECT to %s and then answered with its own page (%s): it blocks the destination by policy or failed to reach it; read the page (tshark -r FILE -Y frame.number==%d -x) or the proxy's log, and ask its administrator to allow %s, or %s if it can be reached directly",
			c.Server, p.Target, frameRef(n.Frame.Number), n.Frame.Number, p.Target, d.bypassProxy("bypass the proxy for it (NO_PROXY)"))
		return verdict(ProxyRefused, summary, fix, p.RequestFrame, p.ReplyFrame, n.Frame, d.helloFrame)
	}
	summary := granted + fmt.Sprintf(" in answer to the ClientHello (%s)", frameRef(d.helloFrame.Number)) +
		fmt.Sprintf(" (likely: %s serves plaintext on that port; less likely, the proxy's block page, sent once it read the hello's server name)", p.Target)
	fix := notTLSServerFix(n.Looks, p.Port) + fmt.Sprintf("; if %s does serve TLS (a direct connection to it works), the proxy at %s blocks it by the hello's server name: ask its administrator", p.Target, c.Server)
	return verdict(NotTLSServer, summary, fix, p.ReplyFrame, d.helloFrame, n.Frame)
}

// refusedFix says what to do about a proxy that refused the tunnel, by
// its answer; bypass says how to go around the proxy (bypassProxy).
func refusedFix(k proxyparse.Kind, status int, target, proxy, bypass string) string {
	if k == proxyparse.KindHTTPConnect {
		switch status {
		case 405, 501:
			return fmt.Sprintf("the proxy at %s does not tunnel (it refuses the CONNECT method): use a proxy that supports CONNECT for https://, or connect without it", proxy)
		case 400:
			return fmt.Sprintf("the proxy at %s could not read the CONNECT request: check the client's proxy setting (an http:// proxy URL, host:port) and the target %s", proxy, target)
		}
	}
	return fmt.Sprintf("the proxy at %s does not allow tunnels to %s: ask its administrator to allow the destination (Squid: an http_access rule; its SSL_ports ACL for ports other than 443), or %s if it can be reached directly", proxy, target, bypass)
}

// bypassProxy says how the client goes around its proxy: noProxy, the
// words for NO_PROXY, which exempts a host from the proxy the
// environment names (HTTPS_PROXY); for a proxy the client was given by
// name (Config.ExplicitProxy), which NO_PROXY does not apply to, leaving
// the proxy out.
func (d *diagnosis) bypassProxy(noProxy string) string {
	if d.explicitProxy {
		return "connect without the proxy (" + noProxyIgnored + ")"
	}
	return noProxy
}

// noProxyIgnored says why NO_PROXY is no way around a proxy the client
// was given by name.
const noProxyIgnored = "the client was given it by name, so NO_PROXY does not exempt the host"

// tunnelNote labels a verdict about TLS that went through a proxy, and
// flags a ClientHello that names another host than the tunnel's target.
func (d *diagnosis) tunnelNote(v *Verdict) {
	c := d.c
	p := c.Proxy
	if p == nil || c.ClientHello == nil {
		return
	}
	if p.TLS != nil {
		v.Summary += fmt.Sprintf(" (through the https:// proxy %s to %s, %s: %s)", c.Server, p.Target, frameRef(p.ReplyFrame.Number), proxyTLSWords(p.TLS))
	} else {
		v.Summary += fmt.Sprintf(" (through the %s proxy %s to %s, %s)", p.Kind.Words(), c.Server, p.Target, frameRef(p.ReplyFrame.Number))
	}
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

// proxyTLSWords says what the handshake with an https:// proxy was, whose
// tunnel the verdict's handshake ran in.
func proxyTLSWords(t *analysis.ProxyTLS) string {
	what := t.Version.String() + " " + t.Cipher.String()
	if t.ServerName != "" {
		what += ", SNI " + t.ServerName
	}
	if t.Subject != "" {
		what += ", certificate '" + t.Subject + "'"
	}
	done := "did not complete"
	if t.Established {
		done = "completed (" + frameRef(t.HandshakeDone.Number) + ")"
	}
	return fmt.Sprintf("the handshake with the proxy (%s) %s and the key log opened it; the CONNECT, the proxy's answer and this handshake went inside it", what, done)
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
