package analysis

import (
	"bytes"
	"crypto/x509"
)

// certCache parses each distinct certificate once per Builder. A capture
// of many connections to the same servers carries the same chains over and
// over: parsing them again (some 20 µs a certificate) and keeping a parsed
// copy per connection (a few KiB each) were the Builder's largest costs on
// captures of short connections. Connections share the cached DER and
// *x509.Certificate, which nothing modifies.
type certCache struct {
	m    map[string]Certificate
	size int // approximate bytes held
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
	if cc.m == nil || cc.size+n > maxCertCache {
		cc.m, cc.size = make(map[string]Certificate), 0
	}
	cc.m[string(own)] = c
	cc.size += n
	return c
}
