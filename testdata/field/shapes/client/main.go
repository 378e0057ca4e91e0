// Command client fetches one URL with Go's crypto/tls defaults (a
// post-quantum X25519MLKEM768 key share, so a ClientHello over 1.2 KB),
// trusting the roots in -roots; -max12 caps it at TLS 1.2. Used by make.sh.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	roots := flag.String("roots", "", "PEM file of trusted roots")
	max12 := flag.Bool("max12", false, "TLS 1.2 at most")
	flag.Parse()
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(*roots)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if *max12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := c.Get(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	fmt.Println(resp.Status)
}
