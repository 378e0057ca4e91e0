package analysis

import (
	"net/netip"
	"strings"

	"github.com/tlsdiag/tlsdiag/capture"
)

// OtherName is a connection to the same server host under another name
// (SNI) whose handshake completed: beside a connection whose ClientHello
// was dropped or reset on the way, it shows that the path lets the host
// through and singles out the name.
type OtherName struct {
	Name   string
	Server netip.AddrPort
	First  capture.Frame
}

// maxOtherNames bounds Connection.OtherNames and what the sequencer
// remembers per server host.
const maxOtherNames = 3

// maxNamedHosts bounds the server hosts the sequencer remembers names of.
const maxNamedHosts = 1 << 14

// awaitsOtherNames reports whether c is a TLS connection whose
// ClientHello, with a name, got nothing back from the server while the
// path facts say something happened to it (a reset, a retransmission, a
// gap), and whose verdict names other names (Options.NamesOtherNames):
// the sequencer holds it until the capture is over, so that every other
// connection to the same host is known when it is emitted.
func (s *sequencer) awaitsOtherNames(c *Connection) bool {
	return !c.IsQUIC() && c.Path != nil && !c.Established && c.ServerSide.Bytes == 0 &&
		c.ClientHello != nil && c.ClientHello.ServerName != "" &&
		(s.namesOthers == nil || s.namesOthers(c))
}

// linkOtherNames fills c.OtherNames from the connections already emitted
// and those waiting to be, in first-frame order: those emitted first,
// then the waiting ones. The sequencer's lock is held.
func (s *sequencer) linkOtherNames(c *Connection) {
	name := c.ClientHello.ServerName
	var out []OtherName
	add := func(o OtherName) {
		if len(out) < maxOtherNames && o.Name != name && !containsName(out, o.Name) {
			out = append(out, o)
		}
	}
	for _, o := range s.named[c.Server.Addr()] {
		add(o)
	}
	// Of the waiting connections to the host, the first of each other
	// name, in the order they will be emitted.
	var firsts []*Connection
	for n, h := range s.waitingNames[c.Server.Addr()] {
		if n != name {
			firsts = append(firsts, h.first())
		}
	}
	sortConns(firsts)
	for _, t := range firsts {
		add(OtherName{Name: t.ClientHello.ServerName, Server: t.Server, First: t.First})
	}
	c.OtherNames = out
}

// namedWaiting reports whether c, waiting to be emitted, is one
// linkOtherNames looks for: its handshake completed after a ClientHello.
func namedWaiting(c *Connection) bool {
	return c.Established && c.ClientHello != nil
}

// noteName remembers an emitted connection whose handshake completed
// under a name.
func (s *sequencer) noteName(c *Connection) {
	if c.IsQUIC() || !c.Established || c.ClientHello == nil || c.ClientHello.ServerName == "" {
		return
	}
	addr := c.Server.Addr()
	names, ok := s.named[addr]
	if !ok && len(s.named) >= maxNamedHosts || len(names) >= maxOtherNames+1 || containsName(names, c.ClientHello.ServerName) {
		return
	}
	if s.named == nil {
		s.named = map[netip.Addr][]OtherName{}
	}
	// A copy: the SNI points into its ClientHello, which the name would
	// otherwise keep alive until the capture's end.
	s.named[addr] = append(names, OtherName{Name: strings.Clone(c.ClientHello.ServerName), Server: c.Server, First: c.First})
}

func containsName(os []OtherName, name string) bool {
	for _, o := range os {
		if o.Name == name {
			return true
		}
	}
	return false
}
