package diagnose

import (
	"crypto/x509"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestChainCacheFailures holds the cache of failed chains to the checks
// without a cache, at times on both sides of every date that decides:
// a leaf's, an intermediate's and a root's validity, a root that expires
// during the capture, two roots of one subject, and chains that fail for
// reasons the dates do not touch.
func TestChainCacheFailures(t *testing.T) {
	p := newPKI(t)
	day := 24 * time.Hour
	at := func(d time.Duration) time.Time { return captureTime.Add(d) }

	// A root that expires one hour into the capture, and a second root of
	// the same name (a renewed root) in another store.
	shortRoot := mkCert(t, certSpec{cn: "Short Root CA", ca: true, notBefore: at(-400 * day), notAfter: at(time.Hour)})
	shortInter := mkCert(t, certSpec{cn: "Short Intermediate CA", ca: true, issuer: shortRoot, notBefore: at(-300 * day), notAfter: at(300 * day)})
	shortLeaf := mkCert(t, certSpec{cn: "short.example.com", issuer: shortInter, dns: []string{"short.example.com"}, notBefore: at(-10 * day), notAfter: at(10 * day)})
	// The renewed root takes over an hour after the first one expired.
	renewed := mkCert(t, certSpec{cn: "Short Root CA", ca: true, key: shortRoot.key, notBefore: at(2 * time.Hour), notAfter: at(3000 * day)})
	// Fails whatever the dates (a client certificate), so that only the
	// search for its root changes with them.
	shortClient := mkCert(t, certSpec{cn: "client.short.example.com", issuer: shortInter, dns: []string{"client.short.example.com"},
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, notBefore: at(-10 * day), notAfter: at(10 * day)})
	stores := map[string]*x509.CertPool{"one root per name": x509.NewCertPool(), "two roots of a name": x509.NewCertPool()}
	for _, pool := range stores {
		pool.AddCert(p.root.cert)
		pool.AddCert(shortRoot.cert)
	}
	stores["two roots of a name"].AddCert(renewed.cert)

	expiring := mkCert(t, certSpec{cn: "exp.example.com", issuer: p.inter, dns: []string{"exp.example.com"}, notBefore: at(-day), notAfter: at(2 * time.Hour)})
	selfSigned := mkCert(t, certSpec{cn: "self.example.com", dns: []string{"self.example.com"}, notBefore: at(-day), notAfter: at(day)})
	otherRoot := mkCert(t, certSpec{cn: "Other Root CA", ca: true, notBefore: at(-day), notAfter: at(100 * day)})
	otherInter := mkCert(t, certSpec{cn: "Other Intermediate CA", ca: true, issuer: otherRoot, notBefore: at(-day), notAfter: at(3 * time.Hour)})
	untrusted := mkCert(t, certSpec{cn: "untrusted.example.com", issuer: otherInter, dns: []string{"untrusted.example.com"}, notBefore: at(-day), notAfter: at(day)})
	noCA := mkCert(t, certSpec{cn: "Not A CA", noBasic: true, issuer: p.inter, notBefore: at(-day), notAfter: at(day)})
	underNoCA := mkCert(t, certSpec{cn: "noca.example.com", issuer: noCA, dns: []string{"noca.example.com"}, notBefore: at(-day), notAfter: at(day)})
	clientOnly := mkCert(t, certSpec{cn: "client.example.com", issuer: p.inter, dns: []string{"client.example.com"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, notBefore: at(-day), notAfter: at(day)})

	chains := map[string][]*x509.Certificate{
		"root expires":          certs(shortLeaf, shortInter),
		"leaf expires":          certs(expiring, p.inter),
		"self-signed":           certs(selfSigned),
		"untrusted, inter exp":  certs(untrusted, otherInter),
		"issuer not a CA":       certs(underNoCA, noCA, p.inter),
		"client-only leaf":      certs(clientOnly, p.inter),
		"root sent":             certs(shortLeaf, shortInter, shortRoot),
		"root expires, refused": certs(shortClient, shortInter),
	}
	// Times on both sides of each date above, and back again.
	var times []time.Time
	for _, d := range []time.Duration{-2 * day, 0, 30 * time.Minute, 2 * time.Hour, 90 * time.Minute, 150 * time.Minute,
		4 * time.Hour, 0, 2 * day, 11 * day, 5 * time.Minute, 301 * day, 0, -11 * day} {
		times = append(times, at(d), at(d).Add(time.Second))
	}
	times = append(times, time.Time{}) // no time: dates not checked
	// Which entry a lookup meets depends on what came before: the times
	// in three orders (a failure first, a success first, backwards), each
	// with a cache of its own.
	backwards := slices.Clone(times)
	slices.Reverse(backwards)
	orders := [][]time.Time{times, append([]time.Time{at(2 * time.Hour)}, times...), backwards}

	for _, order := range orders {
		for storeName, pool := range stores {
			cache := NewChainCache(0)
			for name, chain := range chains {
				for _, when := range order {
					for _, sni := range []string{"", "short.example.com"} {
						want := CheckChain(chain, sni, when, pool)
						got := checkChain(chain, sni, when, pool, cache)
						if !reflect.DeepEqual(got, want) {
							t.Errorf("%s, %s at %s: with the cache\n%s\nwithout\n%s", storeName, name, when, dumpProblems(got), dumpProblems(want))
						}
					}
				}
			}
			// The cache must have been used: every failing chain is cached
			// at least once (several times for those whose dates change).
			if len(cache.failed) < len(chains)-1 {
				t.Errorf("%s: %d failed chains cached, want at least %d", storeName, len(cache.failed), len(chains)-1)
			}
		}
	}
}

// TestChainCacheFailureKey checks the key itself: a root's date counts
// once the root is known, and a subject with two roots is not cached.
func TestChainCacheFailureKey(t *testing.T) {
	p := newPKI(t)
	cache := NewChainCache(0)
	leaf := mkCert(t, certSpec{cn: "k.example.com", issuer: p.inter, dns: []string{"k.example.com"},
		notBefore: captureTime.Add(-time.Hour), notAfter: captureTime.Add(time.Hour)})
	chain := certs(leaf, p.inter)
	k := keyOf(chain, p.roots)
	cache.mu.Lock()
	if _, ok := cache.failKeyOf(k, chain, captureTime); ok {
		t.Errorf("a key before the root was met")
	}
	cache.learnRoot(p.roots, p.root.cert)
	fk, ok := cache.failKeyOf(k, chain, captureTime.Add(2*time.Hour))
	cache.mu.Unlock()
	if !ok || fk.dates != ">=.=" {
		t.Errorf("key dates %q (%v), want \">=.=\": leaf after, inter inside, the leaf's issuer no root, the root inside", fk.dates, ok)
	}

	two := x509.NewCertPool()
	two.AddCert(p.root.cert)
	two.AddCert(mkCert(t, certSpec{cn: "Test Root CA", ca: true, notBefore: captureTime, notAfter: captureTime.AddDate(1, 0, 0)}).cert)
	k2 := keyOf(chain, two)
	cache.mu.Lock()
	cache.learnRoot(two, p.root.cert)
	_, ok = cache.failKeyOf(k2, chain, captureTime)
	cache.mu.Unlock()
	if ok {
		t.Errorf("a key for a chain whose issuer has two roots")
	}
}

// TestChainCacheKeyOfRemembered checks that the remembered digest of a
// chain is keyOf's, for the chain it was made for only: the same
// certificates in another order or number, or a chain too long to be
// remembered, get their own.
func TestChainCacheKeyOfRemembered(t *testing.T) {
	p := newPKI(t)
	leaf := mkCert(t, certSpec{cn: "r.example.com", issuer: p.inter, dns: []string{"r.example.com"},
		notBefore: captureTime.Add(-time.Hour), notAfter: captureTime.Add(time.Hour)})
	chains := [][]*x509.Certificate{
		certs(leaf),
		certs(leaf, p.inter),
		append(certs(leaf), nil),
		certs(p.inter, leaf),
		certs(leaf, p.inter, p.root),
		certs(leaf, p.inter, p.inter, p.inter, p.root),
	}
	cache := NewChainCache(0)
	seen := map[chainKey]int{}
	for round := range 2 {
		for i, chain := range chains {
			k := cache.keyOf(chain, p.roots)
			if want := keyOf(chain, p.roots); k != want {
				t.Errorf("round %d, chain %d: key %x, want keyOf's %x", round, i, k.digest, want.digest)
			}
			if j, ok := seen[k]; ok && j != i {
				t.Errorf("chains %d and %d have the same key", i, j)
			}
			seen[k] = i
		}
	}
}
