// Command server is the Go server of the resumption captures: an HTTPS
// server with crypto/tls's defaults (session tickets on), optionally TLS
// 1.2 at most, only some key-exchange groups, or a client certificate
// required.
//
//	go run ./server -addr ADDR -cert F -key F [-max12] [-groups p256,p384] [-clientca F]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
)

func main() {
	addr := flag.String("addr", "", "address to listen on")
	cert := flag.String("cert", "", "certificate chain (PEM)")
	key := flag.String("key", "", "key (PEM)")
	max12 := flag.Bool("max12", false, "TLS 1.2 at most")
	groups := flag.String("groups", "", "comma-separated groups: p256, p384, x25519")
	clientCA := flag.String("clientca", "", "require a client certificate from this CA")
	flag.Parse()
	c, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{c}}
	if *max12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	for _, g := range strings.Split(*groups, ",") {
		switch g {
		case "p256":
			cfg.CurvePreferences = append(cfg.CurvePreferences, tls.CurveP256)
		case "p384":
			cfg.CurvePreferences = append(cfg.CurvePreferences, tls.CurveP384)
		case "x25519":
			cfg.CurvePreferences = append(cfg.CurvePreferences, tls.X25519)
		}
	}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	srv := &http.Server{Addr: *addr, TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok resumed=%v\n", r.TLS.DidResume)
	})}
	if err := srv.ListenAndServeTLS("", ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
