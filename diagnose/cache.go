package diagnose

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"runtime"
	"sync"
	"time"
)

// ChainCache remembers the chains that verified, so that a capture with
// many connections to one server pays for the signature checks once
// (about 0.25 ms per ECDSA P-256 signature here), and the chains that did
// not, with what the search for their trusted root found. Verdicts are the
// same with or without it. It is safe for concurrent use and bounded: when
// full it starts over. Entries are keyed by the trust store's pointer: do
// not add certificates to a pool once it is in use with a cache.
type ChainCache struct {
	mu  sync.Mutex
	max int
	ok  map[chainKey]validWindow
	// failed remembers chains that did not verify, by the dates that
	// decide it (see failKeyOf).
	failed map[failKey]failure
	// roots indexes each trust store's roots by subject.
	roots map[*x509.CertPool]*rootIndex
	// sigs remembers signature checks, which do not depend on the time
	// and cost as much on chains that fail: by certificate, which the
	// analysis shares between connections whose chains are the same.
	sigs map[[2]*x509.Certificate]bool
	// names remembers whether a leaf covers a name, by certificate (shared
	// like sigs) and name: what VerifyHostname says does not depend on
	// the time either.
	names map[leafName]bool
	// digests remembers the digest of short chains (keyOf), by their
	// certificates, which the analysis shares between connections whose
	// chains are the same: hashing the chain again for every connection
	// was a percent of a run on a capture of short connections. A key
	// keeps its certificates alive, so their addresses are not reused.
	digests map[chainCerts][sha256.Size]byte
}

// chainCerts is a chain of at most len(certs) certificates, by pointer.
type chainCerts struct {
	certs [4]*x509.Certificate
	n     int
}

type leafName struct {
	leaf *x509.Certificate
	name string
}

// NewChainCache returns a cache of at most max chains; max ≤ 0 means 4096.
func NewChainCache(max int) *ChainCache {
	if max <= 0 {
		max = 4096
	}
	return &ChainCache{max: max, ok: map[chainKey]validWindow{}, sigs: map[[2]*x509.Certificate]bool{}, names: map[leafName]bool{},
		failed: map[failKey]failure{}, roots: map[*x509.CertPool]*rootIndex{}, digests: map[chainCerts][sha256.Size]byte{}}
}

// signedBy is the package's signedBy, remembered. A nil cache only checks.
func (cc *ChainCache) signedBy(child, parent *x509.Certificate) bool {
	if cc == nil {
		return signedBy(child, parent)
	}
	return remembered(cc, cc.sigs, [2]*x509.Certificate{child, parent}, func() bool { return signedBy(child, parent) })
}

// coversName reports whether leaf.VerifyHostname(name) succeeds,
// remembered. A nil cache only checks.
func (cc *ChainCache) coversName(leaf *x509.Certificate, name string) bool {
	if cc == nil {
		return leaf.VerifyHostname(name) == nil
	}
	return remembered(cc, cc.names, leafName{leaf, name}, func() bool { return leaf.VerifyHostname(name) == nil })
}

// remembered returns what m, one of cc's maps, holds for k, or check's
// answer, then kept (m is emptied when it holds cc.max). The check runs
// without the lock: two goroutines may both make it.
func remembered[K comparable](cc *ChainCache, m map[K]bool, k K, check func() bool) bool {
	cc.mu.Lock()
	ok, known := m[k]
	cc.mu.Unlock()
	if known {
		return ok
	}
	ok = check()
	cc.mu.Lock()
	if len(m) >= cc.max {
		clear(m)
	}
	m[k] = ok
	cc.mu.Unlock()
	return ok
}

// chainKey identifies a chain as sent and the trust store it was judged
// against.
type chainKey struct {
	digest [sha256.Size]byte
	roots  *x509.CertPool
}

// validWindow is the period in which every certificate of a verified
// path is within its validity dates: crypto/x509's only use of the time,
// so the chain verifies at any instant inside it.
type validWindow struct{ from, until time.Time }

func keyOf(chain []*x509.Certificate, roots *x509.CertPool) chainKey {
	h := sha256.New()
	var n [4]byte
	for _, c := range chain {
		var raw []byte
		if c != nil {
			raw = c.Raw
		}
		binary.BigEndian.PutUint32(n[:], uint32(len(raw)))
		h.Write(n[:])
		h.Write(raw)
	}
	k := chainKey{roots: roots}
	h.Sum(k.digest[:0])
	return k
}

// keyOf returns keyOf(chain, roots), with the digest of a short chain
// remembered.
func (cc *ChainCache) keyOf(chain []*x509.Certificate, roots *x509.CertPool) chainKey {
	var cs chainCerts
	if len(chain) > len(cs.certs) {
		return keyOf(chain, roots)
	}
	cs.n = copy(cs.certs[:], chain)
	cc.mu.Lock()
	d, ok := cc.digests[cs]
	cc.mu.Unlock()
	if ok {
		return chainKey{digest: d, roots: roots}
	}
	k := keyOf(chain, roots)
	cc.mu.Lock()
	if len(cc.digests) >= cc.max {
		clear(cc.digests)
	}
	cc.digests[cs] = k.digest
	cc.mu.Unlock()
	return k
}

// verified reports whether the chain is known to verify at t.
func (cc *ChainCache) verified(k chainKey, t time.Time) bool {
	if cc == nil {
		return false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	w, ok := cc.ok[k]
	return ok && !t.Before(w.from) && !t.After(w.until)
}

// remember records that the chain verified along path.
func (cc *ChainCache) remember(k chainKey, path []*x509.Certificate) {
	if cc == nil || len(path) == 0 {
		return
	}
	w := validWindow{from: path[0].NotBefore, until: path[0].NotAfter}
	for _, c := range path[1:] {
		if c.NotBefore.After(w.from) {
			w.from = c.NotBefore
		}
		if c.NotAfter.Before(w.until) {
			w.until = c.NotAfter
		}
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.ok) >= cc.max {
		clear(cc.ok)
	}
	cc.ok[k] = w
	cc.learnRoot(k.roots, path[len(path)-1])
}

// A failed verification is remembered by what decides it. crypto/x509
// uses the time only to ask of each certificate it considers whether the
// time is before, inside or after its validity period, and it considers
// the certificates sent and the roots whose subject is the issuer of one
// of them (CertPool finds parents by name). A chain that failed at one time
// fails at every time that gives each of those certificates the same
// answer, and the search for its root (checker.anchor) finds the same.
// So the key is the chain, the trust store, and those answers: exact,
// not a bucket of time that a certificate might expire inside.
//
// The roots with a given subject are counted once per trust store
// (CertPool.Subjects) and learned from the chains that verify. When a
// subject has several roots, or one not met yet, the chain is not cached.
// Where the system verifier decides (macOS, iOS, Windows), nothing is.

// failKey identifies a failed chain and the answers that decided it.
type failKey struct {
	chain chainKey
	dates string // per certificate considered: '<' before, '=' inside, '>' after its validity
}

// failure is what checkChain found for a failed chain, besides the
// verification error (recomputed when needed: its text has the time).
type failure struct {
	anchor    *x509.Certificate
	anchorErr error
}

// rootIndex is what a cache knows of a trust store's roots.
type rootIndex struct {
	count map[string]int               // roots per raw subject
	known map[string]*x509.Certificate // the root of a subject that has one, once met
}

// systemVerifier: the platforms whose system roots crypto/x509 leaves to
// the operating system's verifier, whose use of the time is its own.
var systemVerifier = runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "windows"

// index returns the roots of pool by subject. cc.mu is held.
func (cc *ChainCache) index(pool *x509.CertPool) *rootIndex {
	if idx := cc.roots[pool]; idx != nil {
		return idx
	}
	idx := &rootIndex{count: map[string]int{}, known: map[string]*x509.Certificate{}}
	// Deprecated only for the system verifier's pools, not used here.
	for _, s := range pool.Subjects() { //nolint:staticcheck
		idx.count[string(s)]++
	}
	if len(cc.roots) >= 16 {
		clear(cc.roots)
	}
	cc.roots[pool] = idx
	return idx
}

// learnRoot notes r, the end of a verified path, as its subject's root
// when the trust store has no other of that subject. cc.mu is held.
func (cc *ChainCache) learnRoot(pool *x509.CertPool, r *x509.Certificate) {
	if pool == nil || systemVerifier {
		return
	}
	idx := cc.index(pool)
	if idx.count[string(r.RawSubject)] == 1 {
		idx.known[string(r.RawSubject)] = r
	}
}

// learnAnchor is learnRoot for the root checker.anchor found.
func (cc *ChainCache) learnAnchor(pool *x509.CertPool, r *x509.Certificate) {
	if cc == nil || r == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.learnRoot(pool, r)
}

// failKeyOf returns the key of chain failing at t, or false when its
// roots are not all known. cc.mu is held.
func (cc *ChainCache) failKeyOf(k chainKey, chain []*x509.Certificate, t time.Time) (failKey, bool) {
	if k.roots == nil || systemVerifier {
		return failKey{}, false // nil: the system roots, not indexed
	}
	idx := cc.index(k.roots)
	dates := make([]byte, 0, 2*len(chain))
	for _, c := range chain {
		if c == nil {
			dates = append(dates, '-')
			continue
		}
		dates = append(dates, dateAnswer(c, t))
	}
	for _, c := range chain {
		if c == nil {
			continue
		}
		switch idx.count[string(c.RawIssuer)] {
		case 0:
			dates = append(dates, '.')
		case 1:
			r := idx.known[string(c.RawIssuer)]
			if r == nil {
				return failKey{}, false
			}
			dates = append(dates, dateAnswer(r, t))
		default:
			return failKey{}, false
		}
	}
	return failKey{chain: k, dates: string(dates)}, true
}

// dateAnswer is what crypto/x509 finds of c's dates at t.
func dateAnswer(c *x509.Certificate, t time.Time) byte {
	switch {
	case t.Before(c.NotBefore):
		return '<'
	case t.After(c.NotAfter):
		return '>'
	}
	return '='
}

// failed returns what checkChain found for the chain failing at t, if it
// failed before at a time with the same answers.
func (cc *ChainCache) failedAt(k chainKey, chain []*x509.Certificate, t time.Time) (failure, bool) {
	if cc == nil {
		return failure{}, false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	fk, ok := cc.failKeyOf(k, chain, t)
	if !ok {
		return failure{}, false
	}
	f, ok := cc.failed[fk]
	return f, ok
}

// rememberFailure records that the chain failed at t and what its root
// search found.
func (cc *ChainCache) rememberFailure(k chainKey, chain []*x509.Certificate, t time.Time, f failure) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	fk, ok := cc.failKeyOf(k, chain, t)
	if !ok {
		return
	}
	if len(cc.failed) >= cc.max {
		clear(cc.failed)
	}
	cc.failed[fk] = f
}
