package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
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
	conns, vs := checkByClientPort(t, testdataDir+"/public/ndpi/sites.pcapng", map[uint16]portWant{
		35054: {IncompleteCapture, "the connection's packets stop at the server's encrypted handshake (frame 319), before the handshake completed; the capture went on without them until the connection's idle timeout, not even the acknowledgment of frame 319"},
		48616: {HandshakeFailure, "the connection's packets stop at frame 581 (an acknowledgment, as a rule) and the capture went on without any until the connection's idle timeout"},
	})
	for i, c := range conns {
		if v := vs[i]; strings.Contains(v.Summary, "nothing for 0 µs") || strings.Contains(v.Summary, "went on 0 µs") {
			t.Errorf("%s → %s: %s: %s", c.Client, c.Server, v.Category, v.Summary)
		}
	}
}

// TestUnfinishedCaptureMissed reads nDPI's reddit.pcap (testdata/public/
// ndpi), Chrome loading a page: two TLS 1.2 connections whose packets stop
// right after the client's Finished and its first requests (False Start),
// with neither the server's acknowledgment of them nor the client sending
// them again, though the capture goes on 12.5 s. A TCP sends unacknowledged
// bytes again within a second or two, so the capture missed the rest of
// those connections: incomplete_capture, not a server that stopped
// answering.
func TestUnfinishedCaptureMissed(t *testing.T) {
	const phrase = "shows neither the server's acknowledgment of the client's last bytes nor the client sending them again"
	missed := map[uint16]portWant{56564: {IncompleteCapture, phrase}, 56582: {IncompleteCapture, phrase}}
	conns, vs := checkByClientPort(t, testdataDir+"/public/ndpi/reddit.pcap", missed)
	for i, c := range conns {
		if _, ok := missed[c.Client.Port()]; ok {
			if !c.TCP.Unacked[client] || c.TCP.Unacked[server] {
				t.Errorf("%s → %s: unacknowledged (client, server) = %v, want the client's last bytes only", c.Client, c.Server, c.TCP.Unacked)
			}
		} else if v := vs[i]; strings.Contains(v.Summary, "a silence of the connection") {
			t.Errorf("%s → %s: %s: %s", c.Client, c.Server, v.Category, v.Summary)
		}
	}
}

func init() { caseTables = append(caseTables, unfinishedCases) }

func TestDiagnoseUnfinished(t *testing.T) { runDiagnoseCases(t, unfinishedCases(t)) }

// unfinishedCases are TLS 1.2 handshakes whose client sent its Finished
// (frame 8) and a request (frame 9), after which the capture holds nothing
// of the connection while it goes on: whether the server's end
// acknowledged the client's bytes, and whether the capture went on long
// enough to show them sent again, tell a silent server from a capture
// that missed the rest.
func unfinishedCases(t *testing.T) []diagnoseCase {
	afterFinished := func(p *pki, wentOn time.Duration, unacked bool) *analysis.Connection {
		c := serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter)
		c.ClientSide.ChangeCipherSpec, c.ClientSide.Finished = fr(8), fr(8)
		c.Last = fr(9)
		c.TCP.Close, c.CaptureEnd = capture.ClosedEOF, capture.Frame{Number: 40, Time: fr(9).Time.Add(wentOn)}
		c.TCP.Unacked[client] = unacked
		return c
	}
	return []diagnoseCase{
		{name: "nothing acknowledged nor sent again for 12 s", cat: IncompleteCapture,
			conn: func(p *pki) *analysis.Connection { return afterFinished(p, 12*time.Second, true) },
			summary: []string{"the connection's packets stop at frame 9, 10 ms after the client's Finished (frame 8)",
				"the capture went on 12.0 s without them (to frame 40), and shows neither the server's acknowledgment of the client's last bytes nor the client sending them again",
				"whether the server answered is not in the capture"},
			evidence: []int64{4, 8, 9}, fix: []string{"keeping all of the connection's packets"}},
		{name: "the server acknowledged: a silent server", cat: ServerNoResponse,
			conn:     func(p *pki) *analysis.Connection { return afterFinished(p, 12*time.Second, false) },
			summary:  []string{"the server stopped answering after the client's Finished (frame 8)", "a silence of the connection"},
			evidence: []int64{4, 8, 9}},
		{name: "unacknowledged, but the capture went on too briefly to show a resend", cat: ServerNoResponse,
			conn:     func(p *pki) *analysis.Connection { return afterFinished(p, 2*time.Second, true) },
			summary:  []string{"the server stopped answering after the client's Finished (frame 8)"},
			evidence: []int64{4, 8, 9}},
	}
}
