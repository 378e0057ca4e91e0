// Command gen writes the certificates and runs the Go clients and server
// behind the captures in testdata/field/h2 (make.sh drives it; CI does not
// run it).
//
//	gen certs DIR                          a private root and an RSA leaf for h2.test
//	gen server h2only -listen ADDR -certs DIR
//	gen client MODE -url URL -certs DIR [-keylog FILE]
//
// The server h2only is net/http over TLS with ALPN h2 alone (NextProtos
// h2, HTTP/1 off). Client modes: http2 (golang.org/x/net/http2's
// Transport alone: ALPN h2 only), nethttp (net/http's default Transport:
// ALPN h2 and http/1.1), http11 (net/http with a tls.Config of its own and
// no HTTP/2: ALPN http/1.1 only).
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/net/http2"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 3 {
		log.Fatal("usage: gen certs DIR | gen server MODE ... | gen client MODE ...")
	}
	switch os.Args[1] {
	case "certs":
		if err := writeCerts(os.Args[2]); err != nil {
			log.Fatal(err)
		}
	case "server":
		fs := flag.NewFlagSet("server", flag.ExitOnError)
		listen := fs.String("listen", "", "address to listen on")
		certs := fs.String("certs", "", "directory of gen certs")
		fs.Parse(os.Args[3:])
		if err := serve(os.Args[2], *listen, *certs); err != nil {
			log.Fatal(err)
		}
	case "client":
		fs := flag.NewFlagSet("client", flag.ExitOnError)
		url := fs.String("url", "", "URL to GET")
		certs := fs.String("certs", "", "directory of gen certs")
		keylog := fs.String("keylog", "", "write TLS secrets here")
		fs.Parse(os.Args[3:])
		if err := get(os.Args[2], *url, *certs, *keylog); err != nil {
			fmt.Println("client error:", err)
			os.Exit(1)
		}
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func writeCerts(dir string) error {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "HTTP/2 Field Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	// RSA: the suites RFC 9113 forbids that browsers still offer
	// (ECDHE-RSA-AES256-SHA) need an RSA key.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "h2.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0),
		DNSNames: []string{"h2.test", "grpc.test"}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.pem":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func serve(mode, listen, dir string) error {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return err
	}
	if mode != "h2only" {
		return fmt.Errorf("unknown server mode %q", mode)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}
	srv := &http.Server{Addr: listen, TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "HTTP/2 only\n")
	})}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP2(true)
	return srv.ListenAndServeTLS("", "")
}

func get(mode, url, dir, keylog string) error {
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if keylog != "" {
		f, err := os.Create(keylog)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.KeyLogWriter = f
	}
	var rt http.RoundTripper
	switch mode {
	case "http2":
		rt = &http2.Transport{TLSClientConfig: cfg}
	case "nethttp":
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = cfg
		t.ForceAttemptHTTP2 = true
		rt = t
	case "http11":
		rt = &http.Transport{TLSClientConfig: cfg}
	default:
		return fmt.Errorf("unknown client mode %q", mode)
	}
	c := &http.Client{Transport: rt, Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("client: %s %s %q\n", resp.Proto, resp.Status, body)
	return nil
}
