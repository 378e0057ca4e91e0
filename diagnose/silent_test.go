package diagnose

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestSilentAfterHandshake reads the SNI drop captured at the server: the
// connection whose hello the router dropped shows its TCP handshake and
// then nothing while the capture goes on 3.2 s; it is a drop on the path,
// read from the server's end, with the other reading ranked below it. The
// same record with the capture ending 200 ms after its last frame is an
// incomplete capture that says when the capture ended.
func TestSilentAfterHandshake(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/path_sni_filter_server.pcap", []uint16{4492})
	if len(conns) != 2 {
		t.Fatalf("%d connections, want 2", len(conns))
	}
	c := conns[0]
	v := Diagnose(c, Config{})
	if v.Category != MiddleboxDrop {
		t.Fatalf("%s, want %s: %s", v.Category, MiddleboxDrop, v.Summary)
	}
	if want := []int64{1, 2, 3}; !slices.Equal(v.Evidence, want) {
		t.Errorf("evidence %v, want %v", v.Evidence, want)
	}
	for _, s := range []string{"the server saw the TCP handshake and no ClientHello", "for 3.2 s", "(to frame 20)", "no FIN, no RST",
		"taken at the server's end", "TTL 63, 1 hop away", "TTL 64, 0 hops away", "likely: the client's hello was lost on the path",
		"less likely: the client opened the connection and sent nothing", "a capture at the client tells them apart"} {
		if !strings.Contains(v.Summary, s) {
			t.Errorf("summary lacks %q: %s", s, v.Summary)
		}
	}
	if !strings.Contains(v.Fix, "capture at the client") || !strings.Contains(v.Fix, "never saw the hello") {
		t.Errorf("fix: %s", v.Fix)
	}

	short := *c
	short.CaptureEnd = capture.Frame{Number: 4, Time: c.Last.Time.Add(200 * time.Millisecond)}
	v = Diagnose(&short, Config{})
	if v.Category != IncompleteCapture || !strings.Contains(v.Summary, "the capture ended 200 ms after the TCP handshake") {
		t.Errorf("capture ending 200 ms later: %s: %s", v.Category, v.Summary)
	}
	// Captured on the server's own host for both ends (loopback): no path
	// to drop anything.
	local := *c
	path := *c.Path
	path.SYN.IP.TTL = 64
	local.Path = &path
	v = Diagnose(&local, Config{})
	if v.Category != NotTLSClient || !strings.Contains(v.Summary, "on the host of both ends") {
		t.Errorf("same host: %s: %s", v.Category, v.Summary)
	}
}
