package diagnose

import (
	"strings"
	"testing"
)

// TestFinishedUnseenDataBothWays reads Zeek's trace of a TLS 1.2 client
// whose ChangeCipherSpec and Finished record is garbled in the capture:
// it then sent application data (frames 13, 15), the server answered
// (frames 16, 18), and the client closed with an encrypted alert (frame
// 20) and a FIN. A client that sends data had accepted the server's
// certificate: the alert is its close_notify, not a rejection.
func TestFinishedUnseenDataBothWays(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/zeek/tls1.2-late-protocol-error.pcap", nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != OK {
		t.Fatalf("%s: %s", v.Category, v.Summary)
	}
	for _, p := range []string{"the client's Finished is not readable", "application data after the server's Finished (frame 13)", "the server answered it (frame 18)", "(frame 20) that followed is most likely its close_notify"} {
		if !strings.Contains(v.Summary, p) {
			t.Errorf("no %q in\n%s", p, v.Summary)
		}
	}
	if w := strings.Join(v.Warnings, "\n"); !strings.Contains(w, "malformed_record") {
		t.Errorf("no warning of the malformed record in\n%s", w)
	}
}

// TestFinishedImpliedIsEstablished requires the record of a handshake
// judged ok from data both ways after the server's Finished to say it was
// established, as the verdict does: the garbled client Finished of Zeek's
// trace above, and the derived capture that lost the client's
// ChangeCipherSpec and Finished (testdata/derived/lost_client_flight). No
// frame of the capture completed it: HandshakeDone stays zero, so no
// handshake time is claimed.
func TestFinishedImpliedIsEstablished(t *testing.T) {
	for _, f := range []string{"/public/zeek/tls1.2-late-protocol-error.pcap", "/derived/lost_client_flight.pcap"} {
		conns := analyseCapture(t, testdataDir+f, nil)
		if len(conns) != 1 {
			t.Fatalf("%s: %d connections", f, len(conns))
		}
		c := conns[0]
		v := Diagnose(c, Config{})
		if v.Category != OK || !strings.Contains(v.Summary, "the server answered it") {
			t.Errorf("%s: %s: %s", f, v.Category, v.Summary)
		}
		if !c.Established || !c.FinishedImplied() || c.HandshakeDone.Number != 0 {
			t.Errorf("%s: established %v, finished implied %v, handshake done in frame %d; want true, true, none", f, c.Established, c.FinishedImplied(), c.HandshakeDone.Number)
		}
	}
}

// TestCertificateRulesOutResumption reads Zeek's trace of a TLS 1.2 full
// handshake whose ServerHelloDone record is garbled in the capture: the
// server sent its Certificate (frame 8), so the session was not resumed,
// although no ServerHelloDone is seen before its ChangeCipherSpec.
func TestCertificateRulesOutResumption(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/zeek/tls1.2-protocol-violation.pcap", nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	if conns[0].Resumed {
		t.Error("resumed, though the server sent a Certificate")
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != OK {
		t.Fatalf("%s: %s", v.Category, v.Summary)
	}
	if strings.Contains(v.Summary, "resumed") {
		t.Errorf("summary %q: a full handshake called resumed", v.Summary)
	}
}

// TestGarbledAlertAnswer reads Zeek's trace of a server that answered a
// ClientHello with the 7 bytes 00 00 00 00 02 00 28 (frame 6) and closed:
// an alert record (length 2, handshake_failure) whose header was zeroed.
// The verdict names those bytes and what they look like, not silence.
// The client offered only NULL cipher suites (no encryption), which no
// server enables by default: the verdict and its fix lead with the suites,
// as for the same alert in a plaintext record, and name the missing SNI
// as possible only (the client offers the usual groups, P-256 among them).
func TestGarbledAlertAnswer(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/zeek/tls-1.2-protocol-error.pcap", nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != NoSharedCipher {
		t.Fatalf("%s: %s", v.Category, v.Summary)
	}
	for _, p := range []string{"7 bytes (frame 6: 00 00 00 00 02 00 28)", "likely the server's handshake_failure alert", "it accepts none of the 8 cipher suites the client offered (TLS_ECDHE_RSA_WITH_NULL_SHA", "possible: the server also requires SNI"} {
		if !strings.Contains(v.Summary, p) {
			t.Errorf("no %q in\n%s", p, v.Summary)
		}
	}
	if !strings.HasPrefix(v.Fix, "the client offers only TLS_ECDHE_RSA_WITH_NULL_SHA") {
		t.Errorf("fix does not lead with the client's suites:\n%s", v.Fix)
	}
	if strings.Contains(v.Summary, "without a TLS answer") {
		t.Errorf("summary %q: the server's bytes called silence", v.Summary)
	}
}
