// Command client is a crypto/tls client with its defaults, trusting the
// root in the file named by its first argument: it fetches / over HTTPS
// from the address of its second argument as the server name of its third
// (TLS 1.2 at most, so that the server's chain stays readable in the
// capture) and prints the error or the status.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
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
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: os.Args[3], MaxVersion: tls.VersionTLS12},
	}}
	resp, err := c.Get("https://" + os.Args[2] + "/")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
}
