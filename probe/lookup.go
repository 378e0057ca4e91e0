package probe

// What the lookup of the target's name adds to a failure: the probe knows
// the address it dialed came from the resolver, the wire does not. A
// certificate for unrelated names from such an address may be another
// machine's as much as the right machine's default one; a refusal at
// addresses of one family may be a server listening on the other family
// only.

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/diagnose"
)

// hostsFile is where the system resolver looks names up before DNS
// (nsswitch.conf's "files").
const hostsFile = "/etc/hosts"

// Lookup is a lookup of the target's name by the resolver.
type Lookup struct {
	Name string
	// Addrs are the addresses it returned, IPv4 first.
	Addrs []netip.Addr
	// System is set when the system resolver answered (Config.Resolver
	// was nil).
	System bool
	// Hosts are the addresses the hosts file lists for the name (only
	// read for the system resolver); none when it lists none.
	Hosts []netip.Addr
}

// newLookup records the lookup of name; for the system resolver it reads
// the hosts file, to say whether the answer came from it.
func newLookup(name string, addrs []netip.Addr, system bool) *Lookup {
	l := &Lookup{Name: name, Addrs: addrs, System: system}
	if !system {
		return l
	}
	if f, err := os.Open(hostsFile); err == nil {
		l.Hosts = hostsAddrs(f, name)
		f.Close()
	}
	return l
}

// hostsAddrs returns the addresses a hosts file lists for name
// (hosts(5): an address, then names; '#' starts a comment).
func hostsAddrs(r io.Reader, name string) []netip.Addr {
	name = strings.TrimSuffix(name, ".")
	var addrs []netip.Addr
	s := bufio.NewScanner(r)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		if slices.ContainsFunc(f[1:], func(n string) bool { return strings.EqualFold(strings.TrimSuffix(n, "."), name) }) {
			addrs = append(addrs, a.WithZone("").Unmap())
		}
	}
	return addrs
}

// source says where the lookup's answer came from: "by the system
// resolver, from /etc/hosts".
func (l *Lookup) source() string {
	switch {
	case !l.System:
		return "by the configured resolver"
	case len(l.Hosts) == 0:
		return "by the system resolver (DNS: " + hostsFile + " does not list the name)"
	case !slices.ContainsFunc(l.Addrs, func(a netip.Addr) bool { return !slices.Contains(l.Hosts, a) }):
		return "by the system resolver, from " + hostsFile
	}
	return "by the system resolver"
}

// addLookup adds to the correlation of a failure what the lookup of the
// target's name tells: that the name may point at the wrong machine, or
// at addresses of the family the server does not listen on.
func (c *Correlation) addLookup(t Target, o *Outcome, w *Wire, names Names) {
	if o.Lookup == nil || o.Err == nil || o.Proxy != "" || !o.Remote.IsValid() {
		return
	}
	switch o.Class {
	case CertHostnameMismatch:
		c.otherMachine(t, o, w, names)
	case ConnectionRefused, ConnectTimeout:
		c.oneFamily(t, o, names)
	}
}

// otherMachine: the certificate is for other names, and a lookup chose
// the address. When its names share nothing with the name asked for, the
// name pointing at another machine (a stale record) is as likely as the
// machine's default certificate, and cheaper to check: it comes first.
// When they share the domain (a wildcard for a sibling), the certificate
// is this server's and lacks the name: the lookup is a note.
func (c *Correlation) otherMachine(t Target, o *Outcome, w *Wire, names Names) {
	l := o.Lookup
	if len(o.PeerCertificates) == 0 || !strings.EqualFold(strings.TrimSuffix(o.ServerName, "."), strings.TrimSuffix(l.Name, ".")) {
		return
	}
	leaf, addr := o.PeerCertificates[0], o.Remote.Addr()
	resolved := fmt.Sprintf("%s resolved to %s %s", l.Name, addrList(l.Addrs), l.source())
	check := fmt.Sprintf("check that %s should resolve to %s: compare with the address that serves it (%s %s:%d:ADDR tests another address)",
		l.Name, addr, names.of(SettingResolve), l.Name, t.Port)
	if !diagnose.UnrelatedNames(leaf, o.ServerName) {
		c.Notes = append(c.Notes, fmt.Sprintf("%s; if %s is not the machine meant to serve it, %s", resolved, addr, check))
		return
	}
	c.Cause = fmt.Sprintf("the server at %s sent a certificate for %s, whose names share nothing with '%s', and %s. Two readings: "+
		"1. the name points at another machine than the one meant to serve it (a stale DNS record or %s entry, a wrong CNAME, split-horizon DNS giving this client another answer); "+
		"2. %s is the right machine, but no server block is configured for '%s', so it fell back to its default certificate",
		addr, certNames(leaf.DNSNames, leaf.Subject.CommonName), o.ServerName, resolved, hostsFile, addr, o.ServerName)
	server := fmt.Sprintf("configure '%s' on the server at %s with its own certificate", o.ServerName, addr)
	if w.Result != nil && w.Result.Verdict.Category == diagnose.CertHostnameMismatch {
		server += " (the wire's fix says how, per server)"
	}
	c.Fix = "1. " + check + "; 2. if it should, " + server
}

// oneFamily: every address tried is of one family because the lookup
// gave no other, so a server listening on the other family only looks
// like no server at all.
func (c *Correlation) oneFamily(t Target, o *Outcome, names Names) {
	l := o.Lookup
	v6 := o.Remote.Addr().Is6()
	if slices.ContainsFunc(l.Addrs, func(a netip.Addr) bool { return a.Is6() != v6 }) {
		return
	}
	port := o.Remote.Port()
	if !v6 {
		// Most names have no AAAA record and most servers listen on
		// IPv4: the other reading is worth a note, no more.
		c.Notes = append(c.Notes, fmt.Sprintf("%s resolved to IPv4 addresses only (%s) %s: if the server runs, it may listen on IPv6 only (nginx: `listen [::]:%d ssl;` without `listen %d ssl;`; Go: \"tcp6\"), or the name lacks its AAAA record",
			l.Name, addrList(l.Addrs), l.source(), port, port))
		return
	}
	first := "nothing listens on " + portText(port)
	if o.Class == ConnectTimeout {
		first = "the host is down or a firewall drops the traffic"
	}
	c.Cause += fmt.Sprintf("; %s resolved to IPv6 addresses only (%s) %s, so no IPv4 address was tried: either %s, or the server listens on IPv4 only, or the name lacks its A record",
		l.Name, addrList(l.Addrs), l.source(), first)
	c.Fix += fmt.Sprintf("; if the server runs, it may listen on IPv4 only: make it listen on IPv6 too (nginx: `listen [::]:%d ssl;`; Go: listen on \"tcp\", not \"tcp4\"), or give %s its A record (%s %s:%d:IPV4ADDR tests the IPv4 address)",
		port, l.Name, names.of(SettingResolve), l.Name, t.Port)
}

// addrList names addresses in a sentence, at most four.
func addrList(addrs []netip.Addr) string {
	s := make([]string, 0, min(len(addrs), 4))
	for _, a := range addrs[:min(len(addrs), 4)] {
		s = append(s, a.String())
	}
	if len(addrs) > 4 {
		s = append(s, fmt.Sprintf("and %d more", len(addrs)-4))
	}
	return strings.Join(s, ", ")
}

// certNames names the hosts a certificate is for: its DNS names, or its
// subject's common name when it has none; at most three.
func certNames(dnsNames []string, cn string) string {
	if len(dnsNames) == 0 {
		return cn
	}
	s := slices.Clone(dnsNames[:min(len(dnsNames), 3)])
	if len(dnsNames) > 3 {
		s = append(s, fmt.Sprintf("and %d more", len(dnsNames)-3))
	}
	return strings.Join(s, ", ")
}
