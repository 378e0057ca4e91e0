package analysis

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"

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
	known := func(raw []byte) bool {
		return bytes.Equal(raw, leaf.RawIssuer) || slices.ContainsFunc(seen, func(b []byte) bool { return bytes.Equal(b, raw) })
	}
	for _, o := range s.chains[name] {
		if len(out) < maxOtherChains && !known(o.rawIssuer) {
			seen = append(seen, o.rawIssuer)
			out = append(out, o.other)
		}
	}
	if len(out) == maxOtherChains {
		c.OtherChains = out
		return
	}
	// Of the waiting connections for the name, the first to be emitted
	// of each other issuer, in the order they will be.
	var firsts []*Connection
	for _, h := range s.waitingChains[name] {
		if t := h.first(); !known(t.Certificates[0].X509.RawIssuer) {
			firsts = append(firsts, t)
		}
	}
	sortConns(firsts)
	for _, t := range firsts[:min(len(firsts), maxOtherChains-len(out))] {
		out = append(out, chainFor(t).other)
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
	// Copies: the SNI points into its ClientHello and the issuer into
	// the leaf's DER, which they would otherwise keep alive until the
	// capture's end.
	if !ok {
		name = strings.Clone(name)
	}
	kept := chainFor(c)
	kept.rawIssuer = bytes.Clone(kept.rawIssuer)
	s.chains[name] = append(cs, kept)
}
