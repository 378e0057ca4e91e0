// Command ech makes the ECH captures of testdata/field: a crypto/tls
// server with one ECH key (config 1) and a client in the same process,
// given config 1 ("ok": ECH accepted) or a config for another key
// ("reject": the server declines ECH and sends retry configs, the client
// aborts with ech_required). Usage: ech ADDR ok|reject KEYLOGFILE
package main

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"
)

func echConfig(id byte, pub []byte) []byte {
	var c []byte
	c = append(c, id)
	c = binary.BigEndian.AppendUint16(c, 0x0020)
	c = binary.BigEndian.AppendUint16(c, uint16(len(pub)))
	c = append(c, pub...)
	c = binary.BigEndian.AppendUint16(c, 4)
	c = append(c, 0, 1, 0, 1)
	c = append(c, 0) // max name length
	name := "public.test"
	c = append(c, byte(len(name)))
	c = append(c, name...)
	c = binary.BigEndian.AppendUint16(c, 0)
	out := binary.BigEndian.AppendUint16(nil, 0xfe0d)
	out = binary.BigEndian.AppendUint16(out, uint16(len(c)))
	return append(out, c...)
}

func list(cfg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(cfg))), cfg...)
}

func main() {
	addr, mode, keylog := os.Args[1], os.Args[2], os.Args[3]
	// A throwaway self-signed certificate for both names, which the
	// client trusts.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secret.test"},
		DNSNames: []string{"secret.test", "public.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	leaf, _ := x509.ParseCertificate(der)
	k1, _ := ecdh.X25519().GenerateKey(rand.Reader)
	k2, _ := ecdh.X25519().GenerateKey(rand.Reader)
	c1 := echConfig(1, k1.PublicKey().Bytes())
	c2 := echConfig(2, k2.PublicKey().Bytes())
	srv := &tls.Config{Certificates: []tls.Certificate{cert},
		EncryptedClientHelloKeys: []tls.EncryptedClientHelloKey{{Config: c1, PrivateKey: k1.Bytes(), SendAsRetry: true}}}
	ln, err := tls.Listen("tcp", addr, srv)
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if err := tc.Handshake(); err != nil {
					fmt.Println("server:", err)
					return
				}
				buf := make([]byte, 100)
				n, _ := tc.Read(buf)
				tc.Write([]byte("HTTP/1.0 200 OK\r\n\r\nech " + fmt.Sprint(tc.ConnectionState().ECHAccepted) + " " + string(buf[:n])))
			}()
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	kl, _ := os.OpenFile(keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	cl := &tls.Config{ServerName: "secret.test", RootCAs: roots, KeyLogWriter: kl, MinVersion: tls.VersionTLS13}
	if mode == "ok" {
		cl.EncryptedClientHelloConfigList = list(c1)
	} else {
		cl.EncryptedClientHelloConfigList = list(c2)
	}
	conn, err := tls.Dial("tcp", addr, cl)
	if err != nil {
		fmt.Println("client:", err)
		time.Sleep(300 * time.Millisecond)
		return
	}
	fmt.Println("client ECH accepted:", conn.ConnectionState().ECHAccepted)
	conn.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	b, _ := io.ReadAll(conn)
	fmt.Printf("client got %q\n", b)
	conn.Close()
	time.Sleep(300 * time.Millisecond)
}
