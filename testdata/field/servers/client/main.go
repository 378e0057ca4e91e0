// Command client is the Go net/http client of the server captures: it
// fetches URL once, trusting the roots in -ca, connecting to -connect
// whatever the URL's host (which stays the server name it asks for).
//
//	go run ./client -ca root.pem -connect 10.83.0.2:9400 [-cert c.pem -key c.key] [-max12|-min13] [-h1] URL
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	caFile := flag.String("ca", "", "trusted roots (PEM)")
	connect := flag.String("connect", "", "address to connect to")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyFile := flag.String("key", "", "client key (PEM)")
	max12 := flag.Bool("max12", false, "offer TLS 1.2 at most")
	min13 := flag.Bool("min13", false, "require TLS 1.3")
	h1 := flag.Bool("h1", false, "offer ALPN http/1.1 only")
	flag.Parse()
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := &tls.Config{RootCAs: x509.NewCertPool()}
	cfg.RootCAs.AppendCertsFromPEM(pem)
	if *certFile != "" {
		c, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	if *max12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	if *min13 {
		cfg.MinVersion = tls.VersionTLS13
	}
	if *h1 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	var d net.Dialer
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: !*h1,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, *connect)
		}}
	resp, err := (&http.Client{Transport: tr}).Get(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s %q\n", resp.Status, b)
}
