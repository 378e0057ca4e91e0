package diagnose

import (
	"strings"
	"testing"
)

// TestVersionMismatchDrafts reads Zeek's traces of Firefox 52 and Chrome 55
// offering a TLS 1.3 draft, TLS 1.2, 1.1 and 1.0 to a TLS 1.3-only test
// server (tls13.crypto.mozilla.org) of another draft, which answered
// protocol_version; Firefox then retried offering up to TLS 1.2 and was
// refused again. A server that refuses TLS 1.2 and the client's draft
// requires TLS 1.3 in a form the client lacks: the verdict must say so
// first, the same as for the retry, and not that the server is limited
// to versions older than TLS 1.0.
func TestVersionMismatchDrafts(t *testing.T) {
	for _, tt := range []struct {
		file  string
		wants [][]string // per connection, phrases of the summary
		fixes []string   // per connection, a phrase of the fix
	}{
		{"zeek/tls13draft16-ff52.a01-aborted.pcap", [][]string{
			{"likely: the server requires TLS 1.3 (it refused TLS 1.2 too) and speaks another TLS 1.3 draft or the final TLS 1.3, not the client's pre-standard TLS 1.3 draft 16", "possible: its version settings leave it none of the client's (SSL 3.0 alone, or a minimum raised above its maximum)"},
			{"the server probably requires TLS 1.3"},
		}, []string{"update the client to a release that speaks the final TLS 1.3 (RFC 8446), or allow TLS 1.2 on the server", "allow TLS 1.2 on the server"}},
		{"zeek/tls13draft16-chrome55.0.2879.0-canary-aborted.pcap", [][]string{
			{"likely: the server requires TLS 1.3 (it refused TLS 1.2 too) and speaks another TLS 1.3 draft or the final TLS 1.3, not the client's pre-standard TLS 1.3 draft 14"},
			{"not the client's pre-standard TLS 1.3 draft 14"},
		}, []string{"update the client to a release that speaks the final TLS 1.3", "update the client to a release that speaks the final TLS 1.3"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			conns := analyseCapture(t, testdataDir+"/public/"+tt.file, nil)
			if len(conns) != len(tt.wants) {
				t.Fatalf("%d connections, want %d", len(conns), len(tt.wants))
			}
			for i, c := range conns {
				v := Diagnose(c, Config{})
				if v.Category != VersionMismatch {
					t.Errorf("connection %d: %s: %s", i+1, v.Category, v.Summary)
					continue
				}
				for _, p := range tt.wants[i] {
					if !strings.Contains(v.Summary, p) {
						t.Errorf("connection %d: no %q in\n%s", i+1, p, v.Summary)
					}
				}
				if strings.Contains(v.Summary+v.Fix, "older than TLS 1.0") {
					t.Errorf("connection %d: a server limited to versions older than TLS 1.0, stated as the cause:\n%s\n%s", i+1, v.Summary, v.Fix)
				}
				if !strings.Contains(v.Fix, tt.fixes[i]) {
					t.Errorf("connection %d: no %q in the fix\n%s", i+1, tt.fixes[i], v.Fix)
				}
			}
		})
	}
}

// TestDraftCertificateEncrypted reads Zeek's trace of Firefox 52 refusing
// with unknown_ca the certificate of a server speaking TLS 1.3 draft 16:
// as in the final TLS 1.3, the certificate travels encrypted, so it is in
// the capture but not readable, and capturing more would not show it.
func TestDraftCertificateEncrypted(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/zeek/tls13draft16-ff52.a01.pcap", nil)
	if len(conns) != 2 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != CertUntrustedCA {
		t.Fatalf("%s: %s", v.Category, v.Summary)
	}
	if !strings.Contains(v.Summary, "the certificate is encrypted") {
		t.Errorf("summary %q: want the certificate said to be encrypted", v.Summary)
	}
	if strings.Contains(v.Fix, "capture the whole handshake") {
		t.Errorf("fix %q: the handshake is all in the capture", v.Fix)
	}
}
