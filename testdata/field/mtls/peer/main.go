// Command peer is the Go side of the mutual-TLS captures (see
// ../README.md): a crypto/tls HTTPS server that requires and verifies a
// client certificate, or a net/http client that presents one.
//
//	go run peer/main.go server ADDR CERT KEY CLIENT-CA MAXVERSION
//	go run peer/main.go client URL CHAIN KEY SERVER-CA MAXVERSION [KEYLOG]
//
// The client verifies the server as test.example whatever the URL's host
// (the captures use https://127.0.0.1:PORT/, resolving nothing).
//
// MAXVERSION is 12 or 13. The client builds its tls.Certificate without
// tls.X509KeyPair's check, so that a key that does not match the
// certificate reaches the wire (CertificateVerify then fails).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func version(s string) uint16 {
	if s == "12" {
		return tls.VersionTLS12
	}
	return tls.VersionTLS13
}

func pool(file string) *x509.CertPool {
	p := x509.NewCertPool()
	b, err := os.ReadFile(file)
	if err != nil || !p.AppendCertsFromPEM(b) {
		panic(fmt.Sprintf("%s: %v", file, err))
	}
	return p
}

func main() {
	a := os.Args[1:]
	switch a[0] {
	case "server":
		cert, err := tls.LoadX509KeyPair(a[2], a[3])
		if err != nil {
			panic(err)
		}
		s := &http.Server{Addr: a[1], TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs: pool(a[4]), MaxVersion: version(a[5]),
		}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello %s\n", r.TLS.PeerCertificates[0].Subject)
		})}
		fmt.Fprintln(os.Stderr, s.ListenAndServeTLS("", ""))
	case "client":
		chain, err := os.ReadFile(a[2])
		if err != nil {
			panic(err)
		}
		var cert tls.Certificate
		for b, rest := pem.Decode(chain); b != nil; b, rest = pem.Decode(rest) {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		}
		kp, err := os.ReadFile(a[3])
		if err != nil {
			panic(err)
		}
		kb, _ := pem.Decode(kp)
		if cert.PrivateKey, err = x509.ParsePKCS8PrivateKey(kb.Bytes); err != nil {
			panic(err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool(a[4]), MaxVersion: version(a[5]), ServerName: "test.example"}
		if len(a) > 6 {
			f, err := os.Create(a[6])
			if err != nil {
				panic(err)
			}
			defer f.Close()
			cfg.KeyLogWriter = f
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(a[1])
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s\n%s", resp.Status, b)
	}
}
