package diagnose

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// wantProblem is an expected CertProblem: its category, certificate index,
// substrings of its detail and its missing issuer.
type wantProblem struct {
	cat     Category
	cert    int
	detail  []string
	missing string
	// certainty and alt (a word of the alternative) are checked for a
	// missing issuer, whose category rests on a ranking.
	certainty Certainty
	alt       string
}

func TestCheckChain(t *testing.T) {
	p := newPKI(t)
	mk := func(s certSpec) *testCert { return mkCert(t, s) }
	onlyPool := func(cs ...*testCert) *x509.CertPool {
		pool := x509.NewCertPool()
		for _, c := range cs {
			pool.AddCert(c.cert)
		}
		return pool
	}
	year := func(n int) time.Time { return captureTime.AddDate(n, 0, 0) }
	day := func(n int) time.Time { return captureTime.AddDate(0, 0, n) }

	expiredLeaf := mk(certSpec{cn: "expired.example.com", issuer: p.inter, dns: []string{"expired.example.com"}, notBefore: day(-400), notAfter: day(-10)})
	futureLeaf := mk(certSpec{cn: "future.example.com", issuer: p.inter, dns: []string{"future.example.com"}, notBefore: day(3), notAfter: day(300)})
	expiredInter := mk(certSpec{cn: "Old Intermediate CA", ca: true, issuer: p.root, notBefore: year(-4), notAfter: day(-30)})
	leafOfExpiredInter := mk(certSpec{cn: "old.example.com", issuer: expiredInter, dns: []string{"old.example.com"}, notBefore: day(-60), notAfter: day(200)})
	selfSigned := mk(certSpec{cn: "self.example.com", dns: []string{"self.example.com"}})
	selfSignedExpired := mk(certSpec{cn: "selfold.example.com", dns: []string{"selfold.example.com"}, notBefore: year(-3), notAfter: year(-1)})
	privRoot := mk(certSpec{cn: "Private Root CA", ca: true, notBefore: year(-5), notAfter: year(5)})
	privInter := mk(certSpec{cn: "Private Intermediate CA", ca: true, issuer: privRoot})
	privLeaf := mk(certSpec{cn: "intranet.example.com", issuer: privInter, dns: []string{"intranet.example.com"}})
	privDirect := mk(certSpec{cn: "direct.example.com", issuer: privRoot, dns: []string{"direct.example.com"}})
	// CAs named neither root nor intermediate: only AIA (or its absence)
	// tells.
	plainCA := mk(certSpec{cn: "Example Corp CA 7", ca: true, notBefore: year(-5), notAfter: year(5)})
	aiaLeaf := mk(certSpec{cn: "aia.example.com", issuer: plainCA, dns: []string{"aia.example.com"}, aia: "http://ca.example.com/ca7.crt"})
	plainLeaf := mk(certSpec{cn: "plain.example.com", issuer: plainCA, dns: []string{"plain.example.com"}})
	// interA issues interB issues the leaf: a chain of two intermediates.
	interA := mk(certSpec{cn: "Test Intermediate A", ca: true, issuer: p.root})
	interB := mk(certSpec{cn: "Test Intermediate B", ca: true, issuer: interA})
	deepLeaf := mk(certSpec{cn: "deep.example.com", issuer: interB, dns: []string{"deep.example.com"}})
	// staleInter has the intermediate's name but another key: servers
	// keep sending it after the CA re-keys.
	staleInter := mk(certSpec{cn: "Test Intermediate CA", ca: true, issuer: p.root, key: testKey(t, "stale intermediate key")})
	ipLeaf := mk(certSpec{cn: "ip leaf", issuer: p.inter, ips: []net.IP{net.ParseIP("192.0.2.10"), net.ParseIP("2001:db8::10")}})
	wildLeaf := mk(certSpec{cn: "wild", issuer: p.inter, dns: []string{"*.example.net"}})
	cnOnly := mk(certSpec{cn: "cnonly.example.com", issuer: p.inter})
	criticalLeaf := mk(certSpec{cn: "critical.example.com", issuer: p.inter, dns: []string{"critical.example.com"}, critical: []pkix.Extension{unknownCritical}})
	clientAuthLeaf := mk(certSpec{cn: "client.example.com", issuer: p.inter, dns: []string{"client.example.com"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	notCA := mk(certSpec{cn: "Not A CA", issuer: p.root, noBasic: true})
	leafOfNotCA := mk(certSpec{cn: "notca.example.com", issuer: notCA, dns: []string{"notca.example.com"}})
	// The root expired in the trust store; the server does not send it.
	oldRoot := mk(certSpec{cn: "Expired Root CA", ca: true, notBefore: year(-20), notAfter: day(-5)})
	oldRootInter := mk(certSpec{cn: "Under Expired Root", ca: true, issuer: oldRoot, notBefore: year(-10), notAfter: day(-5)})
	oldRootLeaf := mk(certSpec{cn: "legacy.example.com", issuer: oldRootInter, dns: []string{"legacy.example.com"}, notBefore: year(-1), notAfter: day(-5)})
	// Cross-signing: newRoot is trusted; the server sends the cross-sign
	// of newRoot's key by crossOld, which is not trusted.
	newRoot := mk(certSpec{cn: "New Root CA", ca: true, notBefore: year(-1), notAfter: year(10)})
	crossOld := mk(certSpec{cn: "Old Cross Root", ca: true, notBefore: year(-20), notAfter: year(-1)})
	crossSigned := mk(certSpec{cn: "New Root CA", ca: true, issuer: crossOld, key: newRoot.key, notBefore: year(-1), notAfter: year(-1).AddDate(0, 6, 0)})
	crossLeaf := mk(certSpec{cn: "cross.example.com", issuer: newRoot, dns: []string{"cross.example.com"}})

	tests := []struct {
		name   string
		chain  []*x509.Certificate
		sni    string
		noTime bool
		roots  *x509.CertPool
		want   []wantProblem
	}{
		{name: "valid with intermediate", chain: certs(p.leaf, p.inter), sni: "www.example.com"},
		{name: "valid with the root sent too", chain: certs(p.leaf, p.inter, p.root), sni: "example.com"},
		{name: "valid, sent out of order", chain: certs(deepLeaf, p.root, interA, interB), sni: "deep.example.com"},
		{name: "valid, name in another case", chain: certs(p.leaf, p.inter), sni: "WWW.Example.COM"},
		{name: "valid through a trusted newer root despite an expired cross-sign", chain: certs(crossLeaf, crossSigned, crossOld), sni: "cross.example.com", roots: onlyPool(newRoot)},
		{name: "valid self-signed leaf trusted via --cacert", chain: certs(selfSigned), sni: "self.example.com", roots: onlyPool(selfSigned)},
		{name: "empty chain", chain: nil},
		{name: "no SNI skips the name check", chain: certs(p.leaf, p.inter), sni: ""},
		{name: "expired leaf", chain: certs(expiredLeaf, p.inter), sni: "expired.example.com", want: []wantProblem{
			{cat: CertExpired, cert: 0, detail: []string{"certificate 0", "CN=expired.example.com", "expired on 2025-05-22 12:00:00 UTC", "10 days before the capture (2025-06-01 12:00:00 UTC)"}}}},
		{name: "leaf not yet valid", chain: certs(futureLeaf, p.inter), sni: "future.example.com", want: []wantProblem{
			{cat: CertNotYetValid, cert: 0, detail: []string{"valid only from 2025-06-04 12:00:00 UTC", "3 days after the capture"}}}},
		{name: "expired intermediate, valid leaf", chain: certs(leafOfExpiredInter, expiredInter), sni: "old.example.com", want: []wantProblem{
			{cat: CertExpired, cert: 1, detail: []string{"certificate 1", "CN=Old Intermediate CA", "expired on 2025-05-02", "30 days before"}}}},
		{name: "self-signed leaf", chain: certs(selfSigned), sni: "self.example.com", want: []wantProblem{
			{cat: CertSelfSigned, cert: 0, detail: []string{"CN=self.example.com", "self-signed", "not trusted"}}}},
		{name: "self-signed and expired: self-signed first", chain: certs(selfSignedExpired), sni: "selfold.example.com", want: []wantProblem{
			{cat: CertSelfSigned, cert: 0},
			{cat: CertExpired, cert: 0, detail: []string{"expired on 2024-06-01"}}}},
		{name: "untrusted root sent", chain: certs(privLeaf, privInter, privRoot), sni: "intranet.example.com", want: []wantProblem{
			{cat: CertUntrustedCA, cert: 2, detail: []string{"self-signed root", "CN=Private Root CA", "not trusted"}}}},
		{name: "incomplete: intermediate not sent", chain: certs(p.leaf), sni: "www.example.com", want: []wantProblem{
			{cat: CertIncompleteChain, cert: 0, missing: "CN=Test Intermediate CA,O=tlsdiag test", detail: []string{"issued by 'CN=Test Intermediate CA,O=tlsdiag test'", "did not send"},
				certainty: Likely, alt: "private root"}}},
		{name: "incomplete: leaf alone with an AIA caIssuers URL", chain: certs(aiaLeaf), sni: "aia.example.com", want: []wantProblem{
			{cat: CertIncompleteChain, cert: 0, missing: "CN=Example Corp CA 7,O=tlsdiag test", certainty: Likely}}},
		{name: "incomplete: second intermediate missing", chain: certs(deepLeaf, interB), sni: "deep.example.com", want: []wantProblem{
			{cat: CertIncompleteChain, cert: 1, missing: "CN=Test Intermediate A,O=tlsdiag test", certainty: Possible, alt: "private root"}}},
		{name: "untrusted: leaf signed directly by a private root", chain: certs(privDirect), sni: "direct.example.com", want: []wantProblem{
			{cat: CertUntrustedCA, cert: 0, missing: "CN=Private Root CA,O=tlsdiag test", detail: []string{"not among the trusted roots"}, certainty: Likely, alt: "intermediate"}}},
		{name: "untrusted: leaf and intermediate sent, root unknown", chain: certs(privLeaf, privInter), sni: "intranet.example.com", want: []wantProblem{
			{cat: CertUntrustedCA, cert: 1, missing: "CN=Private Root CA,O=tlsdiag test", certainty: Likely}}},
		{name: "ambiguous: leaf alone, no AIA, a CA named neither way", chain: certs(plainLeaf), sni: "plain.example.com", want: []wantProblem{
			{cat: CertUntrustedCA, cert: 0, missing: "CN=Example Corp CA 7,O=tlsdiag test", certainty: Possible, alt: "intermediate the server should send"}}},
		{name: "stale intermediate: right name, wrong key", chain: certs(p.leaf, staleInter), sni: "www.example.com", want: []wantProblem{
			{cat: CertIncompleteChain, cert: 0, missing: "CN=Test Intermediate CA,O=tlsdiag test", detail: []string{"certificate 1", "not its key"}}}},
		{name: "hostname mismatch", chain: certs(p.leaf, p.inter), sni: "api.example.org", want: []wantProblem{
			{cat: CertHostnameMismatch, cert: 0, detail: []string{"valid for www.example.com, example.com", "not for the name 'api.example.org'"}}}},
		{name: "wildcard matches one label", chain: certs(wildLeaf, p.inter), sni: "a.example.net"},
		{name: "wildcard does not match two labels", chain: certs(wildLeaf, p.inter), sni: "a.b.example.net", want: []wantProblem{
			{cat: CertHostnameMismatch, cert: 0, detail: []string{"*.example.net"}}}},
		{name: "IP SAN matches", chain: certs(ipLeaf, p.inter), sni: "192.0.2.10"},
		{name: "IPv6 SAN matches", chain: certs(ipLeaf, p.inter), sni: "2001:db8::10"},
		{name: "IP SAN mismatch", chain: certs(ipLeaf, p.inter), sni: "192.0.2.11", want: []wantProblem{
			{cat: CertHostnameMismatch, cert: 0, detail: []string{"192.0.2.10, 2001:db8::10", "not for the address '192.0.2.11'"}}}},
		{name: "IP SAN does not cover a DNS name", chain: certs(ipLeaf, p.inter), sni: "ip.example.com", want: []wantProblem{
			{cat: CertHostnameMismatch, cert: 0}}},
		{name: "common name only", chain: certs(cnOnly, p.inter), sni: "cnonly.example.com", want: []wantProblem{
			{cat: CertHostnameMismatch, cert: 0, detail: []string{"no subjectAltName", "common name"}}}},
		{name: "unknown critical extension", chain: certs(criticalLeaf, p.inter), sni: "critical.example.com", want: []wantProblem{
			{cat: CertRejected, cert: 0, detail: []string{"critical extension", "1.3.6.1.4.1.99999.1"}}}},
		{name: "leaf for clients only", chain: certs(clientAuthLeaf, p.inter), sni: "client.example.com", want: []wantProblem{
			{cat: CertRejected, cert: 0, detail: []string{"serverAuth"}}}},
		{name: "issuer is not a CA", chain: certs(leafOfNotCA, notCA), sni: "notca.example.com", want: []wantProblem{
			{cat: CertRejected, cert: 1, detail: []string{"CN=Not A CA", "not a CA"}}}},
		{name: "expired root in the trust store", chain: certs(oldRootLeaf, oldRootInter), sni: "legacy.example.com", roots: onlyPool(oldRoot), want: []wantProblem{
			{cat: CertExpired, cert: 0}, {cat: CertExpired, cert: 1}, {cat: CertExpired, cert: -1, detail: []string{"the trusted root", "CN=Expired Root CA"}}}},
		{name: "several problems: those no trust store changes first", chain: certs(expiredLeaf), sni: "other.example.com", want: []wantProblem{
			{cat: CertExpired, cert: 0}, {cat: CertHostnameMismatch, cert: 0},
			{cat: CertIncompleteChain, cert: 0, missing: "CN=Test Intermediate CA,O=tlsdiag test", certainty: Likely, alt: "private root"}}},
		{name: "zero time skips dates", chain: certs(expiredLeaf, p.inter), sni: "expired.example.com", noTime: true},
		{name: "unrelated extra certificate", chain: certs(p.leaf, selfSigned, p.inter), sni: "www.example.com"},
		{name: "duplicate certificates", chain: certs(p.leaf, p.leaf, p.inter, p.inter), sni: "www.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots := tt.roots
			if roots == nil {
				roots = p.roots
			}
			at := captureTime
			if tt.noTime {
				at = time.Time{}
			}
			got := CheckChain(tt.chain, tt.sni, at, roots)
			checkProblems(t, got, tt.want)
		})
	}
}

func checkProblems(t *testing.T, got []CertProblem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), dumpProblems(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Category != w.cat || g.Cert != w.cert {
			t.Errorf("problem %d = %s on cert %d, want %s on cert %d\n%s", i, g.Category, g.Cert, w.cat, w.cert, dumpProblems(got))
		}
		for _, s := range w.detail {
			if !strings.Contains(g.Detail, s) {
				t.Errorf("problem %d detail %q lacks %q", i, g.Detail, s)
			}
		}
		if g.MissingIssuer != w.missing {
			t.Errorf("problem %d MissingIssuer = %q, want %q", i, g.MissingIssuer, w.missing)
		}
		if g.Certainty != w.certainty {
			t.Errorf("problem %d certainty = %s (%s), want %s", i, g.Certainty, g.Why, w.certainty)
		}
		if !strings.Contains(g.Alternative, w.alt) || (w.alt == "") != (g.Alternative == "") {
			t.Errorf("problem %d alternative = %q, want one with %q", i, g.Alternative, w.alt)
		}
	}
}

func dumpProblems(ps []CertProblem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + string(p.Category) + " [" + strconv.Itoa(p.Cert) + "] " + p.Detail + " (missing " + p.MissingIssuer + ")\n")
	}
	return b.String()
}

func TestCheckChainNeverUsesTheClock(t *testing.T) {
	// A certificate valid only long ago: judged at its own time it is
	// fine, whatever today's date.
	root := mkCert(t, certSpec{cn: "Clock Root", ca: true, notBefore: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2003, 1, 1, 0, 0, 0, 0, time.UTC)})
	leaf := mkCert(t, certSpec{cn: "clock.example.com", issuer: root, dns: []string{"clock.example.com"},
		notBefore: time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2002, 2, 1, 0, 0, 0, 0, time.UTC)})
	pool := x509.NewCertPool()
	pool.AddCert(root.cert)
	at := time.Date(2002, 1, 15, 0, 0, 0, 0, time.UTC)
	if got := CheckChain(certs(leaf), "clock.example.com", at, pool); len(got) != 0 {
		t.Errorf("valid in 2002, got %s", dumpProblems(got))
	}
	got := CheckChain(certs(leaf), "clock.example.com", at.AddDate(0, 1, 0), pool)
	checkProblems(t, got, []wantProblem{{cat: CertExpired, cert: 0, detail: []string{"expired on 2002-02-01 00:00:00 UTC", "14 days before the capture (2002-02-15"}}})
}

func TestCheckChainDeterministic(t *testing.T) {
	p := newPKI(t)
	expired := mkCert(t, certSpec{cn: "det.example.com", issuer: p.inter, dns: []string{"det.example.com"}, notAfter: captureTime.AddDate(0, 0, -1)})
	first := CheckChain(certs(expired), "x.example.com", captureTime, p.roots)
	for range 20 {
		again := CheckChain(certs(expired), "x.example.com", captureTime, p.roots)
		if dumpProblems(again) != dumpProblems(first) {
			t.Fatalf("CheckChain not deterministic:\n%s\nvs\n%s", dumpProblems(first), dumpProblems(again))
		}
	}
}

func TestLoadRoots(t *testing.T) {
	p := newPKI(t)
	pemOf := func(cs ...*testCert) []byte {
		var b []byte
		for _, c := range cs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})...)
		}
		return b
	}
	keyBlock := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})

	t.Run("cacert only", func(t *testing.T) {
		roots, err := LoadRoots(false, pemOf(p.root))
		if err != nil {
			t.Fatal(err)
		}
		pool, err := roots.Pool()
		if err != nil {
			t.Fatal(err)
		}
		if got := CheckChain(certs(p.leaf, p.inter), "www.example.com", captureTime, pool); len(got) != 0 {
			t.Errorf("chain to the loaded root: %s", dumpProblems(got))
		}
		// Without the root the same chain is incomplete: the pool holds
		// only what was loaded.
		roots2, err := LoadRoots(false, pemOf(p.inter))
		if err != nil {
			t.Fatal(err)
		}
		pool2, _ := roots2.Pool()
		if got := CheckChain(certs(p.leaf), "www.example.com", captureTime, pool2); len(got) != 0 {
			t.Errorf("trusting the intermediate directly: %s", dumpProblems(got))
		}
	})
	t.Run("several inputs, key blocks skipped", func(t *testing.T) {
		other := mkCert(t, certSpec{cn: "Other Root", ca: true})
		in := append(append([]byte("# bundle\n"), keyBlock...), pemOf(other, p.root)...)
		if _, err := LoadRoots(false, pemOf(p.inter), in); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("system roots", func(t *testing.T) {
		roots, err := LoadRoots(true, pemOf(p.root))
		if err != nil {
			t.Fatal(err)
		}
		pool, err := roots.Pool()
		if err != nil {
			t.Skipf("no system roots on this machine: %v", err)
		}
		if got := CheckChain(certs(p.leaf, p.inter), "www.example.com", captureTime, pool); len(got) != 0 {
			t.Errorf("system + cacert: %s", dumpProblems(got))
		}
		sys, _ := x509.SystemCertPool()
		if n, want := len(pool.Subjects()), len(sys.Subjects())+1; n != want {
			t.Errorf("the store holds %d roots, want the system's %d and the one given", n, want-1)
		}
	})
	errs := []struct {
		name string
		in   [][]byte
		want []string
	}{
		{"no certificate", [][]byte{pemOf(p.root), []byte("not PEM at all\n")}, []string{"PEM input 2", "no PEM CERTIFICATE block"}},
		{"only a key", [][]byte{keyBlock}, []string{"PEM input 1", "no PEM CERTIFICATE block"}},
		{"malformed certificate", [][]byte{append(pemOf(p.root), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}})...)},
			[]string{"PEM input 1", "certificate 2", "line " + strconv.Itoa(1+bytes.Count(pemOf(p.root), []byte("\n")))}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadRoots(false, tt.in...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestCheckChainLab checks the classification on the certificates of
// internal/tlslab, the lab that the test captures are made with.
func TestCheckChainLab(t *testing.T) {
	lab, err := tlslab.NewLab(captureTime)
	if err != nil {
		t.Fatal(err)
	}
	chain := func(c *tlslab.Cert) []*x509.Certificate { return append([]*x509.Certificate{c.Cert}, c.Chain...) }
	tests := []struct {
		name string
		cert *tlslab.Cert
		want Category // "" for a valid chain
	}{
		{"good", lab.Good, ""},
		{"good RSA", lab.GoodRSA, ""},
		{"expired", lab.Expired, CertExpired},
		{"not yet valid", lab.NotYetValid, CertNotYetValid},
		{"self-signed", lab.SelfSigned, CertSelfSigned},
		{"untrusted root", lab.Untrusted, CertUntrustedCA},
		{"wrong name", lab.WrongName, CertHostnameMismatch},
		{"leaf only", lab.LeafOnly, CertIncompleteChain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckChain(chain(tt.cert), tlslab.GoodName, lab.Now, lab.RootPool())
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("want a valid chain, got:\n%s", dumpProblems(got))
			case tt.want != "" && (len(got) != 1 || got[0].Category != tt.want):
				t.Errorf("want exactly %s, got:\n%s", tt.want, dumpProblems(got))
			}
		})
	}
	t.Run("leaf only names the intermediate", func(t *testing.T) {
		got := CheckChain(chain(lab.LeafOnly), tlslab.GoodName, lab.Now, lab.RootPool())
		if len(got) == 0 || !strings.Contains(got[0].MissingIssuer, tlslab.IntermediateName) {
			t.Errorf("MissingIssuer should name %q: %s", tlslab.IntermediateName, dumpProblems(got))
		}
	})
}

func TestChainCache(t *testing.T) {
	p := newPKI(t)
	leaf := mkCert(t, certSpec{cn: "cache.example.com", issuer: p.inter, dns: []string{"cache.example.com"},
		notBefore: captureTime.AddDate(0, 0, -10), notAfter: captureTime.AddDate(0, 0, 10)})
	chain := certs(leaf, p.inter)
	cache := NewChainCache(2)
	if got := checkChain(chain, "cache.example.com", captureTime, p.roots, cache); len(got) != 0 {
		t.Fatalf("valid chain: %s", dumpProblems(got))
	}
	if !cache.verified(keyOf(chain, p.roots), captureTime.AddDate(0, 0, 5)) {
		t.Errorf("a verified chain is not remembered inside its validity window")
	}
	// The same chain after the leaf expired: the cache must not hide it.
	later := captureTime.AddDate(0, 0, 11)
	checkProblems(t, checkChain(chain, "cache.example.com", later, p.roots, cache),
		[]wantProblem{{cat: CertExpired, cert: 0, detail: []string{"24 hours before the capture"}}})
	// Nor a name that does not match, nor another trust store.
	checkProblems(t, checkChain(chain, "other.example.com", captureTime, p.roots, cache),
		[]wantProblem{{cat: CertHostnameMismatch, cert: 0}})
	checkProblems(t, checkChain(chain, "cache.example.com", captureTime, x509.NewCertPool(), cache),
		[]wantProblem{{cat: CertUntrustedCA, cert: 1, missing: "CN=Test Root CA,O=tlsdiag test", certainty: Likely}})
	// Bounded: a third chain starts the cache over.
	checkChain(certs(p.leaf, p.inter), "www.example.com", captureTime, p.roots, cache)
	checkChain(certs(p.inter), "", captureTime, p.roots, cache)
	if n := len(cache.ok); n > 2 {
		t.Errorf("cache holds %d chains, max 2", n)
	}
}
