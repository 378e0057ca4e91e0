package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Factor is one thing about a request that bisection changes on its own.
type Factor string

// The factors, in the order bisection tries them; when the request fails
// on the certificate through a proxy, FactorProxy comes first.
const (
	FactorVersion Factor = "version" // TLS 1.3 only, TLS 1.2 only, TLS 1.0–1.1
	FactorGroups  Factor = "groups"  // without the post-quantum share, P-256 only, X25519 only
	FactorCiphers Factor = "ciphers" // ECDHE AEAD, CBC, RSA key exchange suites (TLS 1.0–1.2)
	FactorSNI     Factor = "sni"     // no SNI, the name
	FactorALPN    Factor = "alpn"    // none, h2, http/1.1
	FactorSize    Factor = "size"    // the smallest ClientHello, or one padded past a segment
	FactorMSS     Factor = "mss"     // TCP MSS clamped to 1200 and 536 bytes
	FactorAddress Factor = "address" // each address the name resolves to, alone
	FactorProxy   Factor = "proxy"   // direct instead of through the proxy
	FactorCert    Factor = "cert"    // without the client certificate
)

// Factors lists every factor in the order bisection tries them.
var Factors = []Factor{FactorVersion, FactorGroups, FactorCiphers, FactorSNI, FactorALPN,
	FactorSize, FactorMSS, FactorAddress, FactorProxy, FactorCert}

// MaxBisectAttempts bounds a bisection, the failing request included.
const MaxBisectAttempts = 25

// ParseFactors reads a comma-separated list of factors; "" or "all" is
// every factor.
func ParseFactors(s string) ([]Factor, error) {
	if t := strings.TrimSpace(s); t == "" || strings.EqualFold(t, "all") {
		return slices.Clone(Factors), nil
	}
	var fs []Factor
	for _, name := range strings.Split(s, ",") {
		f := Factor(strings.ToLower(strings.TrimSpace(name)))
		if f == "" {
			continue
		}
		if !slices.Contains(Factors, f) {
			names := make([]string, len(Factors))
			for i, f := range Factors {
				names[i] = string(f)
			}
			return nil, fmt.Errorf("factor %q: want some of %s", name, strings.Join(names, ","))
		}
		if !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("no factors in %q", s)
	}
	// Tried in the canonical order whatever the order given.
	slices.SortFunc(fs, func(a, b Factor) int { return slices.Index(Factors, a) - slices.Index(Factors, b) })
	return fs, nil
}

// Bisection is the failing request re-run with one factor changed at a
// time.
type Bisection struct {
	// Attempts are the requests made, the failing one (FactorBaseline)
	// first.
	Attempts []BisectAttempt
	// Stopped says why bisection ended before trying every factor; "" when
	// it tried them all.
	Stopped    string
	Conclusion Conclusion
	// Skipped are the factors chosen that had nothing to vary (no proxy
	// configured, one address, no client certificate, …).
	Skipped []Factor
}

// FactorBaseline marks the attempt that is the request as configured.
const FactorBaseline Factor = "baseline"

// BisectAttempt is one request of a bisection.
type BisectAttempt struct {
	Factor Factor
	Value  string
	// Result is the attempt's probe: the client's outcome, the capture and
	// its verdict, their correlation.
	Result *Result
	// HelloBytes is the size of the ClientHello as written to the TCP
	// connection (its records' headers included), MSS the connection's
	// maximum segment size as the kernel reported it after connecting;
	// zero when unknown.
	HelloBytes, MSS int
}

// OK reports whether the attempt succeeded.
func (a *BisectAttempt) OK() bool { return a.Result.OK() }

// Segments is the number of TCP segments the ClientHello needs; zero when
// unknown.
func (a *BisectAttempt) Segments() int {
	if a.HelloBytes == 0 || a.MSS == 0 {
		return 0
	}
	return (a.HelloBytes + a.MSS - 1) / a.MSS
}

// LargestSegment is the largest segment the ClientHello was sent in.
func (a *BisectAttempt) LargestSegment() int {
	if a.MSS == 0 {
		return 0
	}
	return min(a.HelloBytes, a.MSS)
}

// Outcome names the attempt's result in a word: "ok", or the client's
// error class.
func (a *BisectAttempt) Outcome() string {
	if a.OK() {
		return "ok"
	}
	if a.Result.Client.Class != "" {
		return string(a.Result.Client.Class)
	}
	return "failed"
}

// Verdict is the wire's verdict category, "" without a wire view.
func (a *BisectAttempt) Verdict() string {
	if a.Result.Wire.Result == nil {
		return ""
	}
	return string(a.Result.Wire.Result.Verdict.Category)
}

// ConclusionKind says what bisection found.
type ConclusionKind string

// The kinds of conclusion.
const (
	// KindNoFailure: the request as configured succeeded; nothing to bisect.
	KindNoFailure ConclusionKind = "no_failure"
	// KindFactor: changing one factor (Conclusion.Factor) makes the request
	// work.
	KindFactor ConclusionKind = "factor"
	// KindClientHelloSplit: the request works exactly when the ClientHello
	// fits in one TCP segment, whatever else changed, and clamping the MSS
	// does not help: something on the path drops ClientHellos split across
	// segments (or simply large ones).
	KindClientHelloSplit ConclusionKind = "client_hello_split"
	// KindLargeSegments: the request works exactly when the ClientHello's
	// largest segment is small enough, an MSS clamp included: full-size
	// packets are lost on the path (an MTU black hole: a link with a
	// smaller MTU whose ICMP "fragmentation needed" never arrives).
	KindLargeSegments ConclusionKind = "large_segments_dropped"
	// KindNoFactor: no single change made the request work; the failure
	// does not depend on the factors tried.
	KindNoFactor ConclusionKind = "no_factor"
)

// Conclusion is what a bisection found.
type Conclusion struct {
	Kind ConclusionKind
	// Factor is the factor that separates failure from success: the one
	// changed (KindFactor), FactorSize or FactorMSS for the two size
	// kinds; "" for none.
	Factor Factor
	// Values are the Factor's values that worked.
	Values []string
	// Works lists every attempt that worked, as "factor=value".
	Works []string
	// Summary says it in words, with the evidence (sizes, segments,
	// outcomes); Fix what to change.
	Summary string
	Fix     string
	// Interception is set when the server's leaf certificate through the
	// proxy differs from the one the direct attempt got: the proxy
	// intercepts TLS. Nil otherwise.
	Interception *Interception
}

// variant is one change to the configuration.
type variant struct {
	factor Factor
	value  string
	apply  func(*Config)
}

// bisectRun makes one request: Run without bisection or scan, its capture
// kept in memory only.
type bisectRun func(ctx context.Context, cfg Config) (*Result, error)

// bisect re-runs the failing request base (made with cfg) changing one
// factor at a time, at most MaxBisectAttempts requests in all, the proxy
// first when the certificate failed through one. It stops early once a
// change that makes it work is isolated: after the rest of that factor's
// values, and, when the ClientHello's size explains the outcomes, after
// the factors that change its size (groups, size, mss); or once the
// server's certificate differs through the proxy and directly.
func bisect(ctx context.Context, cfg Config, base *Result, factors []Factor, run bisectRun) *Bisection {
	b := &Bisection{Attempts: []BisectAttempt{attemptOf(FactorBaseline, "as configured", base)}}
	if base.OK() {
		b.Conclusion = Conclusion{Kind: KindNoFailure, Summary: "the request as configured succeeded: there is no failure to bisect"}
		return b
	}
	cfg.Bisect, cfg.Scan, cfg.Pcap, cfg.KeyLog, cfg.Trace = nil, false, nil, nil, false
	queue := proxyFirst(slices.Clone(factors), base)
	sizeFactors := []Factor{FactorGroups, FactorSize, FactorMSS}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		vs := variants(f, &cfg, b.Attempts[0])
		if len(vs) == 0 {
			b.Skipped = append(b.Skipped, f)
			continue
		}
		for _, v := range vs {
			if len(b.Attempts) >= MaxBisectAttempts {
				b.Stopped = fmt.Sprintf("stopped at the limit of %d attempts", MaxBisectAttempts)
				b.Conclusion = conclude(b.Attempts, cfg.Names)
				return b
			}
			if ctx.Err() != nil {
				b.Stopped = "interrupted"
				b.Conclusion = conclude(b.Attempts, cfg.Names)
				return b
			}
			c := cfg
			c.Resolve = slices.Clone(cfg.Resolve)
			v.apply(&c)
			res, err := run(ctx, c)
			if err != nil {
				// An invalid variant (cannot happen for the ones made
				// here): recorded as a failure of its own.
				res = &Result{Target: cfg.Target}
				res.Client.fail(err, PhaseConnect)
			}
			b.Attempts = append(b.Attempts, attemptOf(v.factor, v.value, res))
		}
		works := slices.ContainsFunc(b.Attempts, func(a BisectAttempt) bool { return a.OK() })
		if !works {
			if _, ok := findInterception(b.Attempts); ok && f == FactorProxy && certificateFailure(base) {
				// No other factor changes the certificate the proxy
				// answers with.
				if len(queue) > 0 {
					b.Stopped = "stopped early: the server's certificate through the proxy is not the one it sends directly"
				}
				break
			}
			continue
		}
		if _, ok := sizeSeparates(b.Attempts); ok {
			// Run what changes the ClientHello's size next, then stop.
			var rest []Factor
			for _, sf := range sizeFactors {
				if slices.Contains(queue, sf) {
					rest = append(rest, sf)
				}
			}
			if len(rest) > 0 && !slices.Equal(queue, rest) {
				queue = rest
				b.Stopped = "stopped early: the ClientHello's size separates failure from success; the factors that change it were tried"
				continue
			}
			if len(rest) > 0 {
				continue
			}
		}
		if len(queue) > 0 {
			b.Stopped = "stopped early: a change that makes the request work was isolated"
		}
		break
	}
	b.Conclusion = conclude(b.Attempts, cfg.Names)
	return b
}

func attemptOf(f Factor, value string, r *Result) BisectAttempt {
	return BisectAttempt{Factor: f, Value: value, Result: r, HelloBytes: r.Client.hello.bytes, MSS: r.Client.hello.mss}
}

// Group sets bisection offers instead of the configured groups.
var (
	groupsNoPQ = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}
)

// variants are the changes of factor f that differ from the configuration.
func variants(f Factor, cfg *Config, base BisectAttempt) []variant {
	var vs []variant
	add := func(value string, apply func(*Config)) {
		vs = append(vs, variant{factor: f, value: value, apply: apply})
	}
	o := &base.Result.Client
	switch f {
	case FactorVersion:
		for _, v := range []struct {
			value    string
			min, max uint16
		}{{"TLS 1.3 only", tls.VersionTLS13, tls.VersionTLS13}, {"TLS 1.2 only", tls.VersionTLS12, tls.VersionTLS12}, {"TLS 1.0-1.1", tls.VersionTLS10, tls.VersionTLS11}} {
			if cfg.MinVersion == v.min && cfg.MaxVersion == v.max {
				continue
			}
			add(v.value, func(c *Config) { c.MinVersion, c.MaxVersion = v.min, v.max })
		}
	case FactorGroups:
		if len(cfg.Curves) == 0 || slices.ContainsFunc(cfg.Curves, isPQ) {
			add("no post-quantum share", func(c *Config) { c.Curves = groupsNoPQ })
		}
		for _, g := range []struct {
			name string
			id   tls.CurveID
		}{{"P-256", tls.CurveP256}, {"X25519", tls.X25519}} {
			if !slices.Equal(cfg.Curves, []tls.CurveID{g.id}) {
				add(g.name+" only", func(c *Config) { c.Curves = []tls.CurveID{g.id} })
			}
		}
	case FactorCiphers:
		for _, fam := range []Family{FamilyECDHE, FamilyCBC, FamilyRSAKex} {
			suites := familyOf(fam)
			add(string(fam), func(c *Config) { c.CipherSuites = suites })
		}
	case FactorSNI:
		name := (&client{cfg: cfg}).serverName()
		if name != "" {
			add("none", func(c *Config) { c.noSNI = true })
		}
		if _, err := netip.ParseAddr(cfg.Target.Host); err != nil && name != cfg.Target.Host {
			add("the name", func(c *Config) { c.ServerName = c.Target.Host })
		}
	case FactorALPN:
		offered := cfg.ALPN
		if offered == nil && cfg.Target.URL != nil {
			offered = []string{"h2", "http/1.1"}
		}
		if len(offered) > 0 {
			add("none", func(c *Config) { c.ALPN = []string{} })
		}
		for _, p := range []string{"h2", "http/1.1"} {
			if !slices.Equal(offered, []string{p}) {
				add(p, func(c *Config) { c.ALPN = []string{p} })
			}
		}
	case FactorSize:
		add("minimal", func(c *Config) {
			c.Curves = []tls.CurveID{tls.X25519}
			c.ALPN = []string{}
			if c.MaxVersion == 0 || c.MaxVersion >= tls.VersionTLS12 {
				c.CipherSuites = familyOf(FamilyECDHE)
			}
		})
		if base.Segments() <= 1 {
			add("padded", func(c *Config) { c.pad = true })
		}
	case FactorMSS:
		if !mssSupported {
			return nil
		}
		for _, m := range []int{1200, 536} {
			if base.MSS != 0 && base.MSS <= m {
				continue // the connection's segments are already this small
			}
			add(fmt.Sprint(m), func(c *Config) { c.mss = m })
		}
	case FactorAddress:
		if o.Proxy != "" || len(o.Addrs) < 2 {
			return nil
		}
		for _, a := range o.Addrs {
			add(a.String(), func(c *Config) {
				c.Resolve = append([]Resolve{{Host: c.Target.Host, Port: c.Target.Port, Addrs: []netip.Addr{a}}}, c.Resolve...)
			})
		}
	case FactorProxy:
		if o.Proxy != "" {
			add("direct", func(c *Config) { c.Proxy, c.NoProxyEnv = nil, true })
		}
	case FactorCert:
		if len(cfg.Certificates) > 0 {
			add("off", func(c *Config) { c.Certificates = nil })
		}
	}
	return vs
}

func isPQ(g tls.CurveID) bool {
	return g == tls.X25519MLKEM768 || g == tls.SecP256r1MLKEM768 || g == tls.SecP384r1MLKEM1024
}

func familyOf(f Family) []uint16 {
	for _, fs := range familySuites {
		if fs.family == f {
			return fs.suites
		}
	}
	return nil
}

// sizeSeparates reports whether the ClientHello's size tells every
// attempt that worked from every attempt that failed as the request
// did (the same error class; other failures are other causes), and how:
// KindLargeSegments when the largest segment does and an MSS clamp was
// among the successes, KindClientHelloSplit when fitting in one segment
// does.
func sizeSeparates(as []BisectAttempt) (ConclusionKind, bool) {
	base := as[0]
	var ok, bad []BisectAttempt
	for _, a := range as {
		switch {
		case a.HelloBytes == 0 || a.MSS == 0:
			if a.OK() {
				return "", false
			}
		case a.OK():
			ok = append(ok, a)
		case a.Result.Client.Class == base.Result.Client.Class:
			bad = append(bad, a)
		}
	}
	if len(ok) == 0 || len(bad) == 0 {
		return "", false
	}
	maxOK := 0
	for _, a := range ok {
		maxOK = max(maxOK, a.LargestSegment())
	}
	minBad := 1 << 30
	for _, a := range bad {
		minBad = min(minBad, a.LargestSegment())
	}
	clampWorked := slices.ContainsFunc(ok, func(a BisectAttempt) bool { return a.Factor == FactorMSS })
	if maxOK < minBad && clampWorked {
		return KindLargeSegments, true
	}
	oneOK := !slices.ContainsFunc(ok, func(a BisectAttempt) bool { return a.Segments() != 1 })
	allSplit := !slices.ContainsFunc(bad, func(a BisectAttempt) bool { return a.Segments() < 2 })
	if oneOK && allSplit {
		return KindClientHelloSplit, true
	}
	return "", false
}

// directUnreached returns the attempt without the proxy when it failed
// before reaching the server: looking up the name or connecting.
func directUnreached(as []BisectAttempt) (BisectAttempt, bool) {
	for _, a := range as[1:] {
		if a.Factor == FactorProxy && !a.OK() && (a.Result.Client.Phase == PhaseResolve || a.Result.Client.Phase == PhaseConnect) {
			return a, true
		}
	}
	return BisectAttempt{}, false
}

// conclude names the change that makes the request work.
func conclude(as []BisectAttempt, names Names) Conclusion {
	base := as[0]
	var works []BisectAttempt
	for _, a := range as[1:] {
		if a.OK() {
			works = append(works, a)
		}
	}
	c := Conclusion{Works: []string{}}
	for _, a := range works {
		c.Works = append(c.Works, string(a.Factor)+"="+a.Value)
	}
	failure := fmt.Sprintf("fails (%s", base.Outcome())
	if v := base.Verdict(); v != "" {
		failure += ", wire: " + v
	}
	failure += ")"
	if len(works) == 0 {
		c.Kind = KindNoFactor
		c.Summary = fmt.Sprintf("the request %s with every change tried (%d attempts): the failure does not depend on any one of them", failure, len(as)-1)
		if classes := failureClasses(as); len(classes) == 1 {
			c.Summary += fmt.Sprintf("; every attempt ended in %s", classes[0])
		}
		c.Fix = "look at the failure itself (the verdict above): a server that is down, refusing or unreachable fails whatever the client offers"
		if alerts, ok := serverAlerts(as); ok {
			c.Fix = fmt.Sprintf("the server answered every attempt with an alert (%s): it wants something none of them offered and crypto/tls cannot, a key exchange group (X448, FFDHE), a signature algorithm or a cipher suite crypto/tls does not implement; compare the server's groups, signature algorithms and suites with crypto/tls's (--scan lists what it accepts), and enable X25519 or P-256 and ECDHE AEAD suites on it", alerts)
		}
		if ic, ok := findInterception(as); ok {
			// Directly the request fails too, for a reason of its own:
			// two problems, the proxy's the first.
			c.Interception = ic
			c.Summary = fmt.Sprintf("the request %s through the proxy and fails directly too; %s", failure, interceptionSentence(ic, base))
			c.Fix = interceptionFix(ic, base, names) + "; the direct failure is then the server's own: see the direct attempt's verdict"
		} else if a, ok := directUnreached(as); ok {
			// Without the proxy the server was never reached: the
			// proxy's part is untested, not ruled out.
			host := base.Result.Target.Host
			c.Summary += fmt.Sprintf("; but the direct attempt (without the proxy) never reached %s (%s %s), so whether the proxy causes the failure is untested", host, a.Outcome(), phaseText(a.Result.Client.Phase))
			c.Fix = fmt.Sprintf("the direct path could not be tried: %s does not resolve or cannot be reached here without the proxy (as on networks where only the proxy reaches out); pin its address for the direct attempt with %s %s:%d:ADDRESS, or compare from a network that reaches it directly",
				host, names.of(SettingResolve), host, base.Result.Target.Port)
			if base.Result.Client.Class.IsCertificate() {
				c.Fix += "; a certificate refused through a proxy may be the proxy's own (a TLS-inspecting proxy re-signs with its CA): see the verdict's warning before trusting its root"
			}
		}
		return c
	}
	if kind, ok := sizeSeparates(as); ok {
		c.Kind = kind
		c.Summary, c.Fix = sizeSentence(kind, as, works, failure)
		if kind == KindLargeSegments {
			c.Factor = FactorMSS
		} else {
			c.Factor = FactorSize
		}
		for _, a := range works {
			if a.Factor == c.Factor {
				c.Values = append(c.Values, a.Value)
			}
		}
		return c
	}
	// The factor most of whose successes there are; ties go to the first
	// tried.
	count := map[Factor]int{}
	for _, a := range works {
		count[a.Factor]++
	}
	best := works[0].Factor
	for _, a := range works {
		if count[a.Factor] > count[best] {
			best = a.Factor
		}
	}
	c.Kind, c.Factor = KindFactor, best
	var failed []string
	for _, a := range as[1:] {
		if a.Factor != best {
			continue
		}
		if a.OK() {
			c.Values = append(c.Values, a.Value)
		} else {
			failed = append(failed, a.Value)
		}
	}
	c.Summary = fmt.Sprintf("the request %s as configured and succeeds when %s", failure, factorSentence(best, c.Values))
	if len(failed) > 0 {
		c.Summary += fmt.Sprintf(" (not with %s)", strings.Join(failed, ", "))
	}
	var others []string
	for _, a := range works {
		if a.Factor != best {
			others = append(others, string(a.Factor)+"="+a.Value)
		}
	}
	if len(others) > 0 {
		c.Summary += "; it also succeeded with " + strings.Join(others, ", ")
	}
	c.Fix = factorFix(best, c.Values, base)
	if best == FactorProxy {
		if ic, ok := findInterception(as); ok {
			c.Interception = ic
			c.Summary = interceptionSentence(ic, base) + fmt.Sprintf("; the request %s through the proxy and succeeds directly", failure)
			if len(others) > 0 {
				c.Summary += "; it also succeeded with " + strings.Join(others, ", ")
			}
			c.Fix = interceptionFix(ic, base, names)
		}
	}
	return c
}

func failureClasses(as []BisectAttempt) []string {
	var cs []string
	for _, a := range as {
		if o := a.Outcome(); !slices.Contains(cs, o) {
			cs = append(cs, o)
		}
	}
	return cs
}

// serverAlerts reports whether every attempt ended in an alert from the
// server, and names the alerts: the server is up, speaks TLS, and
// refused what every attempt offered.
func serverAlerts(as []BisectAttempt) (string, bool) {
	var names []string
	for _, a := range as {
		d, ok := a.Result.Client.Class.Alert()
		if !ok {
			return "", false
		}
		if !slices.Contains(names, d.String()) {
			names = append(names, d.String())
		}
	}
	return strings.Join(names, ", "), len(as) > 0
}

// factorSentence says what the change was: "the SNI is none".
func factorSentence(f Factor, values []string) string {
	v := strings.Join(values, " or ")
	switch f {
	case FactorVersion:
		return "the client offers " + v
	case FactorGroups:
		return "the key exchange groups are " + v
	case FactorCiphers:
		return "the TLS 1.0–1.2 cipher suites offered are " + v + " suites"
	case FactorSNI:
		if v == "none" {
			return "no SNI is sent"
		}
		return "the SNI is " + v
	case FactorALPN:
		return "ALPN offers " + v
	case FactorAddress:
		return "it connects to " + v
	case FactorProxy:
		return "it connects directly instead of through the proxy"
	case FactorCert:
		return "no client certificate is offered"
	case FactorSize:
		return "the ClientHello is " + v
	case FactorMSS:
		return "the TCP MSS is clamped to " + v
	}
	return string(f) + " is " + v
}

// factorFix says what to change for a factor that made the request work.
func factorFix(f Factor, values []string, base BisectAttempt) string {
	switch f {
	case FactorVersion:
		return "the server (or a device in front of it) accepts only " + strings.Join(values, " or ") + ": enable the client's default versions on the server, or configure the client to offer " + values[0]
	case FactorGroups:
		return "the server (or a device in front of it) refuses the client's default key exchange groups: enable X25519MLKEM768/X25519 on the server, or configure the client's groups to " + values[0]
	case FactorCiphers:
		fix := "the server accepts only " + strings.Join(values, " or ") + " suites: enable ECDHE AEAD suites (TLS_ECDHE_*_GCM) or TLS 1.3 on the server"
		if slices.Contains(values, string(FamilyRSAKex)) {
			fix += "; as a stop-gap, Go clients need GODEBUG=tlsrsakex=1 (Go stopped offering RSA key exchange in 1.22)"
		}
		return fix
	case FactorSNI:
		name := base.Result.Client.ServerName
		return fmt.Sprintf("the connection fails when the SNI names %q: a device on the path (a firewall or filter matching the SNI) or the server refuses that name; ask whoever runs the filter, or check the server's configuration for that name", name)
	case FactorALPN:
		return "the server refuses the ALPN protocols offered: offer " + values[0] + ", or enable the client's protocols on the server"
	case FactorAddress:
		return "only some of the name's addresses work: fix or remove the others from DNS (" + strings.Join(values, ", ") + " work)"
	case FactorProxy:
		if base.Result.Client.proxyFlag {
			// An explicit proxy: NO_PROXY does not apply to it.
			return "the proxy breaks the connection: connect without it, or ask the proxy's operator (it may intercept or filter TLS)"
		}
		return "the proxy breaks the connection: exempt the host in NO_PROXY, or ask the proxy's operator (it may intercept or filter TLS)"
	case FactorCert:
		return "the server refuses the client certificate offered: check that it is the one the server expects (its issuer, validity and key usage)"
	}
	return ""
}

// sizeSentence explains a size conclusion with the attempts' sizes.
func sizeSentence(kind ConclusionKind, as, works []BisectAttempt, failure string) (summary, fix string) {
	base := as[0]
	carries := ""
	if w := base.Result.Wire.Result; w != nil && w.Conn.ClientHello != nil {
		for _, g := range w.Conn.ClientHello.KeyShares {
			if g == tlsparse.NamedGroup(tls.X25519MLKEM768) || g == tlsparse.NamedGroup(tls.SecP256r1MLKEM768) || g == tlsparse.NamedGroup(tls.SecP384r1MLKEM1024) {
				carries = fmt.Sprintf(" when the ClientHello carries %s", g)
			}
		}
	}
	summary = fmt.Sprintf("the request %s%s (%s bytes in %d segments of at most %d)", failure, carries, prose.Thousands(base.HelloBytes), base.Segments(), base.MSS)
	var ok []string
	for _, a := range works {
		ok = append(ok, fmt.Sprintf("%s %s (%s bytes in %d)", a.Factor, a.Value, prose.Thousands(a.HelloBytes), a.Segments()))
	}
	summary += "; succeeds with " + strings.Join(ok, ", ")
	var stillBad []string
	for _, a := range as[1:] {
		if !a.OK() && a.Factor == FactorMSS {
			stillBad = append(stillBad, a.Value)
		}
	}
	switch kind {
	case KindLargeSegments:
		summary += ": full-size packets are lost on the path while small ones pass (an MTU black hole: a link with a smaller MTU whose ICMP \"fragmentation needed\" does not come back, or a filter dropping large packets)"
		fix = "clamp the TCP MSS on the router in front of the small-MTU link (iptables -t mangle ... TCPMSS --clamp-mss-to-pmtu) or let ICMP \"fragmentation needed\" through; on the client, a lower MTU on its interface (or tcp_mtu_probing=1) works around it"
	default:
		if len(stillBad) > 0 {
			summary += "; clamping the MSS to " + strings.Join(stillBad, " and ") + " did not help"
		}
		summary += ": a device on the path drops ClientHellos that do not fit in one TCP segment (it cannot reassemble a ClientHello split across segments)"
		fix = "upgrade or reconfigure the middlebox (firewall, DPI, load balancer) to reassemble split ClientHellos; until then, clients can leave out the post-quantum key share (Go: GODEBUG=tlsmlkem=0; curl/OpenSSL: --curves X25519) to keep the ClientHello in one segment"
	}
	return summary, fix
}

// helloStats are the facts about the ClientHello's transport a bisection
// compares: its size and the connection's MSS.
type helloStats struct {
	bytes int
	mss   int
}

// attemptTime is an attempt's duration, DNS included.
func attemptTime(a *BisectAttempt) time.Duration { return a.Result.Client.Timings.Total }
