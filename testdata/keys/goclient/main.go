// Command goclient makes one TLS 1.2 request with Go's crypto/tls, writing
// its secrets with Config.KeyLogWriter: a capture source for the key log
// tests (testdata/keys/make.sh).
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: goclient ADDR SUITE-ID KEYLOG")
		os.Exit(2)
	}
	suite, err := strconv.ParseUint(os.Args[2], 0, 16)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	kl, err := os.Create(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer kl.Close()
	c, err := tls.Dial("tcp", os.Args[1], &tls.Config{
		InsecureSkipVerify: true, // the server's certificate is a throwaway
		MaxVersion:         tls.VersionTLS12,
		CipherSuites:       []uint16{uint16(suite)},
		KeyLogWriter:       kl,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /hello.txt HTTP/1.0\r\n\r\n")
	io.Copy(io.Discard, c)
}
