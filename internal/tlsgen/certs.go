package tlsgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// Names the generated servers answer to. Every leaf but wrongName covers
// *.example.test.
const (
	domain    = "example.test"
	wrongName = "elsewhere.test"
)

// cert is a certificate with its key and what a server sends after it:
// the lab's type, here issued from a seeded reader.
type cert = tlslab.Cert

// pki is every certificate the generated servers use, for one instant.
type pki struct {
	root, inter, untrustedRoot *cert
	// leaves by name: ecdsa, rsa, expired, selfSigned, untrusted, wrongName
	ecdsa, rsa, expired, selfSigned, untrusted, wrongName *cert
}

// newPKI issues the certificates from a seeded reader: the same seed gives
// the same DER.
func newPKI(seed uint64, now time.Time) (*pki, error) {
	r := newReader(seed, "pki")
	day := 24 * time.Hour
	caFrom, caUntil := now.Add(-365*day), now.Add(5*365*day)
	from, until := now.Add(-30*day), now.Add(335*day)
	p := &pki{}
	type step struct {
		dst      **cert
		serial   int64
		cn       string
		ca, rsa  bool
		dns      []string
		from, to time.Time
		issuer   **cert // nil: self-signed
		sendWith []**cert
	}
	leafNames := []string{domain, "*." + domain}
	steps := []step{
		{&p.root, 1, "tlsgen Root CA", true, false, nil, caFrom, caUntil, nil, nil},
		{&p.inter, 2, "tlsgen Intermediate CA", true, false, nil, caFrom, caUntil.Add(-day), &p.root, nil},
		{&p.untrustedRoot, 3, "tlsgen Untrusted Root CA", true, false, nil, caFrom, caUntil, nil, nil},
		{&p.ecdsa, 0x101, "www." + domain, false, false, leafNames, from, until, &p.inter, []**cert{&p.inter}},
		{&p.rsa, 0x102, "www." + domain, false, true, leafNames, from, until, &p.inter, []**cert{&p.inter, &p.root}},
		{&p.expired, 0x103, "www." + domain, false, false, leafNames, now.Add(-120 * day), now.Add(-3 * day), &p.inter, []**cert{&p.inter}},
		{&p.selfSigned, 0x104, "www." + domain, false, false, leafNames, from, until, nil, nil},
		{&p.untrusted, 0x105, "www." + domain, false, false, leafNames, from, until, &p.untrustedRoot, []**cert{&p.untrustedRoot}},
		{&p.wrongName, 0x106, wrongName, false, false, []string{wrongName}, from, until, &p.inter, []**cert{&p.inter}},
	}
	for _, s := range steps {
		var key crypto.Signer
		var err error
		if s.rsa {
			key, err = rsa.GenerateKey(r, 2048)
		} else {
			key, err = ecdsa.GenerateKey(elliptic.P256(), r)
		}
		if err != nil {
			return nil, fmt.Errorf("tlsgen: key for %s: %w", s.cn, err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(s.serial),
			Subject:               pkix.Name{Organization: []string{"tlsgen benchmark"}, CommonName: s.cn},
			NotBefore:             s.from,
			NotAfter:              s.to,
			BasicConstraintsValid: true,
			DNSNames:              s.dns,
		}
		if s.ca {
			tmpl.IsCA = true
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		} else {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
			if s.rsa {
				tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
			}
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		parent, signer := tmpl, key
		if s.issuer != nil {
			parent, signer = (*s.issuer).Cert, (*s.issuer).Key
		}
		der, err := x509.CreateCertificate(r, tmpl, parent, key.Public(), signer)
		if err != nil {
			return nil, fmt.Errorf("tlsgen: certificate %s: %w", s.cn, err)
		}
		x, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("tlsgen: certificate %s: %w", s.cn, err)
		}
		c := &cert{Cert: x, Key: key}
		for _, ca := range s.sendWith {
			c.Chain = append(c.Chain, (*ca).Cert)
		}
		*s.dst = c
	}
	return p, nil
}

func (p *pki) rootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.Cert)
	return pool
}

// rootPEM is the trusted root, for tlsdiag's --cacert.
func (p *pki) rootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Cert.Raw})
}
