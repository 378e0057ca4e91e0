package probe

import (
	"bytes"
	"context"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/report"
)

// TestProbeFirewallRejects probes a port a firewall on the server's host
// rejects with ICMP, as firewalld and iptables' REJECT do: the capture
// must hold the ICMP error, the wire verdict must blame the firewall (not
// "never answered"), and the client's error must agree with it. Needs
// root, iproute2 and iptables (CI has them).
func TestProbeFirewallRejects(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the probe captures and the test creates a network namespace: needs root (CI runs as root)")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
	tests := []struct {
		name   string
		reject []string
		class  Class
		icmp   string
	}{
		{"firewalld", []string{"--reject-with", "icmp-host-prohibited"}, HostUnreachable, "Host administratively prohibited"},
		{"iptables default", nil, ConnectionRefused, "Port unreachable"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBisectHost(t, 40+i)
			const port = 8443
			h.iptables(t, append([]string{"-p", "tcp", "--dport", "8443", "-j", "REJECT"}, tt.reject...)...)
			target := Target{Host: "fw.test", Port: port}
			target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
			cfg := Config{
				Target: target, Names: flagNames,
				Resolve:        []Resolve{{Host: "fw.test", Port: port, Addrs: []netip.Addr{h.nsAddr}}},
				ConnectTimeout: 2 * time.Second, MaxTime: 3 * time.Second, NoProxyEnv: true,
			}
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := Write(&text, report.FormatTable, res, WriteOptions{Names: flagNames}); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", text.String())
			if res.Client.Class != tt.class {
				t.Errorf("client class %q, want %s", res.Client.Class, tt.class)
			}
			w := res.Wire.Result
			if w == nil {
				t.Fatal("no wire result")
			}
			v := w.Verdict
			if v.Category != diagnose.ConnectionRefused || !strings.Contains(v.Summary, "a firewall on the server's host rejected the SYN") || !strings.Contains(v.Summary, tt.icmp) {
				t.Errorf("wire verdict %s: %s; want %s by the server's host's firewall (%s)", v.Category, v.Summary, diagnose.ConnectionRefused, tt.icmp)
			}
			if len(v.Evidence) != 2 || !slices.IsSorted(v.Evidence) {
				t.Errorf("evidence %v, want the SYN and the ICMP error", v.Evidence)
			}
			if c := res.Correlation; c.Agreement != Agree {
				t.Errorf("correlation %s, want %s: %s", c.Agreement, Agree, c.Summary)
			}
		})
	}
}
