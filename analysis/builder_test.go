package analysis

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestMeantToBeTLS checks which connections without any TLS are reported:
// only those to a well-known TLS port, a port the capture shows TLS on, or
// a port the caller names.
func TestMeantToBeTLS(t *testing.T) {
	const refused = "../testdata/captures/connection_refused.pcap" // SYN to 4454, answered by RST
	if got := analyse(t, refused, Options{}); len(got) != 0 {
		t.Errorf("refused connection to a port not known as TLS: got %d connections, want 0", len(got))
	}
	got := analyse(t, refused, Options{TLSPorts: []uint16{4454}})
	if len(got) != 1 {
		t.Fatalf("with port 4454 named: got %d connections, want 1", len(got))
	}
	c := got[0]
	if c.Server.Port() != 4454 || c.TCP.SYN.Number == 0 || c.TCP.RST.Number == 0 || c.TCP.RSTFrom != capture.ServerToClient {
		t.Errorf("refused connection: server %v, SYN frame %d, RST frame %d from %v; want port 4454, SYN and RST from the server",
			c.Server, c.TCP.SYN.Number, c.TCP.RST.Number, c.TCP.RSTFrom)
	}
}

// TestEarlyForgetsClosedConnections checks that live mode's memory of
// reported connections holds only those the capture expired while open:
// connections that closed are forgotten, so the table does not grow with
// traffic.
func TestEarlyForgetsClosedConnections(t *testing.T) {
	var reported int
	opt := Options{Early: true, Done: func(*Connection) { reported++ }}
	src, err := capture.OpenFile("../testdata/captures/ok.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if reported != 2 {
		t.Fatalf("reported %d connections, want 2", reported)
	}
	if n := len(b.recent); n != 0 || b.recentOrder.Len() != 0 {
		t.Errorf("%d connections still remembered after they closed, want 0", n)
	}
}

// TestUnansweredSYNsDoNotHoldBack puts a client whose SYNs get no answer
// (open until the capture ends) before two whole TLS connections: they
// must be handed on as soon as they end, not held back behind the SYNs,
// and the unanswered connection comes last.
func TestUnansweredSYNsDoNotHoldBack(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, path := range []string{"../testdata/captures/no_tcp_answer.pcap", "../testdata/captures/ok.pcap"} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var shift time.Duration
		for i := 0; ; i++ {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if i == 0 && !last.IsZero() {
				shift = last.Add(10 * time.Millisecond).Sub(ci.Timestamp)
			}
			ci.Timestamp = ci.Timestamp.Add(shift)
			last = ci.Timestamp
			if err := w.WritePacket(ci, data); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	src, err := capture.NewReader("merged", &buf)
	if err != nil {
		t.Fatal(err)
	}
	var order []uint16
	b := NewBuilder(Options{TLSPorts: []uint16{4456}, Emit: func(c *Connection) { order = append(order, c.Server.Port()) }})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []uint16{4431, 4431}) {
		t.Fatalf("before the end of the capture, connections to ports %v were handed on; want the two TLS ones (4431)", order)
	}
	b.Connections()
	if !slices.Equal(order, []uint16{4431, 4431, 4456}) || b.Stats().Unanswered != 1 {
		t.Errorf("connections to ports %v, %d listed last as unanswered; want [4431 4431 4456], 1", order, b.Stats().Unanswered)
	}
}
