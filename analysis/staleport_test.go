package analysis

import (
	"context"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestStalePortOneConnection reads SYNs answered by an acknowledgment of
// an older connection between the same ports, the client's reset of it
// and its SYN sent again (testdata/field/staleport): each is one
// connection from its first SYN, whose record names the acknowledgment
// and the reset, and neither makes a gap (the acknowledgment is of
// another connection's bytes) nor a connection of its own.
func TestStalePortOneConnection(t *testing.T) {
	for _, tc := range []struct {
		file               string
		conns              int
		staleACK, staleRST []int64
	}{
		{"curl_stale_port.pcap", 1, []int64{2}, []int64{3}},
		{"go_stale_port.pcap", 1, []int64{2}, []int64{3}},
		{"windows_stale_ports.pcap", 2, []int64{3, 4}, []int64{5, 6}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src, err := capture.OpenFile("../testdata/field/staleport/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			conns, _, err := Analyse(context.Background(), src, Options{}, capture.Options{}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(conns) != tc.conns {
				t.Fatalf("%d connections, want %d", len(conns), tc.conns)
			}
			for i, c := range conns {
				tcp := c.TCP
				if p := c.Path; p == nil || p.StaleACK.Number != tc.staleACK[i] || p.StaleReset.Number != tc.staleRST[i] {
					t.Errorf("%v: path facts %+v, want stale ACK frame %d, reset frame %d", c.Client, p, tc.staleACK[i], tc.staleRST[i])
				}
				if tcp.SYNCount < 2 || tcp.SYNACK.Number == 0 || !c.Established || tcp.RST.Number != 0 && tcp.RST.Number < tcp.SYNACK.Number {
					t.Errorf("%v: %d SYNs, SYN-ACK frame %d, established %v, reset frame %d: not one connection from its first SYN", c.Client, tcp.SYNCount, tcp.SYNACK.Number, c.Established, tcp.RST.Number)
				}
				if len(tcp.Gaps) != 0 {
					t.Errorf("%v: gaps %+v", c.Client, tcp.Gaps)
				}
			}
		})
	}
}
