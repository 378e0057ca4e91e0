package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpIsFlagHelp: `tlsdiag help CMD` prints exactly what `tlsdiag CMD
// --help` prints, flags included.
func TestHelpIsFlagHelp(t *testing.T) {
	if len(commands) < 3 {
		t.Fatalf("%d commands registered", len(commands))
	}
	for name := range commands {
		var help, flag, stderr bytes.Buffer
		if s := run([]string{"help", name}, &help, &stderr); s != 0 {
			t.Fatalf("help %s: status %d: %s", name, s, stderr.String())
		}
		if s := run([]string{name, "--help"}, &flag, &stderr); s != 0 {
			t.Fatalf("%s --help: status %d: %s", name, s, stderr.String())
		}
		if help.String() != flag.String() {
			t.Errorf("help %s differs from %s --help:\n%s\n---\n%s", name, name, help.String(), flag.String())
		}
		if strings.HasSuffix(strings.TrimSpace(help.String()), "Flags:") || !strings.Contains(help.String(), "--help") && !strings.Contains(help.String(), "  -") {
			t.Errorf("help %s lists no flags:\n%s", name, help.String())
		}
	}
}

// TestUnknownValues: an unknown value of a flag lists the valid ones and,
// for a near miss, suggests one.
func TestUnknownValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"read", "--verdict", "cert_expird", "x.pcap"}, []string{`unknown verdict category "cert_expird"`, "version_mismatch", "udp_blocked", "did you mean cert_expired?"}},
		{[]string{"read", "--format", "jsn", "x.pcap"}, []string{`unknown --format "jsn"`, "table, wide, json", "did you mean json?"}},
		{[]string{"read", "--format", "yaml", "x.pcap"}, []string{`unknown --format "yaml"`, "markdown"}},
		{[]string{"read", "--color", "sometimes", "x.pcap"}, []string{`unknown --color "sometimes"`, "auto, always or never"}},
		{[]string{"live", "--format", "tabel"}, []string{"did you mean table?"}},
		{[]string{"read", "--extract", "faild", "-w", "x.pcapng", "x.pcap"}, []string{`"faild"`, "did you mean failed?"}},
	} {
		var stdout, stderr bytes.Buffer
		if s := run(tt.args, &stdout, &stderr); s != 2 {
			t.Errorf("%v: status %d, want 2", tt.args, s)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, stderr.String())
			}
		}
	}
	if got := didYouMean("zzzzzz", []string{"table", "json"}); got != "" {
		t.Errorf("didYouMean suggests %q for a word near nothing", got)
	}
}
