//go:build linux

package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/report"
)

// bisectHost is a network namespace holding the lab server, joined to the
// test's namespace by a veth pair with a 1,500-byte MTU: iptables rules in
// it play the device in front of the server. The probe runs in the test's
// namespace and captures on its end of the pair.
type bisectHost struct {
	ns, hostIface, nsIface string
	hostAddr, nsAddr       netip.Addr
}

// newBisectHost creates namespace tdbis<n> and its veth pair, addressed
// 10.253.n.1 (this side) and 10.253.n.2 (the namespace). GSO is limited to
// one segment, so the kernel hands iptables and the capture segments as a
// real link carries them.
func newBisectHost(t *testing.T, n int) *bisectHost {
	t.Helper()
	h := &bisectHost{
		ns: fmt.Sprintf("tdbis%d", n), hostIface: fmt.Sprintf("tdbis%dh", n), nsIface: fmt.Sprintf("tdbis%dn", n),
		hostAddr: netip.MustParseAddr(fmt.Sprintf("10.253.%d.1", n)), nsAddr: netip.MustParseAddr(fmt.Sprintf("10.253.%d.2", n)),
	}
	h.close()
	t.Cleanup(h.close)
	steps := [][]string{
		{"netns", "add", h.ns},
		{"link", "add", h.hostIface, "mtu", "1500", "gso_max_segs", "1", "type", "veth", "peer", "name", h.nsIface,
			"netns", h.ns, "mtu", "1500", "gso_max_segs", "1"},
		{"addr", "add", h.hostAddr.String() + "/24", "dev", h.hostIface},
		{"-n", h.ns, "addr", "add", h.nsAddr.String() + "/24", "dev", h.nsIface},
		{"-n", h.ns, "link", "set", "lo", "up"},
		{"-n", h.ns, "link", "set", h.nsIface, "up"},
		{"link", "set", h.hostIface, "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return h
}

func (h *bisectHost) close() {
	exec.Command("ip", "link", "delete", h.hostIface).Run()
	exec.Command("ip", "netns", "delete", h.ns).Run()
}

// iptables adds a rule to the namespace's INPUT chain.
func (h *bisectHost) iptables(t *testing.T, rule ...string) {
	t.Helper()
	args := append([]string{"netns", "exec", h.ns, "iptables", "-A", "INPUT"}, rule...)
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %s: %v: %s", strings.Join(rule, " "), err, out)
	}
}

// start runs scenario s inside the namespace.
func (h *bisectHost) start(t *testing.T, s tlslab.Scenario, lab *tlslab.Lab) *tlslab.Server {
	t.Helper()
	var srv *tlslab.Server
	err := tlslab.InNetns(h.ns, func() error {
		var err error
		srv, err = tlslab.Start(s, tlslab.WithLab(lab), tlslab.WithAddr(h.nsAddr.String()+":0"))
		return err
	})
	if err != nil {
		t.Fatalf("start %s in %s: %v", s, h.ns, err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// payloadAt is u32's address of the TCP payload: the IP header's length,
// then the TCP header's.
const payloadAt = "0>>22&0x3C@12>>26&0x3C@"

// TestBisectMiddleboxes runs --bisect against a real server behind iptables
// rules in a network namespace: each case must name the factor the rule
// (or the server) depends on, and the one whose failure depends on no
// factor (nothing listening) must name none. Needs root, iproute2 and
// iptables with the u32 and string matches (CI has them).
func TestBisectMiddleboxes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bisection captures and creates network namespaces: needs root (CI runs as root)")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		scenario tlslab.Scenario // "" for nothing listening
		rules    func(h *bisectHost, port uint16) [][]string
		kind     ConclusionKind
		factor   Factor
		value    string // a value that must be among those that worked
		// mustFail are factor=value attempts that must have failed (when
		// made): the rule does not let them through.
		mustFail []string
		// fix are words the conclusion's fix must say.
		fix []string
	}{
		{
			// A device that cannot reassemble a ClientHello split across
			// segments: it drops a segment opening a handshake record
			// longer than one 1,500-byte packet holds. A clamped MSS
			// does not help; a smaller ClientHello does.
			name: "split ClientHello dropped", scenario: tlslab.OK,
			rules: func(h *bisectHost, port uint16) [][]string {
				return [][]string{{"-p", "tcp", "--dport", fmt.Sprint(port), "-m", "u32", "--u32",
					payloadAt + "0>>24=0x16&&" + payloadAt + "1&0xFFFF=0x5A0:0xFFFF", "-j", "DROP"}}
			},
			kind: KindClientHelloSplit, factor: FactorSize, value: "minimal",
			mustFail: []string{"mss=1200", "mss=536"},
		},
		{
			// An MTU black hole: packets over 1,280 bytes vanish without
			// an ICMP error. A clamped MSS helps.
			name: "MTU black hole", scenario: tlslab.OK,
			rules: func(h *bisectHost, port uint16) [][]string {
				return [][]string{{"-p", "tcp", "--dport", fmt.Sprint(port), "-m", "length", "--length", "1281:65535", "-j", "DROP"}}
			},
			kind: KindLargeSegments, factor: FactorMSS, value: "1200",
		},
		{
			// A filter that resets connections whose SNI names a host.
			name: "reset on SNI", scenario: tlslab.OK,
			rules: func(h *bisectHost, port uint16) [][]string {
				return [][]string{{"-p", "tcp", "--dport", fmt.Sprint(port), "-m", "string", "--string", tlslab.GoodName,
					"--algo", "bm", "-j", "REJECT", "--reject-with", "tcp-reset"}}
			},
			kind: KindFactor, factor: FactorSNI, value: "none",
		},
		{
			// openssl s_server with TLS 1.2 and RSA key exchange suites
			// only: crypto/tls's defaults share nothing with it.
			name: "TLS 1.2 RSA key exchange only", scenario: tlslab.RSAKeyExchangeOnly,
			kind: KindFactor, factor: FactorCiphers, value: string(FamilyRSAKex),
			mustFail: []string{"version=TLS 1.2 only", "ciphers=ECDHE"},
		},
		{
			// openssl s_server with TLS 1.3 and X448 only: it answers every
			// attempt, and none can offer its group.
			name: "TLS 1.3 X448 only", scenario: tlslab.NoSharedGroupTLS13, kind: KindNoFactor,
			fix: []string{"the server answered every attempt with an alert (handshake_failure, protocol_version)", "key exchange group", "X448"},
		},
		{
			// Nothing listens: every attempt is refused, whatever it
			// changes.
			name: "server down", kind: KindNoFactor, fix: []string{"a server that is down, refusing or unreachable"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBisectHost(t, i+1)
			port := uint16(8443)
			if tt.scenario != "" {
				if prog, ok := tt.scenario.External(); ok {
					if _, err := exec.LookPath(prog); err != nil {
						t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", prog, err)
					}
				}
				port = h.start(t, tt.scenario, lab).Addr().Port()
			}
			if tt.rules != nil {
				for _, r := range tt.rules(h, port) {
					h.iptables(t, r...)
				}
			}
			target := Target{Host: tlslab.GoodName, Port: port}
			target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
			cfg := Config{
				Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), Names: flagNames,
				Resolve:        []Resolve{{Host: tlslab.GoodName, Port: port, Addrs: []netip.Addr{h.nsAddr}}},
				ConnectTimeout: 2 * time.Second, MaxTime: 2 * time.Second, NoProxyEnv: true,
				Bisect: slices.Clone(Factors),
			}
			start := time.Now()
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := Write(&text, report.FormatTable, res, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s in %v:\n%s", tt.name, time.Since(start).Round(time.Millisecond), text.String())
			b := res.Bisect
			if b == nil {
				t.Fatal("no bisection in the result")
			}
			if res.OK() {
				t.Fatal("the request as configured succeeded: the case sets up no failure")
			}
			if len(b.Attempts) > MaxBisectAttempts {
				t.Errorf("%d attempts, more than the bound %d", len(b.Attempts), MaxBisectAttempts)
			}
			c := b.Conclusion
			if c.Kind != tt.kind || c.Factor != tt.factor {
				t.Errorf("conclusion %s, factor %q; want %s, factor %q: %s", c.Kind, c.Factor, tt.kind, tt.factor, c.Summary)
			}
			if tt.value != "" && !slices.Contains(c.Values, tt.value) {
				t.Errorf("values that worked %q, want %q among them", c.Values, tt.value)
			}
			for _, a := range b.Attempts {
				if slices.Contains(tt.mustFail, string(a.Factor)+"="+a.Value) && a.OK() {
					t.Errorf("%s=%s worked, but the rule does not let it through", a.Factor, a.Value)
				}
				if a.Result.Wire.Err != nil {
					t.Errorf("%s=%s has no wire view: %v", a.Factor, a.Value, a.Result.Wire.Err)
				}
			}
			if tt.kind == KindNoFactor && len(c.Works) != 0 {
				t.Errorf("attempts %q worked against a server that is down", c.Works)
			}
			if tt.kind != KindNoFactor && c.Fix == "" {
				t.Error("no fix")
			}
			for _, w := range tt.fix {
				if !strings.Contains(c.Fix, w) {
					t.Errorf("fix %q does not say %q", c.Fix, w)
				}
			}
			var doc map[string]any
			var js bytes.Buffer
			if err := Write(&js, report.FormatJSON, res, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			bj, _ := doc["bisect"].(map[string]any)
			if attempts, _ := bj["attempts"].([]any); len(attempts) != len(b.Attempts) {
				t.Errorf("JSON has %d attempts, want %d", len(attempts), len(b.Attempts))
			}
		})
	}
}

// TestBisectInterceptingProxy bisects a request through a lab proxy that
// intercepts TLS with a leaf from its own CA, whose name no inspection
// product is known by: the proxy factor must run first, and the
// conclusion must say the proxy intercepts TLS, naming both issuers.
// Needs root: it captures on loopback (CI runs as root).
func TestBisectInterceptingProxy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bisection captures: needs root (CI runs as root)")
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tlslab.Start(tlslab.OK, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	proxy, err := tlslab.Start(tlslab.ProxyIntercepting, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	addr := srv.Addr()
	target := Target{Host: tlslab.GoodName, Port: addr.Port()}
	target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
	cfg := Config{
		Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), Names: flagNames,
		Resolve:        []Resolve{{Host: tlslab.GoodName, Port: addr.Port(), Addrs: []netip.Addr{addr.Addr()}}},
		ConnectTimeout: 2 * time.Second, MaxTime: 5 * time.Second, NoProxyEnv: true,
		Proxy:  &url.URL{Scheme: "http", Host: proxy.Addr().String()},
		Bisect: slices.Clone(Factors),
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
	if res.Client.Class != CertUnknownAuthority {
		t.Fatalf("through the proxy: class %q, want %s", res.Client.Class, CertUnknownAuthority)
	}
	// --proxy ignores NO_PROXY: the wire verdict's warning about the
	// proxy's chain says to compare without the proxy, not with NO_PROXY.
	if w := res.Wire.Result; w == nil || !slices.ContainsFunc(w.Verdict.Warnings, func(s string) bool {
		return strings.Contains(s, "compare with a connection that goes without the proxy") && !strings.Contains(s, "NO_PROXY=")
	}) {
		t.Errorf("wire verdict %+v: want the warning on the proxy's chain to compare without the proxy, not NO_PROXY", w)
	}
	b := res.Bisect
	if b == nil {
		t.Fatal("no bisection in the result")
	}
	if len(b.Attempts) < 2 || b.Attempts[1].Factor != FactorProxy || !b.Attempts[1].OK() {
		t.Fatalf("attempts %v; want the proxy factor first, and direct to work", attemptNames(b))
	}
	if len(b.Attempts) != 2 {
		t.Errorf("attempts %v; want bisection to stop after the proxy", attemptNames(b))
	}
	c := b.Conclusion
	proxyIssuer, directIssuer := lab.WebProxyCA.Cert.Subject.String(), lab.Intermediate.Cert.Subject.String()
	if c.Kind != KindFactor || c.Factor != FactorProxy {
		t.Errorf("conclusion %s, factor %q; want factor proxy", c.Kind, c.Factor)
	}
	for _, w := range []string{"intercepts TLS", proxy.Addr().String(), "'" + proxyIssuer + "'", "'" + directIssuer + "', which is trusted"} {
		if !strings.Contains(c.Summary, w) {
			t.Errorf("summary %q does not say %q", c.Summary, w)
		}
	}
	for _, w := range []string{"only if your organisation deployed the interception", proxyIssuer, "--cacert", "without the proxy (leave out --proxy)", "compromised"} {
		if !strings.Contains(c.Fix, w) {
			t.Errorf("fix %q does not say %q", c.Fix, w)
		}
	}
	var js bytes.Buffer
	if err := Write(&js, report.FormatJSON, res, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Bisect struct {
			Conclusion struct {
				Interception *struct {
					Proxy        string `json:"proxy"`
					ProxyIssuer  string `json:"proxy_issuer"`
					DirectIssuer string `json:"direct_issuer"`
				} `json:"interception"`
			} `json:"conclusion"`
		} `json:"bisect"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if ic := doc.Bisect.Conclusion.Interception; ic == nil || ic.ProxyIssuer != proxyIssuer || ic.DirectIssuer != directIssuer || ic.Proxy != proxy.Addr().String() {
		t.Errorf("JSON interception %+v; want the proxy %s and issuers %q, %q", ic, proxy.Addr(), proxyIssuer, directIssuer)
	}
}

func attemptNames(b *Bisection) []string {
	var names []string
	for _, a := range b.Attempts {
		names = append(names, string(a.Factor)+"="+a.Value+":"+a.Outcome())
	}
	return names
}

// TestBisectInterceptingProxyDirectUnresolved bisects the proxy factor of
// a request through the lab's intercepting proxy to a name that resolves
// only through the proxy (good.test: the proxy maps it, the probe's
// resolver does not know it, RFC 6761): the direct attempt fails looking
// the name up, so the proxy's part is untested, and the conclusion must
// say so instead of putting the failure on the server. Needs root: it
// captures on loopback (CI runs as root).
func TestBisectInterceptingProxyDirectUnresolved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bisection captures: needs root (CI runs as root)")
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tlslab.Start(tlslab.OK, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	proxy, err := tlslab.Start(tlslab.ProxyIntercepting, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	target := Target{Host: tlslab.GoodName, Port: srv.Addr().Port()}
	target.URL = &url.URL{Scheme: "https", Host: target.HostPort(), Path: "/"}
	cfg := Config{
		Target: target, RootCAs: lab.RootPool(), WireRoots: lab.RootPool(), Names: flagNames,
		ConnectTimeout: 2 * time.Second, MaxTime: 5 * time.Second, NoProxyEnv: true,
		Proxy:  &url.URL{Scheme: "http", Host: proxy.Addr().String()},
		Bisect: []Factor{FactorProxy},
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Client.Class != CertUnknownAuthority {
		t.Fatalf("through the proxy: class %q, want %s", res.Client.Class, CertUnknownAuthority)
	}
	b := res.Bisect
	if b == nil || len(b.Attempts) != 2 || b.Attempts[1].Factor != FactorProxy {
		t.Fatalf("bisection %+v: want the proxy factor alone", b)
	}
	if d := b.Attempts[1].Result.Client; d.Phase != PhaseResolve && d.Phase != PhaseConnect {
		t.Fatalf("direct attempt: %s in phase %s; want it to fail before reaching the server (%s resolves only through the proxy)", d.Class, d.Phase, tlslab.GoodName)
	}
	c := b.Conclusion
	if c.Kind != KindNoFactor {
		t.Fatalf("conclusion %s; want no_factor", c.Kind)
	}
	for _, w := range []string{"the direct attempt (without the proxy) never reached " + tlslab.GoodName, "whether the proxy causes the failure is untested"} {
		if !strings.Contains(c.Summary, w) {
			t.Errorf("summary %q does not say %q", c.Summary, w)
		}
	}
	for _, w := range []string{fmt.Sprintf("--resolve %s:%d:ADDRESS", tlslab.GoodName, target.Port), "may be the proxy's own"} {
		if !strings.Contains(c.Fix, w) {
			t.Errorf("fix %q does not say %q", c.Fix, w)
		}
	}
	if strings.Contains(c.Fix, "a server that is down") {
		t.Errorf("fix %q: the server was reached through the proxy; it is not down", c.Fix)
	}
}
