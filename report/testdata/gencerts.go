//go:build ignore

// gencerts writes certs.pem, the certificate chain the report tests put in
// their TLS 1.2 connection: a self-signed ECDSA P-256 root and an RSA 2048
// leaf for expired.test that expired on 2024-01-01. Keys and signatures are
// random, so the file is committed and the goldens depend on it; rerun only
// to change the chain, then update the goldens (go test ./report -update).
//
//	go run ./report/testdata/gencerts.go
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log"
	"math/big"
	"net"
	"os"
	"time"
)

func main() {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	root := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Report Test Root", Organization: []string{"tlsdiag"}},
		NotBefore:             time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		log.Fatal(err)
	}
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "expired.test", Organization: []string{"tlsdiag"}},
		DNSNames:     []string{"expired.test", "www.expired.test"},
		IPAddresses:  []net.IP{net.ParseIP("198.51.100.5")},
		NotBefore:    time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		log.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, rootCert, &leafKey.PublicKey, rootKey)
	if err != nil {
		log.Fatal(err)
	}
	var b bytes.Buffer
	for _, der := range [][]byte{leafDER, rootDER} {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if err := os.WriteFile("report/testdata/certs.pem", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
