package probe

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func TestClassify(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://good.test/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	read := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: err}
	}
	proxy := func(err error) error { return &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err} }
	socks := func(err error) error {
		return &net.OpError{Op: "socks connect", Net: "tcp", Source: hostPort("127.0.0.1:1080"), Addr: hostPort("good.test:443"), Err: err}
	}
	verify := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://good.test/", Err: &tls.CertificateVerificationError{Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassNone},
		{"dns not found", &url.Error{Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, DNSNotFound},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, DNSTimeout},
		{"dns other", &net.DNSError{Err: "server misbehaving"}, DNSError},
		{"refused", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), ConnectionRefused},
		{"connect timeout", dial(os.ErrDeadlineExceeded), ConnectTimeout},
		{"connect ETIMEDOUT", dial(os.NewSyscallError("connect", syscall.ETIMEDOUT)), ConnectTimeout},
		{"host unreachable", dial(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), HostUnreachable},
		{"network unreachable", dial(os.NewSyscallError("connect", syscall.ENETUNREACH)), NetworkUnreachable},
		{"reset", read(os.NewSyscallError("read", syscall.ECONNRESET)), ConnectionReset},
		{"broken pipe", &net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)}, ConnectionReset},
		{"eof", fmt.Errorf("handshake: %w", io.EOF), ConnectionClosed},
		{"unexpected eof", io.ErrUnexpectedEOF, ConnectionClosed},
		{"deadline", &url.Error{Op: "Get", Err: context.DeadlineExceeded}, Timeout},
		{"read timeout", read(os.ErrDeadlineExceeded), Timeout},
		{"response header timeout", &url.Error{Op: "Get", Err: errors.New("net/http: timeout awaiting response headers")}, TimeoutAwaitingHeaders},
		{"probe's own wait for headers", fmt.Errorf("%w (%w)", context.DeadlineExceeded, ErrAwaitingHeaders), TimeoutAwaitingHeaders},
		{"canceled", &url.Error{Op: "Get", Err: context.Canceled}, Canceled},
		{"record header", tls.RecordHeaderError{Msg: "tls: first record does not look like a TLS handshake"}, NotTLS},
		{"scheme mismatch", &url.Error{Err: http.ErrSchemeMismatch}, NotTLS},
		{"unknown authority", verify(x509.UnknownAuthorityError{}), CertUnknownAuthority},
		{"expired", verify(x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time 2026-01-02T00:00:00Z is after 2026-01-01T00:00:00Z"}), CertExpired},
		{"not yet valid", verify(x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time 2026-01-01T00:00:00Z is before 2026-01-02T00:00:00Z"}), CertNotYetValid},
		{"not a CA", verify(x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}), CertNotAuthorizedToSign},
		{"usage", verify(x509.CertificateInvalidError{Reason: x509.IncompatibleUsage}), CertIncompatibleUsage},
		{"name constraints", verify(x509.CertificateInvalidError{Reason: x509.CANotAuthorizedForThisName}), CertNameConstraints},
		{"other invalid", verify(x509.CertificateInvalidError{Reason: x509.TooManyIntermediates}), CertInvalid},
		{"hostname", verify(x509.HostnameError{Host: "good.test"}), CertHostnameMismatch},
		{"insecure algorithm", verify(x509.InsecureAlgorithmError(x509.SHA1WithRSA)), CertInsecureAlgorithm},
		{"system roots", verify(x509.SystemRootsError{}), CertInvalid},
		{"quic alert", fmt.Errorf("handshake: %w", tls.AlertError(tlsparse.AlertProtocolVersion)), "tls_alert_protocol_version"},
		{"client rejected version", errors.New("tls: server selected unsupported protocol version 301"), ClientRejectedVersion},
		{"client rejected cipher", errors.New("tls: server chose an unconfigured cipher suite"), ClientRejectedCipher},
		{"client rejected alpn", errors.New("tls: server selected unadvertised ALPN protocol"), ClientRejectedALPN},
		{"downgrade", errors.New("tls: downgrade attempt detected, possibly due to a MitM attack or a broken middlebox"), DowngradeDetected},
		{"other tls", errors.New("tls: server's Finished message was incorrect"), TLSError},
		{"http", &url.Error{Err: errors.New("net/http: HTTP/1.x transport connection broken: malformed HTTP response \"SSH-2.0\"")}, HTTPError},
		{"other", errors.New("something else"), Other},
		{"proxy refused", proxy(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), ProxyRefused},
		{"proxy forbids (net/http)", &url.Error{Err: proxy(errors.New("Forbidden"))}, ProxyConnectFailed},
		{"proxy forbids (probe)", proxy(&connectStatusError{Status: "403 Forbidden"}), ProxyConnectFailed},
		{"proxy closed", proxy(io.EOF), ProxyError},
		{"proxy dns", proxy(&net.DNSError{Err: "no such host", IsNotFound: true}), ProxyError},
		{"proxy deadline", proxy(context.DeadlineExceeded), Timeout},
		{"https proxy's certificate", &url.Error{Err: proxy(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})}, CertUnknownAuthority},
		{"https proxy's alert", proxy(&net.OpError{Op: "remote error", Err: tls.AlertError(tlsparse.AlertHandshakeFailure)}), "tls_alert_handshake_failure"},
		{"https proxy speaks plain HTTP", proxy(tls.RecordHeaderError{Msg: "tls: first record does not look like a TLS handshake"}), NotTLS},
		{"socks: no acceptable method (probe)", socks(&socksRefusal{Outcome: proxyparse.AuthRequired, text: "no acceptable authentication methods"}), ProxyConnectFailed},
		{"socks: no acceptable method (net/http)", &url.Error{Err: socks(errors.New("no acceptable authentication methods"))}, ProxyConnectFailed},
		{"socks: password rejected (net/http)", &url.Error{Err: socks(errors.New("username/password authentication failed"))}, ProxyConnectFailed},
		{"socks: upstream refused (net/http)", &url.Error{Err: socks(errors.New("unknown error connection refused"))}, ProxyConnectFailed},
		{"socks: ruleset (net/http)", &url.Error{Err: socks(errors.New("unknown error connection not allowed by ruleset"))}, ProxyConnectFailed},
		{"socks: not SOCKS5", socks(errors.New("unexpected protocol version 72")), ProxyError},
		{"socks: closed", socks(io.EOF), ProxyError},
		{"socks: deadline", socks(context.DeadlineExceeded), Timeout},
		{"socks: proxy refused the TCP connection", &url.Error{Err: proxy(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})}, ProxyRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.err)
			if got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if got != ClassNone && !declared(got) {
				t.Errorf("Classify(%v) = %q, which is not declared", tt.err, got)
			}
		})
	}
}

// TestClassifyRealHandshakes classifies the errors crypto/tls itself
// returns, from handshakes on loopback with the lab's servers'
// configurations.
func TestClassifyRealHandshakes(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	server := func(c *tlslab.Cert) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{c.TLS()}, NextProtos: []string{"http/1.1"}}
	}
	client := func() *tls.Config {
		c := lab.ClientConfig()
		c.NextProtos = []string{"http/1.1"}
		return c
	}
	tests := []struct {
		name           string
		server, client func() *tls.Config
		want           Class
	}{
		{"ok", func() *tls.Config { return server(lab.Good) }, client, ClassNone},
		{"expired", func() *tls.Config { return server(lab.Expired) }, client, CertExpired},
		{"not yet valid", func() *tls.Config { return server(lab.NotYetValid) }, client, CertNotYetValid},
		{"self-signed", func() *tls.Config { return server(lab.SelfSigned) }, client, CertUnknownAuthority},
		{"untrusted", func() *tls.Config { return server(lab.Untrusted) }, client, CertUnknownAuthority},
		{"incomplete chain", func() *tls.Config { return server(lab.LeafOnly) }, client, CertUnknownAuthority},
		{"wrong name", func() *tls.Config { return server(lab.WrongName) }, client, CertHostnameMismatch},
		{"server wants TLS 1.3", func() *tls.Config { c := server(lab.Good); c.MinVersion = tls.VersionTLS13; return c },
			func() *tls.Config { c := client(); c.MaxVersion = tls.VersionTLS12; return c }, "tls_alert_protocol_version"},
		{"server wants TLS 1.2", func() *tls.Config { c := server(lab.Good); c.MaxVersion = tls.VersionTLS12; return c },
			func() *tls.Config { c := client(); c.MinVersion = tls.VersionTLS13; return c }, "tls_alert_protocol_version"},
		{"no shared cipher", func() *tls.Config {
			c := server(lab.Good)
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
			return c
		}, func() *tls.Config {
			c := client()
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
			return c
		}, "tls_alert_handshake_failure"},
		{"alpn", func() *tls.Config { return server(lab.Good) }, func() *tls.Config { c := client(); c.NextProtos = []string{"h2"}; return c }, "tls_alert_no_application_protocol"},
		{"rsa key over 8192 bits", func() *tls.Config { return &tls.Config{Certificates: []tls.Certificate{bigRSACert(t)}} }, client, CertInvalid},
		{"unrecognized name", func() *tls.Config {
			c := server(lab.Good)
			c.Certificates = nil
			c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }
			return c
		}, client, "tls_alert_unrecognized_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A loopback socket, not net.Pipe: a pipe's writes block until
			// the other end reads, and a client writing its alert while
			// the server still writes its flight would deadlock.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				sc, err := ln.Accept()
				if err != nil {
					return
				}
				s := tls.Server(sc, tt.server())
				s.Handshake()
				s.Close()
			}()
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			cc.SetDeadline(time.Now().Add(10 * time.Second))
			err = tls.Client(cc, tt.client()).Handshake()
			got := Classify(err)
			if got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", err, got, tt.want)
			}
			if got != ClassNone && !declared(got) {
				t.Errorf("Classify(%v) = %q, which is not declared", err, got)
			}
		})
	}
}

func TestAlertClass(t *testing.T) {
	if got := AlertClass(tlsparse.AlertCertificateRequired); got != "tls_alert_certificate_required" {
		t.Errorf("AlertClass = %q", got)
	}
	if a, ok := Class("tls_alert_protocol_version").Alert(); !ok || a != tlsparse.AlertProtocolVersion {
		t.Errorf("Alert() = %q, %v", a, ok)
	}
	if _, ok := CertExpired.Alert(); ok {
		t.Error("cert_expired names an alert")
	}
}

// TestClassesAreDistinct: the list has every constant once, in snake_case.
func TestClassesAreDistinct(t *testing.T) {
	seen := map[Class]bool{}
	for _, c := range Classes {
		if seen[c] || c == ClassNone || strings.ToLower(string(c)) != string(c) || strings.ContainsAny(string(c), " -") {
			t.Errorf("class %q: duplicate, empty or not snake_case", c)
		}
		seen[c] = true
	}
	if len(Classes) != 33 {
		t.Errorf("%d classes; a class was added or removed: update Classes, the usage text and this count", len(Classes))
	}
}

// TestClassifyClientTimeoutAwaitingHeaders classifies the error a Go
// net/http client really returns when a server completes the handshake and
// never answers the request (Client.Timeout; loopback, no capture).
func TestClassifyClientTimeoutAwaitingHeaders(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tlslab.Start(tlslab.AppNoAnswer, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{TLSClientConfig: lab.ClientConfig()}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + srv.Addr().String() + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want a timeout", resp.Status)
	}
	if got := Classify(err); got != TimeoutAwaitingHeaders {
		t.Errorf("Classify(%v) = %q, want %q", err, got, TimeoutAwaitingHeaders)
	}
}

// bigRSACert is a self-signed certificate with the 9216-bit RSA key of
// testdata/rsa9216.key (made with openssl genrsa 9216: too slow to make
// in a test), which crypto/tls refuses before it checks the chain.
func bigRSACert(t *testing.T) tls.Certificate {
	t.Helper()
	data, err := os.ReadFile("testdata/rsa9216.key")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("testdata/rsa9216.key: no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "good.test"}, DNSNames: []string{"good.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.(*rsa.PrivateKey).Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
