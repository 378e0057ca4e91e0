// Command gen runs the servers and the gRPC-Go client behind the captures
// in testdata/field/grpc (make.sh drives it; CI does not run it).
//
//	gen certs DIR                       a private root and a leaf for grpc.test
//	gen server MODE -listen ADDR -certs DIR [-tls 12|13]
//	gen client MODE -target ADDR -certs DIR [-keylog FILE]
//
// Server modes: terminator (crypto/tls without NextProtos, piping each
// connection to an in-process plaintext gRPC server, as a TLS stream proxy
// does), http11 (net/http over TLS with ALPN http/1.1 only), h2c (gRPC
// server without TLS), grpctls (gRPC server with TLS). Client modes: tls
// (credentials.NewTLS), insecure (insecure.NewCredentials()).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 3 {
		log.Fatal("usage: gen certs DIR | gen server MODE ... | gen client MODE ...")
	}
	switch os.Args[1] {
	case "certs":
		if err := writeCerts(os.Args[2]); err != nil {
			log.Fatal(err)
		}
	case "server":
		fs := flag.NewFlagSet("server", flag.ExitOnError)
		listen := fs.String("listen", "", "address to listen on")
		certs := fs.String("certs", "", "directory of gen certs")
		version := fs.Int("tls", 13, "highest TLS version: 12 or 13")
		fs.Parse(os.Args[3:])
		if err := serve(os.Args[2], *listen, *certs, *version); err != nil {
			log.Fatal(err)
		}
	case "client":
		fs := flag.NewFlagSet("client", flag.ExitOnError)
		target := fs.String("target", "", "host:port")
		certs := fs.String("certs", "", "directory of gen certs")
		keylog := fs.String("keylog", "", "write TLS secrets here")
		fs.Parse(os.Args[3:])
		if err := call(os.Args[2], *target, *certs, *keylog); err != nil {
			fmt.Println("client error:", err)
			os.Exit(1)
		}
		fmt.Println("client: SERVING")
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func writeCerts(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gRPC Field Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "grpc.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0),
		DNSNames: []string{"grpc.test"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.pem":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func serverTLS(dir string, version int) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS13}
	if version == 12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	return cfg, nil
}

func grpcServer(opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s, health.NewServer())
	return s
}

func serve(mode, listen, dir string, version int) error {
	cfg, err := serverTLS(dir, version)
	if err != nil {
		return err
	}
	switch mode {
	case "h2c":
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return err
		}
		return grpcServer().Serve(ln)
	case "grpctls":
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return err
		}
		return grpcServer(grpc.Creds(credentials.NewTLS(cfg))).Serve(ln)
	case "http11":
		srv := &http.Server{Addr: listen, TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "HTTP/1.1 only\n")
		})}
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		cfg.NextProtos = []string{"http/1.1"}
		return srv.ListenAndServeTLS("", "")
	case "terminator":
		backend, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go grpcServer().Serve(backend)
		ln, err := tls.Listen("tcp", listen, cfg) // no NextProtos: selects no ALPN protocol
		if err != nil {
			return err
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			go pipe(c, backend.Addr().String())
		}
	}
	return fmt.Errorf("unknown server mode %q", mode)
}

// pipe copies one terminated connection to the backend and back.
func pipe(c net.Conn, backend string) {
	defer c.Close()
	if err := c.(*tls.Conn).Handshake(); err != nil {
		log.Printf("terminator: %v", err)
		return
	}
	b, err := net.Dial("tcp", backend)
	if err != nil {
		log.Printf("terminator: %v", err)
		return
	}
	defer b.Close()
	go io.Copy(b, c)
	io.Copy(c, b)
}

func call(mode, target, dir, keylog string) error {
	var creds credentials.TransportCredentials
	switch mode {
	case "insecure":
		creds = insecure.NewCredentials()
	case "tls":
		pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg := &tls.Config{RootCAs: pool, ServerName: "grpc.test"}
		if keylog != "" {
			f, err := os.Create(keylog)
			if err != nil {
				return err
			}
			defer f.Close()
			cfg.KeyLogWriter = f
		}
		creds = credentials.NewTLS(cfg)
	default:
		return fmt.Errorf("unknown client mode %q", mode)
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("status %v", resp.GetStatus())
	}
	return nil
}
