// Command upstream is an HTTPS server whose GetCertificate refuses a
// ClientHello without SNI, as servers that pick the certificate by name
// do (a Kubernetes ingress, a multi-tenant Go server): a client that sends
// no name gets no certificate and crypto/tls ends the handshake.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
)

func main() {
	var (
		listen   = flag.String("listen", ":9752", "address to listen on")
		certFile = flag.String("cert", "leaf.pem", "certificate chain (PEM)")
		keyFile  = flag.String("key", "leaf.key", "private key (PEM)")
	)
	flag.Parse()
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr: *listen,
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if h.ServerName == "" {
				return nil, errors.New("no SNI: this server picks its certificate by name")
			}
			return &cert, nil
		}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from the upstream, name %q\n", r.TLS.ServerName)
		}),
	}
	log.Fatal(srv.ListenAndServeTLS("", ""))
}
