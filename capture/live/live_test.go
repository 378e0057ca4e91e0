package live

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsdiag/tlsdiag/capture"
)

// needRoot skips live captures when not root: they need CAP_NET_RAW.
// CI runs as root, so there they always run.
func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root or CAP_NET_RAW; run as root (CI does)")
	}
}

// collector records every connection's bytes, safe to read after Run.
type collector struct {
	mu    sync.Mutex
	conns []*collected
}

type collected struct {
	mu     *sync.Mutex
	conn   capture.Conn
	data   [2]bytes.Buffer
	closed capture.CloseReason
}

func (c *collector) Open(conn capture.Conn) capture.Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &collected{mu: &c.mu, conn: conn}
	c.conns = append(c.conns, s)
	return s
}

func (s *collected) Data(d capture.Direction, b []byte, _ capture.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[d].Write(b)
}
func (s *collected) Gap(capture.Direction, int, capture.Frame)             {}
func (s *collected) Event(capture.Event)                                   {}
func (s *collected) Close(r capture.CloseReason, _ capture.Frame, _ int64) { s.closed = r }

// exchange makes one TCP connection to a loopback listener: the client
// sends hello, the server answers, both close.
func exchange(t *testing.T, network, addr string, hello, answer []byte) (port int) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		buf := make([]byte, len(hello))
		if _, err := io.ReadFull(c, buf); err != nil {
			done <- err
			return
		}
		_, err = c.Write(answer)
		done <- err
	}()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(hello); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return ln.Addr().(*net.TCPAddr).Port
}

// backends are the capture paths of this build.
func backends() []Backend {
	var bs []Backend
	if haveAFPacket {
		bs = append(bs, AFPacket)
	}
	if havePcap {
		bs = append(bs, Libpcap)
	}
	return bs
}

func TestCaptureLoopback(t *testing.T) {
	needRoot(t)
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) { testCaptureLoopback(t, b) })
	}
}

func testCaptureLoopback(t *testing.T, backend Backend) {
	tests := []struct {
		name, iface, network, addr string
		linkTypes                  []layers.LinkType
	}{
		{"lo ipv4", "lo", "tcp4", "127.0.0.1:0", []layers.LinkType{layers.LinkTypeEthernet}},
		{"lo ipv6", "lo", "tcp6", "[::1]:0", []layers.LinkType{layers.LinkTypeEthernet}},
		{"any", "any", "tcp4", "127.0.0.1:0", []layers.LinkType{layers.LinkTypeLinuxSLL2, layers.LinkTypeLinuxSLL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Listen first to learn the port for the filter.
			probe, err := net.Listen(tt.network, tt.addr)
			if err != nil {
				t.Skipf("%s not available: %v", tt.network, err)
			}
			addr := probe.Addr().String()
			probe.Close()
			_, port, _ := net.SplitHostPort(addr)
			var out bytes.Buffer
			h, err := Open(context.Background(), Config{Interface: tt.iface, Filter: "tcp port " + port, Immediate: true, Output: &out, Backend: backend})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if lt := h.LinkType(); lt != tt.linkTypes[0] && (len(tt.linkTypes) < 2 || lt != tt.linkTypes[1]) {
				t.Errorf("link type %s, want %v", lt, tt.linkTypes)
			}
			col := &collector{}
			type result struct {
				st  capture.Stats
				err error
			}
			res := make(chan result, 1)
			go func() {
				st, err := capture.Run(context.Background(), h, col, capture.Options{})
				res <- result{st, err}
			}()
			hello := bytes.Repeat([]byte("client hello "), 100)
			answer := bytes.Repeat([]byte("server answer "), 5000) // several segments
			exchange(t, tt.network, addr, hello, answer)
			// Wait until the capture saw both FINs, then stop.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				st, _ := h.Stats()
				if st.Read >= 10 && collectedBytes(col) == len(hello)+len(answer) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			stopped := time.Now()
			h.Stop()
			var r result
			select {
			case r = <-res:
			case <-time.After(2 * time.Second):
				t.Fatal("Run did not return within 2 s of Stop")
			}
			if d := time.Since(stopped); d > time.Second {
				t.Errorf("Run took %v to return after Stop", d)
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(col.conns) != 1 {
				t.Fatalf("%d connections, want 1", len(col.conns))
			}
			c := col.conns[0]
			if !c.conn.ClientKnown || c.conn.Server.Port() == c.conn.Client.Port() {
				t.Errorf("conn %+v", c.conn)
			}
			if !bytes.Equal(c.data[capture.ClientToServer].Bytes(), hello) || !bytes.Equal(c.data[capture.ServerToClient].Bytes(), answer) {
				t.Errorf("captured %d and %d bytes, want %d and %d; stats %+v", c.data[0].Len(), c.data[1].Len(), len(hello), len(answer), r.st)
				ps, _ := h.Stats()
				t.Logf("pcap stats %+v", ps)
			}
			st, err := h.Stats()
			if err != nil || st.Received == 0 || st.Read != r.st.Frames || st.DroppedByKernel != 0 {
				t.Errorf("stats %+v (%v), Run read %d frames", st, err, r.st.Frames)
			}
			// The written file has the same frames, numbered the same.
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := capture.NewReader("written", &out)
			if err != nil {
				t.Fatal(err)
			}
			st2, err := capture.Run(context.Background(), f, &collector{}, capture.Options{})
			if err != nil || st2.Frames != r.st.Frames || st2.DeliveredBytes != r.st.DeliveredBytes {
				t.Errorf("written file: %d frames %d bytes (%v), live: %d frames %d bytes", st2.Frames, st2.DeliveredBytes, err, r.st.Frames, r.st.DeliveredBytes)
			}
		})
	}
}

func collectedBytes(c *collector) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.conns {
		n += s.data[0].Len() + s.data[1].Len()
	}
	return n
}

// TestStopWithoutTraffic checks that a capture that sees nothing still
// stops promptly, by Stop and by cancelling the context.
func TestStopWithoutTraffic(t *testing.T) {
	needRoot(t)
	for _, b := range backends() {
		for _, how := range []string{"stop", "context"} {
			t.Run(string(b)+"/"+how, func(t *testing.T) { testStop(t, b, how) })
		}
	}
}

func testStop(t *testing.T, b Backend, how string) {
	{
		{
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h, err := Open(ctx, Config{Interface: "lo", Filter: "tcp port 9", ReadTimeout: 50 * time.Millisecond, Backend: b})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			res := make(chan error, 1)
			go func() {
				_, err := capture.Run(context.Background(), h, &collector{}, capture.Options{})
				res <- err
			}()
			time.Sleep(100 * time.Millisecond)
			start := time.Now()
			if how == "stop" {
				h.Stop()
			} else {
				cancel()
			}
			select {
			case err := <-res:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Run did not return")
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("took %v to stop", d)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	needRoot(t)
	for _, b := range backends() {
		_, err := Open(context.Background(), Config{Interface: "tlsdiag-nonexistent0", Backend: b})
		if err == nil || !strings.Contains(err.Error(), `no interface named "tlsdiag-nonexistent0"`) {
			t.Errorf("%s: error %v, want one naming the interface", b, err)
		}
		_, err = Open(context.Background(), Config{Interface: "lo", Filter: "tcp port", Backend: b})
		if err == nil || !strings.Contains(err.Error(), `filter "tcp port"`) {
			t.Errorf("%s: error %v, want one quoting the filter", b, err)
		}
	}
}

func TestDefaultInterface(t *testing.T) {
	needRoot(t)
	name, err := DefaultInterface()
	if err != nil {
		// A machine with only loopback has no default; say so clearly.
		if !strings.Contains(err.Error(), "no interface is up") {
			t.Fatal(err)
		}
		return
	}
	if name == "lo" || name == "any" || name == "" {
		t.Errorf("default interface %q", name)
	}
}

// TestOpenErrorMessages runs without root: it checks the explanations.
func TestOpenErrorMessages(t *testing.T) {
	tests := []struct{ err, want string }{
		{"eth0: You don't have permission to perform this capture on that device (socket: Operation not permitted)", "capturing on eth0 needs root or CAP_NET_RAW"},
		{"Permission Denied", "capturing on eth0 needs root or CAP_NET_RAW"},
		{"No Such Device", `no interface named "eth0"`},
		{"Interface Not Up", "interface eth0 is down"},
		{"something else", "live: capturing on eth0: something else"},
	}
	for _, tt := range tests {
		got := openError("eth0", errors.New(tt.err)).Error()
		if !strings.Contains(got, tt.want) || !strings.Contains(got, tt.err) {
			t.Errorf("openError(%q) = %q, want it to contain %q and the cause", tt.err, got, tt.want)
		}
	}
}
