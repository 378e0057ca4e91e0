package diagnose

import (
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestUnfinishedClosedIdle reads nDPI's sites.pcapng (testdata/public/ndpi),
// which keeps the first few packets of each connection and goes on
// minutes to years later with the next, so each connection ends at the
// capture's idle timeout. One whose packets stop at the server's first
// segment, without even the client's acknowledgment, is a capture that
// kept some of its packets (incomplete_capture), not a client that
// stalled "for 0 µs"; one whose packets stop at the client's
// acknowledgment stays a silence of the connection, which lasted until
// the idle timeout, not for the zero time between its last two packets.
func TestUnfinishedClosedIdle(t *testing.T) {
	conns := analyseCaptureWith(t, testdataDir+"/public/ndpi/sites.pcapng", analysis.Options{})
	vs := All(conns, Config{}, 1)
	want := map[uint16]struct {
		cat    Category
		phrase string
	}{
		35054: {IncompleteCapture, "the connection's packets stop at the server's encrypted handshake (frame 319), before the handshake completed; the capture went on without them until the connection's idle timeout, not even the acknowledgment of frame 319"},
		48616: {HandshakeFailure, "the connection's packets stop at frame 581 (an acknowledgment, as a rule) and the capture went on without any until the connection's idle timeout"},
	}
	seen := 0
	for i, c := range conns {
		v := vs[i]
		if strings.Contains(v.Summary, "nothing for 0 µs") || strings.Contains(v.Summary, "went on 0 µs") {
			t.Errorf("%s → %s: %s: %s", c.Client, c.Server, v.Category, v.Summary)
		}
		if w, ok := want[c.Client.Port()]; ok {
			seen++
			if v.Category != w.cat || !strings.Contains(v.Summary, w.phrase) {
				t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, v.Summary, w.cat, w.phrase)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d connections", seen, len(want))
	}
}
