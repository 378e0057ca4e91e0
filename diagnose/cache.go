package diagnose

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// ChainCache remembers the chains that verified, so that a capture with
// many connections to one server pays for the signature checks once
// (about 0.25 ms per ECDSA P-256 signature here). Verdicts are the same
// with or without it. It is safe for concurrent use and bounded: when
// full it starts over. Entries are keyed by the trust store's pointer: do
// not add certificates to a pool once it is in use with a cache.
type ChainCache struct {
	mu  sync.Mutex
	max int
	ok  map[chainKey]validWindow
	// sigs remembers signature checks, which do not depend on the time
	// and cost as much on chains that fail: by certificate, which the
	// analysis shares between connections whose chains are the same.
	sigs map[[2]*x509.Certificate]bool
}

// NewChainCache returns a cache of at most max chains; max ≤ 0 means 4096.
func NewChainCache(max int) *ChainCache {
	if max <= 0 {
		max = 4096
	}
	return &ChainCache{max: max, ok: map[chainKey]validWindow{}, sigs: map[[2]*x509.Certificate]bool{}}
}

// signedBy is the package's signedBy, remembered. A nil cache only checks.
func (cc *ChainCache) signedBy(child, parent *x509.Certificate) bool {
	if cc == nil {
		return signedBy(child, parent)
	}
	k := [2]*x509.Certificate{child, parent}
	cc.mu.Lock()
	ok, known := cc.sigs[k]
	cc.mu.Unlock()
	if known {
		return ok
	}
	ok = signedBy(child, parent)
	cc.mu.Lock()
	if len(cc.sigs) >= cc.max {
		clear(cc.sigs)
	}
	cc.sigs[k] = ok
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
}
