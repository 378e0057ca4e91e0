package probe

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/report"
)

// slowConn is a server's connection that hands the client less than
// crypto/tls writes, or hands it slowly.
type slowConn struct {
	net.Conn
	// stall: only the server's first record (its ServerHello) reaches the
	// client; everything after is swallowed.
	stall   bool
	stalled bool
	// trickle: every byte is sent alone, this long after the one before.
	trickle time.Duration
	sent    int
}

func (c *slowConn) Write(p []byte) (int, error) {
	switch {
	case c.stalled:
		return len(p), nil
	case c.stall:
		if len(p) < 5 {
			return 0, io.ErrShortWrite
		}
		n := min(len(p), 5+int(p[3])<<8|int(p[4]))
		c.stalled = true
		if _, err := c.Conn.Write(p[:n]); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	for i := range p {
		if _, err := c.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
		c.sent++
		time.Sleep(c.trickle)
	}
	return len(p), nil
}

// startSlowServer runs a crypto/tls server (the lab's good certificate)
// on loopback whose connections are slowConns made by wrap. It returns
// the address and a function that waits for the server to be done and
// returns the bytes it sent.
func startSlowServer(t *testing.T, lab *tlslab.Lab, wrap func(net.Conn) *slowConn) (netip.AddrPort, func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var sent int
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		sc := wrap(c)
		srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}})
		srv.Handshake()
		// Keep the connection open until the client hangs up: the server
		// stalls, it does not close.
		io.Copy(io.Discard, c)
		sent = sc.sent
	}()
	t.Cleanup(func() { ln.Close() })
	return netip.MustParseAddrPort(ln.Addr().String()), func() int { ln.Close(); wg.Wait(); return sent }
}

func slowProbe(t *testing.T, lab *tlslab.Lab, addr netip.AddrPort, maxTime time.Duration) *Result {
	t.Helper()
	target := Target{Host: tlslab.GoodName, Port: addr.Port()}
	cfg := Config{
		Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), Trace: true, Names: flagNames,
		Resolve:        []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
		ConnectTimeout: 2 * time.Second, MaxTime: maxTime, NoProxyEnv: true,
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != Timeout || res.Client.Phase != PhaseTLS {
		t.Errorf("client: %s in %s (%v), want a timeout in the handshake", res.Client.Class, res.Client.Phase, res.Client.Err)
	}
	return res
}

// TestProbeStalledServer: a server sends its ServerHello (crypto/tls's
// own) and then nothing. The wire's verdict says the server stopped after
// its ServerHello and the client gave up at its time limit; the client's
// timeout is the same event, so the two agree. Needs root to capture.
func TestProbeStalledServer(t *testing.T) {
	if !canCapture(t) {
		return
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr, wait := startSlowServer(t, lab, func(c net.Conn) *slowConn { return &slowConn{Conn: c, stall: true} })
	res := slowProbe(t, lab, addr, 1500*time.Millisecond)
	wait()
	if res.Wire.Err != nil || res.Wire.Result == nil {
		t.Fatalf("no wire view: %v %q", res.Wire.Err, res.Wire.Notes)
	}
	v := res.Wire.Result.Verdict
	sh := res.Wire.Result.Conn.ServerHelloFrame.Number
	if v.Category != diagnose.ServerNoResponse || !strings.Contains(v.Summary, "the server stopped after its ServerHello") ||
		!strings.Contains(v.Summary, "until the client gave up") || !containsFrame(v.Evidence, sh) {
		t.Errorf("verdict %s: %s (evidence %v), want server_no_response: the server stopped after its ServerHello (frame %d) … until the client gave up",
			v.Category, v.Summary, v.Evidence, sh)
	}
	c := res.Correlation
	if c.Agreement != Agree || !strings.Contains(c.Summary+c.Cause, "--max-time 1.5 s") {
		t.Errorf("correlation %s: %s / %s, want agree, naming the time limit (--max-time 1.5 s)", c.Agreement, c.Summary, c.Cause)
	}
	checkText(t, res)
}

// TestProbeTricklingServer: a server sends a real handshake one byte
// every 100 ms. The client gives up before the ServerHello is complete;
// the wire shows every byte the server sent, and does not say the server
// never spoke TLS. Needs root to capture.
func TestProbeTricklingServer(t *testing.T) {
	if !canCapture(t) {
		return
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr, wait := startSlowServer(t, lab, func(c net.Conn) *slowConn { return &slowConn{Conn: c, trickle: 100 * time.Millisecond} })
	res := slowProbe(t, lab, addr, 1500*time.Millisecond)
	sent := wait()
	if res.Wire.Err != nil || res.Wire.Result == nil {
		t.Fatalf("no wire view: %v %q", res.Wire.Err, res.Wire.Notes)
	}
	conn := res.Wire.Result.Conn
	v := res.Wire.Result.Verdict
	if conn.ServerSide.Bytes < int64(sent)-2 || sent < 5 {
		t.Errorf("the capture shows %d bytes from the server, it sent %d", conn.ServerSide.Bytes, sent)
	}
	if strings.Contains(v.Summary+v.Fix, "never spoke TLS") || v.Category != diagnose.ServerNoResponse ||
		!strings.Contains(v.Summary, "too slowly") {
		t.Errorf("verdict %s: %s / %s; want server_no_response saying the server answered too slowly", v.Category, v.Summary, v.Fix)
	}
	var trace strings.Builder
	if err := Write(&trace, report.FormatTrace, res, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, l := range strings.Split(trace.String(), "\n") {
		if strings.Contains(l, addr.String()+" → ") {
			lines++
		}
	}
	if lines < int(conn.ServerSide.Bytes) {
		t.Errorf("the trace lists %d frames from the server, which sent %d bytes one at a time:\n%s", lines, conn.ServerSide.Bytes, trace.String())
	}
	c := res.Correlation
	if c.Agreement != Agree {
		t.Errorf("correlation %s: %s", c.Agreement, c.Summary)
	}
	checkText(t, res)
}

func containsFrame(fs []int64, f int64) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func checkText(t *testing.T, res *Result) {
	t.Helper()
	var b strings.Builder
	if err := Write(&b, report.FormatTable, res, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", b.String())
}
