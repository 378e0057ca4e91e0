// Command lab is the server and the clients of the abandon captures: a
// TLS server that holds every ClientHello for -delay before it answers (a
// slow server: a certificate fetched from elsewhere, an overloaded
// process), and a Go net/http client that either cancels its request
// after -cancel or gives up after its Client.Timeout -timeout.
//
//	lab -serve 127.0.0.1:9760 -delay 200ms
//	lab -get https://127.0.0.1:9760/ -cancel 20ms
//	lab -get https://127.0.0.1:9761/ -timeout 300ms
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net/http"
	"os"
	"time"
)

func main() {
	serve := flag.String("serve", "", "address to serve on")
	delay := flag.Duration("delay", 0, "how long the server holds each ClientHello")
	get := flag.String("get", "", "URL to request")
	cancel := flag.Duration("cancel", 0, "cancel the request after this long")
	timeout := flag.Duration("timeout", 0, "the client's Client.Timeout")
	flag.Parse()
	switch {
	case *serve != "":
		log.Fatal(runServer(*serve, *delay))
	case *get != "":
		err := runClient(*get, *cancel, *timeout)
		fmt.Fprintln(os.Stderr, "client:", err)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func runServer(addr string, delay time.Duration) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			time.Sleep(delay)
			return nil, nil
		},
	}
	srv := &http.Server{Addr: addr, TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})}
	return srv.ListenAndServeTLS("", "")
}

func runClient(url string, cancel, timeout time.Duration) error {
	ctx := context.Background()
	if cancel > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, cancel)
		defer stop()
	}
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the handshake never completes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "abandon.test"},
		DNSNames:     []string{"abandon.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
