package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in       string
		wantURL  bool
		host     string
		port     uint16
		wantErr  bool
		wantText string
	}{
		{in: "https://example.com/", wantURL: true, host: "example.com", port: 443, wantText: "https://example.com/"},
		{in: "HTTPS://example.com:8443/x?y=1", wantURL: true, host: "example.com", port: 8443, wantText: "https://example.com:8443/x?y=1"},
		{in: "https://user:secret@example.com/", wantURL: true, host: "example.com", port: 443, wantText: "https://user:xxxxx@example.com/"},
		{in: "https://[::1]:4443/", wantURL: true, host: "::1", port: 4443},
		{in: "example.com:993", host: "example.com", port: 993, wantText: "example.com:993"},
		{in: "[2001:db8::1]:443", host: "2001:db8::1", port: 443, wantText: "[2001:db8::1]:443"},
		{in: "example.com", host: "example.com", port: 443},
		{in: "::1", host: "::1", port: 443},
		{in: "http://example.com/", wantURL: true, host: "example.com", port: 80, wantText: "http://example.com/"},
		{in: "HTTP://example.com:8443/", wantURL: true, host: "example.com", port: 8443, wantText: "http://example.com:8443/"},
		{in: "ftp://example.com/", wantErr: true},
		{in: "https:///path", wantErr: true},
		{in: "https://example.com:0/", wantErr: true},
		{in: "https://example.com:99999/", wantErr: true},
		{in: "example.com:http", wantErr: true},
		{in: "example.com/path", wantErr: true},
		{in: ":443", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTarget(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if (got.URL != nil) != tt.wantURL || got.Host != tt.host || got.Port != tt.port {
				t.Errorf("ParseTarget(%q) = %+v, want URL %v host %q port %d", tt.in, got, tt.wantURL, tt.host, tt.port)
			}
			if tt.wantText != "" && got.String() != tt.wantText {
				t.Errorf("String() = %q, want %q", got.String(), tt.wantText)
			}
		})
	}
}

func TestParseResolve(t *testing.T) {
	tests := []struct {
		in      string
		want    Resolve
		wantErr bool
	}{
		{in: "good.test:443:127.0.0.1", want: Resolve{Host: "good.test", Port: 443, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}},
		{in: "good.test:8443:[::1],127.0.0.2", want: Resolve{Host: "good.test", Port: 8443, Addrs: []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.2")}}},
		{in: "good.test:443:::ffff:127.0.0.1", want: Resolve{Host: "good.test", Port: 443, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}},
		{in: "good.test:443", wantErr: true},
		{in: "good.test:x:127.0.0.1", wantErr: true},
		{in: ":443:127.0.0.1", wantErr: true},
		{in: "good.test:443:not-an-ip", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseResolve(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (got.Host != tt.want.Host || got.Port != tt.want.Port || !slices.Equal(got.Addrs, tt.want.Addrs)) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
	}{
		{"1.0", tls.VersionTLS10}, {"1", tls.VersionTLS10}, {"1.1", tls.VersionTLS11},
		{"1.2", tls.VersionTLS12}, {"TLSv1.2", tls.VersionTLS12}, {"tls1.3", tls.VersionTLS13}, {" 1.3 ", tls.VersionTLS13},
		{"1.4", 0}, {"3.0", 0}, {"", 0}, {"ssl3", 0},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if (err != nil) != (tt.want == 0) || got != tt.want {
			t.Errorf("ParseVersion(%q) = %#x, %v; want %#x", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCipherSuites(t *testing.T) {
	got, err := ParseCipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls_rsa_with_aes_128_cbc_sha")
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA}; !slices.Equal(got, want) {
		t.Errorf("got %#x, want %#x", got, want)
	}
	for _, bad := range []string{"", ",", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_FAKE"} {
		if _, err := ParseCipherSuites(bad); err == nil {
			t.Errorf("ParseCipherSuites(%q) did not fail", bad)
		}
	}
}

func TestParseCurves(t *testing.T) {
	got, err := ParseCurves("X25519,P-256:secp384r1, prime256v1,x25519mlkem768,SecP256r1MLKEM768,p521")
	if err != nil {
		t.Fatal(err)
	}
	want := []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP256, tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.CurveP521}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "brainpoolP256r1", "ffdhe2048"} {
		if _, err := ParseCurves(bad); err == nil {
			t.Errorf("ParseCurves(%q) did not fail", bad)
		}
	}
}

func TestBPFFilter(t *testing.T) {
	tests := []struct {
		addrs []string
		port  uint16
		want  string
	}{
		{[]string{"127.0.0.1"}, 443, "(tcp port 443 and host 127.0.0.1) or icmp or icmp6"},
		{[]string{"127.0.0.1", "::1"}, 8443, "(tcp port 8443 and (host 127.0.0.1 or host ::1)) or icmp or icmp6"},
		{[]string{"fe80::1%eth0"}, 443, "(tcp port 443 and host fe80::1) or icmp or icmp6"},
	}
	for _, tt := range tests {
		var addrs []netip.Addr
		for _, a := range tt.addrs {
			addrs = append(addrs, netip.MustParseAddr(a))
		}
		if got := bpfFilter(addrs, tt.port); got != tt.want {
			t.Errorf("bpfFilter(%v, %d) = %q, want %q", tt.addrs, tt.port, got, tt.want)
		}
	}
}

func TestCaptureInterfaceLoopback(t *testing.T) {
	_, loopback := localAddrs()
	for _, a := range []string{"127.0.0.1", "127.0.0.53", "::1"} {
		if got := captureInterface([]netip.Addr{netip.MustParseAddr(a)}); got != loopback {
			t.Errorf("captureInterface(%s) = %q, want %q", a, got, loopback)
		}
	}
}

// TestProxyFor checks the proxy choice: --proxy wins, then HTTPS_PROXY
// unless NO_PROXY covers the target, never for loopback targets (as
// net/http decides); socks5:// and socks5h:// are used, https:// and
// socks4:// refused; and when the environment names a proxy that is not
// used, the reason says why.
func TestProxyFor(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	explicit, _ := url.Parse("http://proxy.example:3128")
	tests := []struct {
		name       string
		host       string
		plain      bool
		proxy      *url.URL
		noEnv      bool
		getenv     func(string) string
		want       string
		wantFrom   string
		wantReason string
		wantErr    bool
	}{
		{name: "none", host: "example.com", getenv: env()},
		{name: "flag", host: "example.com", proxy: explicit, getenv: env("HTTPS_PROXY", "http://other:1"), want: "http://proxy.example:3128", wantFrom: "--proxy"},
		{name: "HTTPS_PROXY", host: "example.com", getenv: env("HTTPS_PROXY", "http://envproxy:8080"), want: "http://envproxy:8080", wantFrom: "HTTPS_PROXY"},
		{name: "https_proxy", host: "example.com", getenv: env("https_proxy", "envproxy:8080"), want: "http://envproxy:8080", wantFrom: "https_proxy"},
		{name: "socks5", host: "example.com", getenv: env("HTTPS_PROXY", "socks5://u:pw@envproxy:1080"), want: "socks5://u:pw@envproxy:1080", wantFrom: "HTTPS_PROXY"},
		{name: "socks5h", host: "example.com", getenv: env("HTTPS_PROXY", "socks5h://envproxy"), want: "socks5h://envproxy", wantFrom: "HTTPS_PROXY"},
		{name: "https proxy", host: "example.com", getenv: env("HTTPS_PROXY", "https://envproxy:3128"), want: "https://envproxy:3128", wantFrom: "HTTPS_PROXY"},
		{name: "socks4 unsupported", host: "example.com", getenv: env("HTTPS_PROXY", "socks4://envproxy:1080"), wantErr: true},
		{name: "NO_PROXY", host: "api.example.com", getenv: env("HTTPS_PROXY", "http://u:pw@envproxy:8080", "NO_PROXY", ".example.com"),
			wantReason: "NO_PROXY matches api.example.com; HTTPS_PROXY is http://u:xxxxx@envproxy:8080"},
		{name: "no_proxy *", host: "example.com", getenv: env("HTTPS_PROXY", "socks5://envproxy:1080", "no_proxy", "*"),
			wantReason: "no_proxy matches example.com; HTTPS_PROXY is socks5://envproxy:1080"},
		{name: "loopback", host: "127.0.0.1", getenv: env("HTTPS_PROXY", "http://envproxy:8080"),
			wantReason: "a loopback address is never proxied by Go; HTTPS_PROXY is http://envproxy:8080"},
		{name: "localhost", host: "localhost", getenv: env("HTTPS_PROXY", "http://envproxy:8080"),
			wantReason: "localhost is never proxied by Go; HTTPS_PROXY is http://envproxy:8080"},
		{name: "empty --proxy ignores env", host: "example.com", noEnv: true, getenv: env("HTTPS_PROXY", "http://envproxy:8080"),
			wantReason: "the environment's proxy is turned off for this probe; HTTPS_PROXY is http://envproxy:8080"},
		{name: "HTTP_PROXY is for http://", host: "example.com", getenv: env("HTTP_PROXY", "http://envproxy:8080"),
			wantReason: "HTTP_PROXY is set but Go uses it for http:// only; HTTPS_PROXY is not set"},
		{name: "ALL_PROXY is not Go's", host: "example.com", getenv: env("all_proxy", "socks5://envproxy:1080"),
			wantReason: "all_proxy is set but Go does not read it (curl does); HTTPS_PROXY is not set"},
		{name: "plain probe", host: "example.com", plain: true, getenv: env("HTTP_PROXY", "http://envproxy:8080"),
			wantReason: "a plain http:// probe does not use the environment's proxy; HTTP_PROXY is http://envproxy:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := Target{Host: tt.host, Port: 443}
			if tt.plain {
				target = Target{Host: tt.host, Port: 80, URL: &url.URL{Scheme: "http", Host: tt.host, Path: "/"}}
			}
			cfg := Config{Target: target, Proxy: tt.proxy, NoProxyEnv: tt.noEnv, Getenv: tt.getenv, Names: flagNames}
			choice, err := cfg.proxyFor()
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			var schemeErr *ProxySchemeError
			if err != nil && !errors.As(err, &schemeErr) {
				t.Errorf("error %v is no *ProxySchemeError", err)
			}
			got := ""
			if choice.URL != nil {
				got = choice.URL.String()
			}
			if got != tt.want || choice.From != tt.wantFrom {
				t.Errorf("proxy %q from %q, want %q from %q", got, choice.From, tt.want, tt.wantFrom)
			}
			if choice.NoProxyReason != tt.wantReason {
				t.Errorf("reason %q, want %q", choice.NoProxyReason, tt.wantReason)
			}
		})
	}
}

// TestProxyDefaultPort: a proxy URL without a port is dialed on its
// scheme's port, as net/http does (443 for https://, where TLS to the
// proxy is spoken first).
func TestProxyDefaultPort(t *testing.T) {
	for scheme, want := range map[string]uint16{"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080} {
		proxy := &url.URL{Scheme: scheme, Host: "proxy.test"}
		cfg := Config{Target: Target{Host: "good.test", Port: 8443}, Proxy: proxy,
			Resolve: []Resolve{{Host: "proxy.test", Port: want, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}}}
		c := &client{cfg: &cfg, out: &Outcome{}}
		p, err := c.plan(context.Background(), proxyChoice{URL: proxy, From: "--proxy"})
		if err != nil || p.Port != want {
			t.Errorf("%s://proxy.test: port %v (%v), want %d", scheme, p, err, want)
			continue
		}
		if got := c.out.proxyTLS; got != (scheme == "https") {
			t.Errorf("%s://proxy.test: TLS to the proxy %v", scheme, got)
		}
	}
}

// FuzzParseTarget: any argument parses or fails without panicking, and a
// parsed target prints as something that parses to the same target.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"https://example.com/", "https://u:p@[::1]:8443/x?y#z", "example.com:993", "[2001:db8::1]:443", "::1", "http://x/", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTarget(s)
		if err != nil {
			return
		}
		if got.Host == "" || got.Port == 0 {
			t.Fatalf("ParseTarget(%q) = %+v without host or port", s, got)
		}
		if got.URL != nil {
			return // String hides the password
		}
		again, err := ParseTarget(got.String())
		if err != nil || again.Host != got.Host || again.Port != got.Port {
			t.Fatalf("ParseTarget(%q) = %+v, whose String %q parses to %+v, %v", s, got, got.String(), again, err)
		}
	})
}

// FuzzParseFlags: the flag value parsers never panic.
func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"good.test:443:127.0.0.1", "h:1:[::1],10.0.0.1", "1.2", "TLS_AES_128_GCM_SHA256,x", "X25519:P-256", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseResolve(s); err == nil && (r.Host == "" || r.Port == 0 || len(r.Addrs) == 0) {
			t.Fatalf("ParseResolve(%q) = %+v", s, r)
		}
		if v, err := ParseVersion(s); (err == nil) != (v != 0) {
			t.Fatalf("ParseVersion(%q) = %#x, %v", s, v, err)
		}
		if ids, err := ParseCipherSuites(s); err == nil && len(ids) == 0 {
			t.Fatalf("ParseCipherSuites(%q) is empty", s)
		}
		if ids, err := ParseCurves(s); err == nil && len(ids) == 0 {
			t.Fatalf("ParseCurves(%q) is empty", s)
		}
	})
}
