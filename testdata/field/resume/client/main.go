// Command client is the Go client of the resumption captures: it fetches
// URL N times, each time on a new connection, with one
// tls.ClientSessionCache, so that every connection after the first offers
// the session of the one before. Go 1.26 offers X25519MLKEM768 and x25519
// key shares by default.
//
//	go run ./client [-n 2] [-max12] [-keylog FILE (default $SSLKEYLOGFILE)] [-cert F -key F] URL
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
	n := flag.Int("n", 2, "connections to make")
	max12 := flag.Bool("max12", false, "offer TLS 1.2 at most")
	keylog := flag.String("keylog", os.Getenv("SSLKEYLOGFILE"), "append the TLS secrets to this file (default $SSLKEYLOGFILE)")
	cert := flag.String("cert", "", "client certificate (PEM)")
	key := flag.String("key", "", "client key (PEM)")
	flag.Parse()
	cfg := &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	if *max12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	if *keylog != "" {
		f, err := os.OpenFile(*keylog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		cfg.KeyLogWriter = f
	}
	if *cert != "" {
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	failed := false
	for i := 0; i < *n; i++ {
		resp, err := c.Get(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %q (resumed %v)\n", resp.Status, b, resp.TLS.DidResume)
	}
	if failed {
		os.Exit(1)
	}
}
