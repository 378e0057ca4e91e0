package diagnose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// captureTime is the time every test capture was "taken": certificates are
// judged at it, never at the clock's time.
var captureTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// certSpec describes a certificate to generate. Zero dates mean a period
// of a year around captureTime.
type certSpec struct {
	cn        string
	org       string    // default "tlsdiag test"
	issuer    *testCert // nil: self-signed
	key       crypto.Signer
	notBefore time.Time
	notAfter  time.Time
	ca        bool
	noBasic   bool // omit basicConstraints (a v3 certificate that is no CA)
	dns       []string
	ips       []net.IP
	eku       []x509.ExtKeyUsage
	critical  []pkix.Extension
	aia       string // AIA caIssuers URL
}

type testCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var (
	keyMu    sync.Mutex
	keyCache = map[string]crypto.Signer{}
)

// testKey returns a P-256 key, one per name, generated once per run.
func testKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[name]; ok {
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyCache[name] = k
	return k
}

var serial int64

func mkCert(t testing.TB, s certSpec) *testCert {
	t.Helper()
	key := s.key
	if key == nil {
		key = testKey(t, s.cn)
	}
	nb, na := s.notBefore, s.notAfter
	if nb.IsZero() {
		nb = captureTime.AddDate(0, -6, 0)
	}
	if na.IsZero() {
		na = captureTime.AddDate(0, 6, 0)
	}
	org := s.org
	if org == "" {
		org = "tlsdiag test"
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{org}},
		NotBefore:             nb,
		NotAfter:              na,
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		ExtKeyUsage:           s.eku,
		BasicConstraintsValid: !s.noBasic,
		IsCA:                  s.ca,
		ExtraExtensions:       s.critical,
		IssuingCertificateURL: nonEmpty(s.aia),
	}
	if s.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	parent, signer := tmpl, key
	if s.issuer != nil {
		parent, signer = s.issuer.cert, s.issuer.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatalf("creating %s: %v", s.cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: c, key: key}
}

// pki is a small PKI: a trusted root, an intermediate, and a leaf for
// www.example.com.
type pki struct {
	root, inter, leaf *testCert
	roots             *x509.CertPool
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	p := &pki{}
	p.root = mkCert(t, certSpec{cn: "Test Root CA", ca: true, notBefore: captureTime.AddDate(-5, 0, 0), notAfter: captureTime.AddDate(5, 0, 0)})
	p.inter = mkCert(t, certSpec{cn: "Test Intermediate CA", ca: true, issuer: p.root, notBefore: captureTime.AddDate(-2, 0, 0), notAfter: captureTime.AddDate(2, 0, 0)})
	p.leaf = mkCert(t, certSpec{cn: "www.example.com", issuer: p.inter, dns: []string{"www.example.com", "example.com"}})
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.root.cert)
	return p
}

func certs(cs ...*testCert) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.cert
	}
	return out
}

// unknownCritical is a critical extension no client understands.
var unknownCritical = pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00}}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
