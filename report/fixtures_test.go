package report

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The fixtures are connection records as the analysis package builds them,
// written out by hand so that the goldens test this package alone: their
// verdicts are fixed text, not diagnose's current wording.

// captureStart is the time of the fixtures' first frame.
var captureStart = time.Date(2024, 1, 24, 9, 30, 0, 0, time.UTC)

// fr is frame n, at us microseconds after captureStart.
func fr(n int64, us int64) capture.Frame {
	return capture.Frame{Number: n, Time: captureStart.Add(time.Duration(us) * time.Microsecond)}
}

const (
	c2s = capture.ClientToServer
	s2c = capture.ServerToClient
)

func hs(t tlsparse.HandshakeType) analysis.TraceItem {
	return analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: t}
}

func item(k tlsparse.ItemKind) analysis.TraceItem { return analysis.TraceItem{Kind: k} }

func traceFrame(f capture.Frame, d capture.Direction, items ...analysis.TraceItem) analysis.TraceFrame {
	return analysis.TraceFrame{Frame: f, Dir: d, Items: items}
}

// loadChain reads testdata/certs.pem: an RSA 2048 leaf for expired.test
// (expired 2024-01-01) and its self-signed ECDSA P-256 root.
func loadChain(t testing.TB) []analysis.Certificate {
	t.Helper()
	b, err := os.ReadFile("testdata/certs.pem")
	if err != nil {
		t.Fatal(err)
	}
	var chain []analysis.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		x, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, analysis.Certificate{DER: blk.Bytes, X509: x})
	}
	if len(chain) != 2 {
		t.Fatalf("testdata/certs.pem holds %d certificates, want 2", len(chain))
	}
	return chain
}

var (
	client4 = netip.MustParseAddr("192.0.2.10")
	server4 = netip.MustParseAddr("198.51.100.5")
	client6 = netip.MustParseAddr("2001:db8::10")
	server6 = netip.MustParseAddr("2001:db8::443")
)

// fixtures returns one result of each kind the goldens cover, in capture
// order.
func fixtures(t testing.TB) []pipeline.Result {
	return []pipeline.Result{
		tls13OK(),
		tls12Expired(t),
		refused(),
		ipv6VersionMismatch(),
		notTLSServer(),
		helloRetryWithWarning(),
	}
}

// tls13OK is a complete TLS 1.3 handshake from a browser-like client that
// sends GREASE.
func tls13OK() pipeline.Result {
	ch := &tlsparse.ClientHello{
		Version:           tlsparse.VersionTLS12,
		CipherSuites:      []tlsparse.CipherSuite{0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f},
		ServerName:        "good.test",
		SupportedVersions: []tlsparse.Version{0x2a2a, tlsparse.VersionTLS13, tlsparse.VersionTLS12},
		SupportedGroups:   []tlsparse.NamedGroup{0x3a3a, tlsparse.GroupX25519, tlsparse.GroupSecp256r1},
		KeyShares:         []tlsparse.NamedGroup{tlsparse.GroupX25519},
		ALPN:              []string{"h2", "http/1.1"},
	}
	sh := &tlsparse.ServerHello{Version: tlsparse.VersionTLS12, CipherSuite: 0x1301, SupportedVersion: tlsparse.VersionTLS13, KeyShare: tlsparse.GroupX25519, ALPN: "h2"}
	c := &analysis.Connection{
		Client: netip.AddrPortFrom(client4, 50001), Server: netip.AddrPortFrom(server4, 443),
		Roles: analysis.RolesFromSYN,
		First: fr(1, 0), Last: fr(15, 12480),
		TCP: analysis.TCPFacts{
			SYN: fr(1, 0), SYNCount: 1, SYNACK: fr(2, 41),
			FIN: [2]capture.Frame{fr(14, 12400), fr(15, 12480)}, Close: capture.ClosedFIN,
		},
		ClientHello: ch, ClientHelloFrame: fr(4, 1953),
		ServerHello: sh, ServerHelloFrame: fr(6, 2384),
		ClientCertificates: -1,
		ClientSide: analysis.Side{ChangeCipherSpec: fr(8, 4114), Finished: fr(8, 4114),
			AppData: analysis.Traffic{Records: 1, Bytes: 517, First: fr(9, 4285)}},
		ServerSide: analysis.Side{ChangeCipherSpec: fr(6, 2384), Finished: fr(6, 2384),
			AppData: analysis.Traffic{Records: 2, Bytes: 8231, First: fr(11, 4387)}},
		Version: tlsparse.VersionTLS13, Cipher: 0x1301, Group: tlsparse.GroupX25519, ALPN: "h2",
		Established: true, HandshakeDone: fr(8, 4114),
		Trace: []analysis.TraceFrame{
			traceFrame(fr(4, 1953), c2s, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: "good.test"}),
			traceFrame(fr(6, 2384), s2c, hs(tlsparse.HandshakeTypeServerHello), item(tlsparse.KindChangeCipherSpec),
				item(tlsparse.KindEncryptedHandshake), item(tlsparse.KindEncryptedHandshake), item(tlsparse.KindEncryptedHandshake), item(tlsparse.KindEncryptedHandshake)),
			traceFrame(fr(8, 4114), c2s, item(tlsparse.KindChangeCipherSpec), item(tlsparse.KindEncryptedHandshake)),
			traceFrame(fr(9, 4285), c2s, item(tlsparse.KindApplicationData)),
			traceFrame(fr(11, 4387), s2c, item(tlsparse.KindApplicationData), item(tlsparse.KindApplicationData)),
		},
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{
		Category: diagnose.OK,
		Summary:  "TLS 1.3 with TLS_AES_128_GCM_SHA256 (x25519), ALPN h2: the handshake completed and data flowed both ways.",
		Evidence: []int64{4, 6, 8},
	}}
}

// tls12Expired is a TLS 1.2 handshake the client rejects because the
// server's certificate expired.
func tls12Expired(t testing.TB) pipeline.Result {
	ch := &tlsparse.ClientHello{
		Version:      tlsparse.VersionTLS12,
		CipherSuites: []tlsparse.CipherSuite{0xc02f, 0xc030, 0x009c, 0x00ff},
		ServerName:   "expired.test",
	}
	sh := &tlsparse.ServerHello{Version: tlsparse.VersionTLS12, CipherSuite: 0xc02f}
	c := &analysis.Connection{
		Client: netip.AddrPortFrom(client4, 50002), Server: netip.AddrPortFrom(server4, 443),
		Roles: analysis.RolesFromSYN,
		First: fr(20, 1000000), Last: fr(28, 1004100),
		TCP: analysis.TCPFacts{
			SYN: fr(20, 1000000), SYNCount: 1, SYNACK: fr(21, 1000020),
			RST: fr(28, 1004100), RSTFrom: c2s, Close: capture.ClosedRST,
		},
		ClientHello: ch, ClientHelloFrame: fr(23, 1001820),
		ServerHello: sh, ServerHelloFrame: fr(25, 1003172),
		Certificates: loadChain(t), CertificateFrame: fr(25, 1003172),
		ServerKeyExchange: &tlsparse.ServerKeyExchange{Group: tlsparse.GroupSecp256r1}, ServerKeyExchangeFrame: fr(25, 1003172),
		ServerHelloDoneFrame: fr(25, 1003172),
		ClientCertificates:   -1,
		Alerts: []analysis.Alert{{Frame: fr(27, 1004054), Sender: c2s,
			Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertCertificateExpired}},
		Version: tlsparse.VersionTLS12, Cipher: 0xc02f, Group: tlsparse.GroupSecp256r1,
		Trace: []analysis.TraceFrame{
			traceFrame(fr(23, 1001820), c2s, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: "expired.test"}),
			traceFrame(fr(25, 1003172), s2c, hs(tlsparse.HandshakeTypeServerHello), hs(tlsparse.HandshakeTypeCertificate),
				hs(tlsparse.HandshakeTypeServerKeyExchange), hs(tlsparse.HandshakeTypeServerHelloDone)),
			traceFrame(fr(27, 1004054), c2s, analysis.TraceItem{Kind: tlsparse.KindAlert,
				Alert: tlsparse.Alert{Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertCertificateExpired}}),
		},
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{
		Category: diagnose.CertExpired,
		Summary:  "The certificate for expired.test expired on 2024-01-01, 23 days before the capture; the client refused it with a certificate_expired alert.",
		Evidence: []int64{25, 27},
		Fix:      "Renew the certificate of 198.51.100.5:443 (CN=expired.test) and install the new one with its chain; then reload the server.",
	}}
}

// refused is a SYN answered by a RST.
func refused() pipeline.Result {
	c := &analysis.Connection{
		Client: netip.AddrPortFrom(client4, 50003), Server: netip.AddrPortFrom(server4, 8443),
		Roles: analysis.RolesFromSYN,
		First: fr(30, 2000000), Last: fr(31, 2000009),
		TCP: analysis.TCPFacts{
			SYN: fr(30, 2000000), SYNCount: 1, RST: fr(31, 2000009), RSTFrom: s2c, Close: capture.ClosedRST,
		},
		ClientCertificates: -1,
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{
		Category: diagnose.ConnectionRefused,
		Summary:  "198.51.100.5 refused the connection: a RST answered the SYN to port 8443.",
		Evidence: []int64{30, 31},
		Fix:      "Start the server on port 8443 of 198.51.100.5, or connect to the port it listens on; check firewall rules that reject instead of drop.",
	}}
}

// ipv6VersionMismatch is an old client offering TLS 1.0 to 1.2 to a
// TLS 1.3-only server, over IPv6.
func ipv6VersionMismatch() pipeline.Result {
	ch := &tlsparse.ClientHello{
		Version:           tlsparse.VersionTLS12,
		CipherSuites:      []tlsparse.CipherSuite{0xc013, 0xc014, 0x002f, 0x0035},
		ServerName:        "v6.test",
		SupportedVersions: []tlsparse.Version{tlsparse.VersionTLS12, tlsparse.VersionTLS11, tlsparse.VersionTLS10},
	}
	c := &analysis.Connection{
		Client: netip.AddrPortFrom(client6, 50004), Server: netip.AddrPortFrom(server6, 443),
		Roles: analysis.RolesFromSYN,
		First: fr(40, 3000000), Last: fr(45, 3000480),
		TCP: analysis.TCPFacts{
			SYN: fr(40, 3000000), SYNCount: 1, SYNACK: fr(41, 3000015),
			FIN: [2]capture.Frame{fr(45, 3000480), fr(44, 3000420)}, Close: capture.ClosedFIN,
		},
		ClientHello: ch, ClientHelloFrame: fr(42, 3000295),
		ClientCertificates: -1,
		Alerts: []analysis.Alert{{Frame: fr(43, 3000369), Sender: s2c,
			Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertProtocolVersion}},
		Trace: []analysis.TraceFrame{
			traceFrame(fr(42, 3000295), c2s, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: "v6.test"}),
			traceFrame(fr(43, 3000369), s2c, analysis.TraceItem{Kind: tlsparse.KindAlert,
				Alert: tlsparse.Alert{Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertProtocolVersion}}),
		},
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{
		Category: diagnose.VersionMismatch,
		Summary:  "The client offered TLS 1.0–TLS 1.2; the server accepts none of them and answered with a protocol_version alert.",
		Evidence: []int64{42, 43},
		Fix:      "Enable TLS 1.3 on the client (or TLS 1.2 on the server, if policy allows).",
	}}
}

// notTLSServer is a plain HTTP server answering a ClientHello.
func notTLSServer() pipeline.Result {
	ch := &tlsparse.ClientHello{
		Version:           tlsparse.VersionTLS12,
		CipherSuites:      []tlsparse.CipherSuite{0x1301, 0x1302, 0xc02f},
		ServerName:        "good.test",
		SupportedVersions: []tlsparse.Version{tlsparse.VersionTLS13, tlsparse.VersionTLS12},
		ALPN:              []string{"http/1.1"},
	}
	looks := "HTTP response (HTTP/1.1 400 Bad Request) <html>"
	c := &analysis.Connection{
		Client: netip.AddrPortFrom(client4, 50005), Server: netip.AddrPortFrom(server4, 4451),
		Roles: analysis.RolesFromSYN,
		First: fr(50, 4000000), Last: fr(54, 4010501),
		TCP: analysis.TCPFacts{
			SYN: fr(50, 4000000), SYNCount: 1, SYNACK: fr(51, 4000014),
			RST: fr(54, 4010501), RSTFrom: c2s, Close: capture.ClosedRST,
		},
		ClientHello: ch, ClientHelloFrame: fr(52, 4007901),
		ClientCertificates: -1,
		ServerSide:         analysis.Side{NonTLS: &analysis.NonTLS{Frame: fr(53, 4009913), Looks: looks}},
		Anomalies:          []tlsparse.Anomaly{tlsparse.AnomalyDuplicateExtension},
		Trace: []analysis.TraceFrame{
			traceFrame(fr(52, 4007901), c2s, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: "good.test"}),
			traceFrame(fr(53, 4009913), s2c, analysis.TraceItem{Kind: tlsparse.KindNonTLS, NonTLS: looks}),
		},
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{
		Category: diagnose.NotTLSServer,
		Summary:  "The server at 198.51.100.5:4451 answered the ClientHello with an HTTP response (HTTP/1.1 400 Bad Request): it does not speak TLS on this port.",
		Evidence: []int64{52, 53},
		Fix:      "Connect with http:// instead of https://, or to the server's TLS port; or enable TLS on port 4451.",
	}}
}

// helloRetryWithWarning is a TLS 1.3 handshake that needed a
// HelloRetryRequest and completed, with a warning, and a capture that
// lacks some of the server's bytes.
func helloRetryWithWarning() pipeline.Result {
	ch := &tlsparse.ClientHello{
		Version:           tlsparse.VersionTLS12,
		CipherSuites:      []tlsparse.CipherSuite{0x1301, 0x1303},
		ServerName:        "retry.test",
		SupportedVersions: []tlsparse.Version{tlsparse.VersionTLS13},
		KeyShares:         []tlsparse.NamedGroup{tlsparse.GroupX25519},
	}
	hrr := &tlsparse.ServerHello{Version: tlsparse.VersionTLS12, CipherSuite: 0x1303, SupportedVersion: tlsparse.VersionTLS13, KeyShare: tlsparse.GroupSecp384r1, HelloRetryRequest: true}
	sh := &tlsparse.ServerHello{Version: tlsparse.VersionTLS12, CipherSuite: 0x1303, SupportedVersion: tlsparse.VersionTLS13, KeyShare: tlsparse.GroupSecp384r1}
	c := &analysis.Connection{
		Client: netip.AddrPortFrom(client4, 50006), Server: netip.AddrPortFrom(server4, 443),
		Roles: analysis.RolesFromSYN,
		First: fr(60, 5000000), Last: fr(71, 5020000),
		TCP: analysis.TCPFacts{
			SYN: fr(60, 5000000), SYNCount: 3, SYNACK: fr(62, 5003000),
			Gaps:            []analysis.Gap{{Dir: s2c, Offset: 2920, Size: 1448, Frame: fr(68, 5011000)}},
			Retransmissions: 2,
			Close:           capture.ClosedEOF,
		},
		ClientHello: ch, ClientHelloFrame: fr(63, 5003500),
		HelloRetry: hrr, HelloRetryFrame: fr(64, 5004000),
		RetryClientHello: ch, RetryClientHelloFrame: fr(65, 5004500),
		ServerHello: sh, ServerHelloFrame: fr(66, 5006000),
		ClientCertificates: -1,
		ClientSide: analysis.Side{ChangeCipherSpec: fr(65, 5004500), Finished: fr(69, 5012000),
			AppData: analysis.Traffic{Records: 1, Bytes: 100, First: fr(70, 5013000)}},
		ServerSide: analysis.Side{ChangeCipherSpec: fr(64, 5004000), Finished: fr(66, 5006000),
			AppData: analysis.Traffic{Records: 1, Bytes: 200, First: fr(71, 5020000)}},
		Version: tlsparse.VersionTLS13, Cipher: 0x1303, Group: tlsparse.GroupSecp384r1,
		Resumed: false, Established: true, HandshakeDone: fr(69, 5012000),
		Trace: []analysis.TraceFrame{
			traceFrame(fr(63, 5003500), c2s, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: "retry.test"}),
			traceFrame(fr(64, 5004000), s2c, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeServerHello, HelloRetry: true}, item(tlsparse.KindChangeCipherSpec)),
			traceFrame(fr(65, 5004500), c2s, item(tlsparse.KindChangeCipherSpec), analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: "retry.test"}),
			traceFrame(fr(66, 5006000), s2c, hs(tlsparse.HandshakeTypeServerHello), item(tlsparse.KindEncryptedHandshake)),
			traceFrame(fr(69, 5012000), c2s, item(tlsparse.KindEncryptedHandshake)),
			traceFrame(fr(70, 5013000), c2s, item(tlsparse.KindApplicationData)),
			traceFrame(fr(71, 5020000), s2c, item(tlsparse.KindApplicationData)),
		},
		TraceOmitted: 2,
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{
		Category: diagnose.OK,
		Summary:  "TLS 1.3 with TLS_CHACHA20_POLY1305_SHA256 (secp384r1) after a HelloRetryRequest: the handshake completed.",
		Evidence: []int64{63, 64, 65, 66, 69},
		Warnings: []string{"The server asked for secp384r1 although the client offered x25519: one round trip more for every connection."},
	}}
}
