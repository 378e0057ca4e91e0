// Command gen writes the certificates of the matrix captures (see
// ../README.md): a trusted root "Matrix Root CA" (root.pem, which every
// client is given) with an intermediate, an untrusted root with its own
// intermediate, and the leaves of each row, all for the name localhost.
//
//	go run gen/main.go DIR
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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
		Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func leafTmpl(names []string, nb, na time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: nb, NotAfter: na,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
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
	var trustedInt *ca
	for _, root := range []string{"trusted", "untrusted"} {
		title := map[string]string{"trusted": "Matrix", "untrusted": "Matrix Untrusted"}[root]
		r := issue(dir, root+"-root", caTmpl(title+" Root CA", nb, caNA), nil, ecKey())
		itmpl := caTmpl(title+" Intermediate CA", nb, caNA)
		itmpl.MaxPathLenZero = true
		i := issue(dir, root+"-int", itmpl, r, ecKey())
		issue(dir, root+"-leaf", leafTmpl([]string{"localhost"}, nb, na), i, ecKey())
		if root == "trusted" {
			trustedInt = i
		}
	}
	i := trustedInt
	issue(dir, "expired", leafTmpl([]string{"localhost"}, now.Add(-120*24*time.Hour), now.Add(-30*24*time.Hour)), i, ecKey())
	issue(dir, "notyet", leafTmpl([]string{"localhost"}, now.Add(30*24*time.Hour), now.Add(120*24*time.Hour)), i, ecKey())
	issue(dir, "other", leafTmpl([]string{"other.example"}, nb, na), i, ecKey())
	issue(dir, "selfsigned", leafTmpl([]string{"localhost"}, nb, na), nil, ecKey())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	issue(dir, "rsa-leaf", leafTmpl([]string{"localhost"}, nb, na), i, rsaKey)
}
