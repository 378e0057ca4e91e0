package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/report"
)

// canCapture reports whether live captures work here: they need root or
// CAP_NET_RAW. CI runs as root; elsewhere the probe tests check the
// client-only path instead.
func canCapture(t *testing.T) bool {
	if os.Geteuid() == 0 {
		return true
	}
	t.Log("not root: checking the client-only path; the wire view needs root or CAP_NET_RAW (CI runs as root)")
	return false
}

// labCase is one probe of a lab server and what it must find.
type labCase struct {
	name     string
	scenario tlslab.Scenario
	// hostPort probes HOST:PORT (the handshake only) instead of a URL.
	hostPort bool
	// listen is the server's address, 127.0.0.1:0 when empty.
	listen string
	setup  func(*testing.T, *Config, *tlslab.Lab, netip.AddrPort)
	// The client's side.
	class Class
	phase Phase
	// The wire's side (checked when capturing).
	category  diagnose.Category
	agreement Agreement
	// facts must all appear in the correlation (summary, wire, cause, fix,
	// notes).
	facts []string
	// evidence returns frames the verdict's evidence must include.
	evidence func(*analysis.Connection) []int64
	check    func(*testing.T, *Result, *tlslab.Lab)
}

func TestProbeLab(t *testing.T) {
	var ngOut *bytes.Buffer
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	alertFrame := func(c *analysis.Connection) []int64 {
		if len(c.Alerts) == 0 {
			return []int64{-1}
		}
		return []int64{c.Alerts[0].Frame.Number}
	}
	certAndAlert := func(c *analysis.Connection) []int64 {
		return append([]int64{c.CertificateFrame.Number}, alertFrame(c)...)
	}
	tests := []labCase{
		{
			name: "ok TLS 1.2", scenario: tlslab.OKTLS12, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			facts: []string{"request succeeded"},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Client.TLS == nil || r.Client.TLS.Version != tls.VersionTLS12 || r.Client.HTTP == nil || r.Client.HTTP.StatusCode != 200 {
					t.Errorf("client saw %+v, %+v; want TLS 1.2 and HTTP 200", r.Client.TLS, r.Client.HTTP)
				}
				if r.Client.HTTP != nil && r.Client.HTTP.BodyBytes != int64(len(tlslab.Body)) {
					t.Errorf("body %d bytes, want %d", r.Client.HTTP.BodyBytes, len(tlslab.Body))
				}
			},
		},
		{
			name: "ok TLS 1.3, decrypted", scenario: tlslab.OKTLS13, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.KeyLog = &bytes.Buffer{}
				c.Pcap = &bytes.Buffer{}
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Client.TLS == nil || r.Client.TLS.Version != tls.VersionTLS13 {
					t.Errorf("client negotiated %+v, want TLS 1.3", r.Client.TLS)
				}
				if r.Wire.Result == nil {
					return
				}
				c := r.Wire.Result.Conn
				if !c.Decrypted || len(c.Certificates) == 0 || c.ALPN != "http/1.1" {
					t.Errorf("wire: decrypted %v, %d certificates, ALPN %q; want the key log to reveal the chain and http/1.1", c.Decrypted, len(c.Certificates), c.ALPN)
				}
			},
		},
		{
			// -w x.pcapng: the secrets travel in the file, and tshark opens
			// it decrypted without a key log file.
			name: "ok TLS 1.3, pcapng with its secrets", scenario: tlslab.OKTLS13, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.Pcap, c.PcapNG = &bytes.Buffer{}, true
				ngOut = c.Pcap.(*bytes.Buffer)
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) { checkPcapngSecrets(t, ngOut.Bytes()) },
		},
		{
			name: "expired TLS 1.2", scenario: tlslab.CertExpired, class: CertExpired, phase: PhaseTLS,
			category: diagnose.CertExpired, agreement: Agree, facts: []string{"expired on", "renew"}, evidence: certAndAlert,
			check: expiredCheck,
		},
		{
			name: "expired TLS 1.3, decrypted", scenario: tlslab.CertRejected, class: CertExpired, phase: PhaseTLS,
			category: diagnose.CertExpired, agreement: Agree, facts: []string{"expired on", "renew"}, evidence: certAndAlert,
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				expiredCheck(t, r, lab)
				if r.Wire.Result != nil && !r.Wire.Result.Conn.Decrypted {
					t.Error("the TLS 1.3 handshake was not decrypted with the probe's own key log")
				}
			},
		},
		{
			name: "untrusted CA", scenario: tlslab.CertUntrustedCA, class: CertUnknownAuthority, phase: PhaseTLS,
			category: diagnose.CertUntrustedCA, agreement: Agree, facts: []string{"Untrusted Root CA"}, evidence: certAndAlert,
		},
		{
			name: "hostname mismatch", scenario: tlslab.CertHostnameMismatch, class: CertHostnameMismatch, phase: PhaseTLS,
			category: diagnose.CertHostnameMismatch, agreement: Agree, facts: []string{tlslab.GoodName}, evidence: certAndAlert,
			// The address was pinned: no reading about the name's lookup.
			check: notInFix("should resolve to"),
		},
		{
			name: "hostname mismatch at the address a lookup gave", scenario: tlslab.CertHostnameMismatch, class: CertHostnameMismatch, phase: PhaseTLS,
			setup:    resolvedByLookup,
			category: diagnose.CertHostnameMismatch, agreement: Agree, evidence: certAndAlert,
			facts: []string{
				"good.test resolved to 127.0.0.1 by the configured resolver", "1. the name points at another machine",
				"2. 127.0.0.1 is the right machine", "--resolve good.test:",
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				// The name's record is checked first, the server's
				// configuration second.
				if fix := r.Correlation.Fix; !strings.HasPrefix(fix, "1. check that good.test should resolve to 127.0.0.1") {
					t.Errorf("fix %q does not start with the name's record", fix)
				}
				if r.Wire.Result.Verdict.Category != diagnose.CertHostnameMismatch {
					t.Errorf("the wire's verdict changed: %s", r.Wire.Result.Verdict.Category)
				}
			},
		},
		{
			name: "incomplete chain", scenario: tlslab.CertIncompleteChain, class: CertUnknownAuthority, phase: PhaseTLS,
			category: diagnose.CertIncompleteChain, agreement: Agree, facts: []string{tlslab.IntermediateName}, evidence: certAndAlert,
		},
		{
			name: "client's roots differ from the wire's", scenario: tlslab.OK, class: CertUnknownAuthority, phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.RootCAs = x509.NewCertPool()
				c.RootCAs.AddCert(lab.UntrustedRoot.Cert)
			},
			agreement: Disagree, facts: []string{"valid against the roots", "--cacert", tlslab.RootName},
		},
		// The common trust failures of a Go client, as a user without the
		// private root runs the probe (client and wire trust another CA):
		// the wire agrees with Go's error and says whose fix it is.
		{
			name: "private root not trusted, leaf and intermediate sent", scenario: tlslab.OKTLS12, class: CertUnknownAuthority, phase: PhaseTLS,
			setup:    otherRoots,
			category: diagnose.CertUntrustedCA, agreement: Agree, evidence: certAndAlert,
			facts: []string{"does not trust the root '" + labName(tlslab.RootName), "tls.Config.RootCAs", "nothing changes on the server"},
			check: notInFix("full chain"),
		},
		{
			name: "leaf signed directly by a private root", scenario: tlslab.CertDirectRoot, class: CertUnknownAuthority, phase: PhaseTLS,
			setup:    otherRoots,
			category: diagnose.CertUntrustedCA, agreement: Agree, evidence: certAndAlert,
			facts: []string{"does not trust the root '" + labName(tlslab.PrivateRootName), "signed directly by"},
		},
		{
			name: "expired, read without the private root", scenario: tlslab.CertExpired, class: CertExpired, phase: PhaseTLS,
			setup:    otherRoots,
			category: diagnose.CertExpired, agreement: Agree, evidence: certAndAlert, facts: []string{"expired on", "renew"},
		},
		{
			name: "wrong name, read without the private root", scenario: tlslab.CertHostnameMismatch, class: CertHostnameMismatch, phase: PhaseTLS,
			setup:    otherRoots,
			category: diagnose.CertHostnameMismatch, agreement: Agree, evidence: certAndAlert, facts: []string{"not for the name 'good.test'"},
		},
		{
			name: "RSA key exchange only vs crypto/tls defaults", scenario: tlslab.RSAKeyExchangeOnly, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.Scan = true },
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"GODEBUG=tlsrsakex=1", "enable ECDHE", "scan: with TLS 1.2 the server accepts RSA key exchange (chose TLS_RSA_WITH_", "it refuses ECDHE, 3DES",
				"the server accepts only RSA key exchange suites"},
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				scanCheck(tls.VersionTLS12)(t, r, lab)
				notInFix("--ciphers/--curves")(t, r, lab)
				if text := strings.Join(r.Correlation.Notes, "\n"); strings.Contains(text, "drop --ciphers") {
					t.Errorf("a note tells to drop --ciphers, which was not given:\n%s", text)
				}
			},
		},
		{
			// The same alert as RSA key exchange only, for another reason:
			// the scan tells them apart.
			name: "TLS 1.3 with X448 only vs crypto/tls", scenario: tlslab.NoSharedGroupTLS13, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.Scan = true },
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"scan: the server refused TLS 1.3 (handshake_failure) even with every cipher suite crypto/tls implements",
				"it does not speak TLS 1.0, TLS 1.1, TLS 1.2 (protocol_version)",
				"the server's TLS 1.3 key exchange groups are ones crypto/tls does not implement: it asked for x448", "ssl_ecdh_curve",
				"it refused a TLS 1.3 hello offering CCM suites"},
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				notInFix("GODEBUG=tlsrsakex=1")(t, r, lab)
				if got := r.Scan.Accepted(); len(got) != 0 {
					t.Errorf("scan accepted %v, want none", got)
				}
			},
		},
		// Servers that want what crypto/tls cannot offer: the wire shows
		// the same alert as RSA key exchange alone; the scan's
		// hand-written hellos tell which.
		{
			name: "DHE only vs crypto/tls", scenario: tlslab.DHEOnly, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.Scan = true },
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"the server accepts only DHE suites with TLS 1.2 (it chose TLS_DHE_RSA_WITH_", "no Go client setting adds DHE",
				"it refused a TLS 1.2 hello offering SHA-1 signatures (handshake_failure)"},
			check: notInFix("GODEBUG"),
		},
		{
			name: "SHA-1 signatures only vs crypto/tls", scenario: tlslab.SHA1SignaturesOnly, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.Scan = true },
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"the server can sign its TLS 1.2 key exchange only with SHA-1", "GODEBUG=tlssha1=1",
				"the server accepted a TLS 1.2 hello offering SHA-1 signatures (it chose TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"},
			check: notInFix("tlsrsakex"),
		},
		{
			name: "AES-256-CBC-SHA384 only vs crypto/tls", scenario: tlslab.CBCSHA384Only, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.Scan = true },
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"the server's TLS 1.2 suites are ones crypto/tls does not implement: it chose TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
				"add to the server's suites one Go supports, e.g. ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
				"no Go client setting adds TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "nginx: `ssl_ciphers`", "Apache httpd: `SSLCipherSuite`",
				"it refused a TLS 1.2 hello offering DHE suites (handshake_failure)"},
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				notInFix("GODEBUG")(t, r, lab)
				d := NewDocument(r)
				if d.Scan == nil || !slices.ContainsFunc(d.Scan.Beyond, func(b BeyondView) bool {
					return b.Offer == string(BeyondCBCSHA2) && b.Accepted && b.Cipher == "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"
				}) {
					t.Errorf("scan.beyond lacks the accepted %s offer: %+v", BeyondCBCSHA2, d.Scan)
				}
			},
		},
		{
			name: "client certificate without its intermediate", scenario: tlslab.ClientCertRequired, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				leafOnly := tlslab.Cert{Cert: lab.ClientChained.Cert, Key: lab.ClientChained.Key}
				c.Certificates = []tls.Certificate{leafOnly.TLS()}
			},
			category: diagnose.ClientCertRequired, agreement: Agree,
			facts: []string{"a client certificate was configured", "the certificate file holds the leaf alone, issued by '" + labName(tlslab.ClientIntermediateName),
				"if it is an intermediate under one of those, add it after the leaf", labName(tlslab.ClientCAName)},
			evidence: func(c *analysis.Connection) []int64 {
				return []int64{c.CertificateRequestFrame.Number, c.ClientCertificateFrame.Number}
			},
		},
		// A certificate from another PKI: nothing added to the file makes
		// a chain to the CA the server lists, and the fix does not call
		// the certificate's root an intermediate.
		{
			name: "client certificate alone, issued by a root the server does not list", scenario: tlslab.ClientCertRequired, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Certificates = []tls.Certificate{lab.DirectRoot.TLS()}
			},
			category: diagnose.ClientCertRequired, agreement: Agree,
			facts: []string{"a client certificate was configured", "use a certificate issued by one of '" + labName(tlslab.ClientCAName),
				"make the server trust '" + labName(tlslab.PrivateRootName) + "'"},
			check: notInFix("the intermediate '" + labName(tlslab.PrivateRootName)),
		},
		{
			name: "client certificate chain ending at a root the server does not list", scenario: tlslab.ClientCertRequired, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				withRoot := lab.Good.TLS()
				withRoot.Certificate = append(withRoot.Certificate, lab.Root.Cert.Raw)
				c.Certificates = []tls.Certificate{withRoot}
			},
			category: diagnose.ClientCertRequired, agreement: Agree,
			facts: []string{"ends at its root '" + labName(tlslab.RootName), "a CA the server accepts ('" + labName(tlslab.ClientCAName) + "'): use a certificate issued by one of them",
				"make the server trust '" + labName(tlslab.RootName) + "'"},
			check: notInFix("add "),
		},
		{
			name: "self-signed client certificate", scenario: tlslab.ClientCertRequired, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Certificates = []tls.Certificate{lab.SelfSigned.TLS()}
			},
			category: diagnose.ClientCertRequired, agreement: Agree,
			facts: []string{"is self-signed", "make the server trust this certificate"},
			check: notInFix("add "),
		},
		{
			name: "client certificate with its intermediate", scenario: tlslab.ClientCertRequired, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Certificates = []tls.Certificate{lab.ClientChained.TLS()}
			},
		},
		{
			name: "server requires TLS 1.3", scenario: tlslab.VersionMismatch, class: "tls_alert_protocol_version", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.MaxVersion = tls.VersionTLS12
				c.Scan = true
			},
			category: diagnose.VersionMismatch, agreement: Agree, evidence: alertFrame,
			facts: []string{"the server accepts only TLS 1.3; your client allows at most TLS 1.2", "--tls-max 1.3"},
			check: scanCheck(tls.VersionTLS13),
		},
		{
			name: "server allows at most TLS 1.2", scenario: tlslab.OKTLS12, class: "tls_alert_protocol_version", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.MinVersion = tls.VersionTLS13
				c.Scan = true
			},
			category: diagnose.VersionMismatch, agreement: Agree, evidence: alertFrame,
			facts: []string{"the server accepts only TLS 1.2; your client allows only TLS 1.3", "enable TLS 1.3 on the server"},
			check: scanCheck(tls.VersionTLS12),
		},
		{
			name: "no shared cipher", scenario: tlslab.NoSharedCipher, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.MaxVersion = tls.VersionTLS12
				c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
				c.Scan = true
			},
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"with TLS 1.2 the server chose TLS_ECDHE_ECDSA_WITH_AES_", "which --ciphers leaves out"},
			check: scanCheck(tls.VersionTLS12),
		},
		{
			name: "client certificate required", scenario: tlslab.ClientCertRequired, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			category: diagnose.ClientCertRequired, agreement: Agree, facts: []string{tlslab.ClientCAName},
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.CertificateRequestFrame.Number} },
		},
		{
			name: "client certificate given", scenario: tlslab.ClientCertRequired, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Certificates = []tls.Certificate{lab.Client.TLS()}
			},
		},
		{
			name: "ALPN mismatch", scenario: tlslab.ALPNMismatch, class: "tls_alert_no_application_protocol", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.ALPN = []string{"h2"} },
			category: diagnose.ALPNMismatch, agreement: Agree, evidence: alertFrame,
		},
		{
			name: "plain HTTP on the TLS port", scenario: tlslab.NotTLSServer, class: NotTLS, phase: PhaseTLS,
			category: diagnose.NotTLSServer, agreement: Agree, facts: []string{"HTTP/1.1 400"},
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.ServerSide.NonTLS.Frame.Number} },
		},
		{
			name: "silent server", scenario: tlslab.ServerNoResponse, class: Timeout, phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.MaxTime = time.Second },
			category: diagnose.ServerNoResponse, agreement: Agree,
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.ClientHelloFrame.Number} },
		},
		{
			// A good handshake, then a request the server application never
			// answers: Go's "awaiting headers" timeout and the wire's ok
			// verdict that says the server, not TLS, did not answer.
			name: "request unanswered", scenario: tlslab.AppNoAnswer, class: TimeoutAwaitingHeaders, phase: PhaseHTTP,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.MaxTime = 1500 * time.Millisecond },
			category: diagnose.OK, agreement: Agree,
			facts:    []string{"TLS is fine; the server sent nothing after the client's request", "the server application did not answer", "look at the server application"},
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.Afterwards().Request.Number} },
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Wire.Result == nil {
					return
				}
				if a := r.Wire.Result.Conn.Afterwards(); a.Request.Number == 0 || a.Response.Number != 0 {
					t.Errorf("wire: request frame %d, response frame %d; want a request and no answer", a.Request.Number, a.Response.Number)
				}
			},
		},
		{
			// By address: no SNI, and the certificate names good.test only.
			name: "by IP address without an IP SAN", scenario: tlslab.OKTLS12, class: CertHostnameMismatch, phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, addr netip.AddrPort) {
				c.Target = Target{Host: addr.Addr().String(), Port: addr.Port()}
				c.Target.URL = &url.URL{Scheme: "https", Host: addr.String(), Path: "/"}
				c.Resolve = nil
			},
			category: diagnose.CertHostnameMismatch, agreement: Agree, evidence: certAndAlert,
			facts: []string{"connected to 127.0.0.1 by address", "add IP:127.0.0.1 to its subjectAltName"},
		},
		{
			name: "refused", scenario: tlslab.ConnectionRefused, class: ConnectionRefused, phase: PhaseConnect,
			category: diagnose.ConnectionRefused, agreement: Agree,
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.TCP.SYN.Number, c.TCP.RST.Number} },
		},
		{
			name: "reset after the ClientHello", scenario: tlslab.ConnectionReset, class: ConnectionReset, phase: PhaseTLS,
			category: diagnose.ConnectionReset, agreement: Agree,
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.ClientHelloFrame.Number, c.TCP.RST.Number} },
		},
		{
			name: "proxy refuses CONNECT (403)", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    proxySetup(tlslab.ProxyRefused, ""),
			category: diagnose.ProxyRefused, agreement: Agree,
			facts:    []string{`"HTTP/1.1 403 Forbidden"`, "the proxy refused the tunnel", "does not allow tunnels to good.test:"},
			evidence: proxyFrames,
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				if r.Client.ProxyFrom != "--proxy" || r.Client.Proxy == "" || r.Client.Remote.String() != r.Client.Proxy[len("http://"):] {
					t.Errorf("proxy %q from %q, remote %s", r.Client.Proxy, r.Client.ProxyFrom, r.Client.Remote)
				}
				// --proxy ignores NO_PROXY: the fix says to go without it,
				// the wire verdict's as well as the correlation's.
				if f := r.Correlation.Fix; r.Wire.Result != nil && (strings.Contains(f, "(NO_PROXY)") || !strings.Contains(f, `--proxy ""`)) {
					t.Errorf("fix %q: want the direct path without --proxy, not NO_PROXY", f)
				}
				if w := r.Wire.Result; w != nil && (strings.Contains(w.Verdict.Fix, "(NO_PROXY)") || !strings.Contains(w.Verdict.Fix, "connect without the proxy")) {
					t.Errorf("wire fix %q: want the direct path without the proxy, not NO_PROXY", w.Verdict.Fix)
				}
				agreesWithGo(t, r, lab)
			},
		},
		{
			// The server never answers; the proxy cuts the idle tunnel
			// with a bare close, which a server closing would not do.
			name: "proxy cuts the idle tunnel", scenario: tlslab.AppNoAnswer, class: ConnectionClosed, phase: PhaseHTTP,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, server netip.AddrPort) {
				proxySetup(tlslab.ProxyIdleCut, "")(t, c, lab, server)
				c.MaxTime = 5 * time.Second
			},
			category: diagnose.OK, agreement: Agree,
			facts:    []string{"closed the tunnel", "without a TLS close_notify", "the proxy cut the tunnel"},
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.Afterwards().Request.Number} },
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if c := r.Correlation; !strings.Contains(c.Cause, "idle or read timeout") || !strings.Contains(c.Fix, "proxy's timeouts") {
					t.Errorf("correlation cause %q, fix %q: want the proxy's timeout first", c.Cause, c.Fix)
				}
			},
		},
		{
			name: "through a SOCKS5 proxy", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: socksSetup(tlslab.ProxySOCKS5, ""),
			facts: []string{"through the SOCKS5 proxy", "to good.test:"},
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				if w := r.Wire.Result; w != nil && (w.Conn.Proxy == nil || w.Conn.Proxy.Kind != proxyparse.KindSOCKS5 || !strings.HasPrefix(w.Conn.Proxy.Target, tlslab.GoodName+":")) {
					t.Errorf("wire: proxy %+v, want a SOCKS5 tunnel to good.test (the name, for the proxy to resolve)", w.Conn.Proxy)
				}
				if r.Client.Timings.ProxyConnect == nil || r.Client.HTTP == nil || r.Client.HTTP.StatusCode != 200 {
					t.Errorf("through SOCKS5: timings %+v, response %+v", r.Client.Timings, r.Client.HTTP)
				}
				if text := strings.Join(strings.Fields(writeTable(t, r)), " "); !strings.Contains(text, "proxy SOCKS5 ") || !strings.Contains(text, "proxy: socks5://127.0.0.1:") {
					t.Errorf("the report does not name the SOCKS5 proxy and its timing:\n%s", text)
				}
				agreesWithGo(t, r, lab)
			},
		},
		{
			name: "SOCKS5 proxy accepts no method offered", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    socksSetup(tlslab.ProxySOCKS5NoMethod, ""),
			category: diagnose.ProxyAuthRequired, agreement: Agree,
			facts:    []string{"SOCKS5 method 0xFF", "socks5://user:password@"},
			evidence: proxyFrames, check: agreesWithGo,
		},
		{
			name: "SOCKS5 proxy rejects the password", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    socksSetup(tlslab.ProxySOCKS5Password, tlslab.ProxyUser+":wrong"),
			category: diagnose.ProxyAuthRequired, agreement: Agree,
			facts:    []string{"user name and password rejected", "rejected the client's credentials"},
			evidence: proxyFrames,
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				if strings.Contains(r.Client.Proxy, "wrong") || !strings.Contains(r.Client.Proxy, tlslab.ProxyUser+":") {
					t.Errorf("proxy %q: want the user name, the password hidden", r.Client.Proxy)
				}
				agreesWithGo(t, r, lab)
			},
		},
		{
			name: "SOCKS5 proxy with its password", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: socksSetup(tlslab.ProxySOCKS5Password, tlslab.ProxyUser+":"+tlslab.ProxyPassword),
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if p := r.Wire.Result; p != nil && (p.Conn.Proxy == nil || !p.Conn.Proxy.Credentials) {
					t.Errorf("wire: proxy %+v, want the credentials seen", p.Conn.Proxy)
				}
			},
		},
		{
			name: "SOCKS5 proxy cannot reach the target", scenario: tlslab.ConnectionRefused, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    socksSetup(tlslab.ProxySOCKS5, ""),
			category: diagnose.ProxyUpstreamFailed, agreement: Agree,
			facts:    []string{"SOCKS5 reply 0x05 (connection refused)", "the TLS server was never reached"},
			evidence: proxyFrames, check: agreesWithGo,
		},
		{
			name: "SOCKS5 proxy's ruleset refuses the target", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, server netip.AddrPort) {
				socksSetup(tlslab.ProxySOCKS5, "")(t, c, lab, server)
				// A name the lab's proxy does not take for loopback.
				c.Target.Host = "elsewhere.test"
				c.Target.URL = &url.URL{Scheme: "https", Host: c.Target.HostPort(), Path: "/"}
			},
			category: diagnose.ProxyRefused, agreement: Agree,
			facts:    []string{"SOCKS5 reply 0x02 (connection not allowed by ruleset)"},
			evidence: proxyFrames, check: agreesWithGo,
		},
		{
			name: "SOCKS5 proxy refuses the TCP connection", scenario: tlslab.OK, class: ProxyRefused, phase: PhaseConnect,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Proxy = &url.URL{Scheme: "socks5h", Host: labProxy(t, lab, tlslab.ConnectionRefused).String()}
			},
			category: diagnose.ConnectionRefused, agreement: Agree,
			facts: []string{"the refused address is the proxy's"},
			check: agreesWithGo,
		},
		{
			name: "SOCKS5 proxy from HTTPS_PROXY", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				proxy := "socks5h://" + labProxy(t, lab, tlslab.ProxySOCKS5).String()
				c.NoProxyEnv = false
				c.Getenv = func(k string) string { return map[string]string{"HTTPS_PROXY": proxy}[k] }
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Client.ProxyFrom != "HTTPS_PROXY" || !strings.HasPrefix(r.Client.Proxy, "socks5h://") || r.Client.Timings.ProxyConnect == nil {
					t.Errorf("proxy %q from %q", r.Client.Proxy, r.Client.ProxyFrom)
				}
			},
		},
		{
			name: "proxy wants authentication (407)", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    proxySetup(tlslab.ProxyAuthRequired, ""),
			category: diagnose.ProxyAuthRequired, agreement: Agree,
			facts:    []string{`"HTTP/1.1 407 Proxy Authentication Required"`, "requires authentication and the request carried no credentials", "in the proxy URL the client was given (http://user:password@"},
			evidence: proxyFrames, check: agreesWithGo,
		},
		{
			name: "proxy rejects the credentials (407)", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    proxySetup(tlslab.ProxyAuthRequired, "lab:wrong"),
			category: diagnose.ProxyAuthRequired, agreement: Agree,
			facts:    []string{"rejected the credentials the request carried", "check the user name and password"},
			evidence: proxyFrames, check: agreesWithGo,
		},
		{
			// A proxy that offers only Negotiate and NTLM: the password in
			// the URL is right, but Go sends it as Basic, which the proxy
			// never accepts; checking the password is not the fix.
			name: "proxy offers only Negotiate and NTLM (407)", scenario: tlslab.OK, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    proxySetup(tlslab.ProxyAuthNegotiate, tlslab.ProxyUser+":"+tlslab.ProxyPassword),
			category: diagnose.ProxyAuthRequired, agreement: Agree,
			facts: []string{"offers only Negotiate, NTLM (Proxy-Authenticate), not Basic", "carried Basic credentials, which this proxy does not accept",
				"Go's net/http sends proxy credentials only as Basic", "--proxy-ntlm", "Cntlm"},
			evidence: proxyFrames,
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				agreesWithGo(t, r, lab)
				if w := r.Wire.Result; w != nil && strings.Contains(w.Verdict.Fix, "check the user name and password") {
					t.Errorf("wire fix %q: the password is not what the proxy refuses", w.Verdict.Fix)
				}
			},
		},
		{
			name: "proxy with the right credentials", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: proxySetup(tlslab.ProxyAuthRequired, tlslab.ProxyUser+":"+tlslab.ProxyPassword),
			facts: []string{"through the CONNECT proxy"},
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				if p := r.Wire.Result; p != nil && (p.Conn.Proxy == nil || !p.Conn.Proxy.Credentials) {
					t.Errorf("wire: proxy %+v, want the credentials seen", p.Conn.Proxy)
				}
			},
		},
		{
			name: "proxy cannot reach the target (502)", scenario: tlslab.ConnectionRefused, class: ProxyConnectFailed, phase: PhaseProxy,
			setup:    proxySetup(tlslab.ProxyUpstreamFailed, ""),
			category: diagnose.ProxyUpstreamFailed, agreement: Agree,
			facts:    []string{`"HTTP/1.1 502 Bad Gateway"`, "the TLS server was never reached", "between the proxy and good.test:"},
			evidence: proxyFrames, check: agreesWithGo,
		},
		{
			name: "proxy refuses the TCP connection", scenario: tlslab.OK, class: ProxyRefused, phase: PhaseConnect,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Proxy = &url.URL{Scheme: "http", Host: labProxy(t, lab, tlslab.ConnectionRefused).String()}
			},
			category: diagnose.ConnectionRefused, agreement: Agree,
			facts:    []string{"the refused address is the proxy's", "nothing listens on port"},
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.TCP.SYN.Number, c.TCP.RST.Number} },
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				text := strings.Join(append([]string{r.Correlation.Cause, r.Correlation.Fix}, r.Correlation.Notes...), "\n")
				if strings.Contains(text, "CONNECT request") {
					t.Errorf("says a CONNECT was sent to a proxy that refused the TCP connection:\n%s", text)
				}
				agreesWithGo(t, r, lab)
			},
		},
		// A proxy that hangs up at accept: the correlation says what
		// drops the client there.
		{
			name: "proxy closes at accept", scenario: tlslab.OK, class: ProxyError, phase: PhaseProxy,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Proxy = &url.URL{Scheme: "http", Host: labProxy(t, lab, tlslab.ServerClosesAtAccept).String()}
			},
			category: diagnose.ServerNoResponse, agreement: Agree,
			// Whether Go reads the close or the reset its CONNECT then
			// draws is a matter of timing.
			facts: []string{"accepted the TCP connection and", "without answering the CONNECT request", "an access rule for the client's address",
				"a SOCKS proxy wants socks5://"},
		},
		{
			name: "through a proxy to openssl s_server", scenario: tlslab.SNIUnrecognizedOpenSSL, hostPort: true, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: proxySetup(tlslab.ProxyTunnel, ""),
			facts: []string{"through the CONNECT proxy", "to good.test:"},
		},
		{
			// The server's alert comes right after the proxy's 200 in the
			// same stream: it is read, not skipped with the proxy's answer.
			name: "through a proxy to a server that refuses the hello", scenario: tlslab.RSAKeyExchangeOnly, hostPort: true,
			class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup:    proxySetup(tlslab.ProxyTunnel, ""),
			category: diagnose.NoSharedCipher, agreement: Agree, evidence: alertFrame,
			facts: []string{"through the CONNECT proxy", "the server answered the ClientHello with handshake_failure"},
		},
		{
			name: "CONNECT target differs from the SNI", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, server netip.AddrPort) {
				proxySetup(tlslab.ProxyTunnel, "")(t, c, lab, server)
				c.Target.Host = "localhost"
				c.Target.URL = &url.URL{Scheme: "https", Host: c.Target.HostPort(), Path: "/"}
				c.ServerName = tlslab.GoodName
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				w := r.Wire.Result
				if w == nil {
					return
				}
				if !slices.ContainsFunc(w.Verdict.Warnings, func(s string) bool {
					return strings.Contains(s, "a tunnel to localhost") && strings.Contains(s, "its ClientHello names good.test (SNI")
				}) {
					t.Errorf("no warning about the CONNECT target and the SNI: %q", w.Verdict.Warnings)
				}
			},
		},
		{
			name: "proxy's 200 carries Transfer-Encoding: chunked", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: proxySetup(tlslab.ProxyTunnelChunked, ""),
			facts: []string{"through the CONNECT proxy"},
			check: func(t *testing.T, r *Result, lab *tlslab.Lab) {
				if r.Client.Timings.ProxyConnect == nil || *r.Client.Timings.ProxyConnect > 2*time.Second || r.Client.HTTP == nil || r.Client.HTTP.StatusCode != 200 {
					t.Errorf("through the chunked 200: timings %+v, response %+v", r.Client.Timings, r.Client.HTTP)
				}
				agreesWithGo(t, r, lab)
			},
		},
		{
			name: "through a proxy", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, server netip.AddrPort) {
				c.Proxy = &url.URL{Scheme: "http", Host: startProxy(t, server).String()}
			},
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.ClientHelloFrame.Number} },
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if w := r.Wire.Result; w != nil && (w.Conn.Proxy == nil || w.Conn.Proxy.Target != r.Client.Proxy[len("http://"):] && !strings.HasPrefix(w.Conn.Proxy.Target, tlslab.GoodName+":")) {
					t.Errorf("wire: proxy %+v, want the CONNECT target good.test", w.Conn.Proxy)
				}
				if r.Client.Timings.ProxyConnect == nil || r.Client.HTTP == nil || r.Client.HTTP.StatusCode != 200 {
					t.Errorf("proxied request: timings %+v, response %+v", r.Client.Timings, r.Client.HTTP)
				}
			},
		},
		{
			name: "proxy from HTTPS_PROXY", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, server netip.AddrPort) {
				proxy := "http://" + startProxy(t, server).String()
				c.NoProxyEnv = false
				c.Getenv = func(k string) string {
					if k == "HTTPS_PROXY" {
						return proxy
					}
					return ""
				}
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Client.ProxyFrom != "HTTPS_PROXY" || r.Client.Timings.ProxyConnect == nil {
					t.Errorf("proxy %q from %q", r.Client.Proxy, r.Client.ProxyFrom)
				}
			},
		},
		{
			name: "NO_PROXY bypasses HTTPS_PROXY", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.NoProxyEnv = false
				c.Getenv = func(k string) string {
					return map[string]string{"HTTPS_PROXY": "http://127.0.0.1:1", "NO_PROXY": tlslab.GoodName}[k]
				}
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Client.Proxy != "" {
					t.Errorf("used proxy %q despite NO_PROXY", r.Client.Proxy)
				}
				want := "proxy: none (NO_PROXY matches " + tlslab.GoodName + "; HTTPS_PROXY is http://127.0.0.1:1)"
				if text := strings.Join(strings.Fields(writeTable(t, r)), " "); !strings.Contains(text, want) {
					t.Errorf("the report does not say why no proxy was used (%q):\n%s", want, text)
				}
			},
		},
		{
			name: "second address after a refusal", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, server netip.AddrPort) {
				// The lab listens on 127.0.0.1 only: 127.0.0.2 refuses.
				c.Resolve[0].Addrs = []netip.Addr{netip.MustParseAddr("127.0.0.2"), server.Addr()}
			},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				a := r.Client.Attempts
				if len(a) != 1 || a[0].Class != ConnectionRefused || a[0].Remote.Addr() != netip.MustParseAddr("127.0.0.2") {
					t.Errorf("attempts %+v, want one refused by 127.0.0.2", a)
				}
				if !strings.Contains(r.Wire.Filter, "host 127.0.0.2 or host 127.0.0.1") {
					t.Errorf("filter %q does not cover both addresses", r.Wire.Filter)
				}
			},
		},
		{
			name: "refused at the IPv6 address of a name without IPv4 addresses", scenario: tlslab.ConnectionRefused, listen: "[::1]:0",
			class: ConnectionRefused, phase: PhaseConnect, setup: resolvedByLookup,
			category: diagnose.ConnectionRefused, agreement: Agree,
			facts: []string{"good.test resolved to IPv6 addresses only (::1)", "nothing listens on port", "listens on IPv4 only", "lacks its A record", "--resolve good.test:"},
		},
		{
			name: "refused at the IPv4 address of a name without IPv6 addresses", scenario: tlslab.ConnectionRefused,
			class: ConnectionRefused, phase: PhaseConnect, setup: resolvedByLookup,
			category: diagnose.ConnectionRefused, agreement: Agree,
			facts: []string{"good.test resolved to IPv4 addresses only (127.0.0.1)", "lacks its AAAA record"},
		},
		{
			name: "no TCP answer", scenario: tlslab.NoTCPAnswer, class: ConnectTimeout, phase: PhaseConnect,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.ConnectTimeout = 500 * time.Millisecond
			},
			category: diagnose.NoTCPAnswer, agreement: Agree,
			evidence: func(c *analysis.Connection) []int64 { return []int64{c.TCP.SYN.Number} },
		},
		{
			name: "unknown server name", scenario: tlslab.SNIUnrecognized, class: "tls_alert_unrecognized_name", phase: PhaseTLS,
			setup:    func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.ServerName = tlslab.UnknownName },
			category: diagnose.SNIUnrecognized, agreement: Agree, facts: []string{tlslab.UnknownName}, evidence: alertFrame,
		},
		{
			name: "no shared group", scenario: tlslab.HandshakeFailure, class: "tls_alert_handshake_failure", phase: PhaseTLS,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) {
				c.Curves = []tls.CurveID{tls.CurveP384}
				c.Scan = true
			},
			category: diagnose.HandshakeFailure, agreement: Agree, evidence: alertFrame,
			facts: []string{"the server accepts TLS 1.2 and TLS 1.3", "the failure comes from --ciphers or --curves", "drop --ciphers/--curves"},
		},
		{
			name: "insecure accepts an expired certificate", scenario: tlslab.CertExpired, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: func(t *testing.T, c *Config, _ *tlslab.Lab, _ netip.AddrPort) { c.Insecure = true; c.RootCAs = nil },
			facts: []string{"verification disabled"},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if !r.OK() || !r.Insecure {
					t.Errorf("OK %v, insecure %v", r.OK(), r.Insecure)
				}
				if r.Wire.Result != nil && !slices.ContainsFunc(r.Correlation.Notes, func(n string) bool { return strings.Contains(n, "expired") }) {
					t.Errorf("notes %q do not say the chain is expired", r.Correlation.Notes)
				}
			},
		},
		{
			name: "expired over IPv6", scenario: tlslab.CertExpired, listen: "[::1]:0", class: CertExpired, phase: PhaseTLS,
			category: diagnose.CertExpired, agreement: Agree, evidence: certAndAlert,
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Wire.Filter != fmt.Sprintf("(tcp port %d and host ::1) or icmp or icmp6", r.Client.Remote.Port()) || !r.Client.Local.Addr().Is6() {
					t.Errorf("filter %q, local %s", r.Wire.Filter, r.Client.Local)
				}
			},
		},
		{
			// The proxy's own TLS, then the CONNECT inside it: the wire
			// shows a TLS connection to the proxy's port for its name,
			// and the key log (Go's, which holds both handshakes) opens
			// it and the target's handshake in its tunnel.
			name: "through an https:// proxy", scenario: tlslab.OK, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			setup: httpsProxySetup(true),
			facts: []string{"the request succeeded and the wire shows a completed handshake", "SNI " + tlslab.ProxyName, "the wire's verdict is about the target's TLS handshake, read inside the https:// proxy's TLS"},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				o := r.Client
				if o.Timings.ProxyTLSHandshake == nil || o.Timings.ProxyConnect == nil || o.ProxyTLS == nil || o.HTTP == nil || o.HTTP.StatusCode != 200 {
					t.Fatalf("client: proxy TLS %v in %v, CONNECT in %v, HTTP %+v", o.ProxyTLS != nil, o.Timings.ProxyTLSHandshake, o.Timings.ProxyConnect, o.HTTP)
				}
				if len(o.ProxyPeerCertificates) == 0 || o.ProxyPeerCertificates[0].Subject.CommonName != tlslab.ProxyName ||
					len(o.PeerCertificates) == 0 || o.PeerCertificates[0].Subject.CommonName != tlslab.GoodName {
					t.Errorf("the proxy's and the target's leaves are mixed up: %v, %v", o.ProxyPeerCertificates, o.PeerCertificates)
				}
				if w := r.Wire.Result; w != nil {
					if w.Conn.ClientHello == nil || w.Conn.ClientHello.ServerName != tlslab.GoodName || w.Conn.Server.Port() != o.Remote.Port() ||
						w.Conn.Proxy == nil || w.Conn.Proxy.TLS == nil || w.Conn.Proxy.TLS.ServerName != tlslab.ProxyName {
						t.Errorf("wire: %v with hello for %q, want the TLS connection to the proxy for %s and the target's handshake in it", w.Conn.Server, sniText(w.Conn), tlslab.ProxyName)
					}
				}
				text := strings.Join(strings.Fields(writeTable(t, r)), " ")
				for _, want := range []string{"proxy TLS handshake ", "proxy CONNECT ", "TLS to the proxy: TLS 1.3", "proxy's certificate: 'CN=proxy.test", "Correlation: agree"} {
					if !strings.Contains(text, want) {
						t.Errorf("the report lacks %q:\n%s", want, text)
					}
				}
				doc := NewDocument(r)
				if p := doc.Client.ProxyTLS; p == nil || p.ServerName != tlslab.ProxyName || p.Version != "TLS 1.3" || doc.Client.Timings.ProxyTLSHandshake == nil {
					t.Errorf("json: proxy_tls %+v, proxy_tls_handshake_ms %v", p, doc.Client.Timings.ProxyTLSHandshake)
				}
			},
		},
		{
			// Without --proxy-cacert the proxy's own certificate is
			// checked against the system roots, which lack the lab's:
			// the failure is the proxy's, and so is the fix.
			name: "https:// proxy's certificate untrusted", scenario: tlslab.OK, class: CertUnknownAuthority, phase: PhaseProxyTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, server netip.AddrPort) {
				httpsProxySetup(false)(t, c, lab, server)
				c.WireRoots = nil // the system roots, as the command's without --proxy-cacert
				c.SettingNames = map[diagnose.Setting]string{diagnose.SettingRoots: "--cacert"}
			},
			category: diagnose.CertUntrustedCA, agreement: Agree,
			facts: []string{"the https:// proxy's own certificate does not lead to a root the client trusts (the system roots)",
				"make the client trust the proxy's CA (--proxy-cacert)", "SSL_CERT_FILE", "the certificate and the handshake it judges are the proxy's own, not the target's"},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				o := r.Client
				if len(o.PeerCertificates) != 0 || len(o.ProxyPeerCertificates) == 0 || o.ProxyPeerCertificates[0].Subject.CommonName != tlslab.ProxyName {
					t.Errorf("the chain the proxy sent is the target's (%v) or missing (%v)", o.PeerCertificates, o.ProxyPeerCertificates)
				}
				if o.Timings.ProxyTLSHandshake == nil || o.Timings.ProxyConnect != nil || o.Timings.TLSHandshake != nil {
					t.Errorf("timings %+v: want the proxy's handshake only", o.Timings)
				}
				if c := r.Correlation; strings.Contains(c.Cause+c.Fix, "server's") || strings.Contains(c.Fix, "(--cacert") {
					t.Errorf("cause %q, fix %q: about the target's certificate, not the proxy's", c.Cause, c.Fix)
				}
				if w := r.Wire.Result; w != nil && (w.Conn.ClientHello == nil || w.Conn.ClientHello.ServerName != tlslab.ProxyName || !strings.Contains(w.Verdict.Fix, "--proxy-cacert")) {
					t.Errorf("wire: SNI %+v, fix %q: want the proxy's name and --proxy-cacert", w.Conn.ClientHello, w.Verdict.Fix)
				}
			},
		},
		{
			// The proxy is trusted and tunnels; the target's chain is
			// not trusted: the client's error is the target's, and the
			// key log lets the wire read its handshake in the tunnel.
			name: "https:// proxy fine, target's certificate untrusted", scenario: tlslab.CertUntrustedCA, class: CertUnknownAuthority, phase: PhaseTLS,
			setup: httpsProxySetup(true), category: diagnose.CertUntrustedCA, agreement: Agree,
			facts: []string{"the client's error (cert_unknown_authority) is what the wire shows (cert_untrusted_ca)",
				"'CN=Untrusted Root CA,O=tlsdiag test lab'", "through the https:// proxy", "SNI proxy.test",
				"the wire's verdict is about the target's TLS handshake, read inside the https:// proxy's TLS"},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				o := r.Client
				if o.ProxyTLS == nil || len(o.PeerCertificates) == 0 || o.PeerCertificates[0].Issuer.CommonName != tlslab.UntrustedRootName {
					t.Errorf("proxy TLS %v, target's chain %v: want the proxy's handshake done and the target's untrusted leaf", o.ProxyTLS != nil, o.PeerCertificates)
				}
				if c := r.Correlation; strings.Contains(c.Fix, "proxy") || strings.Contains(c.Summary, "disagree") {
					t.Errorf("summary %q, fix %q: the target's certificate is not the proxy's, and the wire neither agrees nor disagrees", c.Summary, c.Fix)
				}
			},
		},
		{
			// The proxy's TLS is fine and it answers the CONNECT inside
			// it with 502 (nothing listens at the target): the key log
			// lets the wire read the CONNECT and the answer, so the
			// verdict is the proxy's, not ok, and it agrees with Go.
			name: "https:// proxy cannot reach the target (502 inside its TLS)", scenario: tlslab.ConnectionRefused, class: ProxyConnectFailed, phase: PhaseProxy,
			setup: httpsProxySetup(true), category: diagnose.ProxyUpstreamFailed, agreement: Agree,
			facts: []string{"the TLS handshake with the https:// proxy", "inside it (decrypted) the client asked the proxy for a tunnel to good.test:",
				`"HTTP/1.1 502 Bad Gateway"`, "the TLS server was never reached", "between the proxy and good.test:"},
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				w := r.Wire.Result
				if w == nil || w.Conn.ProxyInTLS == nil || w.Conn.ProxyInTLS.Status != 502 || w.Conn.ClientHello == nil || w.Conn.ClientHello.ServerName != tlslab.ProxyName {
					t.Fatalf("wire: want the TLS connection to %s with the CONNECT answered 502 inside it", tlslab.ProxyName)
				}
				p := w.Conn.ProxyInTLS
				if !slices.Contains(w.Verdict.Evidence, p.RequestFrame.Number) || !slices.Contains(w.Verdict.Evidence, p.ReplyFrame.Number) {
					t.Errorf("evidence %v: want the CONNECT (frame %d) and the 502 (frame %d)", w.Verdict.Evidence, p.RequestFrame.Number, p.ReplyFrame.Number)
				}
			},
		},
		{
			// The proxy named by its address, its certificate by its
			// name: the mismatch is the proxy URL's host, not the
			// target's name.
			name: "https:// proxy named by an address its certificate lacks", scenario: tlslab.OK, class: CertHostnameMismatch, phase: PhaseProxyTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Proxy = &url.URL{Scheme: "https", Host: labProxy(t, lab, tlslab.ProxyTLS).String()}
				c.ProxyRootCAs = lab.RootPool()
			},
			category: diagnose.CertHostnameMismatch, agreement: Agree,
			facts: []string{"the https:// proxy's own certificate is not valid for 127.0.0.1, the host of the proxy URL", "by a name its certificate covers"},
			check: notInFix("--servername"),
		},
		{
			// HTTPS_PROXY=https:// for a proxy that speaks plain HTTP
			// (here a plain HTTP server, which answers the ClientHello
			// with 400): the fix is the http:// URL.
			name: "https:// proxy that speaks plain HTTP", scenario: tlslab.OK, class: NotTLS, phase: PhaseProxyTLS,
			setup: func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
				c.Proxy = &url.URL{Scheme: "https", Host: labProxy(t, lab, tlslab.NotTLSServer).String()}
			},
			category: diagnose.NotTLSServer, agreement: Agree,
			facts: []string{"answered the ClientHello with something that is not TLS: it speaks plain HTTP on this port", "use http://127.0.0.1:"},
		},
		{
			name: "handshake only", scenario: tlslab.OKTLS13, hostPort: true, phase: PhaseDone, category: diagnose.OK, agreement: Agree,
			check: func(t *testing.T, r *Result, _ *tlslab.Lab) {
				if r.Client.HTTP != nil || r.Client.TLS == nil || r.Client.TLS.NegotiatedProtocol != "" {
					t.Errorf("handshake-only probe: HTTP %+v, TLS %+v", r.Client.HTTP, r.Client.TLS)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runLabCase(t, tt, lab, capturing)
		})
	}
}

func runLabCase(t *testing.T, tt labCase, lab *tlslab.Lab, capturing bool) {
	opts := []tlslab.Option{tlslab.WithLab(lab)}
	if tt.listen != "" {
		if ln, err := net.Listen("tcp", tt.listen); err != nil {
			t.Skipf("%s is not available here: %v", tt.listen, err)
		} else {
			ln.Close()
		}
		opts = append(opts, tlslab.WithAddr(tt.listen))
	}
	srv, err := tlslab.Start(tt.scenario, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := srv.Addr()
	target := Target{Host: tlslab.GoodName, Port: addr.Port()}
	if !tt.hostPort {
		target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
	}
	cfg := Config{
		Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), Names: flagNames,
		Resolve:        []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
		ConnectTimeout: 2 * time.Second, MaxTime: 5 * time.Second, NoProxyEnv: true,
	}
	if tt.setup != nil {
		tt.setup(t, &cfg, lab, addr)
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := &res.Client
	if o.Class != tt.class || o.Phase != tt.phase {
		t.Errorf("client: class %q in phase %q, want %q in %q (error %v)", o.Class, o.Phase, tt.class, tt.phase, o.Err)
	}
	if (o.Err == nil) != res.OK() || res.OK() != (tt.class == ClassNone) {
		t.Errorf("OK() = %v with error %v", res.OK(), o.Err)
	}
	text := strings.Join(append([]string{res.Correlation.Summary, res.Correlation.Wire, res.Correlation.Cause, res.Correlation.Fix}, res.Correlation.Notes...), "\n")
	if !capturing {
		if res.Correlation.Agreement != ClientOnly || res.Wire.Err == nil {
			t.Errorf("without capture privileges: agreement %q, wire error %v", res.Correlation.Agreement, res.Wire.Err)
		}
		return
	}
	if res.Wire.Err != nil {
		t.Fatalf("capture failed: %v", res.Wire.Err)
	}
	if res.Correlation.Agreement != tt.agreement {
		t.Errorf("agreement %q, want %q:\n%s", res.Correlation.Agreement, tt.agreement, text)
	}
	for _, f := range tt.facts {
		if !strings.Contains(text, f) {
			t.Errorf("correlation lacks %q:\n%s", f, text)
		}
	}
	r := res.Wire.Result
	if r == nil {
		t.Fatalf("the capture (%d frames, notes %q) does not show the connection", res.Wire.Frames, res.Wire.Notes)
	}
	if tt.category != "" && r.Verdict.Category != tt.category {
		t.Errorf("wire verdict %s (%s), want %s", r.Verdict.Category, r.Verdict.Summary, tt.category)
	}
	if o.Local.IsValid() && r.Conn.Client.Port() != o.Local.Port() {
		t.Errorf("picked the connection from port %d, the request used %d", r.Conn.Client.Port(), o.Local.Port())
	}
	if r.Verdict.Failed() {
		if len(r.Verdict.Evidence) == 0 {
			t.Errorf("verdict %s without evidence", r.Verdict.Category)
		}
		for _, f := range r.Verdict.Evidence {
			if f < r.Conn.First.Number || f > r.Conn.Last.Number {
				t.Errorf("evidence frame %d outside the connection (frames %d–%d)", f, r.Conn.First.Number, r.Conn.Last.Number)
			}
		}
	}
	if tt.evidence != nil {
		for _, f := range tt.evidence(r.Conn) {
			if !slices.Contains(r.Verdict.Evidence, f) {
				t.Errorf("evidence %v lacks frame %d", r.Verdict.Evidence, f)
			}
		}
	}
	if tt.check != nil {
		tt.check(t, res, lab)
	}
	if buf, ok := cfg.Pcap.(*bytes.Buffer); ok {
		checkPcap(t, buf, res.Wire.Frames)
	}
	if buf, ok := cfg.KeyLog.(*bytes.Buffer); ok && !strings.Contains(buf.String(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
		t.Errorf("--keylog writer got %q", buf.String())
	}
}

// expiredCheck: the verdict names the leaf's notAfter, read from the
// capture (decrypted for TLS 1.3).
func expiredCheck(t *testing.T, r *Result, lab *tlslab.Lab) {
	notAfter := lab.Expired.Cert.NotAfter.UTC()
	if r.Wire.Result == nil {
		return
	}
	c := r.Wire.Result.Conn
	if len(c.Certificates) == 0 || c.Certificates[0].X509 == nil || !c.Certificates[0].X509.NotAfter.Equal(notAfter) {
		t.Errorf("the capture's leaf is not the expired certificate (notAfter %v)", notAfter)
	}
	if want := notAfter.Format("2006-01-02 15:04:05 UTC"); !strings.Contains(r.Wire.Result.Verdict.Summary, want) {
		t.Errorf("verdict %q does not name notAfter %s", r.Wire.Result.Verdict.Summary, want)
	}
}

// otherRoots makes the client and the wire trust a CA that is not the
// lab's, as a user without the lab's private root would.
func otherRoots(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
	c.RootCAs, c.WireRoots = x509.NewCertPool(), x509.NewCertPool()
	c.RootCAs.AddCert(lab.UntrustedRoot.Cert)
	c.WireRoots.AddCert(lab.UntrustedRoot.Cert)
}

// resolvedByLookup makes the resolver, not Config.Resolve, give the server's
// address.
func resolvedByLookup(t *testing.T, c *Config, _ *tlslab.Lab, server netip.AddrPort) {
	c.Resolve, c.Resolver = nil, fakeResolver{addrs: []netip.Addr{server.Addr()}}
}

// labName is the subject of one of the lab's CAs as verdicts quote it.
func labName(cn string) string { return "CN=" + cn + ",O=tlsdiag test lab" }

// notInFix: the correlation's fix does not say s.
func notInFix(s string) func(*testing.T, *Result, *tlslab.Lab) {
	return func(t *testing.T, r *Result, _ *tlslab.Lab) {
		if strings.Contains(r.Correlation.Fix, s) {
			t.Errorf("fix %q says %q", r.Correlation.Fix, s)
		}
	}
}

// scanCheck: the scan found exactly the one version the server accepts.
func scanCheck(only uint16) func(*testing.T, *Result, *tlslab.Lab) {
	return func(t *testing.T, r *Result, _ *tlslab.Lab) {
		if r.Scan == nil {
			t.Fatal("no scan")
		}
		if got := r.Scan.Accepted(); !slices.Equal(got, []uint16{only}) {
			t.Errorf("scan accepted %v, want only %s", got, versionName(only))
		}
	}
}

// checkPcap reads back the -w output: a pcap with every frame analysed.
func checkPcap(t *testing.T, buf *bytes.Buffer, frames int64) {
	t.Helper()
	f, err := capture.NewReader("probe.pcap", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("-w output: %v", err)
	}
	var n int64
	for {
		if _, _, err := f.ReadPacketData(); err != nil {
			if err != io.EOF {
				t.Fatalf("-w output frame %d: %v", n+1, err)
			}
			break
		}
		n++
	}
	if n != frames || n == 0 {
		t.Errorf("-w output has %d frames, the analysis %d", n, frames)
	}
}

// labProxy starts a lab proxy scenario and returns its address.
func labProxy(t *testing.T, lab *tlslab.Lab, s tlslab.Scenario) netip.AddrPort {
	p, err := tlslab.Start(s, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Addr()
}

// proxySetup makes the probe go through a lab proxy, with credentials
// "user:password" unless empty.
func proxySetup(s tlslab.Scenario, userinfo string) func(*testing.T, *Config, *tlslab.Lab, netip.AddrPort) {
	return func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
		u := &url.URL{Scheme: "http", Host: labProxy(t, lab, s).String()}
		if user, pw, ok := strings.Cut(userinfo, ":"); ok {
			u.User = url.UserPassword(user, pw)
		}
		c.Proxy = u
	}
}

// httpsProxySetup makes the probe go through the lab's https:// proxy,
// named by ProxyName (pinned to its address as --resolve would), trusting
// the lab's Root for the proxy's own certificate (as --proxy-cacert does)
// when trusted, else the system roots.
func httpsProxySetup(trusted bool) func(*testing.T, *Config, *tlslab.Lab, netip.AddrPort) {
	return func(t *testing.T, c *Config, lab *tlslab.Lab, _ netip.AddrPort) {
		addr := labProxy(t, lab, tlslab.ProxyTLS)
		c.Proxy = &url.URL{Scheme: "https", Host: net.JoinHostPort(tlslab.ProxyName, strconv.Itoa(int(addr.Port())))}
		c.Resolve = append(c.Resolve, Resolve{Host: tlslab.ProxyName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}})
		if trusted {
			c.ProxyRootCAs = lab.RootPool()
		}
	}
}

// socksSetup makes the probe go through a lab SOCKS5 proxy, with
// credentials "user:password" unless empty.
func socksSetup(s tlslab.Scenario, userinfo string) func(*testing.T, *Config, *tlslab.Lab, netip.AddrPort) {
	return func(t *testing.T, c *Config, lab *tlslab.Lab, server netip.AddrPort) {
		proxySetup(s, userinfo)(t, c, lab, server)
		c.Proxy.Scheme = "socks5"
	}
}

// writeTable is the probe's text report.
func writeTable(t *testing.T, r *Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, report.FormatTable, r, WriteOptions{Names: flagNames}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// proxyFrames are the frames of the proxy's negotiation.
func proxyFrames(c *analysis.Connection) []int64 {
	if c.Proxy == nil {
		return []int64{-1}
	}
	return []int64{c.Proxy.RequestFrame.Number, c.Proxy.ReplyFrame.Number}
}

// agreesWithGo makes the same request with Go's net/http through the same
// proxy: its error must get the probe's class, and the wire's verdict must
// agree with it.
func agreesWithGo(t *testing.T, r *Result, lab *tlslab.Lab) {
	t.Helper()
	proxy, err := url.Parse(r.Client.Proxy)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		Proxy:           http.ProxyURL(proxy),
		TLSClientConfig: &tls.Config{RootCAs: lab.RootPool()},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, goErr := client.Get(r.Target.URL.String())
	if goErr == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if got := Classify(goErr); got != r.Client.Class {
		t.Errorf("Go's net/http: %v, class %q; the probe's class %q", goErr, got, r.Client.Class)
	}
	if r.Wire.Result == nil {
		return
	}
	o := r.Client
	o.Err, o.Class = goErr, Classify(goErr)
	if c := Correlate(r.Target, &o, &r.Wire, false, flagNames); c.Agreement != Agree {
		t.Errorf("Go's error %v: correlation %q (%s)", goErr, c.Agreement, c.Summary)
	}
}

// startProxy runs a minimal HTTP CONNECT proxy on loopback. With a zero
// upstream it refuses every CONNECT with 403; otherwise it tunnels every
// CONNECT to upstream, whatever host it names.
func startProxy(t *testing.T, upstream netip.AddrPort) netip.AddrPort {
	return acceptEach(t, func(c net.Conn) { serveProxy(c, upstream) })
}

// acceptEach listens on loopback until the test ends and hands each
// connection to handle, on a goroutine of its own; it returns the
// address.
func acceptEach(t *testing.T, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func serveProxy(c net.Conn, upstream netip.AddrPort) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if !upstream.IsValid() {
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", upstream.String())
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		io.Copy(up, br)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	<-done
}

// TestProbeHTTP2 probes a server that speaks HTTP/2: the request goes
// over the connection the probe made, as h2.
func TestProbeHTTP2(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}},
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	target := Target{Host: tlslab.GoodName, Port: addr.Port()}
	target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
	res, err := Run(context.Background(), Config{
		Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), NoProxyEnv: true, ShowBody: true, Names: flagNames,
		Resolve: []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if h := res.Client.HTTP; res.Client.Err != nil || h == nil || h.Proto != "HTTP/2.0" || string(h.Body) != "HTTP/2.0" {
		t.Fatalf("error %v, response %+v", res.Client.Err, res.Client.HTTP)
	}
	if capturing && (res.Wire.Result == nil || res.Wire.Result.Conn.ALPN != "h2" || res.Correlation.Agreement != Agree) {
		t.Errorf("wire %+v, correlation %+v", res.Wire, res.Correlation)
	}
}

// TestProbeHTTP2ServerEnds: an HTTP/2 server that resets the request's
// stream (a Go handler that aborts: RST_STREAM INTERNAL_ERROR) or ends the
// connection (GOAWAY ENHANCE_YOUR_CALM, a rate limit) after a good
// handshake. TLS is fine and the wire agrees; the cause is the code the
// server sent, not a malformed response or ALPN.
func TestProbeHTTP2ServerEnds(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reset := startH2Server(t, lab, func(c net.Conn) {
		srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })}
		(&http2.Server{}).ServeConn(c, &http2.ServeConnOpts{BaseConfig: srv})
	})
	goaway := startH2Server(t, lab, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, len(http2.ClientPreface))); err != nil {
			return
		}
		fr := http2.NewFramer(c, c)
		fr.WriteSettings()
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if _, ok := f.(*http2.HeadersFrame); ok {
				fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, nil)
				time.Sleep(100 * time.Millisecond)
				return
			}
		}
	})
	for _, tt := range []struct {
		name  string
		addr  netip.AddrPort
		cause string
		fix   string
	}{
		{"RST_STREAM", reset, "reset the HTTP/2 stream of the request (RST_STREAM INTERNAL_ERROR): the server's application failed", "the server's error log"},
		{"GOAWAY", goaway, "ended the HTTP/2 connection (GOAWAY ENHANCE_YOUR_CALM) before answering the request: the server considers the client's load excessive", "rate limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := labConfig(lab, tt.addr)
			cfg.ALPN = nil
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			o := res.Client
			if o.Class != HTTPError || o.Phase != PhaseHTTP || o.TLS == nil || o.TLS.NegotiatedProtocol != "h2" {
				t.Fatalf("client: class %q in phase %q (%v), want http_error over h2", o.Class, o.Phase, o.Err)
			}
			c := res.Correlation
			if !strings.Contains(c.Cause, tt.cause) || !strings.Contains(c.Fix, tt.fix) || strings.Contains(c.Fix, "malformed") {
				t.Errorf("cause %q, fix %q; want %q and %q", c.Cause, c.Fix, tt.cause, tt.fix)
			}
			if capturing && (res.Wire.Result == nil || res.Wire.Result.Verdict.Category != diagnose.OK || c.Agreement != Agree) {
				t.Errorf("wire %+v, agreement %s; want a good handshake that agrees", res.Wire.Result, c.Agreement)
			}
		})
	}
}

// TestProbeBodyCutShort: the server answers 200 with a Content-Length of
// 100 and sends 6 bytes of the body, then closes the connection or goes
// silent past the time limit. The port clearly speaks TLS and HTTP: the
// cause is the server's application, not a silent rejection or a port that
// does not serve TLS.
func TestProbeBodyCutShort(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	addr := startClientCertServer(t, lab, &tls.Config{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "start\n")
		w.(http.Flusher).Flush()
		if r.URL.Path == "/close" {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
			return
		}
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	for _, tt := range []struct {
		path  string
		class Class
		cause string
	}{
		{"/close", ConnectionClosed, "the server answered (HTTP/1.1 200 OK), then 127.0.0.1:"},
		{"/stall", Timeout, "the server answered (HTTP/1.1 200 OK), then the body stopped coming after 6 of 100 bytes"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			cfg := labConfig(lab, addr)
			cfg.Target.URL.Path = tt.path
			cfg.MaxTime = time.Second
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Client.Class != tt.class || res.Client.Phase != PhaseHTTP {
				t.Fatalf("client: class %q in phase %q (%v), want %q in http", res.Client.Class, res.Client.Phase, res.Client.Err, tt.class)
			}
			c := res.Correlation
			if !strings.Contains(c.Cause, tt.cause) || !strings.Contains(c.Cause, "6 of 100 bytes") || !strings.Contains(c.Fix, "server application, not at TLS") || strings.Contains(c.Fix, "serves TLS") || strings.Contains(c.Fix, "speak TLS") {
				t.Errorf("cause %q, fix %q; want %q and the server application", c.Cause, c.Fix, tt.cause)
			}
			if capturing && (res.Wire.Result == nil || res.Wire.Result.Verdict.Category != diagnose.OK || c.Agreement != Agree) {
				t.Errorf("wire %+v, agreement %s; want a good handshake that agrees", res.Wire.Result, c.Agreement)
			}
		})
	}
}

// TestProbeFollow follows redirects as curl -L does: a good server
// redirects to one whose certificate expired, so the second connection
// fails; the report is that connection's, with its own frames, and the
// first request is listed. A POST answered 302 goes on as a GET without
// its body, and a redirect past the limit is a failure.
func TestProbeFollow(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, err := tlslab.Start(tlslab.CertExpired, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer expired.Close()
	methods := make(chan string, 10)
	good := startClientCertServer(t, lab, &tls.Config{}, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		methods <- r.Method + " " + r.URL.Path + " " + string(body)
		if port, ok := strings.CutPrefix(r.URL.Path, "/to-plain/"); ok {
			http.Redirect(w, r, "http://"+tlslab.GoodName+":"+port+"/", http.StatusMovedPermanently)
			return
		}
		switch r.URL.Path {
		case "/to-expired":
			http.Redirect(w, r, "https://"+tlslab.GoodName+":"+strconv.Itoa(int(expired.Addr().Port()))+"/", http.StatusFound)
		case "/form":
			http.Redirect(w, r, "/done", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "done")
		}
	})
	cfg := labConfig(lab, good)
	cfg.Resolve = append(cfg.Resolve, Resolve{Host: tlslab.GoodName, Port: expired.Addr().Port(), Addrs: []netip.Addr{expired.Addr().Addr()}})
	at := func(path string) Config {
		c := cfg
		u := *cfg.Target.URL
		u.Path = path
		c.Target.URL = &u
		return c
	}

	t.Run("to an expired certificate", func(t *testing.T) {
		c := at("/to-expired")
		pcap := &bytes.Buffer{}
		c.Pcap = pcap
		res, err := Follow(context.Background(), c, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Redirects) != 1 || !strings.HasSuffix(res.Redirects[0].URL, "/to-expired") || res.Redirects[0].Remote.Port() != good.Port() ||
			!strings.Contains(res.Redirects[0].Status, "302") || res.Redirects[0].Location != "https://"+tlslab.GoodName+":"+strconv.Itoa(int(expired.Addr().Port()))+"/" {
			t.Errorf("redirects %+v, want the one 302 from port %d", res.Redirects, good.Port())
		}
		if res.Target.Port != expired.Addr().Port() || res.Client.Remote != expired.Addr() || res.Client.Class != CertExpired || res.OK() {
			t.Fatalf("last request: %s at %v, class %q, OK %v; want the expired server's cert_expired", res.Target, res.Client.Remote, res.Client.Class, res.OK())
		}
		if !capturing {
			return
		}
		r := res.Wire.Result
		if r == nil || r.Conn.Server != expired.Addr() || r.Verdict.Category != diagnose.CertExpired || res.Correlation.Agreement != Agree {
			t.Fatalf("wire %+v, agreement %s; want the expired server's connection, cert_expired, agreeing", r, res.Correlation.Agreement)
		}
		if !slices.Contains(r.Verdict.Evidence, r.Conn.CertificateFrame.Number) {
			t.Errorf("evidence %v lacks the certificate's frame %d", r.Verdict.Evidence, r.Conn.CertificateFrame.Number)
		}
		checkPcap(t, pcap, res.Wire.Frames)
	})
	for len(methods) > 0 {
		<-methods
	}
	t.Run("POST becomes GET", func(t *testing.T) {
		c := at("/form")
		c.Body = []byte("a=b")
		res, err := Follow(context.Background(), c, 5)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() || len(res.Redirects) != 1 || res.Client.HTTP.StatusCode != 200 {
			t.Fatalf("OK %v, %d redirects, error %v", res.OK(), len(res.Redirects), res.Client.Err)
		}
		if got := []string{<-methods, <-methods}; got[0] != "POST /form a=b" || got[1] != "GET /done " {
			t.Errorf("the server saw %q, want the POST then a GET without the body", got)
		}
	})
	t.Run("to plain http", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		plain := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "plain") })}
		go plain.Serve(ln)
		defer plain.Close()
		port := ln.Addr().(*net.TCPAddr).AddrPort().Port()
		c := at("/to-plain/" + strconv.Itoa(int(port)))
		c.Resolve = append(c.Resolve, Resolve{Host: tlslab.GoodName, Port: port, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
		res, err := Follow(context.Background(), c, 5)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() || !res.Target.Plain() || len(res.Redirects) != 1 || res.Client.HTTP == nil || res.Client.HTTP.StatusCode != 200 {
			t.Fatalf("OK %v, target %s, %d redirects, error %v", res.OK(), res.Target, len(res.Redirects), res.Client.Err)
		}
		if !slices.ContainsFunc(res.Correlation.Notes, func(n string) bool { return strings.Contains(n, "from https:// to plain http://") }) {
			t.Errorf("notes %q do not say the redirect left TLS", res.Correlation.Notes)
		}
		if head, _, _ := strings.Cut(writeTable(t, res), "\n"); strings.Contains(head, "SNI") {
			t.Errorf("the plain request's header %q speaks of SNI", head)
		}
	})
	t.Run("past the limit", func(t *testing.T) {
		c := at("/loop")
		res, err := Follow(context.Background(), c, 2)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() || !res.RedirectLimitReached || len(res.Redirects) != 2 || res.Client.HTTP == nil || res.Client.HTTP.StatusCode != http.StatusFound {
			t.Errorf("OK %v, limit reached %v, %d redirects; want a failure after 2", res.OK(), res.RedirectLimitReached, len(res.Redirects))
		}
	})
}

// TestProbeServerErrorStatus: a 5xx answer after a good handshake is the
// server's (or its backend's), never TLS's; a gateway's 502, 503 or 504
// points at the backend, not at the request.
func TestProbeServerErrorStatus(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := startClientCertServer(t, lab, &tls.Config{}, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
	})
	for _, tt := range []struct {
		code    int
		fix     string
		notInIt string
	}{
		{502, "the backend (upstream) it forwards to", "look at the request"},
		{504, "the backend (upstream) it forwards to", "look at the request"},
		{500, "the server's error log", "look at the request"},
		{404, "look at the request", "backend"},
	} {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			cfg := labConfig(lab, addr)
			cfg.Target.URL.Path = "/" + strconv.Itoa(tt.code)
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Client.Err != nil || res.Client.HTTP == nil || res.Client.HTTP.StatusCode != tt.code || !res.OK() {
				t.Fatalf("error %v, response %+v, OK %v", res.Client.Err, res.Client.HTTP, res.OK())
			}
			c := res.Correlation
			if !strings.Contains(c.Fix, "nothing to change in TLS") || !strings.Contains(c.Fix, tt.fix) || strings.Contains(c.Fix, tt.notInIt) {
				t.Errorf("fix %q: want %q, not %q", c.Fix, tt.fix, tt.notInIt)
			}
			if capturing && (res.Wire.Result == nil || res.Wire.Result.Verdict.Category != diagnose.OK || c.Agreement != Agree) {
				t.Errorf("wire %+v, agreement %s", res.Wire.Result, c.Agreement)
			}
		})
	}
}

// TestProbeHostHeader: -H "Host: …" replaces the Host header (HTTP/2's
// :authority) the request sends, as curl's does, while the SNI stays the
// URL's name: how a virtual host behind one certificate is tested, and
// what a 421 Misdirected Request answers.
func TestProbeHostHeader(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := startClientCertServer(t, lab, &tls.Config{}, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto+" host "+r.Host+" sni "+r.TLS.ServerName)
	})
	for _, alpn := range []string{"http/1.1", "h2"} {
		t.Run(alpn, func(t *testing.T) {
			cfg := labConfig(lab, addr)
			cfg.ALPN, cfg.ShowBody = []string{alpn}, true
			cfg.Header = http.Header{}
			cfg.Header.Add("Host", "other.test")
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := res.Client.HTTP
			if h == nil {
				t.Fatalf("no response: %v", res.Client.Err)
			}
			if res.Client.Err != nil || !strings.HasSuffix(string(h.Body), " host other.test sni "+tlslab.GoodName) {
				t.Errorf("error %v, response %+v; want the server to see Host other.test and SNI %s", res.Client.Err, string(h.Body), tlslab.GoodName)
			}
		})
	}
}

// startH2Server serves TLS with the lab's Good certificate and ALPN h2
// until the test ends, handing each connection after its handshake to
// serve; it returns its address.
func startH2Server(t *testing.T, lab *tlslab.Lab, serve func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err == nil {
					serve(c)
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// TestProbeClientCertTLS13: under TLS 1.3 the client finishes its
// handshake before the server judges its (missing) certificate, so the
// alert arrives during the HTTP exchange.
func TestProbeClientCertTLS13(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := startClientCertServer(t, lab, &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAndVerifyClientCert},
		func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	cfg := labConfig(lab, addr)
	// The handshake-only form waits for the server's judgement too.
	hs := cfg
	hs.Target.URL = nil
	res, err := Run(context.Background(), hs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != "tls_alert_certificate_required" || res.Client.Phase != PhaseTLS || res.Client.TLS != nil {
		t.Errorf("handshake only: class %q in phase %q (%v), want tls_alert_certificate_required in the handshake", res.Client.Class, res.Client.Phase, res.Client.Err)
	}
	if res, err = Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != "tls_alert_certificate_required" || res.Client.Phase != PhaseHTTP {
		t.Errorf("class %q in phase %q (%v), want tls_alert_certificate_required in http", res.Client.Class, res.Client.Phase, res.Client.Err)
	}
	if !strings.Contains(res.Correlation.Fix, "--cert") {
		t.Errorf("fix %q does not suggest --cert", res.Correlation.Fix)
	}
	if !capturing {
		return
	}
	r := res.Wire.Result
	if r == nil {
		t.Fatal("the capture does not show the connection")
	}
	// The key log reveals the server's alert, sent after both Finished:
	// the handshake did not succeed, whatever the Finished messages say.
	i := slices.IndexFunc(r.Conn.Alerts, func(a analysis.Alert) bool {
		return a.Sender == capture.ServerToClient && a.Decrypted && a.Description.String() == "certificate_required"
	})
	if i < 0 {
		t.Fatalf("the wire shows no decrypted certificate_required from the server: %+v", r.Conn.Alerts)
	}
	if r.Conn.Established || r.Verdict.Category != diagnose.ClientCertRequired {
		t.Errorf("established %v, verdict %s (%s); want not established, client_cert_required", r.Conn.Established, r.Verdict.Category, r.Verdict.Summary)
	}
	if res.Correlation.Agreement != Agree {
		t.Errorf("correlation %+v", res.Correlation)
	}
	// The client wrote its request while the server rejected it: which of
	// the alert, a broken pipe (a write after the RST the server's
	// closed socket sent) or a reset Go reports is a race. The wire is
	// the same, and so is the agreement.
	for _, cause := range []error{
		&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)},
		&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)},
		io.EOF,
	} {
		o := res.Client
		o.Err = &url.Error{Op: "Get", URL: cfg.Target.URL.String(), Err: cause}
		o.Class = Classify(o.Err)
		c := Correlate(res.Target, &o, &res.Wire, false, flagNames)
		if c.Agreement != Agree || strings.Contains(c.Fix, "SNI") {
			t.Errorf("the race's other outcome %v (%s): correlation %s, fix %q; want agree and the wire's fix", o.Err, o.Class, c.Agreement, c.Fix)
		}
	}
}

// TestProbeClientCertRefusedByStatus: a server that asks for a client
// certificate, completes the handshake without one and refuses the
// request with HTTP 400, as nginx with `ssl_verify_client on` does. When
// the probe was given a certificate that crypto/tls did not send (its
// chain reaches none of the CAs the server lists), the report says so,
// not that the client has no certificate.
func TestProbeClientCertRefusedByStatus(t *testing.T) {
	if !canCapture(t) {
		t.Skip("the explanation rests on the wire's CertificateRequest: needs root or CAP_NET_RAW to capture (CI runs as root)")
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := startClientCertServer(t, lab, &tls.Config{MaxVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert},
		func(w http.ResponseWriter, r *http.Request) {
			if len(r.TLS.PeerCertificates) == 0 {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n</html>\r\n")
				return
			}
			io.WriteString(w, "hello")
		})
	cfg := labConfig(lab, addr)
	// The server's own certificate: issued under Root, not ClientCA.
	cfg.Certificates = []tls.Certificate{lab.Good.TLS()}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h := res.Client.HTTP; res.Client.Err != nil || h == nil || h.StatusCode != http.StatusBadRequest {
		t.Fatalf("client: %v, %+v; want HTTP 400", res.Client.Err, res.Client.HTTP)
	}
	if r := res.Wire.Result; r == nil || r.Verdict.Category != diagnose.ClientCertRequired {
		t.Fatalf("wire %+v, want client_cert_required", r)
	}
	c := res.Correlation
	for _, want := range []string{"a client certificate was configured ('CN=" + tlslab.GoodName, labName(tlslab.ClientCAName)} {
		if !strings.Contains(c.Cause, want) {
			t.Errorf("cause %q lacks %q", c.Cause, want)
		}
	}
	if c.Agreement != Agree || !strings.Contains(c.Summary, "400") || !strings.Contains(c.Summary, "the configured client certificate was not sent") {
		t.Errorf("correlation %s: %s", c.Agreement, c.Summary)
	}
}

// TestProbeWithoutCapture makes the capture fail (no such interface) and
// checks that the probe still reports the client's side, and says why the
// wire view is missing.
func TestProbeWithoutCapture(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tlslab.Start(tlslab.CertExpired, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := Config{
		Target: Target{Host: srv.Addr().Addr().String(), Port: srv.Addr().Port()}, RootCAs: lab.RootPool(), Names: flagNames,
		ServerName: tlslab.GoodName, Interface: "tlsdiag-none0", NoProxyEnv: true, MaxTime: 5 * time.Second,
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != CertExpired || res.Wire.Err == nil || res.Wire.Result != nil {
		t.Fatalf("class %q, wire error %v, wire result %v", res.Client.Class, res.Wire.Err, res.Wire.Result)
	}
	c := res.Correlation
	if c.Agreement != ClientOnly || !strings.Contains(c.Cause, "validity period") || !strings.Contains(c.Fix, "renew") {
		t.Errorf("correlation %+v", c)
	}
	if !strings.Contains(c.Summary, "no wire view ("+res.Wire.Err.Error()+")") {
		t.Errorf("summary %q does not say why there is no wire view", c.Summary)
	}
	if len(res.Client.PeerCertificates) != 2 || !res.Client.PeerCertificates[0].NotAfter.Equal(lab.Expired.Cert.NotAfter) {
		t.Errorf("the client's copy of the rejected chain: %d certificates", len(res.Client.PeerCertificates))
	}
}

// TestProbeDNSFailure: a name that does not resolve is reported without a
// capture (there was no connection to capture).
func TestProbeDNSFailure(t *testing.T) {
	cfg := Config{
		Target: Target{Host: "nowhere.invalid", Port: 443}, Names: flagNames,
		Resolver: fakeResolver{err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}},
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != DNSNotFound || res.Client.Phase != PhaseResolve || res.Client.Timings.DNS == nil {
		t.Errorf("class %q phase %q timings %+v", res.Client.Class, res.Client.Phase, res.Client.Timings)
	}
	if res.Correlation.Agreement != ClientOnly || !strings.Contains(res.Correlation.Cause, "nowhere.invalid") {
		t.Errorf("correlation %+v", res.Correlation)
	}
	if res.Wire.Err != errNoConnection {
		t.Errorf("wire error %v", res.Wire.Err)
	}
	if head, _, _ := strings.Cut(writeTable(t, res), "\n"); strings.Contains(head, "SNI") {
		t.Errorf("header %q speaks of an SNI, but the probe never got to TLS", head)
	}
}

type fakeResolver struct {
	addrs []netip.Addr
	err   error
}

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f.addrs, f.err
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no target", Config{}},
		{"min above max", Config{Target: Target{Host: "a", Port: 1}, MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS12}},
		{"body without URL", Config{Target: Target{Host: "a", Port: 1}, Body: []byte("x")}},
		{"socks4 proxy", Config{Target: Target{Host: "a", Port: 1}, Proxy: &url.URL{Scheme: "socks4", Host: "p:1"}}},
		{"socks4 proxy from the environment", Config{Target: Target{Host: "a", Port: 1}, Getenv: func(k string) string {
			if k == "HTTPS_PROXY" {
				return "socks4://p:1"
			}
			return ""
		}}},
	}
	for _, tt := range tests {
		if _, err := Run(context.Background(), tt.cfg); err == nil {
			t.Errorf("%s: Run accepted the configuration", tt.name)
		}
	}
}

// checkPcapngSecrets reads probe's pcapng back: tshark, given no key log
// file, shows the TLS 1.3 Certificate (type 11) it decrypted with the
// embedded secrets, and so does tlsdiag's own reader.
func checkPcapngSecrets(t *testing.T, b []byte) {
	t.Helper()
	tsharktest.Path(t, "it opens probe's pcapng with the secrets the file carries")
	path := filepath.Join(t.TempDir(), "probe.pcapng")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := tsharktest.Output(t, "-n", "-r", path, "-o", "tls.keylog_file:", "-Y", "tls.handshake.type == 11", "-T", "fields", "-e", "frame.number"); len(strings.Fields(string(out))) == 0 {
		t.Errorf("tshark shows no decrypted Certificate in the pcapng: %q", out)
	}
	f, err := capture.NewReader("probe.pcapng", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	conns, _, err := analysis.Analyse(context.Background(), f, analysis.Options{KeyLog: new(decrypt.KeyLog)}, capture.Options{}, 1)
	if err != nil || len(conns) == 0 || !conns[0].Decrypted || len(conns[0].Certificates) == 0 {
		t.Errorf("tlsdiag read of the pcapng: %v, %d connections, not decrypted with its own secrets", err, len(conns))
	}
}

// startClientCertServer serves h over TLS with the lab's Good certificate,
// asking for client certificates of the lab's ClientCA as tc says
// (versions, ClientAuth), until the test ends; it returns its address.
func startClientCertServer(t *testing.T, lab *tlslab.Lab, tc *tls.Config, h http.HandlerFunc) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc.Certificates = []tls.Certificate{lab.Good.TLS()}
	tc.ClientCAs = x509.NewCertPool()
	tc.ClientCAs.AddCert(lab.ClientCA.Cert)
	srv := &http.Server{Handler: h, TLSConfig: tc, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// loopbackConfig is a probe of https://good.test:PORT/ at addr, without
// the environment's proxy, within 5 s.
func loopbackConfig(addr netip.AddrPort) Config {
	target := Target{Host: tlslab.GoodName, Port: addr.Port()}
	target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
	return Config{
		Target: target, NoProxyEnv: true, Names: flagNames, MaxTime: 5 * time.Second,
		Resolve: []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
	}
}

// labConfig is loopbackConfig trusting the lab's root, over HTTP/1.1.
func labConfig(lab *tlslab.Lab, addr netip.AddrPort) Config {
	cfg := loopbackConfig(addr)
	cfg.RootCAs, cfg.WireRoots, cfg.ALPN = lab.RootPool(), lab.RootPool(), []string{"http/1.1"}
	return cfg
}
