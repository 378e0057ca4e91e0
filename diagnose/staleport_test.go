package diagnose

import (
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
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
	conns, _ := checkByClientPort(t, testdataDir+"/field/staleport/windows_stale_ports_cut_before_retry.pcap", map[uint16]portWant{
		59621: {OK, "TLS 1.2 handshake completed"},
		59622: {IncompleteCapture, "the client reset it (frame 6), and then the capture went on 3.2 s without the connection (to frame 18): it does not show the SYN the client sends again"},
	})
	if len(conns) != 2 {
		t.Errorf("%d connections, want 2 (one per client port, from its first SYN)", len(conns))
	}
}

func init() { caseTables = append(caseTables, staleResetCases) }

func TestDiagnoseStaleReset(t *testing.T) { runDiagnoseCases(t, staleResetCases(t)) }

// staleResetCases are SYNs (frame 1) answered by a stale connection's
// acknowledgment (frame 2), which the client reset (frame 3): the
// connection's last packet. Whether the reset ended the older connection
// shows only in the SYN the client sends next, which a capture that ends
// within 30 s may not hold; one that goes on longer shows a client that
// gave up.
func staleResetCases(t *testing.T) []diagnoseCase {
	staleReset := func(wentOn time.Duration) *analysis.Connection {
		c := tcpConn()
		c.TCP.SYNACK, c.TCP.Close, c.Last = capture.Frame{}, capture.ClosedEOF, fr(3)
		c.Path = &analysis.PathFacts{StaleACK: fr(2), StaleReset: fr(3)}
		c.CaptureEnd = capture.Frame{Number: 50, Time: fr(3).Time.Add(wentOn)}
		return c
	}
	return []diagnoseCase{
		{name: "capture ends 2 s after the reset", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection { return staleReset(2 * time.Second) },
			summary: []string{"the client reset it (frame 3), and then the capture went on 2.0 s without the connection (to frame 50)",
				"whether the reset ended the older connection is not in it"},
			evidence: []int64{1, 2, 3}, fix: []string{"capture on until the client's next attempt"}},
		{name: "capture goes on 40 s after the reset", cat: NoTCPAnswer,
			conn:     func(*pki) *analysis.Connection { return staleReset(40 * time.Second) },
			summary:  []string{"the capture went on 40.0 s without the connection (to frame 50)", "the client did not try again while the capture went on"},
			evidence: []int64{1, 2, 3}, fix: []string{"ss -K dst 192.0.2.1 dport = 51000"}},
	}
}
