// gen makes the cross-signed PKI of testdata/field/xsign.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"time"
)

func key() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k }

var serial int64 = 100

func cert(tmpl *x509.Certificate, parent *x509.Certificate, pub any, signer *ecdsa.PrivateKey, file string) *x509.Certificate {
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		panic(err)
	}
	os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	c, _ := x509.ParseCertificate(der)
	return c
}

func ca(cn string, from, to time.Time) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"XSign Lab"}},
		NotBefore: from, NotAfter: to, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
}

func wkey(k *ecdsa.PrivateKey, f string) {
	b, _ := x509.MarshalECPrivateKey(k)
	os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b}), 0o600)
}

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

func main() {
	oldK, newK, intK, leafK := key(), key(), key(), key()
	oldT := ca("XSign Old Root CA", d(2006, 1, 1), d(2036, 1, 1))
	old := cert(oldT, nil, &oldK.PublicKey, oldK, "old_root.pem")
	// The same root (name and key) as an expired edition: the client's
	// trust store holds a root that expired, as DST Root CA X3 in 2021.
	oldXT := ca("XSign Old Root CA", d(2006, 1, 1), d(2026, 11, 30))
	cert(oldXT, nil, &oldK.PublicKey, oldK, "old_root_expired.pem")
	newT := ca("XSign New Root CA", d(2020, 1, 1), d(2045, 1, 1))
	nr := cert(newT, nil, &newK.PublicKey, newK, "new_root.pem")
	// The new root's name and key, signed by the old root: expired
	// (AddTrust's cross-sign of USERTrust, May 2020) and still valid (DST's
	// of ISRG Root X1, to 2024).
	cert(ca("XSign New Root CA", d(2020, 1, 1), d(2026, 11, 30)), old, &newK.PublicKey, oldK, "xsign_expired.pem")
	cert(ca("XSign New Root CA", d(2020, 1, 1), d(2030, 1, 1)), old, &newK.PublicKey, oldK, "xsign_valid.pem")
	intT := ca("XSign Issuing CA 1", d(2024, 1, 1), d(2030, 1, 1))
	intT.MaxPathLen, intT.MaxPathLenZero = 0, true
	in := cert(intT, nr, &intK.PublicKey, newK, "intermediate.pem")
	leafT := &x509.Certificate{Subject: pkix.Name{CommonName: "good.test", Organization: []string{"XSign Lab"}},
		NotBefore: d(2026, 10, 1), NotAfter: d(2027, 10, 1), DNSNames: []string{"good.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	cert(leafT, in, &leafK.PublicKey, intK, "leaf.pem")
	wkey(leafK, "leaf.key")
}
