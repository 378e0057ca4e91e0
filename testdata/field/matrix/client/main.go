// Command client is the Go net/http client of the matrix captures: it
// fetches URL once with the system's roots (SSL_CERT_FILE names
// root.pem), optionally with TLS 1.2 at most or TLS 1.3 at least.
//
//	go run ./client [-max12|-min13] URL
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	max12 := flag.Bool("max12", false, "offer TLS 1.2 at most")
	min13 := flag.Bool("min13", false, "require TLS 1.3")
	flag.Parse()
	cfg := &tls.Config{}
	if *max12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	if *min13 {
		cfg.MinVersion = tls.VersionTLS13
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := c.Get(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s %q\n", resp.Status, b)
}
