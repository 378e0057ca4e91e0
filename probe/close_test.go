package probe

import (
	"context"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
)

// startCloser runs a TCP server on loopback that accepts every connection,
// reads as much as readFirst (nothing when false: it closes at once) and
// closes it with a FIN, without a byte of TLS.
func startCloser(t *testing.T, readFirst bool) netip.AddrPort {
	return acceptEach(t, func(c net.Conn) {
		if readFirst {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			c.Read(make([]byte, 16<<10))
		}
		c.Close()
	})
}

// TestProbeServerCloses: a server that closes with a FIN instead of
// answering (after the ClientHello, or before it arrived: a connection
// limit, a load balancer without a backend, a tunnel whose far end
// failed) is one event seen from both ends: Go's EOF, or the reset its
// write after the FIN draws, and the wire's server_no_response agree.
func TestProbeServerCloses(t *testing.T) {
	if !canCapture(t) {
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
			cfg := loopbackConfig(startCloser(t, tt.readFirst))
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Wire.Err != nil || res.Wire.Result == nil {
				t.Fatalf("no wire view: %v", res.Wire.Err)
			}
			if c := res.Client.Class; c != ConnectionClosed && c != ConnectionReset || res.Client.Phase != PhaseTLS {
				t.Errorf("client: %s in phase %s (%v), want connection_closed or connection_reset in the handshake", c, res.Client.Phase, res.Client.Err)
			}
			// After the ClientHello the server's FIN without TLS is
			// server_no_response. Closing at once races the hello: a
			// hello in the socket's buffer at the close makes the kernel
			// reset instead.
			want := []diagnose.Category{diagnose.ServerNoResponse}
			if !tt.readFirst {
				want = append(want, diagnose.ConnectionReset)
			}
			if v := res.Wire.Result.Verdict; !slices.Contains(want, v.Category) {
				t.Errorf("wire verdict %s (%s), want one of %v", v.Category, v.Summary, want)
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
				o.Err = &url.Error{Op: "Get", URL: cfg.Target.URL.String(), Err: cause}
				o.Class = Classify(o.Err)
				if c := Correlate(res.Target, &o, &res.Wire, false, flagNames); c.Agreement != Agree {
					t.Errorf("%v (%s): correlation %s: %s", o.Err, o.Class, c.Agreement, c.Summary)
				}
			}
		})
	}
}
