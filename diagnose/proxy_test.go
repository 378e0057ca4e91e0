package diagnose

import (
	"net/netip"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func TestDiagnoseProxy(t *testing.T) { runDiagnoseCases(t, proxyCases(t)) }

// proxied is a connection to a proxy at 198.51.100.7:3128 whose
// negotiation is client and server, request in frame 4, reply in frame 6.
func proxied(t *testing.T, client, server string) *analysis.Connection {
	c := tcpConn()
	c.Server = netip.MustParseAddrPort("198.51.100.7:3128")
	x, ok := proxyparse.Parse([]byte(client), []byte(server))
	if !ok {
		t.Fatalf("not a proxy exchange: %q", client)
	}
	p := &analysis.Proxy{Exchange: x, RequestFrame: fr(4)}
	if x.ReplyEnd > 0 {
		p.ReplyFrame = fr(6)
	}
	c.Proxy = p
	c.Side(client0).Prelude = &analysis.NonTLS{Frame: fr(4), Looks: "HTTP request (CONNECT …)"}
	return fin(c, fr(8), server0)
}

const (
	client0 = capture.ClientToServer
	server0 = capture.ServerToClient
)

func proxyCases(t *testing.T) []diagnoseCase {
	const req = "CONNECT good.test:443 HTTP/1.1\r\nHost: good.test:443\r\n\r\n"
	const authReq = "CONNECT good.test:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
	return []diagnoseCase{
		{name: "CONNECT answered 403", cat: ProxyRefused,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, req, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
			},
			summary:  []string{"proxy 198.51.100.7:3128", "tunnel to good.test:443", "CONNECT request, frame 4", `"HTTP/1.1 403 Forbidden" (frame 6)`, "no TLS was sent"},
			evidence: []int64{4, 6}, fix: []string{"does not allow tunnels to good.test:443", "NO_PROXY"}},
		{name: "CONNECT answered 405", cat: ProxyRefused,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, req, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
			},
			summary: []string{"405 Method Not Allowed"}, evidence: []int64{4, 6}, fix: []string{"refuses the CONNECT method"}},
		{name: "CONNECT answered 407 without credentials", cat: ProxyAuthRequired,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, req, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\r\n")
			},
			summary:  []string{"requires authentication", "carried no credentials", "407 Proxy Authentication Required"},
			evidence: []int64{4, 6}, fix: []string{"HTTPS_PROXY=http://user:password@198.51.100.7:3128"}},
		{name: "CONNECT answered 407 with credentials", cat: ProxyAuthRequired,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, authReq, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
			},
			summary: []string{"rejected the credentials"}, evidence: []int64{4, 6}, fix: []string{"check the user name and password"}},
		{name: "CONNECT answered 502", cat: ProxyUpstreamFailed,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, req, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			},
			summary:  []string{"502 Bad Gateway", "could not reach the target", "never reached"},
			evidence: []int64{4, 6}, fix: []string{"between the proxy and good.test:443"}},
		{name: "CONNECT answered 504", cat: ProxyUpstreamFailed,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, req, "HTTP/1.1 504 Gateway Timeout\r\n\r\n")
			},
			summary: []string{"did not answer the proxy in time"}, evidence: []int64{4, 6}},
		{name: "SOCKS5 host unreachable", cat: ProxyUpstreamFailed,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, "\x05\x01\x00\x05\x01\x00\x03\x09good.test\x01\xbb", "\x05\x00\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")
			},
			summary: []string{"SOCKS5 request", "SOCKS5 reply 0x04 (host unreachable)"}, evidence: []int64{4, 6}},
		{name: "SOCKS5 no acceptable method", cat: ProxyAuthRequired,
			conn: func(*pki) *analysis.Connection {
				return proxied(t, "\x05\x01\x00", "\x05\xff")
			},
			summary: []string{"no acceptable authentication method"}, evidence: []int64{4, 6}, fix: []string{"socks5://user:password@"}},
		{name: "CONNECT never answered", cat: ServerNoResponse,
			conn:    func(*pki) *analysis.Connection { return proxied(t, req, "") },
			summary: []string{"the proxy never answered", "the proxy closed the connection (frame 8)"}, evidence: []int64{4, 8}},
		{name: "untrusted root through a tunnel: maybe the proxy's", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				c := proxied(t, req, "HTTP/1.1 200 Connection established\r\n\r\n")
				c.TCP.FIN = [2]capture.Frame{}
				c = alert(serverHello(hello(c, tls12Hello(v12)), v12, 0xC02F, privateChain(t)...), 7, client, tlsparse.AlertUnknownCA)
				return c
			},
			summary: []string{"self-signed root 'CN=Private Root CA,O=tlsdiag test'"}, evidence: []int64{6, 7}, nWarn: -1,
			warnings: []string{"the chain came through the proxy 198.51.100.7:3128's tunnel", "NO_PROXY=good.test", "before trusting the root"}},
		{name: "tunnel open, SNI differs from the CONNECT target", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				c := proxied(t, "CONNECT other.test:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 Connection established\r\n\r\n")
				c.ClientHello, c.ClientHelloFrame = &tlsparse.ClientHello{ServerName: "good.test"}, fr(9)
				c.ServerHello, c.ServerHelloFrame = &tlsparse.ServerHello{}, fr(10)
				c.Version, c.Cipher, c.Established, c.HandshakeDone = tlsparse.VersionTLS13, 0x1301, true, fr(12)
				return c
			},
			summary:  []string{"through the CONNECT proxy 198.51.100.7:3128 to other.test:443, frame 6"},
			evidence: []int64{9, 10, 12}, nWarn: 1,
			warnings: []string{"a tunnel to other.test (frame 4) but its ClientHello names good.test (SNI, frame 9)"}},
	}
}
