// Command server is the Go net/http server of the server captures (see
// ../README.md): an HTTPS server on ADDR made to fail in one way, or a
// plain HTTP one.
//
//	go run ./server -addr 10.83.0.2:9401 -cert chain.pem -key leaf.key [-min13|-max12|-cipher|-clientca root.pem|-alpn|-sni NAME|-plain]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "", "listen address")
	certFile := flag.String("cert", "", "certificate chain (PEM)")
	keyFile := flag.String("key", "", "key (PEM)")
	min13 := flag.Bool("min13", false, "TLS 1.3 only")
	max12 := flag.Bool("max12", false, "TLS 1.2 at most")
	cipher := flag.Bool("cipher", false, "TLS 1.2 with TLS_ECDHE_ECDSA_WITH_RC4_128_SHA only")
	clientCA := flag.String("clientca", "", "require a client certificate from this CA")
	alpn := flag.Bool("alpn", false, "offer ALPN h2 only")
	sni := flag.String("sni", "", "refuse every other server name")
	plain := flag.Bool("plain", false, "plain HTTP")
	flag.Parse()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *plain {
		log.Fatal(srv.Serve(ln))
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	switch {
	case *min13:
		cfg.MinVersion = tls.VersionTLS13
	case *max12:
		cfg.MaxVersion = tls.VersionTLS12
	case *cipher:
		cfg.MaxVersion = tls.VersionTLS12
		cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA}
	case *clientCA != "":
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			log.Fatal(err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		cfg.ClientCAs.AppendCertsFromPEM(pem)
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case *alpn:
		cfg.NextProtos = []string{"h2"}
	case *sni != "":
		// No Certificates: a name GetCertificate has nothing for is
		// refused with unrecognized_name.
		cfg.Certificates = nil
		cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == *sni {
				return &cert, nil
			}
			return nil, nil
		}
	}
	log.Fatal(srv.Serve(tls.NewListener(ln, cfg)))
}
