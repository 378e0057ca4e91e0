// Command gen writes the certificates of the public-client captures (see
// ../README.md): the server's chain ("Pubclient Server Root" →
// test.example), and a "public-like" client hierarchy the servers trust,
// "Test Public Root X1" → "R99" (O=Test Public CA), whose leaves for
// CN=client.example are shaped as a public CA's TLS server certificates:
//
//   - dv: extendedKeyUsage serverAuth only, certificate policy
//     2.23.140.1.2.1 (domain validated), as Let's Encrypt issues since
//     February 2026;
//   - dvboth: serverAuth and clientAuth, the same policy, as public CAs
//     issued before;
//   - private: serverAuth only, no CA/Browser Forum policy, as a private
//     CA's (the control).
//
// Each leaf is written with the intermediate after it (NAME-chain.pem).
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

func caTmpl(cn, org string, nb, na time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: cn, Organization: []string{org}}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

// domainValidated is the CA/Browser Forum's reserved policy identifier
// for a domain-validated TLS server certificate (Baseline Requirements,
// section 7.1.6.1).
var domainValidated = mustOID(2, 23, 140, 1, 2, 1)

func mustOID(n ...uint64) x509.OID {
	o, err := x509.OIDFromInts(n)
	if err != nil {
		panic(err)
	}
	return o
}

func leafTmpl(nb, na time.Time, policy bool, eku ...x509.ExtKeyUsage) *x509.Certificate {
	t := &x509.Certificate{
		Subject: pkix.Name{CommonName: "client.example"}, DNSNames: []string{"client.example"},
		NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku,
	}
	if policy {
		t.Policies = []x509.OID{domainValidated}
	}
	return t
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
	// A leaf valid 90 days from yesterday, as an ACME CA's.
	nb, na := now.Add(-24*time.Hour), now.Add(89*24*time.Hour)
	caNA := now.Add(5 * 365 * 24 * time.Hour)
	serverAuth, clientAuth := x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth

	sr := issue(dir, "server-root", caTmpl("Pubclient Server Root", "Pubclient Lab", nb, caNA), nil, ecKey())
	issue(dir, "server", &x509.Certificate{
		Subject: pkix.Name{CommonName: "test.example"}, DNSNames: []string{"test.example"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: nb, NotAfter: caNA,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{serverAuth},
	}, sr, ecKey())

	root := issue(dir, "client-root", caTmpl("Test Public Root X1", "Test Public CA", nb, caNA), nil, ecKey())
	it := caTmpl("R99", "Test Public CA", nb, caNA)
	it.MaxPathLenZero = true
	r99 := issue(dir, "r99", it, root, ecKey())

	issue(dir, "dv", leafTmpl(nb, na, true, serverAuth), r99, ecKey())
	issue(dir, "dvboth", leafTmpl(nb, na, true, serverAuth, clientAuth), r99, ecKey())
	issue(dir, "private", leafTmpl(nb, na, false, serverAuth), r99, ecKey())
	for _, n := range []string{"dv", "dvboth", "private"} {
		cat(dir, n+"-chain", n, "r99")
	}
}
