package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

func init() { caseTables = append(caseTables, clientAbandonedCases) }

func TestDiagnoseClientAbandoned(t *testing.T) { runDiagnoseCases(t, clientAbandonedCases(t)) }

// clientAbandonedCases are ClientHellos (frame 4, at 40 ms) after which
// the client closed: within 100 ms it abandoned the connection, later it
// gave up on the server.
func clientAbandonedCases(t *testing.T) []diagnoseCase {
	closedAt := func(d time.Duration) *analysis.Connection {
		return fin(hello(tcpConn(), modernHello()), frAt(8, 40*time.Millisecond+d), client)
	}
	return []diagnoseCase{
		{name: "FIN 20 ms after the ClientHello", cat: ClientAbandoned,
			conn:     func(*pki) *analysis.Connection { return closedAt(20 * time.Millisecond) },
			summary:  []string{"the client closed the connection (FIN, frame 8) 20 ms after its ClientHello (frame 4), before any answer from the server", "less likely: a client time limit under 100 ms"},
			evidence: []int64{4, 8}, fix: []string{"the client closed the connection itself"}},
		{name: "the server's answer after the close", cat: ClientAbandoned,
			conn: func(*pki) *analysis.Connection {
				c := closedAt(20 * time.Millisecond)
				c.ServerHello, c.ServerHelloFrame = nil, frAt(9, 90*time.Millisecond)
				c.TCP.SYNACK = frAt(2, 30*time.Millisecond)
				return c
			},
			summary: []string{"the server answered 50 ms after the ClientHello (frame 9), with a round trip of 20 ms (SYN to SYN-ACK)"}, evidence: []int64{4, 8, 9}},
		{name: "FIN 100 ms after the ClientHello: the client gave up", cat: ServerNoResponse,
			conn:    func(*pki) *analysis.Connection { return closedAt(100 * time.Millisecond) },
			summary: []string{"no answer to the ClientHello (frame 4) for 100 ms"}, evidence: []int64{4, 8}},
		{name: "server bytes the capture lost", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := closedAt(20 * time.Millisecond)
				c.TCP.Gaps = []analysis.Gap{{Dir: server, Offset: 0, Size: 1400, Frame: fr(8)}}
				return c
			},
			summary: []string{"bytes of the server's handshake are missing from the capture"}, evidence: []int64{4, 8}},
		{name: "no SYN: a hello sent again, not abandoned", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := closedAt(20 * time.Millisecond)
				c.TCP.SYN, c.TCP.SYNACK = capture.Frame{}, capture.Frame{}
				return c
			},
			summary: []string{"the capture began after this connection started"}, evidence: []int64{4, 8}},
	}
}

// TestFieldAbandonCaptures checks connections a client closed a few
// milliseconds after its ClientHello (testdata/field/abandon): Chromium's
// extra connections to a server in real page loads, a Go request
// cancelled as it began and curl with a 50 ms --max-time are
// client_abandoned, not a server that answered too late; one Chromium
// closed right after the server's flight names the browser's extra
// connection; a Go client whose 300 ms Client.Timeout ran out stays
// server_no_response.
func TestFieldAbandonCaptures(t *testing.T) {
	dir := testdataDir + "/field/abandon"
	checkExpectedWith(t, dir, "expected.tsv", expectedRead{whole: true})
}

// TestSpareClosedAfterFinished reads nDPI's reddit.pcap (testdata/public/
// ndpi): Chrome closed four TLS 1.2 connections (FIN) right after its
// Finished, before the server's Finished arrived; the server's
// close_notify and FIN answer that close. The server did not close the
// connection right after the handshake: no warning says it did.
func TestSpareClosedAfterFinished(t *testing.T) {
	conns := analyseCaptureWith(t, testdataDir+"/public/ndpi/reddit.pcap", analysis.Options{})
	vs := All(conns, Config{}, 1)
	spare := map[uint16]bool{56574: true, 56576: true, 56584: true, 56590: true}
	seen := 0
	for i, c := range conns {
		if !spare[c.Client.Port()] {
			continue
		}
		seen++
		if fin, done := c.TCP.FIN[client], c.HandshakeDone; fin.Number == 0 || fin.Number > done.Number {
			t.Errorf("%s: the client's FIN (frame %d) is not before the handshake's end (frame %d)", c.Client, fin.Number, done.Number)
		}
		v := vs[i]
		if v.Category != OK {
			t.Errorf("%s: %s: %s", c.Client, v.Category, v.Summary)
		}
		for _, w := range v.Warnings {
			if strings.Contains(w, "the server closed the connection") {
				t.Errorf("%s: warning %q", c.Client, w)
			}
		}
	}
	if seen != len(spare) {
		t.Errorf("found %d of the %d connections", seen, len(spare))
	}
}
