package diagnose

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cryptobyte_asn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The verdict tests, one table per family of causes.

func TestDiagnoseTCP(t *testing.T)          { runDiagnoseCases(t, tcpCases(t)) }
func TestDiagnoseIncomplete(t *testing.T)   { runDiagnoseCases(t, incompleteAndNonTLSCases(t)) }
func TestDiagnoseOK(t *testing.T)           { runDiagnoseCases(t, okCases(t)) }
func TestDiagnoseVersion(t *testing.T)      { runDiagnoseCases(t, versionCipherHandshakeCases(t)) }
func TestDiagnoseCertificates(t *testing.T) { runDiagnoseCases(t, certificateCases(t)) }
func TestDiagnoseOthers(t *testing.T)       { runDiagnoseCases(t, clientCertALPNSNIAndSilenceCases(t)) }

// caseTables are the tables of verdict tests. A category declared in a
// file of its own brings its cases in a test file of its own, which adds
// its table here from an init function.
var caseTables = []func(*testing.T) []diagnoseCase{
	tcpCases, incompleteAndNonTLSCases, okCases, versionCipherHandshakeCases, certificateCases,
	clientCertALPNSNIAndSilenceCases, proxyCases, pathCases, interceptedCases, quicCases,
}

// TestEveryCategoryHasACase keeps the tables complete as categories are
// added.
func TestEveryCategoryHasACase(t *testing.T) {
	seen := map[Category]int{}
	for _, table := range caseTables {
		for _, c := range table(t) {
			seen[c.cat]++
		}
	}
	for _, c := range Categories {
		if seen[c] == 0 {
			t.Errorf("no test case for category %s", c)
		}
	}
}

func tcpCases(t *testing.T) []diagnoseCase {
	return []diagnoseCase{
		{name: "SYN answered by RST", cat: ConnectionRefused,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.TCP.SYNACK = capture.Frame{}
				return rst(c, fr(2), server)
			},
			summary:  []string{"198.51.100.7:443 refused the connection", "SYN (frame 1)", "RST (frame 2)"},
			evidence: []int64{1, 2}, fix: []string{"port 443", "198.51.100.7"}},
		{name: "SYNs never answered", cat: NoTCPAnswer,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.TCP.SYNACK, c.TCP.SYNCount, c.TCP.Close = capture.Frame{}, 3, capture.ClosedIdle
				c.Last = frAt(3, 7*time.Second)
				return c
			},
			summary:  []string{"198.51.100.7:443 never answered", "3 SYNs over 7.0 s", "no SYN-ACK"},
			evidence: []int64{1, 3}, fix: []string{"drops the SYNs to port 443"}},
		{name: "server closes right after accepting", cat: ConnectionReset,
			conn:     func(*pki) *analysis.Connection { return fin(tcpConn(), fr(4), server) },
			summary:  []string{"closed it (frame 4)", "before the client sent its ClientHello"},
			evidence: []int64{1, 2, 4}, fix: []string{"connection limits"}},
		{name: "server resets right after accepting", cat: ConnectionReset,
			conn:     func(*pki) *analysis.Connection { return rst(tcpConn(), fr(4), server) },
			summary:  []string{"reset it (frame 4) 20 ms later"},
			evidence: []int64{1, 2, 4}},
		{name: "client connects and leaves: a health check", cat: NotTLSClient,
			conn:     func(*pki) *analysis.Connection { return fin(tcpConn(), fr(4), client) },
			summary:  []string{"closed it 30 ms later without sending anything", "health probe"},
			evidence: []int64{1, 4}, fix: []string{"health check"}},
		{name: "client sends one byte and leaves", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.ClientSide.Bytes = 1
				return fin(c, fr(5), client)
			},
			summary:  []string{"sent 1 byte, less than a TLS record, and closed it"},
			evidence: []int64{1, 5}, fix: []string{"ClientHello of a few hundred bytes"}},
		{name: "both close, the client first", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				return fin(fin(tcpConn(), fr(4), client), fr(5), server)
			},
			summary: []string{"without sending anything (frame 4)"}, evidence: []int64{1, 4}},
		{name: "a ClientHello announcing more than 128 KiB", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.Anomalies = []tlsparse.Anomaly{"oversized_handshake_message"}
				return c
			},
			summary: []string{"announces more than 128 KiB"}, evidence: []int64{1, 30}, nWarn: -1},
		{name: "hello that did not parse", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.Anomalies = []tlsparse.Anomaly{"malformed_client_hello"}
				return fin(c, fr(5), client)
			},
			summary: []string{"did not parse (malformed_client_hello)"}, evidence: []int64{1, 30}, fix: []string{"-s 0"}, nWarn: -1},
		{name: "capture ends after the TCP handshake", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.TCP.Close, c.Last = capture.ClosedEOF, fr(3)
				return c
			},
			summary: []string{"before the client sent anything"}, evidence: []int64{1, 3}},
	}
}

func incompleteAndNonTLSCases(t *testing.T) []diagnoseCase {
	return []diagnoseCase{
		{name: "capture began mid-connection", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.TCP, c.Partial, c.Roles, c.First = analysis.TCPFacts{Close: capture.ClosedFIN}, true, analysis.RolesGuessed, fr(100)
				c.ClientSide.AppData = analysis.Traffic{Records: 4, Bytes: 400, First: fr(101)}
				c.ServerSide.AppData = analysis.Traffic{Records: 6, Bytes: 9000, First: fr(102)}
				return c
			},
			summary:  []string{"began after this connection started", "10 application data records (4 from the client, 6 from the server)"},
			evidence: []int64{100, 101, 102}, fix: []string{"start the capture before"},
			warnings: []string{"guessed"}, nWarn: 1},
		{name: "capture ends 10 ms after the ClientHello", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.TCP.Close, c.Last = capture.ClosedEOF, fr(5)
				return c
			},
			summary: []string{"capture ended 10 ms after the ClientHello (frame 4)"}, evidence: []int64{4}},
		{name: "server bytes lost after the ClientHello", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.TCP.Gaps = []analysis.Gap{{Dir: server, Offset: 0, Size: 1448, Frame: fr(7)}}
				return fin(c, fr(9), server)
			},
			summary:  []string{"1448 bytes of the server's handshake are missing", "noticed at frame 7"},
			evidence: []int64{4, 7}, fix: []string{"tcpdump -B"}, nWarn: -1},
		{name: "HTTP answer to the ClientHello", cat: NotTLSServer,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(6), Looks: "HTTP response (HTTP/1.1 400 Bad Request)"}
				return fin(c, fr(7), server)
			},
			summary:  []string{"answered the ClientHello (frame 4) with HTTP response (HTTP/1.1 400 Bad Request)", "not TLS"},
			evidence: []int64{4, 6}, fix: []string{"plain HTTP", "port 443"}},
		{name: "non-TLS answer beats the reset", cat: NotTLSServer,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(5), Looks: "SSH banner (SSH-2.0-OpenSSH_9.6)"}
				return rst(c, fr(6), server)
			},
			summary: []string{"SSH-2.0-OpenSSH_9.6"}, evidence: []int64{4, 5}, fix: []string{"SSH server"}},
		{name: "SMTP greeting where TLS was expected", cat: NotTLSServer,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.Server = netip.AddrPortFrom(c.Server.Addr(), 465)
				c.ServerSide.Prelude = &analysis.NonTLS{Frame: fr(3), Looks: "SMTP greeting (220 mail.example.com ESMTP)"}
				return fin(c, fr(20), client)
			},
			summary:  []string{"greeted the client with SMTP greeting (220 mail.example.com ESMTP) (frame 3)"},
			evidence: []int64{3, 4}, fix: []string{"STARTTLS", "port 465"}},
		{name: "STARTTLS dialogue then silence is not a non-TLS server", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.ServerSide.Prelude = &analysis.NonTLS{Frame: fr(3), Looks: "SMTP greeting (220 mail.example.com ESMTP)"}
				c.ClientSide.Prelude = &analysis.NonTLS{Frame: fr(3), Looks: "SMTP command (EHLO client)"}
				return fin(c, frAt(20, 10*time.Second), client)
			},
			summary: []string{"for 10.0 s"}, evidence: []int64{4, 20}},
		{name: "plain HTTP request to a TLS port", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.ClientSide.NonTLS = &analysis.NonTLS{Frame: fr(4), Looks: "HTTP request (GET / HTTP/1.1)"}
				c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(5), Looks: "HTTP response (HTTP/1.1 400 Bad Request)"}
				return c
			},
			summary:  []string{"the client sent HTTP request (GET / HTTP/1.1) (frame 4) instead of a TLS ClientHello", "the server answered HTTP response"},
			evidence: []int64{4, 5}, fix: []string{"https://"}},
		{name: "SMTP client on an implicit-TLS port", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.ClientSide.NonTLS = &analysis.NonTLS{Frame: fr(4), Looks: "STARTTLS-protocol command (EHLO client.example)"}
				return fin(c, fr(5), server)
			},
			summary:  []string{"the server closed the connection (frame 5)"},
			evidence: []int64{4, 5}, fix: []string{"implicit TLS", "STARTTLS port"}},
		{name: "MySQL server where TLS was expected", cat: NotTLSServer,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(5), Looks: "MySQL server greeting"}
				return c
			},
			evidence: []int64{4, 5}, fix: []string{"--ssl-mode"}},
		{name: "SMTP server greets, client answers in SMTP", cat: NotTLSServer,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.Server = netip.AddrPortFrom(c.Server.Addr(), 587)
				c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(4), First: fr(4), Looks: "SMTP/FTP banner (220 mail.example.com ESMTP)"}
				// The server's banner began first; the client answered.
				c.ClientSide.NonTLS = &analysis.NonTLS{Frame: fr(6), First: fr(5), Looks: "STARTTLS-protocol command (EHLO client.example)"}
				return c
			},
			summary:  []string{"the server greeted the client with SMTP/FTP banner (220 mail.example.com ESMTP) (frame 4) and the client answered in plaintext too (STARTTLS-protocol command (EHLO client.example), frame 6): neither side started TLS"},
			evidence: []int64{4, 6}, fix: []string{"STARTTLS"}},
		{name: "client began first though its bytes completed later", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				// Its banner completed after the server's, but began
				// before it: the client spoke first.
				c.ClientSide.NonTLS = &analysis.NonTLS{Frame: fr(6), First: fr(4), Looks: "SSH banner (SSH-2.0-OpenSSH_9.6)"}
				c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(5), First: fr(5), Looks: "SSH banner (SSH-2.0-OpenSSH_9.2)"}
				return c
			},
			summary:  []string{"the client sent SSH banner (SSH-2.0-OpenSSH_9.6) (frame 6) instead of a TLS ClientHello"},
			evidence: []int64{6}},
		{name: "plaintext answered by an alert", cat: NotTLSClient,
			conn: func(*pki) *analysis.Connection {
				c := tcpConn()
				c.ClientSide.NonTLS = &analysis.NonTLS{Frame: fr(4), Looks: "plaintext (HELLO)"}
				return alert(c, 5, server, tlsparse.AlertUnexpectedMessage)
			},
			summary:  []string{"answered with alert unexpected_message (frame 5)"},
			evidence: []int64{4, 5}, fix: []string{"port 443 expects TLS"}},
	}
}

func okCases(t *testing.T) []diagnoseCase {
	return []diagnoseCase{
		{name: "TLS 1.3", cat: OK,
			conn: func(*pki) *analysis.Connection {
				c := finish(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301))
				c.ALPN = "h2"
				return c
			},
			summary:  []string{"TLS 1.3 handshake completed in 40 ms", "TLS_AES_128_GCM_SHA256", "x25519", "ALPN h2", "SNI www.example.com"},
			evidence: []int64{4, 6, 8}},
		{name: "TLS 1.2 with a valid chain", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter))
			},
			summary: []string{"TLS 1.2 handshake completed in 50 ms", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, evidence: []int64{4, 6, 9}},
		{name: "expired certificate accepted", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, expiredLeaf(t, p), p.inter))
			},
			evidence: []int64{4, 6, 9}, nWarn: 1,
			warnings: []string{"certificate 0 'CN=www.example.com,O=tlsdiag test' expired on 2025-05-22 12:00:00 UTC", "but the client accepted it, which no trust store explains: is certificate verification disabled?"}},
		{name: "self-signed certificate accepted: trusted by the client", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, selfSignedLeaf(t)))
			},
			evidence: []int64{4, 6, 9}, nWarn: 1, warnings: []string{"self-signed", "the client accepted it, so it trusts this certificate itself"}},
		{name: "private root accepted: not verification disabled", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				chain := privateChain(t)
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, chain[0], chain[1]))
			},
			evidence: []int64{4, 6, 9}, nWarn: 1, warnings: []string{"so it trusts 'CN=Private Root CA,O=tlsdiag test' (a private CA)", "--cacert"}},
		{name: "resumed TLS 1.2 session", cat: OK,
			conn: func(*pki) *analysis.Connection {
				c := finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F))
				c.Resumed = true
				return c
			},
			summary: []string{"(resumed session)"}, evidence: []int64{4, 6, 9}},
		{name: "TLS 1.0 with 3DES", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v10, 0x000A, p.leaf, p.inter))
			},
			summary: []string{"TLS 1.0 handshake"}, evidence: []int64{4, 6, 9}, nWarn: 2,
			warnings: []string{"TLS 1.0 was negotiated: it is deprecated (RFC 8996)", "TLS_RSA_WITH_3DES_EDE_CBC_SHA is DES/3DES"}},
		{name: "RC4", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0x0005, p.leaf, p.inter))
			},
			evidence: []int64{4, 6, 9}, nWarn: 1, warnings: []string{"RC4"}},
		{name: "CBC with SHA-1", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC013, p.leaf, p.inter))
			},
			evidence: []int64{4, 6, 9}, nWarn: 1, warnings: []string{"legacy CBC suite with a SHA-1 MAC"}},
		{name: "no SNI", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				h := tls12Hello(v12)
				h.ServerName = ""
				return finish(serverHello(hello(tcpConn(), h), v12, 0xC02F, p.leaf, p.inter))
			},
			summary: []string{"no SNI"}, evidence: []int64{4, 6, 9}, nWarn: 1,
			warnings: []string{"the client sent no SNI: if it connected by address (198.51.100.7), it accepted a certificate that does not cover that address"}},
		{name: "reset after the handshake", cat: OK,
			conn: func(*pki) *analysis.Connection {
				return rst(finish(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301)), fr(20), client)
			},
			evidence: []int64{4, 6, 8}},
		{name: "fatal alert after the handshake", cat: OK,
			conn: func(*pki) *analysis.Connection {
				return alert(finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F)), 20, server, tlsparse.AlertInternalError)
			},
			evidence: []int64{4, 6, 9}, nWarn: 1, warnings: []string{"the server sent a fatal alert internal_error after the handshake (frame 20)"}},
		{name: "anomalies and a gap during the handshake", cat: OK,
			conn: func(*pki) *analysis.Connection {
				c := finish(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301))
				c.Anomalies = []tlsparse.Anomaly{"duplicate_extension", "sni_trailing_dot"}
				c.TCP.Gaps = []analysis.Gap{{Dir: server, Size: 100, Frame: fr(7)}, {Dir: client, Size: 50, Frame: fr(25)}}
				return c
			},
			evidence: []int64{4, 6, 8}, nWarn: 2,
			warnings: []string{"parser anomalies: duplicate_extension, sni_trailing_dot", "100 bytes of the server's stream are missing from the capture during the handshake (noticed at frame 7)"}},
		{name: "TLS 1.2 client of a TLS 1.3 server: the downgrade sentinel", cat: OK,
			conn: func(*pki) *analysis.Connection {
				c := finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F))
				c.Anomalies = []tlsparse.Anomaly{tlsparse.AnomalyDowngradeTLS12}
				return c
			},
			evidence: []int64{4, 6, 9}, nWarn: 1,
			warnings: []string{"the server supports TLS 1.3 (downgrade sentinel in its ServerHello) but the client offers up to TLS 1.2: raise the client's maximum version"}},
		{name: "downgrade sentinel with a TLS 1.3 client", cat: OK,
			conn: func(*pki) *analysis.Connection {
				c := finish(serverHello(hello(tcpConn(), modernHello()), v12, 0xC02F))
				c.Anomalies = []tlsparse.Anomaly{tlsparse.AnomalyDowngradeTLS12, "duplicate_extension"}
				return c
			},
			evidence: []int64{4, 6, 9}, nWarn: 2,
			warnings: []string{"although the client offers TLS 1.3, TLS 1.2: something between them altered the handshake", "parser anomalies: duplicate_extension"}},
		{name: "ClientHello missing but established", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				c := finish(serverHello(tcpConn(), v12, 0xC02F, p.leaf, p.inter))
				c.TCP, c.Partial, c.Roles = analysis.TCPFacts{}, true, analysis.RolesFromClientHello
				return c
			},
			summary:  []string{"TLS 1.2 handshake completed: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			evidence: []int64{6, 9}, nWarn: 1, warnings: []string{"the ClientHello is not in the capture"}},
		{name: "ClientHello missing, handshake unfinished", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := serverHello(tcpConn(), v12, 0xC02F)
				c.TCP, c.Partial, c.Roles = analysis.TCPFacts{Close: capture.ClosedEOF}, true, analysis.RolesFromClientHello
				return c
			},
			summary: []string{"the ClientHello is not in the capture", "the server chose TLS 1.2"}, evidence: []int64{6}},
	}
}

func versionCipherHandshakeCases(t *testing.T) []diagnoseCase {
	legacy := func(max tlsparse.Version, suites ...tlsparse.CipherSuite) *tlsparse.ClientHello {
		h := tls12Hello(max)
		if len(suites) > 0 {
			h.CipherSuites = suites
		}
		return h
	}
	// openssl3 is an OpenSSL 3 hello: it lists TLS 1.3 down to 1.0 and
	// refuses 1.0 and 1.1 only when the server's flight shows them.
	openssl3 := func() *tlsparse.ClientHello {
		h := modernHello()
		h.SupportedVersions = []tlsparse.Version{v13, v12, v11, v10}
		h.CipherSuites = append(h.CipherSuites, 0xC013)
		return h
	}
	return []diagnoseCase{
		{name: "client offers ≤ TLS 1.1, server requires more", cat: VersionMismatch,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v11)), 5, server, tlsparse.AlertProtocolVersion)
			},
			summary:  []string{"the server rejected every version the client offers (up to TLS 1.1) with alert protocol_version (frame 5)"},
			evidence: []int64{4, 5}, fix: []string{"the client offers TLS 1.1 at most", "raise its MaxVersion"}},
		{name: "TLS 1.2 client, TLS 1.3-only server", cat: VersionMismatch,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v12)), 5, server, tlsparse.AlertProtocolVersion)
			},
			summary:  []string{"(up to TLS 1.2)", "probably requires TLS 1.3"},
			evidence: []int64{4, 5}, fix: []string{"the client offers TLS 1.2 at most and the server requires TLS 1.3: raise the client's MaxVersion / upgrade OpenSSL"}},
		{name: "modern client, old server", cat: VersionMismatch,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), modernHello()), 5, server, tlsparse.AlertProtocolVersion)
			},
			summary:  []string{"(TLS 1.3, TLS 1.2)", "older than TLS 1.2"},
			evidence: []int64{4, 5}, fix: []string{"enable TLS 1.2 and 1.3 on the server"}},
		{name: "server chose TLS 1.0, client requires TLS 1.2", cat: VersionMismatch,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), modernHello()), v10, 0x002F, p.leaf, p.inter), 7, client, tlsparse.AlertProtocolVersion)
			},
			summary:  []string{"the server chose TLS 1.0 (ServerHello, frame 6)", "the client requires ≥ TLS 1.2 (it offers TLS 1.3, TLS 1.2)", "alert protocol_version, frame 7"},
			evidence: []int64{4, 6, 7}, fix: []string{"enable TLS 1.2 or later on the server"}, nWarn: 1, warnings: []string{"legacy CBC"}},
		{name: "TLS 1.1 chosen, the client refuses it with internal_error (OpenSSL 3)", cat: LegacyPolicyRefused,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), openssl3()), v11, 0xC013, p.leaf, p.inter)
				c.ServerKeyExchange, c.ServerKeyExchangeFrame = &tlsparse.ServerKeyExchange{KeyExchange: tlsparse.KeyExchangeECDHE}, fr(6)
				return alert(c, 8, client, tlsparse.AlertInternalError)
			},
			summary: []string{"the client refused the server's legacy choice, TLS 1.1", "MD5 and SHA-1", "(frame 6)", "alert internal_error (frame 8)",
				"likely", "OpenSSL 3", "less likely, an error inside the client"},
			evidence: []int64{4, 6, 8}, fix: []string{"the server is the one to change", "RFC 8996", "ssl_protocols TLSv1.2 TLSv1.3", "SECLEVEL=0"}, nWarn: -1},
		{name: "TLS 1.2 with a SHA-1 ServerKeyExchange signature refused with handshake_failure", cat: LegacyPolicyRefused,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), legacy(v12)), v12, 0xC02F, p.leaf, p.inter)
				c.ServerKeyExchange, c.ServerKeyExchangeFrame = &tlsparse.ServerKeyExchange{KeyExchange: tlsparse.KeyExchangeECDHE, SignatureScheme: 0x0201}, fr(7)
				c.ServerHelloDoneFrame = fr(7)
				return alert(c, 9, client, tlsparse.AlertHandshakeFailure)
			},
			summary:  []string{"a SHA-1 signature (rsa_pkcs1_sha1) on the ServerKeyExchange (frame 7)", "alert handshake_failure (frame 9)", "less likely, the client refuses another parameter"},
			evidence: []int64{4, 7, 9}, fix: []string{"SHA-256 or better"}, nWarn: -1},
		{name: "TLS 1.2 with a SHA-256 signature and internal_error stays handshake_failure", cat: HandshakeFailure,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), legacy(v12)), v12, 0xC02F, p.leaf, p.inter)
				c.ServerKeyExchange, c.ServerKeyExchangeFrame = &tlsparse.ServerKeyExchange{KeyExchange: tlsparse.KeyExchangeECDHE, SignatureScheme: 0x0401}, fr(6)
				return alert(c, 8, client, tlsparse.AlertInternalError)
			},
			evidence: []int64{4, 6, 8}, nWarn: -1},
		{name: "TLS 1.1 and the server's internal_error: not the client's policy", cat: HandshakeFailure,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), openssl3()), v11, 0xC013, p.leaf, p.inter), 8, server, tlsparse.AlertInternalError)
			},
			evidence: []int64{4, 6, 8}, nWarn: -1},
		{name: "TLS 1.1 and the client's decode_error: not a policy refusal", cat: HandshakeFailure,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), openssl3()), v11, 0xC013, p.leaf, p.inter), 8, client, tlsparse.AlertDecodeError)
			},
			evidence: []int64{4, 6, 8}, nWarn: -1},
		{name: "TLS 1.1 refused by a hello without supported_versions stays version_mismatch", cat: VersionMismatch,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), legacy(v12)), v11, 0xC013, p.leaf, p.inter), 8, client, tlsparse.AlertInternalError)
			},
			summary: []string{"the server chose TLS 1.1"}, evidence: []int64{4, 6, 8}, nWarn: -1},
		{name: "the wire beats the alert: TLS 1.0 refused with bad_certificate", cat: VersionMismatch,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), legacy(v12)), v10, 0x002F, p.leaf, p.inter), 7, client, tlsparse.AlertBadCertificate)
			},
			summary:  []string{"the server chose TLS 1.0", "alert bad_certificate"},
			evidence: []int64{4, 6, 7}, nWarn: -1},
		{name: "TLS 1.0 answered by a client RST", cat: VersionMismatch,
			conn: func(p *pki) *analysis.Connection {
				return rst(serverHello(hello(tcpConn(), modernHello()), v10, 0x002F, p.leaf, p.inter), fr(7), client)
			},
			summary: []string{"the server chose TLS 1.0", "RST, frame 7"}, evidence: []int64{4, 6, 7}, nWarn: -1},
		// A client without supported_versions names its highest version
		// only: the server that chose it gave the client what it asked
		// for, so the client's abort is about something else (here the
		// chain, read as for any client that aborts after it).
		{name: "TLS 1.0 from a client whose highest version it is: not the version refused", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				return rst(serverHello(hello(tcpConn(), legacy(v10)), v10, 0x002F, p.leaf, p.inter), fr(7), client)
			},
			summary: []string{"the client rejected the server's certificate (RST, frame 7)"}, evidence: []int64{6, 7}, nWarn: -1},
		{name: "inappropriate fallback", cat: VersionMismatch,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v11, 0xC013, 0x002F, 0x5600)), 5, server, tlsparse.AlertInappropriateFallback)
			},
			summary: []string{"TLS_FALLBACK_SCSV", "refused the downgrade"}, evidence: []int64{4, 5}, fix: []string{"first connection attempt failed"}},
		{name: "no shared cipher", cat: NoSharedCipher,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v12, 0x002F, 0x0005, 0x00FF, 0x0A0A)), 5, server, tlsparse.AlertHandshakeFailure)
			},
			summary:  []string{"handshake_failure (frame 5)", "none of the 2 cipher suites the client offered (TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA)"},
			evidence: []int64{4, 5}, fix: []string{"the client offers only TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
		{name: "ECDSA-only offer", cat: NoSharedCipher,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v12, 0xC02B, 0xC02C)), 5, server, tlsparse.AlertHandshakeFailure)
			},
			summary: []string{"none of the 2 cipher suites"}, evidence: []int64{4, 5}},
		{name: "insufficient_security", cat: NoSharedCipher,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v12, 0x0005, 0x000A)), 5, server, tlsparse.AlertInsufficientSecurity)
			},
			summary: []string{"insufficient_security"}, evidence: []int64{4, 5}},
		{name: "many suites are elided", cat: NoSharedCipher,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), legacy(v12, 0x002F, 0x0005, 0x000A, 0x0002, 0x0003, 0x009C)), 5, server, tlsparse.AlertHandshakeFailure)
			},
			summary: []string{"none of the 6 cipher suites", "and 2 more"}, evidence: []int64{4, 5}},
		{name: "mainstream offer with RSA key exchange rejected: not the ciphers", cat: HandshakeFailure,
			conn: func(*pki) *analysis.Connection {
				h := modernHello()
				h.CipherSuites = append(h.CipherSuites, 0x009C) // TLS_RSA_WITH_AES_128_GCM_SHA256
				return alert(hello(tcpConn(), h), 5, server, tlsparse.AlertHandshakeFailure)
			},
			summary:  []string{"the server rejected the ClientHello with alert handshake_failure (frame 5)", "mainstream cipher suites"},
			evidence: []int64{4, 5}, fix: []string{"key exchange group", "x25519, secp256r1, secp384r1", "nginx: `ssl_ecdh_curve`"}},
		{name: "mainstream offer without RSA key exchange rejected: an RSA-only server", cat: NoSharedCipher,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), modernHello()), 5, server, tlsparse.AlertHandshakeFailure)
			},
			summary: []string{"handshake_failure (frame 5)", "no RSA key exchange suite", "Likely: the server accepts only RSA key exchange",
				"possible: the server's key exchange groups exclude every one the client offers (x25519, secp256r1, secp384r1)"},
			evidence: []int64{4, 5}, fix: []string{"enable ECDHE key exchange on the server", "its key exchange groups must include one the client offers",
				"stop-gap only against a server of RSA key exchange alone", "nginx: `ssl_ciphers`", "nginx: `ssl_ecdh_curve`"}},
		{name: "mainstream offer without SNI", cat: HandshakeFailure,
			conn: func(*pki) *analysis.Connection {
				h := modernHello()
				h.ServerName = ""
				return alert(hello(tcpConn(), h), 5, server, tlsparse.AlertHandshakeFailure)
			},
			summary: []string{"no SNI"}, evidence: []int64{4, 5}, fix: []string{"send SNI"}},
		{name: "client decrypt_error after the server's flight", cat: HandshakeFailure,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter), 7, client, tlsparse.AlertDecryptError)
			},
			summary:  []string{"the client aborted the handshake after the ServerHelloDone (frame 6) with alert decrypt_error (frame 7)", "did not verify"},
			evidence: []int64{4, 6, 7}, fix: []string{"client"}},
		{name: "server chose a suite the client did not offer", cat: HandshakeFailure,
			conn: func(p *pki) *analysis.Connection {
				return alert(serverHello(hello(tcpConn(), modernHello()), v12, 0x002F, p.leaf, p.inter), 7, client, tlsparse.AlertIllegalParameter)
			},
			summary: []string{"the server chose TLS_RSA_WITH_AES_128_CBC_SHA (frame 6), which the client did not offer"}, evidence: []int64{4, 6, 7}, nWarn: -1},
		{name: "HelloRetryRequest the client gives up on", cat: HandshakeFailure,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.HelloRetry, c.HelloRetryFrame = &tlsparse.ServerHello{HelloRetryRequest: true, KeyShare: 24}, fr(6)
				return alert(c, 7, client, tlsparse.AlertIllegalParameter)
			},
			summary:  []string{"retry with group secp384r1 (HelloRetryRequest, frame 6) and the client aborted with alert illegal_parameter (frame 7)"},
			evidence: []int64{4, 6, 7}, fix: []string{"secp384r1"}},
		{name: "server closes after its hello without an alert", cat: HandshakeFailure,
			conn: func(*pki) *analysis.Connection {
				return fin(serverHello(hello(tcpConn(), modernHello()), v12, 0xC02F), fr(7), server)
			},
			summary: []string{"the server closed the connection (FIN, frame 7) after the ServerHelloDone"}, evidence: []int64{4, 6, 7}},
	}
}

func certificateCases(t *testing.T) []diagnoseCase {
	tls12 := func(p *pki, chain ...*testCert) *analysis.Connection {
		return serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, chain...)
	}
	return []diagnoseCase{
		{name: "expired leaf", cat: CertExpired,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, expiredLeaf(t, p), p.inter), 7, client, tlsparse.AlertCertificateExpired)
			},
			summary:  []string{"the client rejected the server's certificate (alert certificate_expired, frame 7)", "certificate 0 'CN=www.example.com,O=tlsdiag test' expired on 2025-05-22 12:00:00 UTC, 10 days before the capture"},
			evidence: []int64{6, 7}, fix: []string{"renew the server's certificate 'CN=www.example.com,O=tlsdiag test'"}},
		{name: "expired intermediate, Go's bad_certificate", cat: CertExpired,
			conn: func(p *pki) *analysis.Connection {
				leaf, inter := expiredIntermediate(t, p)
				return alert(tls12(p, leaf, inter), 7, client, tlsparse.AlertBadCertificate)
			},
			summary:  []string{"certificate 1 'CN=Old Intermediate CA,O=tlsdiag test' expired"},
			evidence: []int64{6, 7}, fix: []string{"intermediate 'CN=Old Intermediate CA,O=tlsdiag test'", "current intermediate"}},
		{name: "certificate_expired but valid: the client's clock", cat: ClientClockSkew,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, p.leaf, p.inter), 7, client, tlsparse.AlertCertificateExpired)
			},
			summary:  []string{"valid at the capture's time (2025-06-01 12:00:00 UTC)", "the chain is valid from", "client's clock is wrong", "less likely"},
			evidence: []int64{6, 7}, fix: []string{"clock right (NTP", "nothing changes on the server"}},
		{name: "not yet valid", cat: CertNotYetValid,
			conn: func(p *pki) *analysis.Connection {
				leaf := mkCert(t, certSpec{cn: "www.example.com", issuer: p.inter, dns: []string{"www.example.com"}, notBefore: captureTime.Add(36 * time.Hour)})
				return alert(tls12(p, leaf, p.inter), 7, client, tlsparse.AlertBadCertificate)
			},
			summary: []string{"valid only from 2025-06-03 00:00:00 UTC, 36 hours after the capture"}, evidence: []int64{6, 7}, fix: []string{"clocks"}},
		{name: "self-signed", cat: CertSelfSigned,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, selfSignedLeaf(t)), 7, client, tlsparse.AlertUnknownCA)
			},
			summary:  []string{"alert unknown_ca, frame 7", "'CN=www.example.com,O=self' is self-signed and not trusted"},
			evidence: []int64{6, 7}, fix: []string{"self-signed certificate", "trusted CA"}},
		{name: "untrusted root sent", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				chain := privateChain(t)
				return alert(tls12(p, chain...), 7, client, tlsparse.AlertUnknownCA)
			},
			summary:  []string{"self-signed root 'CN=Private Root CA,O=tlsdiag test' (certificate 2), which is not trusted"},
			evidence: []int64{6, 7}, fix: []string{"'CN=Private Root CA,O=tlsdiag test'", "make the client trust it"}},
		{name: "unknown_ca although trusted here", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, p.leaf, p.inter), 7, client, tlsparse.AlertUnknownCA)
			},
			summary:  []string{"does not trust its issuer, although the chain verifies against the roots given here (it ends at 'CN=Test Root CA,O=tlsdiag test')"},
			evidence: []int64{6, 7}, fix: []string{"make the client trust the root 'CN=Test Root CA,O=tlsdiag test'", "update-ca-certificates"}},
		{name: "stale intermediate: replace it, not add it", cat: CertIncompleteChain,
			conn: func(p *pki) *analysis.Connection {
				stale := mkCert(t, certSpec{cn: "Test Intermediate CA", ca: true, issuer: p.root, key: testKey(t, "stale intermediate key")})
				return alert(tls12(p, p.leaf, stale), 7, client, tlsparse.AlertUnknownCA)
			},
			summary:  []string{"not its key"},
			evidence: []int64{6, 7}, fix: []string{"with another key than the one that signed it", "replace it in the server's chain file", "nginx: `ssl_certificate`"}},
		{name: "leaf only: incomplete chain", cat: CertIncompleteChain,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, p.leaf), 7, client, tlsparse.AlertUnknownCA)
			},
			summary:  []string{"issued by 'CN=Test Intermediate CA,O=tlsdiag test', which the server did not send"},
			evidence: []int64{6, 7}, fix: []string{"the server sent only its leaf certificate; configure it to send the intermediate 'CN=Test Intermediate CA,O=tlsdiag test' too"}},
		{name: "hostname mismatch", cat: CertHostnameMismatch,
			conn: func(p *pki) *analysis.Connection {
				c := tls12(p, p.leaf, p.inter)
				c.ClientHello.ServerName = "api.example.org"
				return alert(c, 7, client, tlsparse.AlertBadCertificate)
			},
			summary:  []string{"valid for www.example.com, example.com, not for the name 'api.example.org'"},
			evidence: []int64{6, 7}, fix: []string{"'api.example.org'"}},
		{name: "client RST after a self-signed certificate", cat: CertSelfSigned,
			conn: func(p *pki) *analysis.Connection {
				return rst(tls12(p, selfSignedLeaf(t)), fr(7), client)
			},
			summary: []string{"(RST, frame 7)", "self-signed"}, evidence: []int64{6, 7}},
		{name: "curl: name checked after the handshake, then encrypted alert and RST", cat: CertHostnameMismatch,
			conn: func(p *pki) *analysis.Connection {
				c := tls12(p, p.leaf, p.inter)
				c.ClientHello.ServerName = "good.test"
				c = finish(c)
				c.ClientSide.AppData, c.ServerSide.AppData = analysis.Traffic{}, analysis.Traffic{}
				return rst(encryptedAlert(c, 10, client), fr(11), client)
			},
			summary:  []string{"the handshake completed (frame 9), then the client hung up (an encrypted alert, frame 10) without sending any data", "not for the name 'good.test'"},
			evidence: []int64{6, 9, 10}, fix: []string{"'good.test'"}},
		{name: "a handshake-only check of a valid chain stays ok", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				c := finish(tls12(p, p.leaf, p.inter))
				c.ClientSide.AppData, c.ServerSide.AppData = analysis.Traffic{}, analysis.Traffic{}
				return rst(encryptedAlert(c, 10, client), fr(11), client)
			},
			evidence: []int64{4, 6, 9}},
		{name: "TLS 1.3, OpenSSL's plaintext certificate_expired", cat: CertExpired,
			conn: func(*pki) *analysis.Connection {
				c := alert(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301), 7, client, tlsparse.AlertCertificateExpired)
				return encryptedAlert(c, 8, server)
			},
			summary:  []string{"with alert certificate_expired (frame 7) right after the server's encrypted flight (frame 6)", "only the alert says why"},
			evidence: []int64{6, 7}, fix: []string{"renew the server's certificate", "--keylog"}},
		{name: "bad_certificate for a valid chain: the client's roots differ", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, p.leaf, p.inter), 7, client, tlsparse.AlertBadCertificate)
			},
			summary:  []string{"alert bad_certificate", "valid against the roots given here (it ends at 'CN=Test Root CA,O=tlsdiag test')", "most probably does not trust that root", "pinning"},
			evidence: []int64{6, 7}, fix: []string{"make the client trust the root 'CN=Test Root CA,O=tlsdiag test'", "nothing changes on the server"}},
		{name: "revoked", cat: CertRejected,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, p.leaf, p.inter), 7, client, tlsparse.AlertCertificateRevoked)
			},
			summary: []string{"as revoked", "not visible in the capture"}, evidence: []int64{6, 7}, fix: []string{"get a new one"}},
		{name: "unknown critical extension", cat: CertRejected,
			conn: func(p *pki) *analysis.Connection {
				leaf := mkCert(t, certSpec{cn: "www.example.com", issuer: p.inter, dns: []string{"www.example.com"}, critical: []pkix.Extension{unknownCritical}})
				return alert(tls12(p, leaf, p.inter), 7, client, tlsparse.AlertUnsupportedCertificate)
			},
			summary: []string{"critical extension", "1.3.6.1.4.1.99999.1"}, evidence: []int64{6, 7}, fix: []string{"reissue the certificate"}},
		{name: "unparsable certificate", cat: CertRejected,
			conn: func(p *pki) *analysis.Connection {
				c := tls12(p)
				c.CertificateFrame = fr(6)
				c.Certificates = []analysis.Certificate{{DER: []byte{0x30, 0x01, 0x00}, ParseError: errors.New("x509: malformed certificate")}}
				return alert(c, 7, client, tlsparse.AlertBadCertificate)
			},
			summary: []string{"certificate 0 does not parse: x509: malformed certificate"}, evidence: []int64{6, 7}},
		{name: "negative serial number: Go ≥ 1.23 refuses it", cat: CertRejected,
			conn: func(p *pki) *analysis.Connection {
				der := negativeSerial(t, p.leaf.cert.Raw)
				_, err := x509.ParseCertificate(der)
				if err == nil {
					t.Fatal("crypto/x509 parsed a certificate with a negative serial number")
				}
				c := tls12(p)
				c.CertificateFrame = fr(6)
				c.Certificates = []analysis.Certificate{{DER: der, ParseError: err}, {DER: p.inter.cert.Raw, X509: p.inter.cert}}
				return alert(c, 7, client, tlsparse.AlertBadCertificate)
			},
			summary: []string{"certificate 0 has a negative serial number", "Go ≥ 1.23"}, evidence: []int64{6, 7},
			fix: []string{"positive serial number", "GODEBUG=x509negativeserial=1"}},
		{name: "TLS 1.3 encrypted alert after the server's flight", cat: CertRejected,
			conn: func(*pki) *analysis.Connection {
				return encryptedAlert(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301), 7, client)
			},
			summary:  []string{"right after the server's encrypted flight (frame 6)", "the certificate and the alert are encrypted"},
			evidence: []int64{6, 7}, fix: []string{"--keylog", "tlsdiag probe"}},
		{name: "TLS 1.3 client closes after the server's flight", cat: CertRejected,
			conn: func(*pki) *analysis.Connection {
				return fin(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301), fr(7), client)
			},
			summary: []string{"(FIN, frame 7)", "encrypted"}, evidence: []int64{6, 7}, fix: []string{"--keylog"}},
		{name: "unknown_ca picks trust over dates", cat: CertSelfSigned,
			conn: func(p *pki) *analysis.Connection {
				old := mkCert(t, certSpec{cn: "www.example.com", dns: []string{"www.example.com"}, key: testKey(t, "self old"),
					notBefore: captureTime.AddDate(-3, 0, 0), notAfter: captureTime.AddDate(-1, 0, 0)})
				return alert(tls12(p, old), 7, client, tlsparse.AlertUnknownCA)
			},
			evidence: []int64{6, 7}, nWarn: 1, warnings: []string{"also: certificate 0", "expired on 2024-06-01"}},
		{name: "certificate_expired picks the date over trust", cat: CertExpired,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12(p, expiredLeaf(t, p)), 7, client, tlsparse.AlertCertificateExpired)
			},
			summary: []string{"expired on 2025-05-22"}, evidence: []int64{6, 7}, nWarn: 1,
			warnings: []string{"also: certificate 0", "which the server did not send"}},
	}
}

func clientCertALPNSNIAndSilenceCases(t *testing.T) []diagnoseCase {
	clientCertFlow := func(p *pki, certs int) *analysis.Connection {
		c := serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter)
		c.CertificateRequest, c.CertificateRequestFrame = &tlsparse.CertificateRequest{}, fr(6)
		c.ClientCertificates, c.ClientCertificateFrame = certs, fr(8)
		c.ClientSide.ChangeCipherSpec, c.ClientSide.Finished = fr(8), fr(8)
		return c
	}
	return []diagnoseCase{
		{name: "TLS 1.2: empty client Certificate", cat: ClientCertRequired,
			conn: func(p *pki) *analysis.Connection {
				return alert(clientCertFlow(p, 0), 9, server, tlsparse.AlertHandshakeFailure)
			},
			summary:  []string{"asked for a client certificate (CertificateRequest, frame 6)", "empty Certificate (frame 8)", "alert handshake_failure, frame 9"},
			evidence: []int64{4, 6, 8, 9}, fix: []string{"--cert/--key"}},
		{name: "TLS 1.2: the acceptable CAs are named", cat: ClientCertRequired,
			conn: func(p *pki) *analysis.Connection {
				c := clientCertFlow(p, 0)
				c.CertificateRequest.CANames = [][]byte{p.inter.cert.RawSubject, {0x30, 0x80}, p.root.cert.RawSubject}
				return alert(c, 9, server, tlsparse.AlertHandshakeFailure)
			},
			evidence: []int64{4, 6, 8, 9},
			fix:      []string{"it accepts certificates issued by 'CN=Test Intermediate CA,O=tlsdiag test', 'CN=Test Root CA,O=tlsdiag test'"}},
		{name: "TLS 1.2: bad_certificate after no certificate", cat: ClientCertRequired,
			conn: func(p *pki) *analysis.Connection {
				return alert(clientCertFlow(p, 0), 9, server, tlsparse.AlertBadCertificate)
			},
			evidence: []int64{4, 6, 8, 9}},
		{name: "client certificate from an unknown CA", cat: ClientCertRequired,
			conn: func(p *pki) *analysis.Connection {
				return alert(clientCertFlow(p, 2), 9, server, tlsparse.AlertUnknownCA)
			},
			summary:  []string{"the client sent 2 certificates (frame 8) and the server rejected it (alert unknown_ca, frame 9)"},
			evidence: []int64{6, 8, 9}, fix: []string{"does not trust the issuer of the client certificate"}},
		{name: "TLS 1.3: encrypted alert after the client's Finished", cat: ClientCertRequired,
			conn: func(*pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), modernHello()), v13, 0x1301)
				c.ClientSide.Finished, c.HandshakeDone = fr(8), fr(8)
				return encryptedAlert(c, 9, server)
			},
			summary:  []string{"right after its Finished (frame 8) with an encrypted alert (frame 9)", "certificate_required"},
			evidence: []int64{4, 8, 9}, fix: []string{"--keylog"}},
		{name: "TLS 1.3: certificate_required in the clear", cat: ClientCertRequired,
			conn: func(*pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), modernHello()), v13, 0x1301)
				c.ClientSide.Finished = fr(8)
				return alert(c, 9, server, tlsparse.AlertCertificateRequired)
			},
			summary: []string{"the server requires a client certificate", "certificate_required"}, evidence: []int64{4, 9}},
		{name: "no_application_protocol", cat: ALPNMismatch,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), modernHello()), 5, server, tlsparse.AlertNoApplicationProtocol)
			},
			summary: []string{"none of the ALPN protocols the client offered ('h2', 'http/1.1')"}, evidence: []int64{4, 5}, fix: []string{"enable one of the client's protocols"}},
		{name: "server selected a protocol the client did not offer", cat: ALPNMismatch,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), modernHello()), v12, 0xC02F, p.leaf, p.inter)
				c.ServerHello.ALPN, c.ALPN = "spdy/3", "spdy/3"
				return alert(c, 7, client, tlsparse.AlertNoApplicationProtocol)
			},
			summary: []string{"selected ALPN protocol 'spdy/3' (frame 6), which the client did not offer (it offered 'h2', 'http/1.1')"}, evidence: []int64{4, 6, 7}},
		{name: "unrecognized_name", cat: SNIUnrecognized,
			conn: func(*pki) *analysis.Connection {
				return alert(hello(tcpConn(), modernHello()), 5, server, tlsparse.AlertUnrecognizedName)
			},
			summary: []string{"does not serve the name 'www.example.com'", "alert unrecognized_name, frame 5"}, evidence: []int64{4, 5}, fix: []string{"add 'www.example.com' to the server"}},
		{name: "unrecognized_name without SNI", cat: SNIUnrecognized,
			conn: func(*pki) *analysis.Connection {
				h := modernHello()
				h.ServerName = ""
				return alert(hello(tcpConn(), h), 5, server, tlsparse.AlertUnrecognizedName)
			},
			summary: []string{"sent no SNI and the server requires one"}, evidence: []int64{4, 5}, fix: []string{"connect by hostname"}},
		{name: "warning unrecognized_name, then the client gives up", cat: SNIUnrecognized,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter)
				c.Alerts = []analysis.Alert{{Frame: fr(6), Sender: server, Level: tlsparse.AlertLevelWarning, Description: tlsparse.AlertUnrecognizedName}}
				return fin(c, fr(7), client)
			},
			summary: []string{"warned unrecognized_name for 'www.example.com' (frame 6)", "old Java"}, evidence: []int64{4, 6, 7}},
		{name: "server resets after the ClientHello", cat: ConnectionReset,
			conn:    func(*pki) *analysis.Connection { return rst(hello(tcpConn(), modernHello()), fr(5), server) },
			summary: []string{"the server reset the connection (frame 5) 10 ms after the ClientHello (frame 4)"}, evidence: []int64{4, 5}, fix: []string{"server's log"}},
		{name: "server resets after the client's Finished", cat: ConnectionReset,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter)
				c.ClientSide.ChangeCipherSpec, c.ClientSide.Finished = fr(8), fr(8)
				return rst(c, fr(9), server)
			},
			summary: []string{"the server reset the connection (frame 9) 10 ms after the client's Finished (frame 8)"}, evidence: []int64{8, 9}},
		{name: "client resets after a resumed server flight", cat: ConnectionReset,
			conn: func(*pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F)
				c.ServerHelloDoneFrame = capture.Frame{}
				c.ServerSide.ChangeCipherSpec, c.ServerSide.Finished = fr(6), fr(6)
				return rst(c, fr(7), client)
			},
			summary: []string{"the client reset the connection (frame 7)"}, evidence: []int64{6, 7}, fix: []string{"client's log"}},
		{name: "ClientHello then 30 s of silence", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				return fin(hello(tcpConn(), modernHello()), frAt(20, 30*time.Second+40*time.Millisecond), client)
			},
			summary: []string{"no answer to the ClientHello (frame 4) for 30.0 s: the client gave up (FIN) in frame 20"}, evidence: []int64{4, 20}, fix: []string{"never spoke TLS", "port 443"}},
		{name: "silent server closes only after the client", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				c := fin(hello(tcpConn(), modernHello()), frAt(20, 5*time.Second+40*time.Millisecond), client)
				return fin(c, frAt(21, 5*time.Second+41*time.Millisecond), server)
			},
			summary: []string{"for 5.0 s: the client gave up (FIN) in frame 20"}, evidence: []int64{4, 20}},
		{name: "server closes without answering", cat: ServerNoResponse,
			conn:    func(*pki) *analysis.Connection { return fin(hello(tcpConn(), modernHello()), fr(5), server) },
			summary: []string{"the server closed the connection (FIN, frame 5) 10 ms later without a TLS answer"}, evidence: []int64{4, 5}, fix: []string{"without an alert"}},
		{name: "ClientHello then the idle timeout", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.TCP.Close, c.Last = capture.ClosedIdle, fr(5)
				return c
			},
			summary: []string{"idle timeout"}, evidence: []int64{4, 5}},
		{name: "capture ends long after the ClientHello", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				c := hello(tcpConn(), modernHello())
				c.TCP.Close, c.Last = capture.ClosedEOF, frAt(9, 5*time.Second)
				return c
			},
			summary: []string{"stopped answering after the ClientHello (frame 4): nothing for 5.0 s"}, evidence: []int64{4, 9}},
		{name: "client stalls after the server's flight", cat: HandshakeFailure,
			conn: func(p *pki) *analysis.Connection {
				c := serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter)
				c.TCP.Close, c.Last = capture.ClosedIdle, frAt(7, 10*time.Second)
				return c
			},
			summary: []string{"the client stopped answering after the ServerHelloDone (frame 6)"}, evidence: []int64{4, 6, 7}},
	}
}

// expiredLeaf is www.example.com, issued by p.inter, expired 10 days
// before the capture.
func expiredLeaf(t *testing.T, p *pki) *testCert {
	return mkCert(t, certSpec{cn: "www.example.com", issuer: p.inter, dns: []string{"www.example.com"},
		notBefore: captureTime.AddDate(0, 0, -400), notAfter: captureTime.AddDate(0, 0, -10)})
}

// expiredIntermediate returns a valid leaf under an intermediate that
// expired 30 days before the capture.
func expiredIntermediate(t *testing.T, p *pki) (leaf, inter *testCert) {
	inter = mkCert(t, certSpec{cn: "Old Intermediate CA", ca: true, issuer: p.root,
		notBefore: captureTime.AddDate(-4, 0, 0), notAfter: captureTime.AddDate(0, 0, -30)})
	leaf = mkCert(t, certSpec{cn: "www.example.com", issuer: inter, dns: []string{"www.example.com"},
		notBefore: captureTime.AddDate(0, 0, -60), notAfter: captureTime.AddDate(0, 0, 200)})
	return leaf, inter
}

func selfSignedLeaf(t *testing.T) *testCert {
	return mkCert(t, certSpec{cn: "www.example.com", dns: []string{"www.example.com"}, key: testKey(t, "self"), org: "self"})
}

// privateChain is leaf, intermediate and root of a private PKI the test
// roots do not contain.
func privateChain(t *testing.T) []*testCert {
	root := mkCert(t, certSpec{cn: "Private Root CA", ca: true})
	inter := mkCert(t, certSpec{cn: "Private Intermediate CA", ca: true, issuer: root})
	leaf := mkCert(t, certSpec{cn: "www.example.com", issuer: inter, dns: []string{"www.example.com"}})
	return []*testCert{leaf, inter, root}
}

// negativeSerial returns a copy of a certificate's DER whose serial number
// has its sign bit set, as some old CAs issued them (the signature no
// longer matches; parsing does not check it).
func negativeSerial(t *testing.T, der []byte) []byte {
	t.Helper()
	var cert, tbs cryptobyte.String
	buf := bytes.Clone(der)
	in := cryptobyte.String(buf)
	if !in.ReadASN1(&cert, cryptobyte_asn1.SEQUENCE) || !cert.ReadASN1(&tbs, cryptobyte_asn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cryptobyte_asn1.Tag(0).Constructed().ContextSpecific()) {
		t.Fatal("not a certificate")
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, cryptobyte_asn1.INTEGER) || len(serial) == 0 {
		t.Fatal("no serial number")
	}
	// serial aliases the copy: set the sign bit in place (a leading 0x00
	// padding byte becomes 0x80, still a minimal encoding).
	serial[0] |= 0x80
	return buf
}
