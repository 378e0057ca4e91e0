// Command gen makes the traffic of the https:// proxy captures (see
// ../README.md): certificates, an https:// CONNECT proxy and TLS servers
// on loopback, and a Go net/http client that goes through the proxy.
//
//	go run ./gen certs DIR
//	go run ./gen serve DIR        # proxies on 8721-8727 (8727: TLS 1.2), targets on 8731-8734, until killed
//	go run ./gen get DIR PROXYPORT URL KEYLOG
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gen certs|serve|get DIR ...")
		os.Exit(2)
	}
	dir := os.Args[2]
	var err error
	switch os.Args[1] {
	case "certs":
		err = certs(dir)
	case "serve":
		err = serve(dir)
	case "get":
		if len(os.Args) != 6 {
			err = fmt.Errorf("get DIR PROXYPORT URL KEYLOG")
			break
		}
		err = get(dir, os.Args[3], os.Args[4], os.Args[5])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type spec struct {
	name, cn, dns string
	ca            bool
	parent        string
	from, until   time.Duration // from now
}

// The trusted root signs the proxy's leaf and the targets' but one; the
// untrusted root, which the client does not have, signs that one.
var specs = []spec{
	{name: "root", cn: "Proxy Lab Root CA", ca: true, from: -24 * time.Hour, until: 3650 * 24 * time.Hour},
	{name: "untrusted-root", cn: "Proxy Lab Untrusted Root CA", ca: true, from: -24 * time.Hour, until: 3650 * 24 * time.Hour},
	{name: "proxy", cn: "proxy.test", dns: "proxy.test", parent: "root", from: -24 * time.Hour, until: 365 * 24 * time.Hour},
	{name: "good", cn: "test.example", dns: "test.example", parent: "root", from: -24 * time.Hour, until: 365 * 24 * time.Hour},
	{name: "untrusted", cn: "test.example", dns: "test.example", parent: "untrusted-root", from: -24 * time.Hour, until: 365 * 24 * time.Hour},
	{name: "expired", cn: "test.example", dns: "test.example", parent: "root", from: -90 * 24 * time.Hour, until: -30 * 24 * time.Hour},
	{name: "other", cn: "other.example", dns: "other.example", parent: "root", from: -24 * time.Hour, until: 365 * 24 * time.Hour},
}

func certs(dir string) error {
	now := time.Now()
	made := map[string]*x509.Certificate{}
	keys := map[string]*ecdsa.PrivateKey{}
	for i, s := range specs {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(0x100 + i)),
			Subject:      pkix.Name{CommonName: s.cn},
			NotBefore:    now.Add(s.from),
			NotAfter:     now.Add(s.until),
		}
		if s.ca {
			tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
			tmpl.KeyUsage = x509.KeyUsageCertSign
		} else {
			tmpl.DNSNames = []string{s.dns}
			if s.name == "proxy" {
				tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
			}
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		parent, signer := tmpl, key
		if s.parent != "" {
			parent, signer = made[s.parent], keys[s.parent]
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			return err
		}
		made[s.name], _ = x509.ParseCertificate(der)
		keys[s.name] = key
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func load(dir, name string) (tls.Certificate, error) {
	return tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
}

// serve runs the https:// proxies and the targets until killed.
func serve(dir string) error {
	proxy, err := load(dir, "proxy")
	if err != nil {
		return err
	}
	for port := 8721; port <= 8727; port++ {
		cfg := &tls.Config{Certificates: []tls.Certificate{proxy}}
		if port == 8727 {
			cfg.MaxVersion = tls.VersionTLS12 // a proxy that speaks TLS 1.2 at most
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port), cfg)
		if err != nil {
			return err
		}
		go acceptLoop(ln, connect)
	}
	targets := []struct {
		port   int
		leaf   string
		maxVer uint16
	}{{8731, "good", 0}, {8732, "untrusted", 0}, {8733, "expired", 0}, {8734, "other", tls.VersionTLS12}}
	for _, tg := range targets {
		leaf, err := load(dir, tg.leaf)
		if err != nil {
			return err
		}
		srv := &http.Server{
			Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello from the target\n") }),
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{leaf}, MaxVersion: tg.maxVer},
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:"+strconv.Itoa(tg.port), srv.TLSConfig)
		if err != nil {
			return err
		}
		go srv.Serve(ln)
	}
	select {}
}

func acceptLoop(ln net.Listener, handle func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go handle(c)
	}
}

// connect answers one CONNECT to a loopback port (test.example and
// other.example are 127.0.0.1) with 200 and relays the tunnel.
func connect(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	_, port, err := net.SplitHostPort(req.Host)
	if req.Method != http.MethodConnect || err != nil {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	<-done
}

// get fetches target through the https:// proxy at 127.0.0.1:proxyPort,
// named proxy.test, trusting the lab's root for both, with Go's key log.
func get(dir, proxyPort, target, keylog string) error {
	pem, err := os.ReadFile(filepath.Join(dir, "root.pem"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	kl, err := os.Create(keylog)
	if err != nil {
		return err
	}
	defer kl.Close()
	client := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "https", Host: "proxy.test:" + proxyPort}),
		TLSClientConfig: &tls.Config{RootCAs: roots, KeyLogWriter: kl},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+proxyPort)
		},
		DisableKeepAlives: true,
	}, Timeout: 10 * time.Second}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Println("client error:", err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s %q\n", resp.Status, body)
	return nil
}
