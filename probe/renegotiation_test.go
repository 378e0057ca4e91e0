package probe

import (
	"bufio"
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestClassifyRenegotiationRefused asks a real server to renegotiate after
// the request, as Apache httpd does for a client certificate configured in
// one <Location>: openssl s_server, told "R" on its standard input once it
// has echoed the request, sends a HelloRequest. net/http's client refuses
// it ("local error: tls: no renegotiation"), which must be classified as
// such, not as a handshake the client aborted.
func TestClassifyRenegotiationRefused(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, err := lab.Good.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, chainFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: lab.Good.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, ca := range lab.Good.Chain {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	}
	if err := os.WriteFile(chainFile, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close() // s_server takes the port
	srv := exec.Command("openssl", "s_server", "-accept", addr, "-cert", certFile, "-key", keyFile, "-cert_chain", chainFile, "-tls1_2")
	stdin, err := srv.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	go func() {
		// s_server echoes what it reads: once the request is in, ask
		// the client to renegotiate.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "GET / HTTP/1.1") {
				stdin.Write([]byte("R\n"))
			}
		}
	}()
	var resp *http.Response
	for range 50 { // until s_server listens
		tr := &http.Transport{TLSClientConfig: lab.ClientConfig(), DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
		resp, err = (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + tlslab.GoodName + ":" + port + "/")
		tr.CloseIdleConnections()
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the request succeeded (%s), want the client to refuse the renegotiation", resp.Status)
	}
	if got := Classify(err); got != RenegotiationRefused {
		t.Errorf("Classify(%v) = %s, want %s", err, got, RenegotiationRefused)
	}
}
