package diagnose

import (
	"crypto/x509"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// TestTrustCaptures reads the real captures of the failures people hit
// most with private CAs and Go clients (testdata/README.md says how each
// was made), with and without the lab's root, as a user who has it or not
// would. Each asserts the category, the evidence frames (named by what
// they are in the record, so that a regenerated capture still passes) and
// the words of the fix.
func TestTrustCaptures(t *testing.T) {
	labRoots := rootsFile(t, labCAFile)
	certAlert := func(c *analysis.Connection) []capture.Frame {
		return []capture.Frame{c.CertificateFrame, c.Alerts[0].Frame}
	}
	tests := []struct {
		file     string
		port     uint16
		withCA   bool
		cat      Category
		evidence func(c *analysis.Connection) []capture.Frame
		summary  []string
		fix      []string
		notFix   []string
		warnings []string
		notWarn  []string
		// tls13: the connection to check is TLS 1.3 (by default an ok
		// capture's TLS 1.2 one, which shows the chain).
		tls13 bool
	}{
		// A correct server, a client that does not trust the private root.
		{file: "cert_untrusted_ca_go.pcap", port: 4461, cat: CertUntrustedCA, evidence: certAlert,
			summary: []string{"issued by 'CN=tlsdiag Test Root CA", "the client does not trust that root", "likely: ", "servers send intermediates, not roots"},
			fix:     []string{"does not trust the root 'CN=tlsdiag Test Root CA", "tls.Config.RootCAs", "SSL_CERT_FILE", "nothing changes on the server", "--cacert"},
			notFix:  []string{"full chain", "intermediate"}},
		{file: "cert_untrusted_ca_go.pcap", port: 4461, withCA: true, cat: CertUntrustedCA, evidence: certAlert,
			summary: []string{"valid against the roots given here", "does not trust that root", "a Go crypto/tls client"},
			fix:     []string{"make the client trust the root 'CN=tlsdiag Test Root CA", "tls.Config.RootCAs"}},
		// A leaf signed directly by a private root: not "the intermediate".
		{file: "cert_untrusted_ca_direct.pcap", port: 4462, cat: CertUntrustedCA, evidence: certAlert,
			summary: []string{"issued by 'CN=tlsdiag Private Root CA", "signed directly by", "whose name says root", "less likely"},
			fix:     []string{"the client does not trust the root 'CN=tlsdiag Private Root CA", "tls.Config.RootCAs"}},
		// Problems no trust store changes lead when the alert is generic.
		{file: "cert_expired_go.pcap", port: 4463, cat: CertExpired, evidence: certAlert,
			summary:  []string{"alert bad_certificate", "expired on"},
			fix:      []string{"renew the server's certificate"},
			warnings: []string{"unless the client trusts it (a private CA)"}},
		{file: "cert_hostname_mismatch_go.pcap", port: 4464, cat: CertHostnameMismatch, evidence: certAlert,
			summary: []string{"valid for other.test, not for the name 'good.test'"},
			fix:     []string{"likely, the server has no configuration for 'good.test'", "configure 'good.test' on the server", "if 'good.test' is configured, the certificate its configuration names is the wrong one", "nginx: the `ssl_certificate` of the `server` block whose `server_name` lists the name"}},
		{file: "cert_expired.pcap", port: 4437, cat: CertExpired, evidence: certAlert,
			summary: []string{"alert certificate_expired"}, fix: []string{"renew"}},
		{file: "cert_hostname_mismatch.pcap", port: 4442, cat: CertHostnameMismatch,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.CertificateFrame, c.HandshakeDone, c.Alerts[0].Frame}
			},
			summary: []string{"then the client hung up", "not for the name 'good.test'"}, fix: []string{"'good.test'"}},
		// A healthy connection on a private PKI: no "verification disabled?".
		{file: "ok_mtu576.pcap", port: 4443, cat: OK,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.ServerHelloFrame, c.HandshakeDone}
			},
			warnings: []string{"so it trusts 'CN=tlsdiag Test Root CA,O=tlsdiag test lab' (a private CA)", "--cacert"},
			notWarn:  []string{"verification disabled"}},
		// A client that verifies during the handshake, then closes
		// without data (a health check): it trusted the private root.
		{file: "ok_verify_then_close.pcap", port: 4510, cat: OK,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.ServerHelloFrame, c.HandshakeDone}
			},
			warnings: []string{"the client accepted it, so it trusts 'CN=tlsdiag Test Root CA,O=tlsdiag test lab' (a private CA)", "--cacert"},
			notWarn:  []string{"verification disabled"}},
		// A server application that closes right after the handshake:
		// not the client rejecting the chain, nor, in TLS 1.3, a refused
		// client certificate (the client's flight was its Finished alone).
		{file: "ok_server_closes_tls12.pcap", port: 4511, cat: OK,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.ServerHelloFrame, c.HandshakeDone}
			},
			warnings: []string{"the server closed the connection right after the handshake (an encrypted alert, frame 10), before the client sent anything"}},
		{file: "ok_server_closes_tls13.pcap", port: 4512, cat: OK,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.ServerHelloFrame, c.HandshakeDone}
			},
			warnings: []string{"the server closed the connection right after the handshake (FIN, frame 10), before the client sent anything"},
			notWarn:  []string{"client certificate"}, tls13: true},
		// A server that closed before the ClientHello came: nothing TLS
		// is the cause.
		{file: "server_no_response_closed_first.pcap", port: 4513, cat: ServerNoResponse,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.TCP.FIN[capture.ServerToClient], c.ClientHelloFrame}
			},
			summary: []string{"the server closed the connection (FIN, frame 4)", "before the client's ClientHello (frame 6)", "nothing the client offers is the cause"},
			fix:     []string{"closes connections it will not serve", "connection limit"},
			notFix:  []string{"SNI"}},
		// A ClientHello that does not parse, which the server refused.
		{file: "handshake_failure_malformed_hello.pcap", port: 4514, cat: HandshakeFailure,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.MalformedClientHelloFrame, c.Alerts[0].Frame}
			},
			summary: []string{"the client's ClientHello (frame 4) is malformed", "extensions: truncated", "the server rejected it with alert decode_error (frame 6)"},
			fix:     []string{"rewrites ClientHellos", "tshark -V"},
			notFix:  []string{"start the capture"}},
		// TLS 1.3: a client certificate the server refused; its size
		// in the client's encrypted flight says one was sent.
		{file: "client_cert_required_tls13_refused.pcap", port: 4515, cat: ClientCertRequired,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.ClientSide.Finished, c.Alerts[0].Frame}
			},
			summary: []string{"too long for an empty Certificate or a Finished, so it sent a certificate, and the server refused it"},
			fix:     []string{"the server does not accept the client's certificate", "nginx: `ssl_client_certificate`"},
			notFix:  []string{"configure the client with a certificate"}},
		// A client that checks the chain after the handshake (as Node.js
		// does) and hangs up without an alert rejected it.
		{file: "cert_untrusted_ca_checked_after.pcap", port: 4516, cat: CertUntrustedCA,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.CertificateFrame, c.HandshakeDone, c.TCP.FIN[capture.ClientToServer]}
			},
			summary: []string{"then the client hung up (FIN, frame 10) without sending any data. Likely: it rejected the server's certificate after the handshake", "possible: the client trusts that chain"},
			fix:     []string{"make"}},
		// Go ≥ 1.22 against a server with RSA key exchange only.
		{file: "no_shared_cipher_go_rsa.pcap", port: 4465, cat: NoSharedCipher,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.Alerts[0].Frame}
			},
			summary: []string{"no RSA key exchange suite", "a Go crypto/tls client", "Go stopped offering RSA key exchange in Go 1.22"},
			fix:     []string{"enable ECDHE key exchange on the server", "GODEBUG=tlsrsakex=1", "ssl_ecdh_curve"},
			notFix:  []string{"drop --ciphers"}},
		// The same alert from a server of DHE alone and from one that signs
		// only with SHA-1: the wire cannot tell them from RSA key exchange
		// alone, so each is named, ranked, with its fix and stop-gap.
		{file: "no_shared_cipher_go_dhe.pcap", port: 4527, cat: NoSharedCipher,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.Alerts[0].Frame}
			},
			summary: []string{"Likely: the server accepts only RSA key exchange suites", "or only DHE suites (TLS_DHE_*)", "has never offered DHE"},
			fix:     []string{"enable ECDHE key exchange on the server", "Go never implemented DHE", "Go has no stop-gap for a server of DHE alone"}},
		{file: "no_shared_cipher_go_sha1.pcap", port: 4528, cat: NoSharedCipher,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.Alerts[0].Frame}
			},
			summary: []string{"or it can sign its key exchange only with SHA-1", "SHA-1 signatures in TLS 1.2 in Go 1.25", `its error for each is "remote error: tls: handshake failure"`},
			fix:     []string{"it must sign with SHA-256 or better", "GODEBUG=tlssha1=1", "nginx: `ssl_conf_command SignatureAlgorithms`", "Apache httpd: `SSLOpenSSLConfCmd SignatureAlgorithms`"}},
		// A server that reads the hello and never answers: its host's
		// acknowledgment says the hello arrived, so the program is what
		// stayed silent.
		{file: "server_no_response.pcap", port: 4453, cat: ServerNoResponse,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.TCP.FIN[client], c.Path.HelloAcked}
			},
			summary: []string{"the server's host acknowledged the hello (frame 5), so it arrived"},
			fix:     []string{"Likely: that program is hung or overloaded", "ss -ltn 'sport = :4453'", "check that port 4453 is the TLS port"}},
		// Go's silent missing client certificate.
		{file: "client_cert_required_go_chain.pcap", port: 4466, withCA: true, cat: ClientCertRequired,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ClientHelloFrame, c.CertificateRequestFrame, c.ClientCertificateFrame, c.Alerts[0].Frame}
			},
			summary: []string{"the client sent an empty Certificate"},
			fix:     []string{"'CN=tlsdiag Test Client CA,O=tlsdiag test lab'", "Go sends none when its chain does not reach one of these CAs", "intermediates after the leaf"}},
		// Key-log advice that fits the client.
		{file: "cert_rejected_go.pcap", port: 4446, cat: CertRejected,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ServerSide.Finished, c.Alerts[0].Frame}
			},
			fix:    []string{"Go ignores SSLKEYLOGFILE", "tls.Config.KeyLogWriter", "os.OpenFile", "--keylog keys.log"},
			notFix: []string{"SSLKEYLOGFILE=keys.log"}},
		{file: "cert_rejected.pcap", port: 4445, cat: CertRejected,
			evidence: func(c *analysis.Connection) []capture.Frame {
				return []capture.Frame{c.ServerSide.Finished, c.Alerts[0].Frame}
			},
			fix:    []string{"(GnuTLS) with SSLKEYLOGFILE=keys.log"},
			notFix: []string{"KeyLogWriter"}},
	}
	for _, tt := range tests {
		name := strings.TrimSuffix(tt.file, ".pcap")
		roots := PoolRoots(x509.NewCertPool()) // a machine without the lab's root
		if tt.withCA {
			name += "+cacert"
			roots = labRoots
		}
		t.Run(name, func(t *testing.T) {
			conns := analyseCapture(t, filepath.Join(capturesDir, tt.file), []uint16{tt.port})
			checked := 0
			for _, c := range conns {
				if c.Server.Port() != tt.port || c.ClientHello == nil && c.MalformedClientHelloFrame.Number == 0 {
					continue
				}
				if tt.cat == OK && c.Version != 0x0303 && !tt.tls13 {
					continue // the TLS 1.2 connection shows the chain
				}
				checked++
				v := Diagnose(c, Config{Roots: roots, SettingNames: flagNames})
				if v.Category != tt.cat {
					t.Fatalf("category %s, want %s: %s | fix: %s", v.Category, tt.cat, v.Summary, v.Fix)
				}
				var want []int64
				for _, f := range tt.evidence(c) {
					want = append(want, f.Number)
				}
				if want = sortFrames(want); !slices.Equal(v.Evidence, want) || len(want) < 2 {
					t.Errorf("evidence %v, want %v", v.Evidence, want)
				}
				has := func(what, text string, words []string, want bool) {
					for _, w := range words {
						if strings.Contains(text, w) != want {
							t.Errorf("%s %q: contains %q = %v, want %v", what, text, w, !want, want)
						}
					}
				}
				has("summary", v.Summary, tt.summary, true)
				has("fix", v.Fix, tt.fix, true)
				has("fix", v.Fix, tt.notFix, false)
				ws := strings.Join(v.Warnings, " | ")
				has("warnings", ws, tt.warnings, true)
				has("warnings", ws, tt.notWarn, false)
			}
			if checked == 0 {
				t.Fatalf("no connection to port %d with a ClientHello in %s", tt.port, tt.file)
			}
		})
	}
}
