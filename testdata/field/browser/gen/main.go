// Command gen writes the certificates of the browser captures (see
// ../README.md): two private roots, "Browser Trusted Root" (which make.sh
// adds to Chromium's NSS database) and "Browser Untrusted Root" (which it
// does not), each with an intermediate, and the leaves of each scenario.
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
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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
	for _, root := range []string{"trusted", "untrusted"} {
		title := map[string]string{"trusted": "Browser Trusted", "untrusted": "Browser Untrusted"}[root]
		rk := ecKey()
		r := issue(dir, root+"-root", caTmpl(title+" Root CA", nb, caNA), nil, rk)
		itmpl := caTmpl(title+" Intermediate CA", nb, caNA)
		itmpl.MaxPathLenZero = true
		i := issue(dir, root+"-int", itmpl, r, ecKey())
		// test.example under the intermediate, with an AIA URL nothing serves.
		lt := leafTmpl([]string{"test.example"}, nb, na)
		lt.IssuingCertificateURL = []string{"http://aia.invalid/" + root + "-int.der"}
		issue(dir, root+"-leaf", lt, i, ecKey())
		if root == "trusted" {
			issue(dir, "trusted-expired", leafTmpl([]string{"test.example"}, now.Add(-120*24*time.Hour), now.Add(-30*24*time.Hour)), i, ecKey())
			issue(dir, "trusted-other", leafTmpl([]string{"other.example"}, nb, na), i, ecKey())
			rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			issue(dir, "trusted-rsa", leafTmpl([]string{"test.example"}, nb, na), i, rsaKey)
		}
	}
}
