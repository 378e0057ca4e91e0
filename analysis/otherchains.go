package analysis

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/tlsdiag/tlsdiag/capture"
)

// OtherChain is another connection of the capture that asked for the same
// name (SNI), completed its handshake, and got a leaf certificate from
// another issuer: beside a connection whose chain the client refused, it
// shows what the server sends for that name when nothing on the path
// re-signs it.
type OtherChain struct {
	Server           netip.AddrPort
	First            capture.Frame
	CertificateFrame capture.Frame
	// Issuer is the other leaf's issuer as X.509 prints it.
	Issuer string
}

// maxOtherChains bounds Connection.OtherChains and the issuers the
// sequencer remembers per name; maxChainNames the names it remembers.
const (
	maxOtherChains = 2
	maxChainNames  = 1 << 14
)

// wantsOtherChains reports whether c is a named TLS connection whose
// chain was visible and whose handshake did not complete. The sequencer
// does not hold it back for connections still to come (a refused chain is
// common, and holding it would hold every later record, on standard input
// until its end): it links those emitted before it and those waiting.
func wantsOtherChains(c *Connection) bool {
	return !c.Established && len(c.Certificates) > 0 && c.Certificates[0].X509 != nil &&
		c.ClientHello != nil && c.ClientHello.ServerName != ""
}

// chainOf is what the sequencer remembers of a completed connection's
// leaf.
type chainOf struct {
	rawIssuer []byte
	other     OtherChain
}

// linkOtherChains fills c.OtherChains from the completed connections for
// the same name already emitted and those waiting to be whose leaf has
// another issuer. The sequencer's lock is held.
func (s *sequencer) linkOtherChains(c *Connection) {
	name, leaf := c.ClientHello.ServerName, c.Certificates[0].X509
	var out []OtherChain
	var seen [][]byte
	add := func(o chainOf) {
		if len(out) < maxOtherChains && !bytes.Equal(o.rawIssuer, leaf.RawIssuer) &&
			!slices.ContainsFunc(seen, func(b []byte) bool { return bytes.Equal(b, o.rawIssuer) }) {
			seen = append(seen, o.rawIssuer)
			out = append(out, o.other)
		}
	}
	for _, o := range s.chains[name] {
		add(o)
	}
	waiting := s.waiting(c, func(t *Connection) bool {
		return completedChain(t) && t.ClientHello.ServerName == name
	})
	for _, t := range waiting {
		add(chainFor(t))
	}
	c.OtherChains = out
}

func completedChain(c *Connection) bool {
	return c.Established && len(c.Certificates) > 0 && c.Certificates[0].X509 != nil &&
		c.ClientHello != nil && c.ClientHello.ServerName != ""
}

func chainFor(c *Connection) chainOf {
	leaf := c.Certificates[0].X509
	return chainOf{rawIssuer: leaf.RawIssuer, other: OtherChain{Server: c.Server, First: c.First, CertificateFrame: c.CertificateFrame, Issuer: leaf.Issuer.String()}}
}

// noteChain remembers an emitted connection whose handshake completed
// with a visible chain under a name: the first leaf of each issuer.
func (s *sequencer) noteChain(c *Connection) {
	if !completedChain(c) {
		return
	}
	name := c.ClientHello.ServerName
	cs, ok := s.chains[name]
	raw := c.Certificates[0].X509.RawIssuer
	if !ok && len(s.chains) >= maxChainNames || len(cs) >= maxOtherChains+1 ||
		slices.ContainsFunc(cs, func(o chainOf) bool { return bytes.Equal(o.rawIssuer, raw) }) {
		return
	}
	if s.chains == nil {
		s.chains = map[string][]chainOf{}
	}
	s.chains[name] = append(cs, chainFor(c))
}
