package probe

import (
	"context"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// startCloser runs a TCP server on loopback that accepts every connection,
// reads as much as readFirst (nothing when false: it closes at once) and
// closes it with a FIN, without a byte of TLS.
func startCloser(t *testing.T, readFirst bool) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if readFirst {
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				c.Read(make([]byte, 16<<10))
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// TestProbeServerCloses: a server that closes with a FIN instead of
// answering (after the ClientHello, or before it arrived: a connection
// limit, a load balancer without a backend, a tunnel whose far end
// failed) is one event seen from both ends: Go's EOF, or the reset its
// write after the FIN draws, and the wire's server_no_response agree.
func TestProbeServerCloses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compares the client's error with the wire: needs root or CAP_NET_RAW to capture (CI runs as root)")
	}
	for _, tt := range []struct {
		name      string
		readFirst bool
	}{
		{"after the ClientHello", true},
		{"before the ClientHello", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := startCloser(t, tt.readFirst)
			target := Target{Host: tlslab.GoodName, Port: addr.Port()}
			target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
			res, err := Run(context.Background(), Config{
				Target: target, NoProxyEnv: true, Names: flagNames, MaxTime: 5 * time.Second,
				Resolve: []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Wire.Err != nil || res.Wire.Result == nil {
				t.Fatalf("no wire view: %v", res.Wire.Err)
			}
			if c := res.Client.Class; c != ConnectionClosed && c != ConnectionReset || res.Client.Phase != PhaseTLS {
				t.Errorf("client: %s in phase %s (%v), want connection_closed or connection_reset in the handshake", c, res.Client.Phase, res.Client.Err)
			}
			if v := res.Wire.Result.Verdict; tt.readFirst && v.Category != diagnose.ServerNoResponse {
				t.Errorf("wire verdict %s (%s), want server_no_response", v.Category, v.Summary)
			}
			if c := res.Correlation; c.Agreement != Agree {
				t.Errorf("correlation %s: %s", c.Agreement, c.Summary)
			}
			// Whichever of EOF and the reset Go met first, the agreement
			// is the same.
			for _, cause := range []error{
				&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)},
				io.EOF,
			} {
				o := res.Client
				o.Err = &url.Error{Op: "Get", URL: target.URL.String(), Err: cause}
				o.Class = Classify(o.Err)
				if c := Correlate(res.Target, &o, &res.Wire, false, flagNames); c.Agreement != Agree {
					t.Errorf("%v (%s): correlation %s: %s", o.Err, o.Class, c.Agreement, c.Summary)
				}
			}
		})
	}
}
