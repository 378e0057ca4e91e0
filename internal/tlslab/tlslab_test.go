package tlslab

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Alert numbers (RFC 8446, Section 6; RFC 7301 for 120).
const (
	alertHandshakeFailure      = 40
	alertProtocolVersion       = 70
	alertUnrecognizedName      = 112
	alertNoApplicationProtocol = 120
)

func testLab(t *testing.T) *Lab {
	t.Helper()
	l, err := DefaultLab()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// remoteAlert returns the alert the peer sent, if err is crypto/tls's
// "remote error" (a *net.OpError wrapping its unexported alert type).
func remoteAlert(err error) (tls.AlertError, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return 0, false
	}
	for a := range 256 {
		if tls.AlertError(a).Error() == op.Err.Error() {
			return tls.AlertError(a), true
		}
	}
	return 0, false
}

func wantAlert(want tls.AlertError) func(*testing.T, *tls.ConnectionState, error) {
	return func(t *testing.T, _ *tls.ConnectionState, err error) {
		t.Helper()
		if got, ok := remoteAlert(err); !ok || got != want {
			t.Errorf("got error %v, want remote alert %v", err, want)
		}
	}
}

func wantVersion(v uint16) func(*testing.T, *tls.ConnectionState, error) {
	return func(t *testing.T, cs *tls.ConnectionState, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("handshake failed: %v", err)
		}
		if cs.Version != v {
			t.Errorf("negotiated %s, want %s", tls.VersionName(cs.Version), tls.VersionName(v))
		}
	}
}

func wantErrno(want syscall.Errno) func(*testing.T, *tls.ConnectionState, error) {
	return func(t *testing.T, _ *tls.ConnectionState, err error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("got error %v, want %v", err, want)
		}
	}
}

func wantTimeout(t *testing.T, _ *tls.ConnectionState, err error) {
	t.Helper()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("got error %v, want a timeout", err)
	}
}

func wantCertInvalid(detail string) func(*testing.T, *tls.ConnectionState, error) {
	return func(t *testing.T, _ *tls.ConnectionState, err error) {
		t.Helper()
		var ci x509.CertificateInvalidError
		if !errors.As(err, &ci) || ci.Reason != x509.Expired || !strings.Contains(ci.Detail, detail) {
			t.Errorf("got error %v, want x509.CertificateInvalidError Expired with %q in the detail", err, detail)
		}
	}
}

func wantUnknownAuthority(issuer string) func(*testing.T, *tls.ConnectionState, error) {
	return func(t *testing.T, _ *tls.ConnectionState, err error) {
		t.Helper()
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("got error %v, want x509.UnknownAuthorityError", err)
		}
		if got := ua.Cert.Issuer.CommonName; got != issuer {
			t.Errorf("unknown authority %q, want %q", got, issuer)
		}
	}
}

// TestScenarios dials every scenario with a crypto/tls client that trusts
// the lab's root and asks for good.test, tweaked as the scenario intends.
func TestScenarios(t *testing.T) {
	lab := testLab(t)
	tests := []struct {
		name     string
		scenario Scenario
		client   func(*tls.Config) // changes to Lab.ClientConfig
		timeout  time.Duration     // for the dial and the handshake; 5s if 0
		check    func(*testing.T, *tls.ConnectionState, error)
	}{
		{"ok", OK, nil, 0, wantVersion(tls.VersionTLS13)},
		{"ok_tls12", OKTLS12, nil, 0, wantVersion(tls.VersionTLS12)},
		{"ok_tls13", OKTLS13, nil, 0, wantVersion(tls.VersionTLS13)},
		{"ok_rsa", OKRSA, nil, 0, func(t *testing.T, cs *tls.ConnectionState, err error) {
			wantVersion(tls.VersionTLS12)(t, cs, err)
			if _, ok := cs.PeerCertificates[0].PublicKey.(*rsa.PublicKey); !ok || len(cs.PeerCertificates) != 3 {
				t.Errorf("got %T leaf in a chain of %d, want RSA leaf + intermediate + root", cs.PeerCertificates[0].PublicKey, len(cs.PeerCertificates))
			}
		}},
		{"ok_other other.test", OKOther, func(c *tls.Config) { c.ServerName = OtherName }, 0, wantVersion(tls.VersionTLS13)},
		{"ok client with TLS 1.2 max", OK, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, 0, wantVersion(tls.VersionTLS12)},

		{"version_mismatch TLS 1.2 client", VersionMismatch, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, 0, wantAlert(alertProtocolVersion)},
		{"version_mismatch TLS 1.3 client succeeds", VersionMismatch, nil, 0, wantVersion(tls.VersionTLS13)},
		{"ok with TLS 1.0 client", OK, func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10 }, 0, wantAlert(alertProtocolVersion)},
		{"no_shared_cipher", NoSharedCipher, func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
		}, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_cipher GCM client succeeds", NoSharedCipher, nil, 0, wantVersion(tls.VersionTLS12)},
		{"handshake_failure P-384 only", HandshakeFailure, func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP384} }, 0, wantAlert(alertHandshakeFailure)},
		{"handshake_failure X25519 client succeeds", HandshakeFailure, func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519} }, 0, wantVersion(tls.VersionTLS13)},

		{"legacy_tls11 Go's defaults", LegacyTLS11, nil, 0, wantAlert(alertProtocolVersion)},
		{"legacy_tls11 a client that allows TLS 1.0 gets TLS 1.1", LegacyTLS11, func(c *tls.Config) { c.MinVersion = tls.VersionTLS10 }, 0, wantVersion(tls.VersionTLS11)},

		{"cert_expired", CertExpired, nil, 0, wantCertInvalid("is after")},
		{"cert_not_yet_valid", CertNotYetValid, nil, 0, wantCertInvalid("is before")},
		{"cert_self_signed", CertSelfSigned, nil, 0, wantUnknownAuthority(GoodName)},
		{"cert_untrusted_ca", CertUntrustedCA, nil, 0, wantUnknownAuthority(UntrustedRootName)},
		{"cert_hostname_mismatch", CertHostnameMismatch, nil, 0, func(t *testing.T, _ *tls.ConnectionState, err error) {
			var he x509.HostnameError
			if !errors.As(err, &he) || he.Host != GoodName {
				t.Errorf("got error %v, want x509.HostnameError for %s", err, GoodName)
			}
		}},
		{"cert_hostname_mismatch other.test succeeds", CertHostnameMismatch, func(c *tls.Config) { c.ServerName = OtherName }, 0, wantVersion(tls.VersionTLS12)},
		{"cert_incomplete_chain", CertIncompleteChain, nil, 0, wantUnknownAuthority(IntermediateName)},
		{"cert_incomplete_chain with intermediate known succeeds", CertIncompleteChain, func(c *tls.Config) {
			c.RootCAs.AddCert(lab.Intermediate.Cert)
		}, 0, wantVersion(tls.VersionTLS12)},
		{"cert_untrusted_ca_direct", CertDirectRoot, nil, 0, wantUnknownAuthority(PrivateRootName)},
		{"cert_untrusted_ca_direct with the private root trusted succeeds", CertDirectRoot, func(c *tls.Config) {
			c.RootCAs.AddCert(lab.PrivateRoot.Cert)
		}, 0, wantVersion(tls.VersionTLS12)},
		{"no_shared_cipher_rsa_kex with Go's defaults", RSAKeyExchangeOnly, nil, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_cipher_rsa_kex with an RSA key exchange suite succeeds", RSAKeyExchangeOnly, func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		}, 0, wantVersion(tls.VersionTLS12)},
		{"no_shared_group_tls13 with Go's defaults", NoSharedGroupTLS13, nil, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_group_tls13 with an RSA key exchange suite", NoSharedGroupTLS13, func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		}, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_cipher_dhe with Go's defaults", DHEOnly, nil, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_cipher_dhe with every suite crypto/tls implements", DHEOnly, func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA}
		}, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_sigalg_sha1 with Go's defaults", SHA1SignaturesOnly, nil, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_cipher_cbc_sha384 with every TLS 1.2 suite crypto/tls implements", CBCSHA384Only, func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
				for _, cs := range list {
					c.CipherSuites = append(c.CipherSuites, cs.ID)
				}
			}
		}, 0, wantAlert(alertHandshakeFailure)},
		{"no_shared_group_tls13 with TLS 1.2", NoSharedGroupTLS13, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, 0, wantAlert(alertProtocolVersion)},
		{"app_closes_at_once", AppClosesAtOnce, nil, 0, wantVersion(tls.VersionTLS13)},
		{"cert_rejected", CertRejected, nil, 0, wantCertInvalid("is after")},
		{"cert_rejected TLS 1.2 client", CertRejected, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, 0, wantAlert(alertProtocolVersion)},
		{"client_cert_required", ClientCertRequired, nil, 0, wantAlert(alertHandshakeFailure)},
		{"client_cert_required with certificate succeeds", ClientCertRequired, func(c *tls.Config) {
			c.Certificates = []tls.Certificate{lab.Client.TLS()}
		}, 0, wantVersion(tls.VersionTLS12)},
		{"client_cert_required with a leaf whose intermediate is missing: Go sends none", ClientCertRequired, func(c *tls.Config) {
			c.Certificates = []tls.Certificate{(&Cert{Cert: lab.ClientChained.Cert, Key: lab.ClientChained.Key}).TLS()}
		}, 0, wantAlert(alertHandshakeFailure)},
		{"client_cert_required with leaf and intermediate succeeds", ClientCertRequired, func(c *tls.Config) {
			c.Certificates = []tls.Certificate{lab.ClientChained.TLS()}
		}, 0, wantVersion(tls.VersionTLS12)},
		{"alpn_mismatch h2 only", ALPNMismatch, func(c *tls.Config) { c.NextProtos = []string{"h2"} }, 0, wantAlert(alertNoApplicationProtocol)},
		{"alpn_mismatch http/1.1 succeeds", ALPNMismatch, func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} }, 0, wantVersion(tls.VersionTLS13)},
		{"sni_unrecognized", SNIUnrecognized, func(c *tls.Config) { c.ServerName = UnknownName }, 0, wantAlert(alertUnrecognizedName)},
		{"sni_unrecognized good.test succeeds", SNIUnrecognized, nil, 0, wantVersion(tls.VersionTLS13)},
		{"sni_unrecognized_openssl", SNIUnrecognizedOpenSSL, func(c *tls.Config) { c.ServerName = UnknownName }, 0, wantAlert(alertUnrecognizedName)},
		{"sni_unrecognized_openssl good.test succeeds", SNIUnrecognizedOpenSSL, nil, 0, wantVersion(tls.VersionTLS13)},

		{"not_tls_server", NotTLSServer, nil, 0, func(t *testing.T, _ *tls.ConnectionState, err error) {
			var rh tls.RecordHeaderError
			if !errors.As(err, &rh) || !bytes.HasPrefix(rh.RecordHeader[:], []byte("HTTP/")) {
				t.Errorf("got error %v, want tls.RecordHeaderError on an HTTP response", err)
			}
		}},
		{"not_tls_client TLS client succeeds", NotTLSClient, nil, 0, wantVersion(tls.VersionTLS13)},
		{"app_no_answer completes the handshake", AppNoAnswer, nil, 0, wantVersion(tls.VersionTLS13)},
		{"app_no_answer TLS 1.2", AppNoAnswer, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, 0, wantVersion(tls.VersionTLS12)},
		{"ok by IP address: no IP SAN", OKTLS12, func(c *tls.Config) { c.ServerName = "127.0.0.1" }, 0, func(t *testing.T, _ *tls.ConnectionState, err error) {
			var he x509.HostnameError
			if !errors.As(err, &he) || he.Host != "127.0.0.1" {
				t.Errorf("got error %v, want x509.HostnameError for 127.0.0.1", err)
			}
		}},
		{"server_no_response", ServerNoResponse, nil, 300 * time.Millisecond, wantTimeout},
		{"connection_refused", ConnectionRefused, nil, 0, wantErrno(syscall.ECONNREFUSED)},
		{"connection_reset", ConnectionReset, nil, 0, wantErrno(syscall.ECONNRESET)},
		{"no_tcp_answer", NoTCPAnswer, nil, 300 * time.Millisecond, func(t *testing.T, cs *tls.ConnectionState, err error) {
			wantTimeout(t, cs, err)
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "dial" {
				t.Errorf("got error %v, want it from dial", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if prog, ok := tt.scenario.External(); ok {
				if _, err := exec.LookPath(prog); err != nil {
					t.Skipf("%s not installed: %v", prog, err)
				}
			}
			srv := startT(t, tt.scenario)
			cfg := lab.ClientConfig()
			if tt.client != nil {
				tt.client(cfg)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", srv.Addr().String(), cfg)
			var cs *tls.ConnectionState
			if err == nil {
				state := conn.ConnectionState()
				cs = &state
				conn.Close()
			}
			tt.check(t, cs, err)
		})
	}
}

func startT(t *testing.T, s Scenario, opts ...Option) *Server {
	t.Helper()
	srv, err := Start(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestEveryScenarioHasACategory keeps Scenarios and specs in step.
func TestEveryScenarioHasACategory(t *testing.T) {
	if len(Scenarios) != len(specs) {
		t.Errorf("Scenarios has %d entries, specs %d", len(Scenarios), len(specs))
	}
	for _, s := range Scenarios {
		if s.Category() == "" {
			t.Errorf("scenario %q has no category", s)
		}
	}
	if got := Scenario("nonsense").Category(); got != "" {
		t.Errorf("unknown scenario has category %q", got)
	}
	if _, err := Start("nonsense"); err == nil {
		t.Error("Start of an unknown scenario succeeded")
	}
}

func TestOKServesHTTP(t *testing.T) {
	lab := testLab(t)
	srv := startT(t, OK)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: lab.ClientConfig(),
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Addr().String())
		},
	}, Timeout: 5 * time.Second}
	resp, err := client.Get("https://" + GoodName + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != Body || resp.Proto != "HTTP/1.1" {
		t.Errorf("got %s %d %q, want HTTP/1.1 200 %q", resp.Proto, resp.StatusCode, body, Body)
	}
}

// TestProxyInterceptingRelays: through ProxyIntercepting a client that
// trusts Root refuses the proxy's leaf, and one that trusts the proxy's
// CA gets the server's answer, relayed.
func TestProxyInterceptingRelays(t *testing.T) {
	lab := testLab(t)
	srv := startT(t, OK)
	proxy := startT(t, ProxyIntercepting)
	get := func(roots *x509.CertPool) (*http.Response, error) {
		client := &http.Client{Transport: &http.Transport{
			Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.Addr().String()}),
			TLSClientConfig: &tls.Config{RootCAs: roots},
		}, Timeout: 5 * time.Second}
		return client.Get("https://" + net.JoinHostPort(GoodName, strconv.Itoa(int(srv.Addr().Port()))) + "/")
	}
	var unknown x509.UnknownAuthorityError
	if _, err := get(lab.RootPool()); !errors.As(err, &unknown) || unknown.Cert.Issuer.CommonName != WebProxyCAName {
		t.Errorf("trusting Root: %v; want a leaf from %q refused", err, WebProxyCAName)
	}
	roots := x509.NewCertPool()
	roots.AddCert(lab.WebProxyCA.Cert)
	resp, err := get(roots)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != Body {
		t.Errorf("trusting the proxy's CA: %d %q, %v; want 200 %q", resp.StatusCode, body, err, Body)
	}
}

// TestProxyTLSTunnels: Go's net/http speaks TLS to ProxyTLS for
// ProxyName (its TLSClientConfig serves the proxy and the target alike)
// and gets the server's answer through the CONNECT inside it; with the
// system roots it refuses the proxy's own certificate.
func TestProxyTLSTunnels(t *testing.T) {
	lab := testLab(t)
	srv := startT(t, OK)
	proxy := startT(t, ProxyTLS)
	get := func(roots *x509.CertPool) (*http.Response, error) {
		client := &http.Client{Transport: &http.Transport{
			Proxy:           http.ProxyURL(&url.URL{Scheme: "https", Host: net.JoinHostPort(ProxyName, strconv.Itoa(int(proxy.Addr().Port())))}),
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if host, _, _ := net.SplitHostPort(addr); host != ProxyName {
					return nil, fmt.Errorf("dialed %s, not the proxy", addr)
				}
				return (&net.Dialer{}).DialContext(ctx, network, proxy.Addr().String())
			},
		}, Timeout: 5 * time.Second}
		return client.Get("https://" + net.JoinHostPort(GoodName, strconv.Itoa(int(srv.Addr().Port()))) + "/")
	}
	resp, err := get(lab.RootPool())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != Body {
		t.Errorf("trusting Root: %d %q, %v; want 200 %q", resp.StatusCode, body, err, Body)
	}
	var verr *tls.CertificateVerificationError
	if _, err := get(x509.NewCertPool()); !errors.As(err, &verr) || verr.UnverifiedCertificates[0].Subject.CommonName != ProxyName {
		t.Errorf("trusting nothing: %v; want the proxy's leaf %q refused", err, ProxyName)
	}
}

func TestNotTLSClientGetsHTTP400(t *testing.T) {
	srv := startT(t, NotTLSClient)
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: good.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.0 400 Bad Request")) {
		t.Errorf("got %q, want an HTTP/1.0 400 response", resp)
	}
}

func TestWithAddrAndClose(t *testing.T) {
	free := startT(t, ConnectionRefused).Addr()
	srv, err := Start(OK, WithAddr(free.String()))
	if err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != free {
		t.Errorf("listening on %v, want %v", srv.Addr(), free)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", free.String(), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after Close: got %v, want ECONNREFUSED", err)
	}
}

func TestLabCertificates(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lab, err := NewLab(now)
	if err != nil {
		t.Fatal(err)
	}
	roots := lab.RootPool()
	withIntermediate := x509.NewCertPool()
	withIntermediate.AddCert(lab.Intermediate.Cert)
	tests := []struct {
		name          string
		cert          *Cert
		at            time.Time
		intermediates *x509.CertPool // nil: the certificates the server sends
		serial        int64
		issuer        string
		wantErr       bool
	}{
		{"good", lab.Good, now, nil, 0x101, IntermediateName, false},
		{"good rsa", lab.GoodRSA, now, nil, 0x102, IntermediateName, false},
		{"expired now", lab.Expired, now, nil, 0x103, IntermediateName, true},
		{"expired two days ago", lab.Expired, now.Add(-48 * time.Hour), nil, 0x103, IntermediateName, false},
		{"not yet valid now", lab.NotYetValid, now, nil, 0x104, IntermediateName, true},
		{"not yet valid in two days", lab.NotYetValid, now.Add(48 * time.Hour), nil, 0x104, IntermediateName, false},
		{"self-signed", lab.SelfSigned, now, nil, 0x105, GoodName, true},
		{"untrusted", lab.Untrusted, now, nil, 0x106, UntrustedRootName, true},
		{"leaf only", lab.LeafOnly, now, nil, 0x108, IntermediateName, true},
		{"leaf only with intermediate", lab.LeafOnly, now, withIntermediate, 0x108, IntermediateName, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inter := tt.intermediates
			if inter == nil {
				inter = x509.NewCertPool()
				for _, c := range tt.cert.Chain {
					inter.AddCert(c)
				}
			}
			_, err := tt.cert.Cert.Verify(x509.VerifyOptions{DNSName: GoodName, Roots: roots, Intermediates: inter, CurrentTime: tt.at})
			if (err != nil) != tt.wantErr {
				t.Errorf("Verify: %v, want error: %v", err, tt.wantErr)
			}
			if got := tt.cert.Cert.SerialNumber.Int64(); got != tt.serial {
				t.Errorf("serial %#x, want %#x", got, tt.serial)
			}
			if got := tt.cert.Cert.Issuer.CommonName; got != tt.issuer {
				t.Errorf("issuer %q, want %q", got, tt.issuer)
			}
		})
	}
	if got, want := lab.Expired.Cert.NotAfter, now.Add(-24*time.Hour); !got.Equal(want) {
		t.Errorf("Expired notAfter %v, want %v", got, want)
	}
	if got, want := lab.NotYetValid.Cert.NotBefore, now.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("NotYetValid notBefore %v, want %v", got, want)
	}
	if _, err := lab.WrongName.Cert.Verify(x509.VerifyOptions{DNSName: OtherName, Roots: roots, Intermediates: withIntermediate, CurrentTime: now}); err != nil {
		t.Errorf("WrongName does not verify for %s: %v", OtherName, err)
	}
	if _, err := lab.Client.Cert.Verify(x509.VerifyOptions{Roots: poolOf(lab.ClientCA.Cert), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("Client does not verify against ClientCA: %v", err)
	}
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestWriteFiles checks that ca.pem holds the root alone: with the
// intermediate in it, an incomplete chain would verify.
func TestWriteFiles(t *testing.T) {
	lab := testLab(t)
	dir := t.TempDir()
	if err := lab.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{CAFile: RootName, IntermediateFile: IntermediateName, UntrustedCAFile: UntrustedRootName, ClientCAFile: ClientCAName}
	for file, cn := range want {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var certs []*x509.Certificate
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			certs = append(certs, c)
		}
		if len(certs) != 1 || certs[0].Subject.CommonName != cn {
			t.Errorf("%s holds %d certificates, want exactly %q", file, len(certs), cn)
		}
	}
}

// TestAppNoAnswer checks that AppNoAnswer's handshake succeeds and its
// HTTP request then times out waiting for the response headers, as the
// captures of it need.
func TestAppNoAnswer(t *testing.T) {
	lab := testLab(t)
	srv := startT(t, AppNoAnswer, WithLab(lab))
	client := &http.Client{
		Timeout:   500 * time.Millisecond,
		Transport: &http.Transport{TLSClientConfig: lab.ClientConfig()},
	}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + srv.Addr().String() + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want no answer", resp.Status)
	}
	if !strings.Contains(err.Error(), "awaiting headers") {
		t.Errorf("got %v, want a timeout awaiting headers", err)
	}
}
