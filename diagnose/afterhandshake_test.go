package diagnose

import (
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestNameAfterHandshakeUnknownClient reads Zeek's certificate-with-sct
// trace: a client tlsdiag does not recognise (86 suites, no ALPN, as
// openssl s_client sent them) completes a TLS 1.2 handshake for
// www.lilawelt.net, whose certificate covers lilawelt.net only, and
// closes with an encrypted alert without sending data. Clients check the
// name during the handshake as a rule; curl checks it after and closes
// with its close_notify, and a client that checks no name closes so too.
// The alert's description is encrypted: the rejection is a likelihood,
// and the close_notify of a client with nothing to send is named beside it.
func TestNameAfterHandshakeUnknownClient(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/zeek/certificate-with-sct.pcap", nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != CertHostnameMismatch {
		t.Fatalf("%s: %s", v.Category, v.Summary)
	}
	for _, p := range []string{"Likely: it rejected the server's certificate after the handshake", "not for the name 'www.lilawelt.net'", "possible: the alert is the close_notify of a client that checks no name"} {
		if !strings.Contains(v.Summary, p) {
			t.Errorf("no %q in\n%s", p, v.Summary)
		}
	}
}

// TestCutAnswerNotSilence reads a request answered 1.5 s late whose
// capture stops inside the answer's first record (testdata/field/
// cutanswer): the server began answering, so no finding says it sent
// nothing after the request.
func TestCutAnswerNotSilence(t *testing.T) {
	conns := analyseCaptureWith(t, testdataDir+"/field/cutanswer/curl_late_answer_cut.pcap", analysis.Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	c := conns[0]
	req, tail := c.Afterwards().Request, c.Tail(server)
	if req.Number == 0 || tail.Bytes == 0 || tail.First.Number <= req.Number {
		t.Fatalf("request in frame %d, the server's unfinished bytes %d from frame %d: want bytes after the request", req.Number, tail.Bytes, tail.First.Number)
	}
	v := Diagnose(c, Config{})
	if v.Category != OK {
		t.Errorf("%s: %s", v.Category, v.Summary)
	}
	for _, s := range append([]string{v.Summary}, v.Warnings...) {
		if strings.Contains(s, "sent nothing after") {
			t.Errorf("says the server was silent: %s", s)
		}
	}
}
