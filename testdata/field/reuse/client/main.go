// Command client sends HTTPS requests one after another over one
// net/http Transport, as a Go service calling an API does, and prints
// each outcome: the status or the error the Transport returned. It is
// the Go client of testdata/field/reuse (see README.md).
//
//	go run client/main.go -ca root.pem -n 3 -gap 900ms -method POST https://reuse.test:8490/
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
	"strings"
	"sync"
	"time"
)

func main() {
	var (
		caFile    = flag.String("ca", "root.pem", "the root the client trusts")
		addr      = flag.String("addr", "", "dial this host:port whatever the URL's host")
		n         = flag.Int("n", 2, "requests")
		gap       = flag.Duration("gap", 0, "wait between one answer and the next request")
		method    = flag.String("method", "POST", "request method")
		h2        = flag.Bool("h2", false, "offer HTTP/2 (ALPN h2)")
		parallel  = flag.Bool("parallel", false, "send one request, then the others at once, not one after another")
		streaming = flag.Bool("streaming", false, "send the body as a plain io.Reader, which the Transport cannot replay (no GetBody)")
		keyLog    = flag.String("keylog", "", "write the TLS key log here")
	)
	flag.Parse()
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: roots}
	if *keyLog != "" {
		f, err := os.Create(*keyLog)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		cfg.KeyLogWriter = f
	}
	dialer := &net.Dialer{}
	tr := &http.Transport{
		TLSClientConfig:   cfg,
		ForceAttemptHTTP2: *h2,
		IdleConnTimeout:   90 * time.Second, // net/http's default
	}
	if !*h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	if *addr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, *addr)
		}
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := flag.Arg(0)
	do := func(i int) {
		var body io.Reader
		if *method != "GET" {
			s := strings.NewReader(fmt.Sprintf(`{"order":%d}`, i))
			body = s
			if *streaming {
				body = struct{ io.Reader }{s}
			}
		}
		req, err := http.NewRequest(*method, url, body)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			fmt.Printf("request %d: error after %s: %v\n", i, time.Since(start).Round(time.Millisecond), err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("request %d: %s %s\n", i, resp.Proto, resp.Status)
	}
	if *parallel {
		// One request opens the connection; the rest share it.
		do(0)
		var wg sync.WaitGroup
		for i := 1; i <= *n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); do(i) }()
		}
		wg.Wait()
		return
	}
	for i := 1; i <= *n; i++ {
		if i > 1 {
			time.Sleep(*gap)
		}
		do(i)
	}
}
