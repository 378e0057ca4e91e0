// Command lab is the server and the clients of the staleport captures: a
// TLS server with a self-signed certificate, which it writes to -cert; a
// client that connects from a fixed port, completes a handshake and
// vanishes with a reset (which the lab's firewall drops, so that the
// server keeps the connection); and a Go net/http client that then
// connects from the same port.
//
//	lab -serve 127.0.0.1:9770 -cert server.pem
//	lab -forget 127.0.0.1:9770 -from 40770
//	lab -get https://127.0.0.1:9770/ -from 40771 -cacert server.pem
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	serve := flag.String("serve", "", "address to serve on")
	certFile := flag.String("cert", "", "where the server writes its certificate (PEM)")
	forget := flag.String("forget", "", "address to connect to and then forget with a reset")
	get := flag.String("get", "", "URL to request")
	from := flag.Int("from", 0, "the client's local port")
	caFile := flag.String("cacert", "", "the server's certificate, for -get")
	flag.Parse()
	switch {
	case *serve != "":
		log.Fatal(runServer(*serve, *certFile))
	case *forget != "":
		if err := runForget(*forget, *from); err != nil {
			log.Fatal(err)
		}
	case *get != "":
		if err := runGet(*get, *from, *caFile); err != nil {
			log.Fatal(err)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func runServer(addr, certFile string) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	if err := os.WriteFile(certFile, pemBytes, 0o644); err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })}
	return srv.ListenAndServeTLS("", "")
}

// runForget completes a handshake from port from and closes with a reset
// (SO_LINGER 0): the socket is gone at once, without TIME_WAIT, so the
// port is free for the next client.
func runForget(addr string, from int) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: from}}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true}) // only the connection matters
	if err := conn.Handshake(); err != nil {
		return err
	}
	if err := raw.(*net.TCPConn).SetLinger(0); err != nil {
		return err
	}
	return raw.Close()
}

func runGet(url string, from int, caFile string) error {
	pool := x509.NewCertPool()
	b, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	if !pool.AppendCertsFromPEM(b) {
		return errors.New("no certificate in " + caFile)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: from}, Timeout: 10 * time.Second}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Fprintln(os.Stderr, "client:", resp.Status)
	return nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "staleport.test"},
		DNSNames:              []string{"staleport.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
