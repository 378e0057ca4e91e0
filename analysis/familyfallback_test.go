package analysis_test

import (
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

// TestOtherFamilyOneClient reads a capture of one client whose IPv6
// attempt was refused and that fell back to IPv4 (testdata/field/dualstack)
// with one Builder and with four: the refused attempt is linked to the
// fallback either way. A tlsgen capture of many clients over both
// families, where refused attempts and other clients' connections follow
// each other, must link none: nothing ties one client's IPv6 address to
// another's IPv4 one.
func TestOtherFamilyOneClient(t *testing.T) {
	for _, shards := range []int{1, 4} {
		linked := 0
		for _, c := range analyseFile(t, "../testdata/field/dualstack/v6reset_curl.pcap", analysis.Options{TLSPorts: []uint16{8482}}, shards) {
			if o := c.OtherFamily; o != nil && o.Later && o.Established && !c.Server.Addr().Is4() {
				linked++
			}
		}
		if linked != 1 {
			t.Errorf("%d shards: %d refused IPv6 attempts linked to their IPv4 fallback, want 1", shards, linked)
		}
	}
	pcap, _ := genCapture(t, tlsgen.Config{Seed: 1, Size: 20e6, HandshakesOnly: true})
	refused := [2]int{}
	for _, c := range analyseBytes(t, pcap) {
		if c.TCP.SYN.Number == 0 || c.TCP.SYNACK.Number != 0 {
			continue
		}
		if c.Server.Addr().Is4() {
			refused[0]++
		} else {
			refused[1]++
		}
		if c.OtherFamily != nil {
			t.Errorf("%s → %s linked to %s → %s, another client's", c.Client, c.Server, c.OtherFamily.Client, c.OtherFamily.Server)
		}
	}
	if refused[0] == 0 || refused[1] == 0 {
		t.Errorf("refused attempts over IPv4 and IPv6: %v; the test needs both", refused)
	}
}
