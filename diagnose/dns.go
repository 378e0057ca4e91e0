package diagnose

// DNS in the capture: a lookup that got no address (the record of a failed
// lookup), and the answer that sent a connection to a server serving other
// names.

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/dnsparse"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// DNSFailure: a lookup of a name got NXDOMAIN, SERVFAIL, REFUSED or no
// answer, and no successful lookup or connection for the name followed.
// Its record is the lookup, not a connection.
const DNSFailure Category = "dns_failure"

var dnsFailureCategory = categorySpec{
	name:      DNSFailure,
	meaning:   "a DNS lookup in the capture (UDP or TCP port 53) got NXDOMAIN, SERVFAIL or REFUSED, or no answer, for a name that no successful lookup or connection followed (see \"DNS in the capture\"); the record is the lookup, not a connection",
	serverFix: "— (the name's DNS record, or the resolver)",
	unprobed:  "the probe's capture holds its TLS connection only: a failed lookup is read from captures that hold the client's DNS",
	rule:      (*diagnosis).dnsVerdict,
}

// dnsVerdict explains the record of a failed lookup. An error code is the
// resolver's own word, so the verdict is certain of what happened; why
// the resolver said it (a typo, a missing record, a broken delegation)
// is for the fix to list. No answer at all is the likelier reading of a
// dead or filtered resolver, but a capture that missed the answers looks
// the same.
func (d *diagnosis) dnsVerdict() (Verdict, bool) {
	f := d.c.DNSFailure
	if f == nil {
		return Verdict{}, false
	}
	c := d.c
	resolver := c.Server.Addr().String()
	over := ""
	if f.TCP {
		over = " over TCP"
	}
	asked := fmt.Sprintf("the client asked the resolver %s%s for '%s' (%s; %s)", resolver, over, f.Name, list(names(f.Types), 4), frameList("query", f.Queries))
	after := "and no connection to the name followed"
	answers := frameList("answer", f.Answers)
	if len(f.OtherRCodes) > 0 {
		answers += "; also " + list(names(f.OtherRCodes), 4)
	}
	var summary, fix string
	switch {
	case !f.Answered && f.Unreachable != nil:
		return d.dnsUnreachable(asked, resolver), true
	case !f.Answered && d.captureEnd().Time.Sub(c.First.Time) < minSilence:
		// An answer takes milliseconds, a retry a second or more: a
		// capture that ended sooner after the first query holds no sign
		// either way.
		summary = fmt.Sprintf("%s and the capture ended %s after the first query, before an answer could be expected: whether the resolver answered is not in the capture",
			asked, d.waitFrom(c.First, d.captureEnd()))
		fix = "capture longer, until the lookup is answered or the client gives up (an answer takes up to a few hundred milliseconds; clients ask again after 1 to 5 s)"
		return verdict(IncompleteCapture, summary, fix, f.Queries...), true
	case !f.Answered:
		summary = fmt.Sprintf("%s and the capture shows no answer, %s: the resolver is most likely down or unreachable, or a firewall drops DNS to it (less likely, the capture missed its answers)", asked, after)
		fix = fmt.Sprintf("make the name server reachable from the client on port 53 (UDP and TCP; check that it runs and that no firewall drops DNS between them), or configure a resolver that answers (resolv.conf, DHCP)")
	case f.RCode == dnsparse.RCodeNXDomain:
		summary = fmt.Sprintf("%s and it answered NXDOMAIN (%s), %s: the name does not exist in DNS, so the client had no address to connect to", asked, answers, after)
		fix = fmt.Sprintf("check the name '%s' for a typo; if it is right, create its A/AAAA record in the zone on its authoritative name server (or, for an internal name, check that the client uses the resolver and search domain that know it)", f.Name)
	case f.RCode == dnsparse.RCodeServFail:
		summary = fmt.Sprintf("%s and it answered SERVFAIL (%s), %s: the resolver could not get an answer for the name from its authoritative name servers (unreachable or lame servers, or a DNSSEC validation failure)", asked, answers, after)
		fix = fmt.Sprintf("check the authoritative name servers of '%s' (dig +trace %s) and its DNSSEC signatures (an answer with dig +cd but not without is a validation failure); meanwhile a resolver that can reach them", f.Name, f.Name)
	default: // REFUSED
		summary = fmt.Sprintf("%s and it answered REFUSED (%s), %s: the resolver does not serve this client or this name (its access list, or it does not recurse)", asked, answers, after)
		fix = fmt.Sprintf("point the client at a name server that resolves '%s' for it (resolv.conf, DHCP), or allow the client's network (recursion) on the name server %s", f.Name, resolver)
	}
	frames := append(append([]capture.Frame{}, f.Queries...), f.Answers...)
	return verdict(DNSFailure, summary, fix, frames...), true
}

// frameList names frames in a summary: "query frame 3", "query frames 3,
// 5, 9".
func frameList(what string, fs []capture.Frame) string {
	ns := make([]string, len(fs))
	for i, f := range fs {
		ns[i] = fmt.Sprint(f.Number)
	}
	return what + " " + prose.Plural(len(fs), "frame", "frames") + " " + list(ns, 6)
}

// dnsSentHere returns the connection's DNS answer when it was for the
// name the client asked the server for (SNI).
func (d *diagnosis) dnsSentHere() *analysis.DNSAnswer {
	a := d.c.DNS
	if a == nil || d.hello == nil || !strings.EqualFold(strings.TrimSuffix(a.Name, "."), strings.TrimSuffix(d.hello.ServerName, ".")) {
		return nil
	}
	return a
}

// dnsMismatchText is the DNS reading of a certificate for other names:
// the name's DNS answer sent the client to this server.
func (d *diagnosis) dnsMismatchText() string {
	a := d.dnsSentHere()
	if a == nil {
		return ""
	}
	return fmt.Sprintf("DNS sends %s to %s (answer in frame %d), which serves a certificate for %s: either the DNS record points at the wrong server, or that server has no configuration for the name and fell back to its default certificate",
		a.Name, d.c.Server.Addr(), a.AnswerFrame.Number, leafNames(d.chain[0]))
}

// dnsEvidence adds the DNS answer's frames to a host-name mismatch that
// cites it.
func (d *diagnosis) dnsEvidence(v *Verdict) {
	if v.Category != CertHostnameMismatch || !d.defaultCertificate() {
		return
	}
	if a := d.dnsSentHere(); a != nil {
		v.Evidence = append(v.Evidence, a.QueryFrame.Number, a.AnswerFrame.Number)
	}
}

// leafNames names the hosts a leaf certificate is for: its DNS names (the
// subject's common name when it has none), at most three.
func leafNames(leaf *x509.Certificate) string {
	names := leaf.DNSNames
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = []string{leaf.Subject.CommonName}
	}
	return list(names, 3)
}

// dnsUnreachable: the lookup's queries got an ICMP error instead of an
// answer. From the resolver's own address, port unreachable means nothing
// listens on its DNS port (a REJECT rule answers alike, less often); from
// a router, that the resolver cannot be reached.
func (d *diagnosis) dnsUnreachable(asked, resolver string) Verdict {
	c, f := d.c, d.c.DNSFailure
	r := *f.Unreachable
	port := c.Server.Port()
	icmp := fmt.Sprintf("ICMP %q (%s)", r.String(), frameRef(r.Frame.Number))
	var summary, fix string
	switch {
	case r.From == c.Server.Addr() && r.Meaning() == capture.ICMPPortUnreachable:
		summary = fmt.Sprintf("%s, and its host answered with %s: nothing listens on UDP port %d there (likely: the resolver's service is not running or listens on another address; less likely, a REJECT rule for DNS)", asked, icmp, port)
		fix = fmt.Sprintf("start the DNS service on %s (or make it listen on that address), or point the client at a resolver that runs (resolv.conf, DHCP)", resolver)
	case r.From == c.Server.Addr():
		summary = fmt.Sprintf("%s, and its host rejected the query with %s: a firewall on it rejects DNS from the client", asked, icmp)
		fix = fmt.Sprintf("allow DNS (UDP and TCP port %d) from the client's network in the firewall of %s, or use a resolver that serves the client", port, resolver)
	default:
		summary = fmt.Sprintf("%s, and %s answered with %s: the resolver cannot be reached from the client (%s)", asked, r.From, icmp, icmpReason(r))
		fix = fmt.Sprintf("make %s reachable from the client (the route or firewall at %s), or configure a resolver the client can reach (resolv.conf, DHCP)", resolver, r.From)
	}
	frames := append(append([]capture.Frame{}, f.Queries...), r.Frame)
	return verdict(DNSFailure, summary, fix, frames...)
}

// icmpReason says in a few words what an ICMP error from a router means.
func icmpReason(r analysis.ICMPReport) string {
	switch r.Meaning() {
	case capture.ICMPNetUnreachable:
		return "the router has no route to its network"
	case capture.ICMPHostUnreachable:
		return "no host answers for its address on its link"
	case capture.ICMPProhibited, capture.ICMPPortUnreachable:
		return "a firewall on the way rejects the traffic"
	case capture.ICMPTimeExceeded:
		return "a routing loop: the query's TTL ran out"
	}
	return r.String()
}
