package probe

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/report"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// flagNames names the settings as tlsdiag's probe command does, for the
// tests that check texts word for word.
var flagNames = Names{
	SettingRootCAs: "--cacert", SettingWireRoots: "--cacert", SettingInsecure: "-k/--insecure", SettingCertificates: "--cert/--key",
	SettingMinVersion: "--tls-min", SettingMaxVersion: "--tls-max", SettingCipherSuites: "--ciphers", SettingCurves: "--curves",
	SettingALPN: "--alpn", SettingServerName: "--servername", SettingResolve: "--resolve", SettingMaxTime: "--max-time",
	SettingProxy: "--proxy", SettingScan: "--scan", SettingKeyLog: "--keylog", SettingPcap: "-w",
	SettingProxyRootCAs: "--proxy-cacert", SettingProxyInsecure: "--proxy-insecure",
}

func TestSettingsNamed(t *testing.T) {
	for _, s := range Settings {
		if n := s.String(); strings.HasPrefix(n, "setting(") {
			t.Errorf("setting %d has no name: %s", s, n)
		}
	}
}

// flagLike is a command-line flag in prose: "--max-time", "-w FILE",
// "(-k/--insecure)"; not a hyphenated word.
var flagLike = regexp.MustCompile(`(^|[^\w-])--?[a-z][a-z0-9-]*`)

// renderedTexts are the texts a probe writes for people, for every client
// error class (and alert), the disagreements, the scan's findings and the
// text report's own lines, with the settings named by names.
func renderedTexts(t *testing.T, names Names) []string {
	t.Helper()
	var out []string
	add := func(c Correlation) {
		out = append(out, c.Summary, c.Client, c.Wire, c.Cause, c.Fix)
		out = append(out, c.Notes...)
	}
	target := Target{Host: "good.test", Port: 443}
	classes := append([]Class{}, Classes...)
	for d := range 256 {
		classes = append(classes, AlertClass(tlsparse.AlertDescription(d)))
	}
	err := errors.New("tls: failed to verify certificate: x509: something")
	for _, c := range classes {
		for _, custom := range []bool{false, true} {
			for _, restricted := range []bool{false, true} {
				o := &Outcome{Class: c, Err: err, Phase: PhaseTLS, CustomRoots: custom, Ciphers: restricted, Curves: restricted, MaxTime: 8 * time.Second, ServerName: "good.test"}
				cause, fix := explain(target, o, names)
				out = append(out, cause, fix)
				add(Correlate(target, o, &Wire{Err: errors.New("no capture")}, true, names))
			}
		}
	}
	// The wire's view against the client's.
	conn := &analysis.Connection{}
	wire := func(cat diagnose.Category) *Wire {
		return &Wire{Result: &pipeline.Result{Conn: conn, Verdict: diagnose.Verdict{Category: cat, Summary: "the wire's summary", Fix: "the wire's fix"}}, Chain: &ChainCheck{}}
	}
	for _, custom := range []bool{false, true} {
		add(Correlate(target, &Outcome{Class: CertUnknownAuthority, Err: err, Phase: PhaseTLS, CustomRoots: custom}, wire(diagnose.OK), false, names))
	}
	add(Correlate(target, &Outcome{Phase: PhaseDone}, wire(diagnose.ServerNoResponse), false, names))
	add(Correlate(target, &Outcome{Class: Timeout, Err: err, Phase: PhaseTLS, MaxTime: 1500 * time.Millisecond}, wire(diagnose.ServerNoResponse), false, names))
	add(Correlate(target, &Outcome{Class: Other, Err: err, Phase: PhaseTLS}, wire(diagnose.OK), false, names))
	// An https:// proxy's own TLS failing, and what ran inside it.
	for _, c := range classes {
		for _, roots := range []bool{false, true} {
			o := &Outcome{Class: c, Err: err, Phase: PhaseProxyTLS, proxyTLS: true, proxyRoots: roots, ProxyServerName: "proxy.test"}
			cause, fix := explain(target, o, names)
			out = append(out, cause, fix)
		}
	}
	proxied := func(c Class, p Phase) *Outcome {
		o := &Outcome{Class: c, Err: err, Phase: p, proxyTLS: true, proxyInsecure: true, ProxyServerName: "proxy.test"}
		if p != PhaseProxyTLS {
			o.ProxyTLS = &tls.ConnectionState{}
		}
		return o
	}
	for _, cat := range []diagnose.Category{diagnose.OK, diagnose.CertUntrustedCA} {
		add(Correlate(target, proxied(CertUnknownAuthority, PhaseProxyTLS), wire(cat), false, names))
		add(Correlate(target, proxied(CertUnknownAuthority, PhaseTLS), wire(cat), false, names))
	}
	// The scan's findings.
	v12, v13, v10 := uint16(tls.VersionTLS12), uint16(tls.VersionTLS13), uint16(tls.VersionTLS10)
	for _, sc := range []struct {
		scan Scan
		cfg  Config
	}{
		{Scan{Versions: []VersionProbe{{Version: v13, Accepted: true}}}, Config{MaxVersion: v12}},
		{Scan{Versions: []VersionProbe{{Version: v10, Accepted: true}}}, Config{MinVersion: v12}},
		{Scan{Versions: []VersionProbe{{Version: v12, Accepted: true, Cipher: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, {Version: v13, Accepted: true}}},
			Config{CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}, Curves: []tls.CurveID{tls.X25519}}},
		{Scan{Versions: []VersionProbe{{Version: v12, Accepted: true}}, FamilyVersion: v12, Families: []FamilyProbe{{Family: FamilyRSAKex, Accepted: true}, {Family: FamilyECDHE}}}, Config{}},
	} {
		var c Correlation
		sc.cfg.Names = names
		c.addScan(&sc.scan, &sc.cfg)
		add(c)
	}
	// The text report's own lines.
	var b bytes.Buffer
	if err := Write(&b, report.FormatTable, &Result{Target: target, Insecure: true, Client: Outcome{proxyInsecure: true}}, WriteOptions{Names: names}); err != nil {
		t.Fatal(err)
	}
	out = append(out, b.String())
	// Where the proxy came from.
	cfg := Config{Target: target, Proxy: &url.URL{Scheme: "http", Host: "proxy.test:3128"}, Names: names}
	if choice, err := cfg.proxyFor(); err != nil {
		t.Fatal(err)
	} else {
		out = append(out, choice.From)
	}
	return out
}

// TestTextsNameNoFlag checks that no text of the library names a
// command-line flag: without names, each setting is named as Config sets
// it; with a command's names, every setting appears, as the command names
// it, and no Config field does.
func TestTextsNameNoFlag(t *testing.T) {
	lib := renderedTexts(t, nil)
	for _, text := range lib {
		if m := flagLike.FindString(text); m != "" {
			t.Errorf("a library text names the flag %q:\n%s", strings.TrimSpace(m), text)
		}
	}
	all := strings.Join(lib, "\n")
	cmd := strings.Join(renderedTexts(t, flagNames), "\n")
	for _, s := range Settings {
		if !strings.Contains(all, s.String()) {
			t.Errorf("no text points to %s (the test does not reach it, or no text needs it: drop it)", s)
		}
		if !strings.Contains(cmd, flagNames[s]) {
			t.Errorf("no text names %s as the command does (%s)", s, flagNames[s])
		}
	}
	if strings.Contains(cmd, "Config.") {
		t.Errorf("with a command's names a text still names a Config field:\n%s", cmd)
	}
}
