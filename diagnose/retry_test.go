package diagnose

import (
	"strings"
	"testing"
)

// TestICMPRejectionThenRetry reads captures of a SYN rejected by an ICMP
// error (the server's REJECT, a router's REJECT, a router without a
// route), after which the client's next connection to the same server and
// port, from another source port or the same one, was accepted and
// completed its handshake (testdata/field/icmp/make.sh). The rejected
// attempt keeps its category, and says that the rejection did not last
// and that its fix is for when it recurs; the retry is ok.
func TestICMPRejectionThenRetry(t *testing.T) {
	for _, tt := range []struct {
		file    string
		cat     Category
		warning []string
		fix     string
	}{
		{"server_rejects_first_syn_retry.pcap", ConnectionRefused,
			[]string{"the rejection did not last: a later connection from the client to 10.61.2.2:443, from another source port (frame 3,", "the first attempt sent no SYN after the error", "a rate or connection limit ending in REJECT"},
			"if the rejection recurs (the client's later attempt, frame 3, got through): open TCP port 443 in the firewall of 10.61.2.2"},
		{"router_rejects_first_syn_same_port.pcap", ConnectionRefused,
			[]string{"from the same source port (frame 3,", "was accepted (SYN-ACK) and its TLS handshake completed"},
			"if the rejection recurs (the client's later attempt, frame 3, got through): the network refuses"},
		{"router_net_unreachable_then_retry.pcap", HostUnreachable,
			[]string{"the error did not last", "the route or the host came back between the two attempts"},
			"if the error recurs (the client's later attempt, frame 3, got through): check the route to 10.61.2.2 at 10.61.1.1"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			conns := analyseCapture(t, testdataDir+"/field/icmp/"+tt.file, []uint16{443})
			if len(conns) != 2 {
				t.Fatalf("%d connections, want the rejected one and the retry", len(conns))
			}
			v := Diagnose(conns[0], Config{})
			if v.Category != tt.cat {
				t.Errorf("rejected attempt: %s: %s, want %s", v.Category, v.Summary, tt.cat)
			}
			warnings := strings.Join(v.Warnings, "\n")
			for _, w := range tt.warning {
				if !strings.Contains(warnings, w) {
					t.Errorf("warnings %q\nwant %q", warnings, w)
				}
			}
			if !strings.Contains(v.Fix, tt.fix) {
				t.Errorf("fix %q\nwant %q", v.Fix, tt.fix)
			}
			if want := conns[1].First.Number; v.Evidence[len(v.Evidence)-1] != want {
				t.Errorf("evidence %v, want the retry's first frame %d last", v.Evidence, want)
			}
			if r := Diagnose(conns[1], Config{}); r.Category != OK {
				t.Errorf("retry: %s: %s, want ok", r.Category, r.Summary)
			}
		})
	}
}
