package diagnose

// Connection attempts answered by an ICMP error instead of a SYN-ACK: a
// firewall's REJECT rule (port unreachable, administratively prohibited),
// a router without a route to the server (network or host unreachable), a
// routing loop (time exceeded). A Linux or macOS client gives up at once,
// with an error that often misleads: firewalld's REJECT reads "no route to
// host" though the route is fine.

import (
	"fmt"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// HostUnreachable: an ICMP error said the server cannot be reached
const HostUnreachable Category = "host_unreachable"

var hostUnreachableCategory = categorySpec{
	name:      HostUnreachable,
	meaning:   "the SYN was answered by an ICMP error from a router: no route to the server's network (network unreachable), no answer from the server's address on its own link (host unreachable), or a routing loop (time exceeded); or, once the server had accepted the connection, such errors answered one side's packets (a route lost mid-connection), which never got through: the client times out",
	serverFix: "— (the network's: the server's address, its routes)",
	// A route lost after the TCP handshake leaves the client waiting:
	// Linux TCP keeps the ICMP as a soft error.
	clientClasses: []string{"host_unreachable", "network_unreachable", "timeout"},
	rule:          (*diagnosis).icmpUnreachable,
}

// synRejection returns the first ICMP error about the client's packets of
// a connection the server never accepted, other than "fragmentation
// needed", which does not end a connection attempt.
func (d *diagnosis) synRejection() (analysis.ICMPReport, bool) {
	t, p := &d.c.TCP, d.c.Path
	if p == nil || len(p.ICMP) == 0 || t.SYN.Number == 0 || t.SYNACK.Number != 0 || d.c.ClientHello != nil {
		return analysis.ICMPReport{}, false
	}
	for _, r := range p.ICMP {
		if r.About == client && r.Meaning() != capture.ICMPTooBig {
			return r, true
		}
	}
	return analysis.ICMPReport{}, false
}

// fromServer reports whether the server's own address sent the error: the
// server's host, not a router, rejected the connection.
func (d *diagnosis) fromServer(r analysis.ICMPReport) bool {
	return r.From == d.c.Server.Addr()
}

// icmpRefused is connection_refused's rule for a refusal by ICMP: a REJECT
// rule's port unreachable or administratively prohibited, or a host
// unreachable the server's own address sent (REJECT --reject-with
// icmp-host-unreachable).
func (d *diagnosis) icmpRefused() (Verdict, bool) {
	r, ok := d.synRejection()
	if !ok {
		return Verdict{}, false
	}
	m := r.Meaning()
	if m != capture.ICMPPortUnreachable && m != capture.ICMPProhibited && !(m == capture.ICMPHostUnreachable && d.fromServer(r)) {
		return Verdict{}, false
	}
	c := d.c
	port := c.Server.Port()
	var summary, fix string
	if d.fromServer(r) {
		summary = fmt.Sprintf("a firewall on the server's host rejected the SYN (%s) with ICMP %q (%s), sent from the server's own address: it rejects TCP port %d (a REJECT rule: %s); a port with no listener answers with a reset, not with ICMP, so whether a server listens behind the rule is not known; %s",
			frameRef(c.TCP.SYN.Number), r.String(), frameRef(r.Frame.Number), port, rejectRuleText(r), d.synErrorText(r))
		fix = fmt.Sprintf("open TCP port %d in the firewall of %s: firewalld: `firewall-cmd --permanent --add-port=%d/tcp && firewall-cmd --reload`; ufw: `ufw allow %d/tcp`; iptables/nftables: accept the port before the REJECT rule (`iptables -I INPUT -p tcp --dport %d -j ACCEPT`); if the port is closed on purpose, the client has the wrong port",
			port, c.Server.Addr(), port, port, port)
	} else {
		summary = fmt.Sprintf("a firewall or router on the way rejected the SYN (%s) with ICMP %q (%s) from %s: it rejects TCP port %d to %s (likely a REJECT rule or access list at %s; less likely, the server's own firewall answering from another of its addresses); %s",
			frameRef(c.TCP.SYN.Number), r.String(), frameRef(r.Frame.Number), d.icmpSender(r), port, c.Server.Addr(), r.From, d.synErrorText(r))
		fix = fmt.Sprintf("the network refuses the client's traffic to %s: have the administrator of the firewall at %s allow TCP port %d to %s from the client's network, or connect from a network it allows",
			c.Server, r.From, port, c.Server.Addr())
	}
	return d.withRetry(verdict(ConnectionRefused, summary, fix, c.TCP.SYN, r.Frame), r, true), true
}

// icmpUnreachable is host_unreachable's rule: a router said it cannot
// reach the server.
func (d *diagnosis) icmpUnreachable() (Verdict, bool) {
	r, ok := d.synRejection()
	if !ok {
		return Verdict{}, false
	}
	c := d.c
	head := fmt.Sprintf("%s answered the SYN (%s) with ICMP %q (%s, %s after the SYN)", d.icmpSender(r), frameRef(c.TCP.SYN.Number), r.String(), frameRef(r.Frame.Number), d.waitFrom(c.TCP.SYN, r.Frame))
	var why, fix string
	switch r.Meaning() {
	case capture.ICMPHostUnreachable:
		why = fmt.Sprintf("the last router could not reach %s on its own link: no host answered its ARP or neighbour discovery for that address, which a Linux router tries for about 3 s (likely: the server is down or moved to another address, or the client connects to a wrong address; less likely, a route or firewall that rejects with host unreachable)", c.Server.Addr())
		fix = fmt.Sprintf("check that %s is the server's current address (the DNS answer, the client's configuration) and that the server is up and on its network", c.Server.Addr())
	case capture.ICMPNetUnreachable:
		why = fmt.Sprintf("%s has no route to %s's network (likely: a missing or withdrawn route, a VPN or tunnel that is down; less likely, a wrong address or an unreachable route set on purpose)", r.From, c.Server.Addr())
		fix = fmt.Sprintf("check the route to %s at %s (and the VPN or tunnel that should carry it), and that %s is the right address", c.Server.Addr(), r.From, c.Server.Addr())
	case capture.ICMPTimeExceeded:
		why = fmt.Sprintf("the SYN's TTL ran out at %s before it reached %s (likely: a routing loop between routers on the path; less likely, a client that sets a very low TTL)", r.From, c.Server.Addr())
		fix = fmt.Sprintf("look for a routing loop toward %s at and after %s (traceroute -T -p %d %s shows the hops repeat)", c.Server.Addr(), r.From, c.Server.Port(), c.Server.Addr())
	case capture.ICMPPortUnreachable, capture.ICMPProhibited:
		return Verdict{}, false // a refusal: connection_refused
	default:
		why = fmt.Sprintf("a device on the path could not deliver it (%s)", r.String())
		fix = fmt.Sprintf("check the path to %s at %s", c.Server.Addr(), r.From)
	}
	summary := fmt.Sprintf("%s: %s; %s", head, why, d.synErrorText(r))
	return d.withRetry(verdict(HostUnreachable, summary, fix, c.TCP.SYN, r.Frame), r, false), true
}

// withRetry tells, in a warning, that a later attempt from the same client
// to the same server got through after the ICMP error r (refused: r was a
// refusal, not a missing route): the rejection did not last, so the fix
// that makes the server reachable is for when it recurs. Linux gives up a
// connect on an ICMP error in SYN_SENT, so the later attempt is a new
// connection, the program's retry or the user's; the capture shows it
// when the rejected attempt sent no SYN after the error.
func (d *diagnosis) withRetry(v Verdict, r analysis.ICMPReport, refused bool) Verdict {
	c := d.c
	rt := c.Path.Retry
	if rt == nil {
		return v
	}
	from := "from another source port"
	if rt.Client == c.Client {
		from = "from the same source port"
	}
	gaveUp := ""
	if c.TCP.SYNCount == 1 {
		gaveUp = "; the first attempt sent no SYN after the error, so the client had given up on it, as Linux does on an ICMP error while connecting: the later one is the program's or the user's retry"
	}
	outcome := "and its TLS handshake completed"
	if !rt.Established {
		outcome = "though its TLS handshake did not complete"
	}
	what := "rejection"
	if !refused {
		what = "error"
	}
	why := "Likely: a rule that rejects only some connections (a rate or connection limit ending in REJECT: iptables -m limit, hashlimit, connlimit or recent; fail2ban), or a firewall change between the two attempts; possible: several hosts behind the address (a load balancer, anycast), of which one rejects"
	if !refused {
		why = "Likely: the route or the host came back between the two attempts (a flapping route, a VPN or tunnel that reconnected, a server that came up); possible: several paths to the server (ECMP, a load balancer), of which one is broken"
	}
	v.Warnings = append(v.Warnings, fmt.Sprintf("the %s did not last: a later connection from the client to %s, %s (frame %d, %s after the ICMP error), was accepted (SYN-ACK) %s%s. %s",
		what, c.Server, from, rt.First.Number, d.waitFrom(r.Frame, rt.First), outcome, gaveUp, why))
	v.Fix = fmt.Sprintf("if the %s recurs (the client's later attempt, frame %d, got through): %s", what, rt.First.Number, v.Fix)
	v.Evidence = append(v.Evidence, rt.First.Number)
	return v
}

// icmpSender names the sender of an ICMP error and, by its TTL, how far
// from the capture point it is.
func (d *diagnosis) icmpSender(r analysis.ICMPReport) string {
	if d.fromServer(r) {
		return fmt.Sprintf("%s, the server's own address,", r.From)
	}
	if _, hops := hopsAway(r.IP.TTL); hops > 0 {
		return fmt.Sprintf("%s (%s beyond the capture point's link, by its TTL)", r.From, prose.Count(hops, "router"))
	}
	return fmt.Sprintf("%s (on the capture point's link, by its TTL)", r.From)
}

// rejectRuleText names the REJECT option (iptables, nftables) that sends
// the ICMP error.
func rejectRuleText(r analysis.ICMPReport) string {
	switch {
	case r.Meaning() == capture.ICMPPortUnreachable:
		return "port unreachable is iptables' default REJECT answer"
	case r.Meaning() == capture.ICMPHostUnreachable:
		return "`--reject-with icmp-host-unreachable`"
	case r.V6:
		return "`--reject-with icmp6-adm-prohibited`, as firewalld rejects over IPv6"
	case r.Code == 10: // host administratively prohibited
		return "`--reject-with icmp-host-prohibited`, firewalld's default for a port it does not open"
	case r.Code == 9: // network administratively prohibited
		return "`--reject-with icmp-net-prohibited`"
	}
	return "`--reject-with icmp-admin-prohibited`"
}

// clientErrorText says what error a Linux client reports for the ICMP
// error while connecting (the kernel's mapping of ICMP codes to errno).
func clientErrorText(r analysis.ICMPReport) string {
	errno := linuxErrno(r)
	return fmt.Sprintf("a Linux client gives up when the error arrives, with %q (Go: \"connect: %s\"; curl: \"Couldn't connect to server\")", errno, errno)
}

// synResentAfter is the least time between an ICMP error and the next
// one that answers a SYN sent after it: Linux's shortest retransmission
// timeout.
const synResentAfter = 200 * time.Millisecond

// synErrorText is clientErrorText for d's connection, whose SYN got the
// ICMP error r: when the client sent the SYN again after it and got the
// error again, its system did not give up at the first error, and the
// text says so (Linux keeps an error as a soft one when it arrives while
// the connecting program still holds the socket, as a rejection from a
// near host can).
func (d *diagnosis) synErrorText(r analysis.ICMPReport) string {
	var again analysis.ICMPReport
	for _, e := range d.c.Path.ICMP {
		// A router that gave up on the server's address answers every
		// SYN it queued at once; an error for a SYN sent after the
		// first error comes a retransmission timeout later (200 ms
		// at least on Linux).
		if e.About == client && e.Frame.Number > r.Frame.Number && e.Meaning() == r.Meaning() && e.Frame.Time.Sub(r.Frame.Time) >= synResentAfter {
			again = e
			break
		}
	}
	if again.Frame.Number == 0 || d.c.TCP.SYNCount < 2 {
		return clientErrorText(r)
	}
	errno := linuxErrno(r)
	return fmt.Sprintf("here the client's system did not give up at the error: it sent the SYN again and got the error again (%s, %s after the first), and its program gets the error only when the system gives up, with %q (Go: \"connect: %s\"; curl: \"Couldn't connect to server\")",
		frameRef(again.Frame.Number), d.waitFrom(r.Frame, again.Frame), errno, errno)
}

// linuxErrno is the error Linux TCP reports for an ICMP error (the
// kernel's mapping of ICMP codes to errno): at once while connecting, or
// when TCP gives up on an open connection.
func linuxErrno(r analysis.ICMPReport) string {
	switch r.Meaning() {
	case capture.ICMPPortUnreachable:
		return "connection refused"
	case capture.ICMPNetUnreachable:
		return "network is unreachable"
	case capture.ICMPProhibited:
		switch {
		case r.V6:
			return "permission denied"
		case r.Code == 9: // network administratively prohibited
			return "network is unreachable"
		}
	}
	return "no route to host"
}
