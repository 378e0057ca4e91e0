// Command gen writes the certificates of the server captures (see
// ../README.md): a trusted root "Servers Root CA" (root.pem, which every
// client is given) with an intermediate, an untrusted root with its own
// intermediate, P-256 leaves for srv.test (one from each root, one
// expired, one for other.example) and two client certificates, one from
// each root.
//
//	go run gen/main.go DIR
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func issue(dir, name string, tmpl *x509.Certificate, parent *ca) *ca {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	signer, pk := tmpl, key
	if parent != nil {
		signer, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, pk)
	if err != nil {
		panic(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &ca{c, key}
}

func caTmpl(cn string, nb, na time.Time, pathZero bool) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: pathZero,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func leafTmpl(name string, nb, na time.Time, eku x509.ExtKeyUsage) *x509.Certificate {
	t := &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, NotBefore: nb, NotAfter: na,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{eku},
	}
	if eku == x509.ExtKeyUsageServerAuth {
		t.DNSNames = []string{name}
	}
	return t
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	now := time.Now().UTC().Truncate(time.Hour)
	nb, na := now.Add(-24*time.Hour), now.Add(90*24*time.Hour)
	caNA := now.Add(5 * 365 * 24 * time.Hour)
	ints := map[string]*ca{}
	for _, root := range []string{"trusted", "untrusted"} {
		title := map[string]string{"trusted": "Servers", "untrusted": "Servers Untrusted"}[root]
		r := issue(dir, root+"-root", caTmpl(title+" Root CA", nb, caNA, false), nil)
		i := issue(dir, root+"-int", caTmpl(title+" Intermediate CA", nb, caNA, true), r)
		issue(dir, root+"-leaf", leafTmpl("srv.test", nb, na, x509.ExtKeyUsageServerAuth), i)
		issue(dir, root+"-client", leafTmpl("client "+root, nb, na, x509.ExtKeyUsageClientAuth), i)
		ints[root] = i
	}
	i := ints["trusted"]
	issue(dir, "expired", leafTmpl("srv.test", now.Add(-120*24*time.Hour), now.Add(-30*24*time.Hour), x509.ExtKeyUsageServerAuth), i)
	issue(dir, "other", leafTmpl("other.example", nb, na, x509.ExtKeyUsageServerAuth), i)
}
