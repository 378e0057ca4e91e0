package diagnose

import (
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestFieldStalePortCaptures checks SYNs answered by an acknowledgment of
// an older connection between the same ports (testdata/field/staleport):
// curl and a Go client on Linux, whose stack sends the SYN again at once,
// and a client that waited 3 s, each connection one, from its first SYN,
// with the warning that names the challenge ACK, the reset and the delay.
func TestFieldStalePortCaptures(t *testing.T) {
	checkExpectedWith(t, testdataDir+"/field/staleport", "expected.tsv", expectedRead{whole: true})
}

// TestStaleResetCaptureGoesOn reads a real client's connection cut after
// its reset of the older connection (staleport/
// windows_stale_ports_cut_before_retry.pcap): the capture goes on 3.2 s
// without its SYN sent again, which this client sent 13.1 s after its
// first. The capture does not show the outcome: incomplete_capture, not
// a client that gave up nor a reset that failed; the other connection,
// whole, stays ok.
func TestStaleResetCaptureGoesOn(t *testing.T) {
	conns := analyseCaptureWith(t, testdataDir+"/field/staleport/windows_stale_ports_cut_before_retry.pcap", analysis.Options{})
	vs := All(conns, Config{}, 1)
	want := map[uint16]struct {
		cat    Category
		phrase string
	}{
		59621: {OK, "TLS 1.2 handshake completed"},
		59622: {IncompleteCapture, "the client reset it (frame 6), and then the capture went on 3.2 s without the connection (to frame 18): it does not show the SYN the client sends again"},
	}
	seen := 0
	for i, c := range conns {
		w, ok := want[c.Client.Port()]
		if !ok {
			t.Errorf("unexpected connection %s → %s", c.Client, c.Server)
			continue
		}
		seen++
		if v := vs[i]; v.Category != w.cat || !strings.Contains(v.Summary, w.phrase) {
			t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, v.Summary, w.cat, w.phrase)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d connections", seen, len(want))
	}
}
