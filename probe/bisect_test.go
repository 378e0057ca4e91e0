package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

func TestParseFactors(t *testing.T) {
	all, err := ParseFactors("")
	if err != nil || !slices.Equal(all, Factors) {
		t.Errorf(`ParseFactors("") = %v, %v; want every factor`, all, err)
	}
	got, err := ParseFactors(" MSS,version,mss ")
	if err != nil || !slices.Equal(got, []Factor{FactorVersion, FactorMSS}) {
		t.Errorf("ParseFactors = %v, %v; want version,mss in the canonical order, once each", got, err)
	}
	for _, bad := range []string{"versions", ",", "sni,bogus"} {
		if _, err := ParseFactors(bad); err == nil {
			t.Errorf("ParseFactors(%q) accepted", bad)
		}
	}
}

// fakeRun answers a bisection's requests from their configuration: works
// decides which succeed, the rest fail with a timeout.
func fakeRun(works func(Config) bool, calls *int) bisectRun {
	return func(_ context.Context, cfg Config) (*Result, error) {
		*calls++
		r := &Result{Target: cfg.Target, Client: Outcome{Phase: PhaseDone}}
		if !works(cfg) {
			r.Client.fail(context.DeadlineExceeded, PhaseTLS)
		}
		return r, nil
	}
}

func failedBase(addrs ...netip.Addr) *Result {
	r := &Result{Client: Outcome{Addrs: addrs}}
	r.Client.fail(context.DeadlineExceeded, PhaseTLS)
	return r
}

func TestBisectFindsTheFactor(t *testing.T) {
	cfg := Config{Target: Target{Host: "example.test", Port: 443}}
	calls := 0
	rsa := familyOf(FamilyRSAKex)
	b := bisect(context.Background(), cfg, failedBase(), Factors, fakeRun(func(c Config) bool {
		return slices.Equal(c.CipherSuites, rsa)
	}, &calls))
	if c := b.Conclusion; c.Kind != KindFactor || c.Factor != FactorCiphers || !slices.Equal(c.Values, []string{string(FamilyRSAKex)}) {
		t.Fatalf("conclusion %+v; want ciphers = RSA key exchange", c)
	}
	// Stopped after the ciphers factor: no SNI, ALPN, size or MSS attempt.
	for _, a := range b.Attempts {
		if slices.Index(Factors, a.Factor) > slices.Index(Factors, FactorCiphers) {
			t.Errorf("attempt %s=%s after the cause was isolated", a.Factor, a.Value)
		}
	}
	if b.Stopped == "" || calls != len(b.Attempts)-1 {
		t.Errorf("stopped %q after %d calls for %d attempts", b.Stopped, calls, len(b.Attempts))
	}
}

func TestBisectNoFactorAndBound(t *testing.T) {
	var addrs []netip.Addr
	for i := range 30 {
		addrs = append(addrs, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", i+1)))
	}
	cfg := Config{Target: Target{Host: "example.test", Port: 443}}
	calls := 0
	b := bisect(context.Background(), cfg, failedBase(addrs...), Factors, fakeRun(func(Config) bool { return false }, &calls))
	if len(b.Attempts) != MaxBisectAttempts || calls != MaxBisectAttempts-1 {
		t.Errorf("%d attempts (%d requests), want the bound %d", len(b.Attempts), calls, MaxBisectAttempts)
	}
	if c := b.Conclusion; c.Kind != KindNoFactor || c.Factor != "" || len(c.Works) != 0 {
		t.Errorf("conclusion %+v; want no factor", c)
	}
	if !strings.Contains(b.Stopped, "limit") {
		t.Errorf("stopped %q; want the limit named", b.Stopped)
	}
}

func TestBisectNothingToDo(t *testing.T) {
	calls := 0
	b := bisect(context.Background(), Config{}, &Result{Client: Outcome{Phase: PhaseDone}}, Factors, fakeRun(func(Config) bool { return true }, &calls))
	if b.Conclusion.Kind != KindNoFailure || calls != 0 {
		t.Errorf("conclusion %s after %d requests; want no_failure and none", b.Conclusion.Kind, calls)
	}
}

func TestBisectVariants(t *testing.T) {
	base := BisectAttempt{Result: failedBase(), HelloBytes: 1519, MSS: 1448}
	cfg := Config{Target: Target{Host: "example.test", Port: 443}, Curves: []tls.CurveID{tls.X25519}}
	var values []string
	for _, f := range Factors {
		for _, v := range variants(f, &cfg, base) {
			c := cfg
			v.apply(&c)
			values = append(values, string(v.factor)+"="+v.value)
		}
	}
	want := []string{"version=TLS 1.3 only", "version=TLS 1.2 only", "version=TLS 1.0-1.1",
		// --curves X25519: no post-quantum share to drop, X25519 alone is the configuration.
		"groups=P-256 only",
		"ciphers=ECDHE", "ciphers=CBC", "ciphers=RSA key exchange",
		"sni=none",
		// A handshake-only target offers no ALPN.
		"alpn=h2", "alpn=http/1.1",
		// Already two segments: no padding needed.
		"size=minimal",
		"mss=1200", "mss=536"}
	if !mssSupported {
		want = want[:len(want)-2]
	}
	if !slices.Equal(values, want) {
		t.Errorf("variants\n got %q\nwant %q", values, want)
	}
}

// TestBisectProxyCertificate: a certificate failure through a proxy tries
// the proxy first; interception is concluded only when the leaf differs
// between the two paths, and the same leaf keeps the proxy conclusion.
func TestBisectProxyCertificate(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		via, direct *x509.Certificate
		intercepts  bool
		directFails bool // on a certificate of its own
	}{
		{"another issuer", lab.Intercepted.Cert, lab.Good.Cert, true, false},
		{"the same leaf", lab.Good.Cert, lab.Good.Cert, false, false},
		{"another issuer, and directly expired", lab.Intercepted.Cert, lab.Expired.Cert, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Target: Target{Host: tlslab.GoodName, Port: 443}}
			base := &Result{Target: cfg.Target, Client: Outcome{Proxy: "http://127.0.0.1:3128", proxyFlag: true, ServerName: tlslab.GoodName,
				PeerCertificates: []*x509.Certificate{tt.via}}}
			base.Client.fail(x509.UnknownAuthorityError{Cert: tt.via}, PhaseTLS)
			run := func(_ context.Context, c Config) (*Result, error) {
				r := &Result{Target: c.Target, Client: Outcome{Phase: PhaseDone, ServerName: tlslab.GoodName, PeerCertificates: []*x509.Certificate{tt.direct}}}
				switch {
				case c.Proxy != nil || !c.NoProxyEnv:
					r.Client.Proxy = base.Client.Proxy
					r.Client.PeerCertificates = []*x509.Certificate{tt.via}
					r.Client.fail(x509.UnknownAuthorityError{Cert: tt.via}, PhaseTLS)
				case tt.directFails:
					r.Client.fail(x509.CertificateInvalidError{Cert: tt.direct, Reason: x509.Expired}, PhaseTLS)
				}
				return r, nil
			}
			b := bisect(context.Background(), cfg, base, Factors, run)
			if len(b.Attempts) != 2 || b.Attempts[1].Factor != FactorProxy {
				t.Fatalf("attempts %v; want the proxy alone, first", attemptNames(b))
			}
			c := b.Conclusion
			if (c.Interception != nil) != tt.intercepts {
				t.Fatalf("conclusion %s, interception %+v; want interception %v", c.Kind, c.Interception, tt.intercepts)
			}
			if tt.directFails {
				if c.Kind != KindNoFactor || c.Interception.DirectTrusted || !strings.Contains(b.Stopped, "not the one it sends directly") {
					t.Errorf("conclusion %s (stopped %q), direct trusted %v; want no factor, stopped at the interception", c.Kind, b.Stopped, c.Interception.DirectTrusted)
				}
			} else if c.Kind != KindFactor || c.Factor != FactorProxy {
				t.Errorf("conclusion %s, factor %q; want factor proxy", c.Kind, c.Factor)
			}
			if !tt.intercepts {
				if !strings.Contains(c.Summary, "connects directly instead of through the proxy") {
					t.Errorf("summary %q; want the proxy conclusion", c.Summary)
				}
				return
			}
			if !strings.Contains(c.Summary, "intercepts TLS") || !strings.Contains(c.Summary, tlslab.WebProxyCAName) || !strings.Contains(c.Summary, tlslab.IntermediateName) {
				t.Errorf("summary %q; want interception and both issuers", c.Summary)
			}
		})
	}
}
