package probe

import (
	"crypto/x509"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestLookupReadings: what the lookup of the name adds to the client's
// view alone (no capture), and when it adds nothing.
func TestLookupReadings(t *testing.T) {
	target := Target{Host: "moved.test", Port: 8443}
	noWire := &Wire{Err: errors.New("no capture")}
	lookup := func(addrs ...string) *Lookup {
		l := &Lookup{Name: "moved.test"}
		for _, a := range addrs {
			l.Addrs = append(l.Addrs, netip.MustParseAddr(a))
		}
		return l
	}
	mismatch := func(l *Lookup, certNames ...string) *Outcome {
		return &Outcome{
			Err: errors.New("x509: certificate is valid for " + certNames[0] + ", not moved.test"), Class: CertHostnameMismatch, Phase: PhaseTLS,
			Remote: netip.MustParseAddrPort("127.0.0.2:8443"), ServerName: "moved.test", Lookup: l,
			PeerCertificates: []*x509.Certificate{{DNSNames: certNames}},
		}
	}
	refused := func(l *Lookup, remote string) *Outcome {
		return &Outcome{
			Err: errors.New("connect: connection refused"), Class: ConnectionRefused, Phase: PhaseConnect,
			Remote: netip.MustParseAddrPort(remote), ServerName: "moved.test", Lookup: l,
		}
	}
	tests := []struct {
		name    string
		outcome *Outcome
		cause   []string // substrings of Cause
		fix     []string // substrings of Fix; the first one starts it
		notes   []string // substrings of the joined Notes
		absent  string   // in none of Cause, Fix, Notes
	}{
		{
			name: "unrelated names from a lookup: the name first, the server second", outcome: mismatch(lookup("127.0.0.2"), "old.test"),
			cause: []string{"moved.test resolved to 127.0.0.2 by the configured resolver", "1. the name points at another machine", "2. 127.0.0.2 is the right machine"},
			fix:   []string{"1. check that moved.test should resolve to 127.0.0.2", "--resolve moved.test:8443:ADDR", "2. if it should, configure 'moved.test' on the server at 127.0.0.2"},
		},
		{
			name: "a sibling's wildcard: the server first, the name a note", outcome: mismatch(lookup("127.0.0.2"), "*.other.moved.test"),
			fix:   []string{"use the name the certificate is issued for"},
			notes: []string{"moved.test resolved to 127.0.0.2", "check that moved.test should resolve to 127.0.0.2"},
		},
		{
			name: "an address pinned, no lookup", outcome: mismatch(nil, "old.test"),
			absent: "resolve",
		},
		{
			name: "refused at the IPv6 addresses of an AAAA-only name", outcome: refused(lookup("::1"), "[::1]:8443"),
			cause: []string{"nothing listens on port 8443", "IPv6 addresses only (::1)", "listens on IPv4 only", "lacks its A record"},
			fix:   []string{"start the server", "listen [::]:8443 ssl;", `Go: listen on "tcp", not "tcp4"`, "--resolve moved.test:8443:IPV4ADDR"},
		},
		{
			name: "no TCP answer at the IPv6 addresses of an AAAA-only name",
			outcome: func() *Outcome {
				o := refused(lookup("2001:db8::1"), "[2001:db8::1]:8443")
				o.Class, o.Err = ConnectTimeout, errors.New("dial tcp [2001:db8::1]:8443: i/o timeout")
				return o
			}(),
			cause: []string{"did not answer", "IPv6 addresses only (2001:db8::1)", "the host is down or a firewall drops the traffic", "listens on IPv4 only"},
			fix:   []string{"check that the host is up", "give moved.test its A record"},
		},
		{
			name: "refused at the IPv4 addresses of an A-only name: a note", outcome: refused(lookup("127.0.0.2"), "127.0.0.2:8443"),
			fix:   []string{"start the server"},
			notes: []string{"IPv4 addresses only (127.0.0.2)", "lacks its AAAA record"},
		},
		{
			name: "refused at IPv6, the name has IPv4 addresses too", outcome: refused(lookup("127.0.0.2", "::1"), "[::1]:8443"),
			absent: "addresses only",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Correlate(target, tt.outcome, noWire, false, flagNames)
			notes := strings.Join(c.Notes, "\n")
			for _, s := range tt.cause {
				if !strings.Contains(c.Cause, s) {
					t.Errorf("cause %q lacks %q", c.Cause, s)
				}
			}
			for i, s := range tt.fix {
				if !strings.Contains(c.Fix, s) || i == 0 && !strings.HasPrefix(c.Fix, s) {
					t.Errorf("fix %q lacks %q (or does not start with it)", c.Fix, s)
				}
			}
			for _, s := range tt.notes {
				if !strings.Contains(notes, s) {
					t.Errorf("notes %q lack %q", c.Notes, s)
				}
			}
			if tt.absent != "" && strings.Contains(c.Cause+c.Fix+notes, tt.absent) {
				t.Errorf("the correlation says %q:\ncause %q\nfix %q\nnotes %q", tt.absent, c.Cause, c.Fix, c.Notes)
			}
		})
	}
}

func TestHostsAddrs(t *testing.T) {
	const hosts = `# comment moved.test
127.0.0.1	localhost
::1	localhost ip6-localhost
10.0.0.7 old.test Moved.Test.  # moved
fe80::1%eth0 moved.test
bogus moved.test
192.0.2.1
`
	got := hostsAddrs(strings.NewReader(hosts), "moved.test")
	want := []netip.Addr{netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("fe80::1")}
	if !slices.Equal(got, want) {
		t.Errorf("hostsAddrs = %v, want %v", got, want)
	}
}

func TestLookupSource(t *testing.T) {
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	tests := []struct {
		lookup Lookup
		want   string
	}{
		{Lookup{Addrs: []netip.Addr{a}}, "by the configured resolver"},
		{Lookup{Addrs: []netip.Addr{a}, System: true}, "by the system resolver (DNS: /etc/hosts does not list the name)"},
		{Lookup{Addrs: []netip.Addr{a}, System: true, Hosts: []netip.Addr{a, b}}, "by the system resolver, from /etc/hosts"},
		{Lookup{Addrs: []netip.Addr{a, b}, System: true, Hosts: []netip.Addr{a}}, "by the system resolver"},
	}
	for _, tt := range tests {
		if got := tt.lookup.source(); got != tt.want {
			t.Errorf("%+v: source() = %q, want %q", tt.lookup, got, tt.want)
		}
	}
}
