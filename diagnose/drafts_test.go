package diagnose

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/tlsparse"
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

// TestDraftsDiagnosedAsTLS13 diagnoses every TLS 1.3 connection of the
// lab and field captures a second time as if a TLS 1.3 draft (23) had
// been negotiated: a draft encrypts the server's flight, the client's
// Finished and what follows as the final TLS 1.3 does, so the verdict
// must be the same, its category and its evidence.
func TestDraftsDiagnosedAsTLS13(t *testing.T) {
	var files []string
	for _, dir := range []string{"captures", "field", "derived"} {
		fs, err := filepath.Glob(filepath.Join(testdataDir, dir, "*.pcap*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	const draft23 tlsparse.Version = 0x7f17
	seen := 0
	for _, f := range files {
		for i, c := range analyseCapture(t, f, nil) {
			if c.Version != tlsparse.VersionTLS13 || c.IsQUIC() || c.Decrypted {
				continue
			}
			seen++
			want := Diagnose(c, Config{})
			c.Version = draft23
			c.ClientHello, c.RetryClientHello = offeringDraft(c.ClientHello, draft23), offeringDraft(c.RetryClientHello, draft23)
			got := Diagnose(c, Config{})
			if got.Category != want.Category || !slices.Equal(got.Evidence, want.Evidence) {
				t.Errorf("%s #%d: as TLS 1.3 %s (frames %v): %s\nas draft 23 %s (frames %v): %s", filepath.Base(f), i+1,
					want.Category, want.Evidence, want.Summary, got.Category, got.Evidence, got.Summary)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no TLS 1.3 connection in the captures")
	}
}

// offeringDraft returns a copy of ch that offers draft in place of TLS 1.3.
func offeringDraft(ch *tlsparse.ClientHello, draft tlsparse.Version) *tlsparse.ClientHello {
	if ch == nil {
		return nil
	}
	cp := *ch
	cp.SupportedVersions = slices.Clone(ch.SupportedVersions)
	for i, v := range cp.SupportedVersions {
		if v == tlsparse.VersionTLS13 {
			cp.SupportedVersions[i] = draft
		}
	}
	return &cp
}

// TestFacebookDraftHandshakes reads nDPI's instagram.pcap: the Instagram
// app's six connections to a Facebook server in Facebook's variant of TLS
// 1.3 draft 26 (version 0xfb1a), a TLS 1.3 handshake, five of them whole.
// Read as TLS 1.2 they were failures all (a client or server that
// stopped answering after the server's ChangeCipherSpec); read as TLS 1.3
// the five are ok, and the one whose capture stops inside the server's
// flight is incomplete_capture.
func TestFacebookDraftHandshakes(t *testing.T) {
	const done = "TLS 1.3 draft 26 (Facebook) handshake completed"
	conns, _ := checkByClientPort(t, testdataDir+"/public/ndpi/instagram.pcap", map[uint16]portWant{
		49355: {OK, done}, 49357: {OK, done}, 49358: {OK, done}, 49360: {OK, done}, 49361: {OK, done},
		49359: {IncompleteCapture, "after the server's encrypted handshake"},
	})
	n := 0
	for _, c := range conns {
		if c.Version == 0xfb1a {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d connections in version 0xfb1a, want 6", n)
	}
}
