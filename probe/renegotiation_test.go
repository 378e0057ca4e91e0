package probe

import (
	"bufio"
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// renegotiatingServer starts openssl s_server (TLS 1.2) with the lab's
// good certificate, which asks the client to renegotiate after the
// request, as Apache httpd does for a client certificate configured in one
// <Location>: told "R" on its standard input once it has echoed the
// request, it sends a HelloRequest. It returns the address s_server
// listens on.
func renegotiatingServer(t *testing.T, lab *tlslab.Lab) netip.AddrPort {
	t.Helper()
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
	addr := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close() // s_server takes the port
	srv := exec.Command("openssl", "s_server", "-accept", addr.String(), "-cert", certFile, "-key", keyFile, "-cert_chain", chainFile, "-tls1_2")
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
	for range 50 { // until s_server listens
		if c, err := net.Dial("tcp", addr.String()); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("openssl s_server does not listen on %s", addr)
	return addr
}

// TestClassifyRenegotiationRefused: net/http's client refuses the
// server's HelloRequest ("local error: tls: no renegotiation"), which
// must be classified as such, not as a handshake the client aborted.
func TestClassifyRenegotiationRefused(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := renegotiatingServer(t, lab)
	tr := &http.Transport{TLSClientConfig: lab.ClientConfig(), DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr.String())
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + tlslab.GoodName + ":" + strconv.Itoa(int(addr.Port())) + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the request succeeded (%s), want the client to refuse the renegotiation", resp.Status)
	}
	if got := Classify(err); got != RenegotiationRefused {
		t.Errorf("Classify(%v) = %s, want %s", err, got, RenegotiationRefused)
	}
}

// TestProbeRenegotiationRefused probes the same server: the client's
// class and the wire's verdict (read with the probe's own secrets) are the
// one failure, renegotiation_refused, and they agree.
func TestProbeRenegotiationRefused(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), labConfig(lab, renegotiatingServer(t, lab)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != RenegotiationRefused {
		t.Fatalf("client: %s (%v), want %s", res.Client.Class, res.Client.Err, RenegotiationRefused)
	}
	if res.OK() {
		t.Error("the probe reports success")
	}
	if !capturing {
		return
	}
	r := res.Wire.Result
	if r == nil {
		t.Fatalf("no wire result: %v", res.Wire.Err)
	}
	if r.Verdict.Category != diagnose.RenegotiationRefused || !r.Verdict.Failed() || !strings.Contains(r.Verdict.Summary, "and the client refused (no_renegotiation, frame") {
		t.Errorf("wire: %s: %s", r.Verdict.Category, r.Verdict.Summary)
	}
	if c := res.Correlation; c.Agreement != Agree || !strings.Contains(c.Fix, "tls.RenegotiateOnceAsClient") {
		t.Errorf("correlation %s: %s; fix %s", c.Agreement, c.Summary, c.Fix)
	}
}
