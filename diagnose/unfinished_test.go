package diagnose

import (
	"strings"
	"testing"
)

// TestUnfinishedFilteredCapture reads FoxIO's tls-handshake.pcapng, a
// capture of a browser's traffic kept to its handshake packets: no SYN,
// no acknowledgment, each connection's ClientHello and the server's first
// flight, then nothing of it while the capture went on for seconds. A
// longer capture would hold no more of those connections: the verdict
// must say the capture was filtered, and ask for the whole connection.
func TestUnfinishedFilteredCapture(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/ja4/tls-handshake.pcapng", nil)
	if len(conns) == 0 {
		t.Fatal("no connections")
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != IncompleteCapture {
		t.Fatalf("%s: %s", v.Category, v.Summary)
	}
	for _, p := range []string{"not even the acknowledgment of frame 2", "filtered to some of the connection's packets"} {
		if !strings.Contains(v.Summary, p) {
			t.Errorf("no %q in\n%s", p, v.Summary)
		}
	}
	if !strings.Contains(v.Fix, "capturing longer would not help") || !strings.Contains(v.Fix, "host 142.251.16.94 and port 443") {
		t.Errorf("fix %q: want the whole connection captured again, not a longer capture", v.Fix)
	}
}
