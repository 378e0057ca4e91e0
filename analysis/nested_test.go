package analysis

import (
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

const httpsProxyDir = "../testdata/field/https_proxy/"

// TestHTTPSProxyTunnelRead: Go's net/http through an https:// proxy, with
// its key log (both handshakes). The record is the target's handshake,
// each message in the frame of the proxy's record that carried it; the
// proxy's own handshake is in Proxy.TLS.
func TestHTTPSProxyTunnelRead(t *testing.T) {
	for _, early := range []bool{false, true} {
		opt := Options{KeyLog: readKeyLog(t, httpsProxyDir+"go_ok.keylog"), Trace: true}
		var conns []*Connection
		if early {
			// Live mode decides as soon as the outcome is known: the
			// client's CONNECT after the proxy's handshake is not it.
			opt.Early, opt.Done = true, func(c *Connection) { conns = append(conns, c) }
			analyse(t, httpsProxyDir+"go_ok.pcap", opt)
		} else {
			conns = analyse(t, httpsProxyDir+"go_ok.pcap", opt)
		}
		if len(conns) != 1 {
			t.Fatalf("early %v: %d connections, want 1", early, len(conns))
		}
		c := conns[0]
		if c.ClientHello == nil || c.ClientHello.ServerName != "test.example" || c.ClientHelloFrame.Number != 12 || c.ServerHelloFrame.Number != 13 {
			t.Errorf("early %v: ClientHello %v in frame %d, ServerHello in %d; want the target's, SNI test.example, frames 12 and 13", early, c.ClientHello != nil, c.ClientHelloFrame.Number, c.ServerHelloFrame.Number)
		}
		if len(c.Certificates) != 1 || c.Certificates[0].X509 == nil || c.Certificates[0].X509.Subject.CommonName != "test.example" || !c.Established || !c.Decrypted {
			t.Errorf("early %v: certificates %d, established %v, decrypted %v; want the target's leaf, a completed and decrypted handshake", early, len(c.Certificates), c.Established, c.Decrypted)
		}
		// Live mode decides at the client's request, as for a
		// connection without a proxy: the answer comes after.
		if !early && (c.Response == nil || c.Response.Status != 200) || c.ProxyInTLS != nil {
			t.Errorf("early %v: response %+v, ProxyInTLS %v; want the target's 200 and no ProxyInTLS", early, c.Response, c.ProxyInTLS)
		}
		p := c.Proxy
		if p == nil || p.Outcome != proxyparse.Granted || p.Target != "test.example:8731" || p.RequestFrame.Number != 9 || p.ReplyFrame.Number != 11 {
			t.Fatalf("early %v: proxy %+v; want the granted CONNECT of frames 9 and 11", early, p)
		}
		want := ProxyTLS{Version: tlsparse.VersionTLS13, Cipher: 0x1301, ServerName: "proxy.test", Subject: "CN=proxy.test", Established: true}
		if p.TLS == nil {
			t.Fatalf("early %v: no Proxy.TLS", early)
		}
		got := *p.TLS
		got.HandshakeDone = capture.Frame{}
		if got != want || p.TLS.HandshakeDone.Number != 8 {
			t.Errorf("early %v: Proxy.TLS %+v, want %+v done in frame 8", early, *p.TLS, want)
		}
		if c.Client.Port() == 8721 || c.Server.Port() != 8721 || c.TCP.SYN.Number != 1 {
			t.Errorf("early %v: %v → %v, SYN %d: want the TCP connection to the proxy", early, c.Client, c.Server, c.TCP.SYN.Number)
		}
		hellos := 0
		for _, f := range c.Trace {
			for _, it := range f.Items {
				if it.Handshake == tlsparse.HandshakeTypeClientHello {
					hellos++
				}
			}
		}
		if hellos != 2 {
			t.Errorf("early %v: %d ClientHellos in the trace, want the proxy's and the target's", early, hellos)
		}
	}
}

// TestHTTPSProxyWithoutKeyLog: without a key log the same capture is a
// TLS connection to the proxy, as before the tunnel was read.
func TestHTTPSProxyWithoutKeyLog(t *testing.T) {
	conns := analyse(t, httpsProxyDir+"go_ok.pcap", Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	c := conns[0]
	if c.Proxy != nil || c.ProxyInTLS != nil || c.ClientHello == nil || c.ClientHello.ServerName != "proxy.test" || c.ClientHelloFrame.Number != 4 {
		t.Errorf("proxy %v, ProxyInTLS %v, ClientHello frame %d: want the proxy's handshake alone", c.Proxy, c.ProxyInTLS, c.ClientHelloFrame.Number)
	}
}
