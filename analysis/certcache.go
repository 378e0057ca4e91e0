package analysis

import (
	"bytes"
	"crypto/x509"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// certCache parses each distinct certificate once per Builder. A capture
// of many connections to the same servers carries the same chains over and
// over: parsing them again (some 20 µs a certificate) and keeping a parsed
// copy per connection (a few KiB each) were the Builder's largest costs on
// captures of short connections. Connections share the cached DER and
// *x509.Certificate, which nothing modifies.
//
// It also keeps, by the bytes of the server's Certificate message, the
// chain made of them: the connections that got the same message share
// one slice, which nothing modifies either (its capacity is its length),
// and the message is neither parsed again nor each certificate looked up.
type certCache struct {
	m map[string]Certificate
	// chains are by TLS 1.3 or not (the message's layout) and then by
	// message.
	chains [2]map[string][]Certificate
	size   int // approximate bytes held
}

// maxCertCache bounds the cache; when full it starts over.
const maxCertCache = 8 << 20

// parsedSize approximates what a parsed certificate holds besides its DER.
const parsedSize = 2 << 10

func (cc *certCache) get(der []byte) Certificate {
	if c, ok := cc.m[string(der)]; ok {
		return c
	}
	own := bytes.Clone(der)
	x, err := x509.ParseCertificate(own)
	c := Certificate{DER: own, X509: x, ParseError: err}
	n := 2*len(own) + parsedSize
	cc.makeRoom(n)
	cc.m[string(own)] = c
	cc.size += n
	return c
}

// makeRoom empties the cache when n more bytes would not fit.
func (cc *certCache) makeRoom(n int) {
	if cc.m == nil || cc.size+n > maxCertCache {
		cc.m, cc.chains, cc.size = make(map[string]Certificate), [2]map[string][]Certificate{}, 0
	}
}

func layout(v tlsparse.Version) int {
	if v.IsTLS13() {
		return 1
	}
	return 0
}

// chain returns the chain kept for the server's Certificate message msg
// of version v's layout, if any.
func (cc *certCache) chain(msg []byte, v tlsparse.Version) ([]Certificate, bool) {
	chain, ok := cc.chains[layout(v)][string(msg)]
	return chain, ok
}

// keepChain keeps chain, made of the server's Certificate message msg.
func (cc *certCache) keepChain(msg []byte, v tlsparse.Version, chain []Certificate) {
	n := len(msg) + 64*len(chain)
	cc.makeRoom(n)
	l := layout(v)
	if cc.chains[l] == nil {
		cc.chains[l] = make(map[string][]Certificate)
	}
	cc.chains[l][string(msg)] = chain[:len(chain):len(chain)]
	cc.size += n
}
