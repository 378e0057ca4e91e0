package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// TestKnownClientSettlesTwoPrograms: a hello that is Python's or curl's
// (urllib3 and curl --http1.1 send the same one) takes the program's name
// when the caller knows it, so the fix names that program's setting alone.
func TestKnownClientSettlesTwoPrograms(t *testing.T) {
	seen := fingerprint.Client{Stack: fingerprint.StackPython, Also: fingerprint.StackCurl, Certainty: fingerprint.Guess, Reason: "same hello"}
	for _, named := range []fingerprint.Stack{fingerprint.StackPython, fingerprint.StackCurl} {
		got := knownClient(seen, fingerprint.Client{Stack: named, Certainty: fingerprint.Sure, Reason: "it is the program run"})
		if got.Stack != named || got.Also != fingerprint.StackUnknown {
			t.Errorf("named %s: knownClient = %+v, want %s alone", named, got, named)
		}
		if fix := trustRootAdvice(got); fix != trustRootAdvice(fingerprint.Client{Stack: named}) {
			t.Errorf("named %s: trust advice %q names another program", named, fix)
		}
	}
	// Unnamed, the advice covers both, the more probable first.
	fix := trustRootAdvice(seen)
	if want := "if the client is Python: ssl.create_default_context"; len(fix) < len(want) || fix[:len(want)] != want {
		t.Errorf("trust advice %q, want it to begin %q", fix, want)
	}
}

// TestHungUpHiddenChainWarnsOnlyOnHangUp: wget's TLS 1.3 connection that
// hung up after the handshake (it rejected the hidden chain) gets the
// warning; its next connection, which sent its request, does not, nor does
// a browser's unused connection.
func TestHungUpHiddenChainWarnsOnlyOnHangUp(t *testing.T) {
	const phrase = "right after the handshake without sending any data"
	got := map[uint16]bool{}
	for _, c := range analyseCapture(t, testdataDir+"/field/wget_tls13_untrusted.pcap", []uint16{8601, 8602}) {
		v := Diagnose(c, Config{})
		warned := slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.Contains(w, phrase) })
		got[c.Server.Port()] = warned
		if v.Category != OK {
			t.Errorf("%s: %s, want ok (the handshake completed): %s", c.Server, v.Category, v.Summary)
		}
	}
	if !got[8601] || got[8602] {
		t.Errorf("warned on 8601 %v, on 8602 %v; want only on 8601", got[8601], got[8602])
	}
	// Chromium judges the chain before its Finished: its spare connection,
	// closed unused, accepted the chain and gets no warning.
	conns := analyseCapture(t, testdataDir+"/field/chromium_spare_connection.pcap", []uint16{8602})
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != OK || slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.Contains(w, phrase) }) {
		t.Errorf("Chromium's spare connection: %s: %s, warnings %q; want ok without the hang-up warning", v.Category, v.Summary, v.Warnings)
	}
}
