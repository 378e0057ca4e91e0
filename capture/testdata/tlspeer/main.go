// Command tlspeer is one end of a small TLS conversation, used by
// make-captures.sh to produce real captures: the client asks for n bytes,
// the server sends them and closes.
//
//	tlspeer -listen 127.0.0.1:4433 -cert cert.pem -key key.pem
//	tlspeer -connect 127.0.0.1:4433 -sni capture.test -n 20000
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	var (
		listen  = flag.String("listen", "", "serve one connection on this `address`")
		connect = flag.String("connect", "", "connect to this `address`")
		cert    = flag.String("cert", "", "server certificate `file` (PEM)")
		key     = flag.String("key", "", "server key `file` (PEM)")
		sni     = flag.String("sni", "capture.test", "server `name` to ask for")
		n       = flag.Int("n", 10000, "bytes the client asks for")
		maxVer  = flag.String("max", "1.3", "highest TLS `version` offered: 1.2 or 1.3")
	)
	flag.Parse()
	var err error
	switch {
	case *listen != "":
		err = serve(*listen, *cert, *key)
	case *connect != "":
		err = client(*connect, *sni, *n, *maxVer)
	default:
		err = fmt.Errorf("need -listen or -connect")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlspeer:", err)
		os.Exit(1)
	}
}

func serve(addr, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "GET ")))
	if err != nil {
		return err
	}
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = "0123456789abcdef"[i%16]
	}
	if _, err := c.Write(buf); err != nil {
		return err
	}
	return c.(*tls.Conn).CloseWrite()
}

func client(addr, sni string, n int, maxVer string) error {
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS13}
	if maxVer == "1.2" {
		cfg.MaxVersion = tls.VersionTLS12
	}
	var c *tls.Conn
	var err error
	for range 50 { // the server may not listen yet
		if c, err = tls.Dial("tcp", addr, cfg); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %d\n", n); err != nil {
		return err
	}
	got, err := io.Copy(io.Discard, c)
	if err != nil {
		return err
	}
	if got != int64(n) {
		return fmt.Errorf("got %d bytes, want %d", got, n)
	}
	return nil
}
