package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/report"
)

// TestWrite probes an expired certificate (with --scan, which it does not
// call for) and checks the three formats: the JSON document's fields, the
// table's sections and the trace's frames.
func TestWrite(t *testing.T) {
	capturing := canCapture(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tlslab.Start(tlslab.CertExpired, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := srv.Addr()
	target := Target{Host: tlslab.GoodName, Port: addr.Port()}
	target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/", User: url.UserPassword("user", "secret")}
	res, err := Run(context.Background(), Config{
		Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), NoProxyEnv: true, Trace: true, Scan: true, Names: flagNames,
		Resolve: []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, report.FormatJSON, res, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "secret") {
			t.Error("the JSON shows the URL's password")
		}
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		wantKeys(t, "document", doc, "target", "insecure", "client", "connection", "capture", "correlation", "scan", "bisect", "redirects", "redirect_limit_reached")
		client := doc["client"].(map[string]any)
		wantKeys(t, "client", client, "error", "error_class", "phase", "timings", "proxy", "proxy_from", "proxy_reason", "proxy_tls", "addresses", "local", "remote",
			"attempts", "server_name", "version", "cipher", "alpn", "peer_certificates", "http")
		wantKeys(t, "timings", client["timings"].(map[string]any), "dns_ms", "connect_ms", "proxy_tls_handshake_ms", "proxy_connect_ms", "tls_handshake_ms", "first_byte_ms", "total_ms")
		wantKeys(t, "correlation", doc["correlation"].(map[string]any), "agreement", "summary", "client", "wire", "cause", "fix", "notes")
		wantKeys(t, "capture", doc["capture"].(map[string]any), "interface", "filter", "error", "frames", "dropped", "notes")
		if client["error_class"] != "cert_expired" || doc["scan"] != nil {
			t.Errorf("error_class %v, scan %v", client["error_class"], doc["scan"])
		}
		if !capturing {
			if doc["connection"] != nil {
				t.Errorf("connection %v without a capture", doc["connection"])
			}
			return
		}
		conn := doc["connection"].(map[string]any)
		verdict := conn["verdict"].(map[string]any)
		if verdict["category"] != "cert_expired" || conn["client"] != client["local"] {
			t.Errorf("connection %v → %v, verdict %v; client %v", conn["client"], conn["server"], verdict["category"], client["local"])
		}
	})

	t.Run("table", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, report.FormatTable, res, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"Probe https://user:xxxxx@good.test:", "\nClient\n", "   class: cert_expired\n", "\nWire (", "Correlation: "} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "secret") {
			t.Error("the table shows the URL's password")
		}
		// The wire's card is report's layout; the rest is probe's.
		ours := out[:strings.Index(out, "\nWire")] + out[strings.Index(out, "Correlation: "):]
		for _, line := range strings.Split(ours, "\n") {
			if len([]rune(line)) > textWidth {
				t.Errorf("line longer than %d: %q", textWidth, line)
			}
		}
	})

	t.Run("trace", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, report.FormatTrace, res, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if capturing && (!strings.Contains(buf.String(), "Client Hello") || !strings.Contains(buf.String(), "Certificate")) {
			t.Errorf("trace lacks the handshake frames:\n%s", buf.String())
		}
	})

	if err := Write(&bytes.Buffer{}, report.FormatCSV, res, WriteOptions{}); err == nil {
		t.Error("Write accepted the csv format")
	}
}

func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(m))
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s keys %v, want %v", what, got, keys)
	}
}

func TestWrapped(t *testing.T) {
	tests := []struct {
		label, text string
		want        string
	}{
		{"fix: ", "short", "   fix: short\n"},
		{"fix: ", strings.Repeat("word ", 20), "   fix: word word word word word word word word word word word word word word\n        word word word word word word\n"},
		{"", strings.Repeat("x", 80), "   " + strings.Repeat("x", 75) + "\n   xxxxx\n"},
		{"note: ", strings.Repeat("é", 10), "   note: " + strings.Repeat("é", 10) + "\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		wrapped(&b, tt.label, tt.text)
		if b.String() != tt.want {
			t.Errorf("wrapped(%q, %q):\n%q\nwant\n%q", tt.label, tt.text, b.String(), tt.want)
		}
	}
}
