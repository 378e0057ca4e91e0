// Command goproxy is a reverse proxy built on Go's httputil.ReverseProxy:
// HTTPS in front, HTTPS to the upstream, trusting the roots of -roots
// (the system's when empty), as a Go service in front of an internal
// upstream is commonly written.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	var (
		listen   = flag.String("listen", ":9748", "address to listen on")
		upstream = flag.String("upstream", "https://up.rp.test:9756", "upstream URL")
		roots    = flag.String("roots", "", "PEM file of the roots to trust for the upstream (empty: the system's)")
		certFile = flag.String("cert", "leaf.pem", "certificate chain of the front (PEM)")
		keyFile  = flag.String("key", "leaf.key", "private key of the front (PEM)")
	)
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{}
	if *roots != "" {
		pem, err := os.ReadFile(*roots)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			log.Fatalf("no certificate in %s", *roots)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	tr.ForceAttemptHTTP2 = false
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = tr
	log.Fatal(http.ListenAndServeTLS(*listen, *certFile, *keyFile, rp))
}
