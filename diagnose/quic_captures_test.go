package diagnose

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
)

// The QUIC captures of testdata/quic are made by internal/quiclab:
// quic-go and ngtcp2 clients and servers on loopback, each capture with
// the client's key log (NAME.keys) when it wrote one, and the lab's root
// in ca.pem.
const quicDir = testdataDir + "/quic"

// readQUIC analyses a QUIC lab capture, with its key log when keys is set,
// the way read does (two workers).
func readQUIC(t *testing.T, name string, keys bool) []*analysis.Connection {
	t.Helper()
	var opt analysis.Options
	if keys {
		f, err := os.Open(filepath.Join(quicDir, name+".keys"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if opt.KeyLog, err = decrypt.ParseKeyLog(f); err != nil {
			t.Fatal(err)
		}
	}
	src, err := capture.OpenFile(filepath.Join(quicDir, name+".pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	conns, _, err := analysis.Analyse(context.Background(), src, opt, capture.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

func quicRoots(t *testing.T) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(quicDir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := LoadRoots(false, pem)
	if err != nil {
		t.Fatal(err)
	}
	return roots
}

// TestQUICCaptures checks the verdict of every QUIC connection of the lab
// captures, with and without the key log, and what the verdict rests on.
func TestQUICCaptures(t *testing.T) {
	roots := quicRoots(t)
	tests := []struct {
		name string
		keys bool
		// want is the QUIC connection's category; tcp the fallback TCP
		// connection's, if one is expected.
		want Category
		tcp  Category
		// summary holds words the summary must have.
		summary []string
		check   func(t *testing.T, c *analysis.Connection)
	}{
		{name: "quicgo_ok", want: OK, summary: []string{"over QUIC v1"}},
		{name: "quicgo_ok", keys: true, want: OK, summary: []string{"ALPN h3"}, check: func(t *testing.T, c *analysis.Connection) {
			if len(c.Certificates) != 1 || !c.Decrypted || c.ALPN != "h3" {
				t.Errorf("with keys: %d certificates, decrypted %v, ALPN %q", len(c.Certificates), c.Decrypted, c.ALPN)
			}
		}},
		{name: "quicgo_v2_ok", want: OK, summary: []string{"over QUIC v2"}},
		{name: "quicgo_v2_ok", keys: true, want: OK, summary: []string{"over QUIC v2", "ALPN h3"}},
		{name: "ngtcp2_ok", want: OK, summary: []string{"over QUIC v1", "x25519"}},
		{name: "ngtcp2_ok", keys: true, want: OK, summary: []string{"ALPN h3"}},
		{name: "quicgo_alpn_refused", want: ALPNMismatch, summary: []string{"no_application_protocol"}},
		{name: "ngtcp2_quicgo_alpn_refused", want: ALPNMismatch, summary: []string{"'h3'"}},
		{name: "quicgo_untrusted_cert", keys: true, want: CertSelfSigned, summary: []string{"bad_certificate", "self-signed"}},
		{name: "quicgo_version_negotiation", want: VersionMismatch, summary: []string{"version v2", "lists v1"}},
		{name: "ngtcp2_version_negotiation", want: VersionMismatch, summary: []string{"grease(0x1a2a3a4a)", "lists v1"}},
		{name: "quicgo_retry", want: OK, check: retryChecked},
		{name: "ngtcp2_retry", want: OK, check: retryChecked},
		{name: "quicgo_udp_blocked", want: UDPBlocked, summary: []string{"8 QUIC Initial datagrams", "UDP port 4437"}, check: func(t *testing.T, c *analysis.Connection) {
			if c.QUIC.Fallback != nil {
				t.Errorf("fallback %+v without a TCP connection", c.QUIC.Fallback)
			}
		}},
		{name: "quicgo_udp_blocked_fallback", want: UDPBlocked, tcp: OK, summary: []string{"fell back to TCP (frame 9", "completed"}},
	}
	for _, tt := range tests {
		name := tt.name
		if tt.keys {
			name += "+keys"
		}
		t.Run(name, func(t *testing.T) {
			var quic, tcp int
			for _, c := range readQUIC(t, tt.name, tt.keys) {
				v := Diagnose(c, Config{Roots: roots})
				if !c.IsQUIC() {
					tcp++
					if v.Category != tt.tcp {
						t.Errorf("TCP connection %s: %s (%s), want %s", c.Client, v.Category, v.Summary, tt.tcp)
					}
					continue
				}
				quic++
				if v.Category != tt.want {
					t.Errorf("%s, want %s: %s", v.Category, tt.want, v.Summary)
				}
				for _, w := range tt.summary {
					if !strings.Contains(v.Summary, w) {
						t.Errorf("summary %q lacks %q", v.Summary, w)
					}
				}
				if tt.check != nil {
					tt.check(t, c)
				}
			}
			if quic != 1 || (tcp == 1) != (tt.tcp != "") {
				t.Errorf("%d QUIC and %d TCP connections", quic, tcp)
			}
		})
	}
}

func retryChecked(t *testing.T, c *analysis.Connection) {
	r := c.QUIC.Retry
	if r == nil || !r.TagValid {
		t.Errorf("retry %+v, want one with a valid tag", r)
	}
	if c.ClientHello == nil || c.ServerHello == nil {
		t.Error("the hellos after the Retry were not read")
	}
}
