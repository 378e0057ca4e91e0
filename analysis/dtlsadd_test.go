package analysis

import (
	"net/netip"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestDTLSStatsAdd checks that the DTLS Builders saw adds up the same in
// whichever order they end: the first hello is the earliest of all.
func TestDTLSStatsAdd(t *testing.T) {
	a := DTLSStats{Flows: 2, Datagrams: 9, First: capture.Frame{Number: 7},
		Client: netip.MustParseAddrPort("10.0.0.1:5000"), Server: netip.MustParseAddrPort("10.0.0.2:4433")}
	b := DTLSStats{Flows: 1, Datagrams: 4, FlowsCapped: true, First: capture.Frame{Number: 3},
		Client: netip.MustParseAddrPort("[2001:db8::1]:6000"), Server: netip.MustParseAddrPort("[2001:db8::2]:443")}
	want := DTLSStats{Flows: 3, Datagrams: 13, FlowsCapped: true, First: b.First, Client: b.Client, Server: b.Server}
	for _, order := range [][]DTLSStats{{a, b}, {b, a}, {{}, a, {}, b}, {b, {}, a}} {
		var got DTLSStats
		for _, s := range order {
			got.add(s)
		}
		if got != want {
			t.Errorf("adding %+v: %+v, want %+v", order, got, want)
		}
	}
}
