package diagnose

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The records below are built by hand: Diagnose is a pure function of the
// Go struct. Frame n is taken 10 ms × n after captureTime unless a test
// moves it.

func fr(n int64) capture.Frame {
	return capture.Frame{Number: n, Time: captureTime.Add(time.Duration(n) * 10 * time.Millisecond)}
}

// frAt is frame n at captureTime + d.
func frAt(n int64, d time.Duration) capture.Frame {
	return capture.Frame{Number: n, Time: captureTime.Add(d)}
}

// tcpConn is a connection whose TCP handshake (frames 1–3) was captured.
func tcpConn() *analysis.Connection {
	return &analysis.Connection{
		Client:             netip.MustParseAddrPort("192.0.2.1:51000"),
		Server:             netip.MustParseAddrPort("198.51.100.7:443"),
		Roles:              analysis.RolesFromSYN,
		First:              fr(1),
		Last:               fr(30),
		TCP:                analysis.TCPFacts{SYN: fr(1), SYNCount: 1, SYNACK: fr(2), Close: capture.ClosedFIN},
		ClientCertificates: -1,
	}
}

var (
	v10 = tlsparse.VersionTLS10
	v11 = tlsparse.VersionTLS11
	v12 = tlsparse.VersionTLS12
	v13 = tlsparse.VersionTLS13

	// modernSuites is what Go's client offers.
	modernSuites = []tlsparse.CipherSuite{0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8}
	// tls12Suites is a TLS 1.2 client's usual offer.
	tls12Suites = []tlsparse.CipherSuite{0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0x009C, 0x002F}
)

// modernHello is a TLS 1.3 client's hello for www.example.com.
func modernHello() *tlsparse.ClientHello {
	return &tlsparse.ClientHello{
		Version:           v12,
		CipherSuites:      slices.Clone(modernSuites),
		ServerName:        "www.example.com",
		SupportedVersions: []tlsparse.Version{0x2A2A, v13, v12},
		SupportedGroups:   []tlsparse.NamedGroup{0x2A2A, 29, 23, 24},
		ALPN:              []string{"h2", "http/1.1"},
	}
}

// tls12Hello is a hello without supported_versions, offering up to max.
func tls12Hello(max tlsparse.Version) *tlsparse.ClientHello {
	return &tlsparse.ClientHello{Version: max, CipherSuites: slices.Clone(tls12Suites), ServerName: "www.example.com", SupportedGroups: []tlsparse.NamedGroup{29, 23}}
}

// hello adds the ClientHello in frame 4.
func hello(c *analysis.Connection, h *tlsparse.ClientHello) *analysis.Connection {
	c.ClientHello, c.ClientHelloFrame = h, fr(4)
	return c
}

// serverHello adds the ServerHello in frame 6, with the chain (TLS ≤ 1.2)
// in the same frame.
func serverHello(c *analysis.Connection, v tlsparse.Version, cs tlsparse.CipherSuite, chain ...*testCert) *analysis.Connection {
	sh := &tlsparse.ServerHello{Version: v, CipherSuite: cs}
	if v == v13 {
		sh.Version, sh.SupportedVersion, sh.KeyShare = v12, v13, 29
	}
	c.ServerHello, c.ServerHelloFrame = sh, fr(6)
	c.Version, c.Cipher = v, cs
	if v == v13 {
		c.Group = 29
		c.ServerSide.Finished = fr(6) // the encrypted flight
		return c
	}
	c.ServerHelloDoneFrame = fr(6)
	if len(chain) > 0 {
		c.CertificateFrame = fr(6)
		for _, tc := range chain {
			c.Certificates = append(c.Certificates, analysis.Certificate{DER: tc.cert.Raw, X509: tc.cert})
		}
	}
	return c
}

// finish completes the handshake: the client's flight in frame 8, the
// server's Finished in frame 9 (TLS ≤ 1.2), data both ways.
func finish(c *analysis.Connection) *analysis.Connection {
	c.ClientSide.Finished = fr(8)
	c.HandshakeDone = fr(8)
	if c.Version != v13 {
		c.ClientSide.ChangeCipherSpec = fr(8)
		c.ServerSide.ChangeCipherSpec, c.ServerSide.Finished = fr(9), fr(9)
		c.HandshakeDone = fr(9)
	}
	c.Established = true
	c.ClientSide.AppData = analysis.Traffic{Records: 2, Bytes: 300, First: fr(10)}
	c.ServerSide.AppData = analysis.Traffic{Records: 3, Bytes: 5000, First: fr(11)}
	return c
}

func alert(c *analysis.Connection, n int64, from capture.Direction, desc tlsparse.AlertDescription) *analysis.Connection {
	c.Alerts = append(c.Alerts, analysis.Alert{Frame: fr(n), Sender: from, Level: tlsparse.AlertLevelFatal, Description: desc})
	return c
}

func encryptedAlert(c *analysis.Connection, n int64, from capture.Direction) *analysis.Connection {
	c.Alerts = append(c.Alerts, analysis.Alert{Frame: fr(n), Sender: from, Encrypted: true})
	return c
}

func rst(c *analysis.Connection, f capture.Frame, from capture.Direction) *analysis.Connection {
	c.TCP.RST, c.TCP.RSTFrom, c.TCP.Close = f, from, capture.ClosedRST
	if f.Number > c.Last.Number {
		c.Last = f
	}
	return c
}

func fin(c *analysis.Connection, f capture.Frame, from capture.Direction) *analysis.Connection {
	c.TCP.FIN[from] = f
	return c
}

// diagnoseCase is one record and what its verdict must say.
type diagnoseCase struct {
	name     string
	conn     func(p *pki) *analysis.Connection
	roots    func(p *pki) *x509.CertPool
	cat      Category
	summary  []string // substrings of Summary
	evidence []int64
	fix      []string // substrings of Fix
	warnings []string // substrings, each found in some warning
	nWarn    int      // exact number of warnings, when ≥ 0 (set -1 to skip)
}

func runDiagnoseCases(t *testing.T, cases []diagnoseCase) {
	t.Helper()
	p := newPKI(t)
	cache := NewChainCache(0)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.conn(p)
			cfg := Config{Roots: PoolRoots(p.roots), SettingNames: flagNames}
			if tt.roots != nil {
				cfg.Roots = PoolRoots(tt.roots(p))
			}
			v := Diagnose(c, cfg)
			dump := func() string {
				return "\n  category: " + string(v.Category) + "\n  summary:  " + v.Summary + "\n  fix:      " + v.Fix +
					"\n  evidence: " + fmt.Sprint(v.Evidence) +
					"\n  warnings: " + strings.Join(v.Warnings, " | ")
			}
			if testing.Verbose() {
				t.Log(dump())
			}
			if v.Category != tt.cat {
				t.Errorf("category = %s, want %s%s", v.Category, tt.cat, dump())
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary lacks %q%s", s, dump())
				}
			}
			if !reflect.DeepEqual(v.Evidence, tt.evidence) {
				t.Errorf("evidence = %v, want %v%s", v.Evidence, tt.evidence, dump())
			}
			for _, s := range tt.fix {
				if !strings.Contains(v.Fix, s) {
					t.Errorf("fix lacks %q%s", s, dump())
				}
			}
			if tt.cat == OK && v.Fix != "" {
				t.Errorf("ok verdict with a fix%s", dump())
			}
			if tt.cat != OK && v.Fix == "" {
				t.Errorf("failed verdict without a fix%s", dump())
			}
			for _, s := range tt.warnings {
				if !slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.Contains(w, s) }) {
					t.Errorf("no warning with %q%s", s, dump())
				}
			}
			if tt.nWarn >= 0 && len(v.Warnings) != tt.nWarn {
				t.Errorf("%d warnings, want %d%s", len(v.Warnings), tt.nWarn, dump())
			}
			if !slices.IsSorted(v.Evidence) {
				t.Errorf("evidence not ascending: %v", v.Evidence)
			}
			if strings.Contains(v.Summary, "\n") || strings.Contains(v.Fix, "\n") {
				t.Errorf("summary and fix must be one line%s", dump())
			}
			// Deterministic: the same record gives the same verdict, and
			// the cache of verified chains (shared by every case) changes
			// nothing.
			if again := Diagnose(tt.conn(p), cfg); !reflect.DeepEqual(again, v) {
				t.Errorf("not deterministic:%s\nvs %+v", dump(), again)
			}
			cached := cfg
			cached.Cache = cache
			for range 2 {
				if again := Diagnose(tt.conn(p), cached); !reflect.DeepEqual(again, v) {
					t.Errorf("the cache changed the verdict:%s\nvs %+v", dump(), again)
				}
			}
		})
	}
}
