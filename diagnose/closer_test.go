package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestFirstToCloseEndedTheHandshake reads Zeek's capture of a server
// whose Certificate message is 339,629 bytes (testdata/public/zeek): the
// client closed the connection (FIN, frame 414) 28 ms after the server's
// ServerHelloDone (frame 411), and the server's FIN (frame 415) answers
// it. The side named as closing is the one whose FIN came first, both in
// the verdict and in the fallback that reads a FIN without an alert.
func TestFirstToCloseEndedTheHandshake(t *testing.T) {
	conns := analyseWith(t, testdataDir+"/public/zeek/tls-fragmented-handshake.pcap.gz", analysis.Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	check := func(what string, v Verdict) {
		t.Helper()
		if !strings.Contains(v.Summary, "the client closed the connection (FIN, frame 414)") || strings.Contains(v.Summary, "the server closed") {
			t.Errorf("%s: summary %q, want the client's FIN in frame 414 named as the close", what, v.Summary)
		}
		if !slices.Contains(v.Evidence, 414) || slices.Contains(v.Evidence, 415) {
			t.Errorf("%s: evidence %v, want frame 414 (the client's FIN), not 415 (the server's answering FIN)", what, v.Evidence)
		}
	}
	check("verdict", Diagnose(conns[0], Config{}))
	d := new(diagnosis)
	d.init(conns[0], Config{})
	v, ok := d.abortWithoutAlert()
	if !ok {
		t.Fatal("abortWithoutAlert: no verdict")
	}
	check("abortWithoutAlert", v)
}
