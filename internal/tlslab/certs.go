package tlslab

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Names the lab's certificates are issued for. Clients in scenarios and
// captures always ask for GoodName; OtherName is the name on the
// hostname-mismatch certificate; UnknownName is what a client asks for to be
// refused by the SNI scenarios.
const (
	GoodName    = "good.test"
	OtherName   = "other.test"
	UnknownName = "unknown.test"
	// ProxyName is the name of ProxyTLS, the https:// proxy, on its
	// certificate Proxy.
	ProxyName = "proxy.test"
)

// Subject common names of the lab's authorities.
const (
	RootName          = "tlsdiag Test Root CA"
	IntermediateName  = "tlsdiag Test Intermediate CA"
	UntrustedRootName = "Untrusted Root CA"
	ClientCAName      = "tlsdiag Test Client CA"
	// PrivateRootName signs DirectRoot's leaf itself, as small private PKIs
	// (openssl, mkcert) do; nobody trusts it.
	PrivateRootName = "tlsdiag Private Root CA"
	// ClientIntermediateName is issued by the client CA and issues
	// ClientChained.
	ClientIntermediateName = "tlsdiag Test Client Intermediate CA"
	// WebProxyCAName is the CA of ProxyIntercepting: a name no
	// TLS-inspection product is known by, as organisations give the CA of
	// the inspection they run themselves.
	WebProxyCAName = "Lab Web Security CA"
)

const organization = "tlsdiag test lab"

// Cert is a certificate with its private key and the certificates a server
// sends after it (in TLS order: the issuer first).
type Cert struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// TLS returns the certificate as crypto/tls wants it: leaf then Chain.
func (c *Cert) TLS() tls.Certificate {
	der := [][]byte{c.Cert.Raw}
	for _, ca := range c.Chain {
		der = append(der, ca.Raw)
	}
	return tls.Certificate{Certificate: der, PrivateKey: c.Key, Leaf: c.Cert}
}

// PEM returns the leaf followed by Chain, PEM-encoded.
func (c *Cert) PEM() []byte {
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	for _, ca := range c.Chain {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	}
	return b.Bytes()
}

// KeyPEM returns the private key as a PEM-encoded PKCS #8 block.
func (c *Cert) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, fmt.Errorf("marshal key of %q: %w", c.Cert.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Lab is a set of certificates generated relative to one instant, Now.
//
// Authorities: Root signs Intermediate, which signs the server leaves
// (except SelfSigned, Untrusted and DirectRoot). UntrustedRoot signs
// Untrusted and PrivateRoot signs DirectRoot; nobody trusts either.
// ClientCA signs Client and ClientIntermediate, which signs ClientChained. Only Root goes into a client's
// trust store (RootPool, RootPEM): a server that omits Intermediate is
// therefore detectably incomplete.
//
// Names and serial numbers are fixed, so certificates from two runs differ
// only in keys, signatures and dates. Keys are ECDSA P-256, except GoodRSA
// and Expired, which are RSA 2048.
type Lab struct {
	Now time.Time

	Root, Intermediate, UntrustedRoot, ClientCA *Cert
	PrivateRoot, ClientIntermediate             *Cert
	// WebProxyCA is the CA of the intercepting proxy; nobody trusts it.
	WebProxyCA *Cert

	// Good is valid for GoodName and is sent with Intermediate.
	Good *Cert
	// GoodRSA is Good with an RSA 2048 key, sent with Intermediate and Root
	// (as many servers do): the largest server flight of the lab.
	GoodRSA *Cert
	// Expired (RSA 2048) has notAfter = Now-24h.
	Expired *Cert
	// NotYetValid has notBefore = Now+24h.
	NotYetValid *Cert
	// SelfSigned is a leaf for GoodName signed by its own key.
	SelfSigned *Cert
	// Untrusted is issued by UntrustedRoot and sent with it.
	Untrusted *Cert
	// WrongName is valid, but for OtherName only.
	WrongName *Cert
	// LeafOnly is issued by Intermediate but sent without it.
	LeafOnly *Cert
	// Client is a client certificate issued by ClientCA.
	Client *Cert
	// DirectRoot is a leaf for GoodName signed directly by PrivateRoot
	// (no intermediate) and sent alone.
	DirectRoot *Cert
	// ClientChained is a client certificate issued by ClientIntermediate,
	// with it as Chain. A client configured with the leaf alone cannot
	// show a chain to ClientCA, the CA servers ask for.
	ClientChained *Cert
	// Intercepted is the leaf ProxyIntercepting answers GoodName with:
	// issued by WebProxyCA and sent with it.
	Intercepted *Cert
	// Proxy is the https:// proxy's own leaf (ProxyTLS), valid for
	// ProxyName, issued by Intermediate and sent with it: trusted by a
	// client of the lab's Root, not by the system roots.
	Proxy *Cert
}

// NewLab generates every certificate of a lab for the instant now
// (truncated to the second, the resolution of X.509 times).
func NewLab(now time.Time) (*Lab, error) {
	now = now.UTC().Truncate(time.Second)
	l := &Lab{Now: now}
	day := 24 * time.Hour
	caFrom, caUntil := now.Add(-365*day), now.Add(10*365*day)
	leafFrom, leafUntil := now.Add(-time.Hour), now.Add(90*day)

	type step struct {
		dst      **Cert
		tmpl     template
		issuer   **Cert // nil: self-signed
		sendWith []**Cert
	}
	steps := []step{
		{&l.Root, template{serial: 1, cn: RootName, ca: true, from: caFrom, until: caUntil}, nil, nil},
		{&l.Intermediate, template{serial: 2, cn: IntermediateName, ca: true, pathLenZero: true, from: caFrom, until: caUntil.Add(-day)}, &l.Root, nil},
		{&l.UntrustedRoot, template{serial: 3, cn: UntrustedRootName, ca: true, from: caFrom, until: caUntil}, nil, nil},
		{&l.ClientCA, template{serial: 4, cn: ClientCAName, ca: true, from: caFrom, until: caUntil}, nil, nil},
		{&l.Good, template{serial: 0x101, cn: GoodName, dns: GoodName, from: leafFrom, until: leafUntil}, &l.Intermediate, []**Cert{&l.Intermediate}},
		{&l.GoodRSA, template{serial: 0x102, cn: GoodName, dns: GoodName, rsa: true, from: leafFrom, until: leafUntil}, &l.Intermediate, []**Cert{&l.Intermediate, &l.Root}},
		{&l.Expired, template{serial: 0x103, cn: GoodName, dns: GoodName, rsa: true, from: now.Add(-90 * day), until: now.Add(-day)}, &l.Intermediate, []**Cert{&l.Intermediate}},
		{&l.NotYetValid, template{serial: 0x104, cn: GoodName, dns: GoodName, from: now.Add(day), until: now.Add(90 * day)}, &l.Intermediate, []**Cert{&l.Intermediate}},
		{&l.SelfSigned, template{serial: 0x105, cn: GoodName, dns: GoodName, from: leafFrom, until: leafUntil}, nil, nil},
		{&l.Untrusted, template{serial: 0x106, cn: GoodName, dns: GoodName, from: leafFrom, until: leafUntil}, &l.UntrustedRoot, []**Cert{&l.UntrustedRoot}},
		{&l.WrongName, template{serial: 0x107, cn: OtherName, dns: OtherName, from: leafFrom, until: leafUntil}, &l.Intermediate, []**Cert{&l.Intermediate}},
		{&l.LeafOnly, template{serial: 0x108, cn: GoodName, dns: GoodName, from: leafFrom, until: leafUntil}, &l.Intermediate, nil},
		{&l.Client, template{serial: 0x109, cn: "tlslab client", client: true, from: leafFrom, until: leafUntil}, &l.ClientCA, nil},
		{&l.PrivateRoot, template{serial: 5, cn: PrivateRootName, ca: true, from: caFrom, until: caUntil}, nil, nil},
		{&l.ClientIntermediate, template{serial: 6, cn: ClientIntermediateName, ca: true, pathLenZero: true, from: caFrom, until: caUntil.Add(-day)}, &l.ClientCA, nil},
		{&l.DirectRoot, template{serial: 0x10A, cn: GoodName, dns: GoodName, from: leafFrom, until: leafUntil}, &l.PrivateRoot, nil},
		{&l.ClientChained, template{serial: 0x10B, cn: "tlslab chained client", client: true, from: leafFrom, until: leafUntil}, &l.ClientIntermediate, []**Cert{&l.ClientIntermediate}},
		{&l.WebProxyCA, template{serial: 7, cn: WebProxyCAName, ca: true, from: caFrom, until: caUntil}, nil, nil},
		{&l.Intercepted, template{serial: 0x10C, cn: GoodName, dns: GoodName, from: leafFrom, until: leafUntil}, &l.WebProxyCA, []**Cert{&l.WebProxyCA}},
		{&l.Proxy, template{serial: 0x10D, cn: ProxyName, dns: ProxyName, from: leafFrom, until: leafUntil}, &l.Intermediate, []**Cert{&l.Intermediate}},
	}
	for _, s := range steps {
		var issuer *Cert
		if s.issuer != nil {
			issuer = *s.issuer
		}
		c, err := s.tmpl.issue(issuer)
		if err != nil {
			return nil, err
		}
		for _, ca := range s.sendWith {
			c.Chain = append(c.Chain, (*ca).Cert)
		}
		*s.dst = c
	}
	return l, nil
}

// template describes one certificate of the lab.
type template struct {
	serial      int64
	cn, dns     string
	ca          bool
	pathLenZero bool
	client      bool
	rsa         bool
	from, until time.Time
}

// issue creates the certificate, signed by issuer or, if issuer is nil, by
// its own key.
func (t template) issue(issuer *Cert) (*Cert, error) {
	var key crypto.Signer
	var err error
	if t.rsa {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("generate key for %q: %w", t.cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(t.serial),
		Subject:               pkix.Name{Organization: []string{organization}, CommonName: t.cn},
		NotBefore:             t.from,
		NotAfter:              t.until,
		BasicConstraintsValid: true,
	}
	switch {
	case t.ca:
		tmpl.IsCA = true
		tmpl.MaxPathLenZero = t.pathLenZero
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	case t.client:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if t.rsa {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{t.dns}
	}
	parent, signer := tmpl, key
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q (serial %d): %w", t.cn, t.serial, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %q (serial %d): %w", t.cn, t.serial, err)
	}
	return &Cert{Cert: cert, Key: key}, nil
}

// RootPool returns a pool holding only Root: what a client of the lab trusts.
func (l *Lab) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(l.Root.Cert)
	return p
}

// ClientConfig returns the configuration of a well-behaved client of the lab:
// it trusts Root and asks for GoodName.
func (l *Lab) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: l.RootPool(), ServerName: GoodName}
}

// PEM files WriteFiles writes.
const (
	CAFile           = "ca.pem"           // Root only: the --cacert of the analyzer
	IntermediateFile = "intermediate.pem" // for reference; never trusted
	UntrustedCAFile  = "untrusted-ca.pem" // for reference; never trusted
	ClientCAFile     = "client-ca.pem"    // the server's trust store for client certificates
)

// WriteFiles writes the authorities' certificates (no keys) into dir.
func (l *Lab) WriteFiles(dir string) error {
	files := []struct {
		name string
		cert *x509.Certificate
	}{
		{CAFile, l.Root.Cert},
		{IntermediateFile, l.Intermediate.Cert},
		{UntrustedCAFile, l.UntrustedRoot.Cert},
		{ClientCAFile, l.ClientCA.Cert},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.cert.Raw})
		if err := os.WriteFile(filepath.Join(dir, f.name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}
