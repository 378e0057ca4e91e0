// Command client fetches one URL with Go's net/http and its default
// transport (net.Dialer: Happy Eyeballs, FallbackDelay 300 ms), trusting
// the root in ROOT; it prints the status or the error.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	pem, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	c := &http.Client{Transport: tr, Timeout: 6 * time.Second}
	start := time.Now()
	resp, err := c.Get(os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "go: %v (after %v)\n", err, time.Since(start).Round(time.Millisecond))
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Printf("go: %s (after %v)\n", resp.Status, time.Since(start).Round(time.Millisecond))
}
