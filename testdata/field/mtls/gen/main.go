// Command gen writes the certificates of the mutual-TLS captures (see
// ../README.md): the server's chain ("mTLS Server Root" → test.example),
// the client PKI the servers trust ("mTLS Client Root CA" → "mTLS Client
// Issuing CA"), a root no server trusts ("Unknown Client Root"), and the
// client leaves of each case, all for the subject CN=alice.
//
//	go run gen/main.go DIR
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

type ca struct {
	cert *x509.Certificate
	key  any
}

var serial int64

func write(dir, name string, der []byte, key any) {
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), out, 0o644); err != nil {
		panic(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	kp := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	if err := os.WriteFile(filepath.Join(dir, name+".key"), kp, 0o600); err != nil {
		panic(err)
	}
}

func issue(dir, name string, tmpl *x509.Certificate, parent *ca, key any) *ca {
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	pub := key.(crypto.Signer).Public()
	signer, pk := tmpl, key
	if parent != nil {
		signer, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, pub, pk)
	if err != nil {
		panic(err)
	}
	write(dir, name, der, key)
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &ca{c, key}
}

func ecKey() any {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func caTmpl(cn string, nb, na time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: cn, Organization: []string{"mTLS Lab"}}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func clientTmpl(nb, na time.Time, eku ...x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: "alice", Organization: []string{"mTLS Lab"}}, NotBefore: nb, NotAfter: na,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: eku,
	}
}

func cat(dir, out string, names ...string) {
	var b []byte
	for _, n := range names {
		p, err := os.ReadFile(filepath.Join(dir, n+".pem"))
		if err != nil {
			panic(err)
		}
		b = append(b, p...)
	}
	if err := os.WriteFile(filepath.Join(dir, out+".pem"), b, 0o644); err != nil {
		panic(err)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	now := time.Now().UTC().Truncate(time.Hour)
	nb, na := now.Add(-24*time.Hour), now.Add(365*24*time.Hour)
	caNA := now.Add(5 * 365 * 24 * time.Hour)
	clientAuth := x509.ExtKeyUsageClientAuth

	sr := issue(dir, "server-root", caTmpl("mTLS Server Root", nb, caNA), nil, ecKey())
	issue(dir, "server", &x509.Certificate{
		Subject: pkix.Name{CommonName: "test.example"}, DNSNames: []string{"test.example"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, sr, ecKey())

	cr := issue(dir, "client-root", caTmpl("mTLS Client Root CA", nb, caNA), nil, ecKey())
	it := caTmpl("mTLS Client Issuing CA", nb, caNA)
	it.MaxPathLenZero = true
	ci := issue(dir, "client-int", it, cr, ecKey())
	unknown := issue(dir, "unknown-root", unknownTmpl(nb, caNA), nil, ecKey())

	issue(dir, "good", clientTmpl(nb, na, clientAuth), ci, ecKey())
	issue(dir, "untrusted", clientTmpl(nb, na, clientAuth), unknown, ecKey())
	issue(dir, "expired", clientTmpl(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), clientAuth), ci, ecKey())
	issue(dir, "notyet", clientTmpl(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), clientAuth), ci, ecKey())
	issue(dir, "serverauth", clientTmpl(nb, na, x509.ExtKeyUsageServerAuth), ci, ecKey())
	issue(dir, "selfsigned", clientTmpl(nb, na, clientAuth), nil, ecKey())
	write(dir, "other", mustDER(dir, "good"), ecKey()) // good's certificate, an unrelated key
	for _, n := range []string{"good", "expired", "notyet", "serverauth", "other"} {
		cat(dir, n+"-chain", n, "client-int")
	}
	// A deeper client PKI under the same root: "mTLS Client Policy CA" →
	// "mTLS Client Department CA" → alice, two intermediates, deeper than
	// nginx's default ssl_verify_depth (1) allows.
	pt := caTmpl("mTLS Client Policy CA", nb, caNA)
	pt.MaxPathLen = 1
	pol := issue(dir, "client-policy", pt, cr, ecKey())
	dt := caTmpl("mTLS Client Department CA", nb, caNA)
	dt.MaxPathLenZero = true
	dept := issue(dir, "client-dept", dt, pol, ecKey())
	issue(dir, "deep", clientTmpl(nb, na, clientAuth), dept, ecKey())
	cat(dir, "deep-chain", "deep", "client-dept", "client-policy")
	cat(dir, "deep-mid", "deep", "client-dept")
	// A server client-CA file with the upper intermediate beside the root.
	cat(dir, "client-root-policy", "client-root", "client-policy")
}

func mustDER(dir, name string) []byte {
	p, err := os.ReadFile(filepath.Join(dir, name+".pem"))
	if err != nil {
		panic(err)
	}
	b, _ := pem.Decode(p)
	return b.Bytes
}

// unknownTmpl is the root of another organization, which no server trusts.
func unknownTmpl(nb, na time.Time) *x509.Certificate {
	t := caTmpl("Unknown Client Root", nb, na)
	t.Subject.Organization = []string{"Elsewhere Inc"}
	return t
}
