// goclient: one GET by a plain net/http client trusting the roots in a file.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	port, rootsFile := os.Args[1], os.Args[2]
	pem, _ := os.ReadFile(rootsFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, n, a string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, "127.0.0.1:"+port)
		}}
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := cl.Get("https://good.test:" + port + "/")
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	fmt.Println("OK", resp.Status)
	resp.Body.Close()
}
