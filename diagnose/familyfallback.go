package diagnose

// A connection attempt whose SYN got no SYN-ACK, and the client's attempt
// to the same port over the other IP family (analysis.Connection's
// OtherFamily): a host whose name has IPv6 and IPv4 addresses, one of
// which is broken. When the other family's handshake completed, the
// request got through; what failed is one family's path, which costs each
// new connection the client's fallback delay (Happy Eyeballs, RFC 8305).

import (
	"fmt"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// family names the IP version of an address.
func family(a analysis.Fallback) string {
	if a.Server.Addr().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// otherFamily completes v, the verdict of a connection whose SYN got no
// SYN-ACK, with the client's attempt over the other IP family: the
// fallback that reached the server (the request went through, one
// family's path is broken), or one that failed too (both families fail).
func (d *diagnosis) otherFamily(v *Verdict) {
	c := d.c
	o := c.OtherFamily
	if o == nil || c.TCP.SYNACK.Number != 0 || c.ClientHello != nil {
		return
	}
	switch v.Category {
	case NoTCPAnswer, ConnectionRefused, HostUnreachable:
	default:
		return
	}
	this := family(analysis.Fallback{Server: c.Server})
	other := family(o.Fallback)
	head, rest, _ := strings.Cut(v.Summary, ": ")
	v.Evidence = append(v.Evidence, o.First.Number)
	if !o.Later {
		v.Summary = fmt.Sprintf("%s, after the client's attempt over %s had failed too (%s to %s, %s earlier): %s. The client tried both families of the server's addresses and reached it over neither",
			head, other, frameRef(o.First.Number), o.Server, d.waitFrom(o.First, c.TCP.SYN), rest)
		return
	}
	wait := d.waitFrom(c.TCP.SYN, o.First)
	if !o.Established {
		what := "which failed too"
		if o.Accepted {
			what = "which the server accepted, but whose TLS handshake did not complete (see that connection)"
		}
		v.Summary = fmt.Sprintf("%s, and the client then tried %s (%s to %s, %s after this SYN), %s: %s. The client tried both families of the server's addresses",
			head, other, frameRef(o.First.Number), o.Server, wait, what, rest)
		return
	}
	name := ""
	if o.Name != "" {
		name = " for '" + o.Name + "'"
	}
	cost := fmt.Sprintf("that wait (here %s)", wait)
	if o.Shared {
		// An earlier attempt fell back to the same connection: this one
		// is a further connection the client opened (a browser's spare).
		cost = "the client's fallback delay (see the earlier attempt that fell back to the same connection)"
	}
	v.Summary = fmt.Sprintf("%s, and the client fell back to %s, where its TLS handshake completed%s (%s to %s, %s after this SYN): %s. Likely: the same client giving up on %s for the name's %s address (Happy Eyeballs, RFC 8305: curl waits 200 ms for the first family, Node.js 250 ms, Go and Chromium 300 ms; Python's urllib3 and others that try the addresses in turn wait until the connect fails or times out): the request went through and the server answers over %s; what failed is the %s path, which costs each new connection %s. The two attempts are tied by the port, the families and the timing: the capture does not show that both addresses are one host's",
		head, other, name, frameRef(o.First.Number), o.Server, wait, rest, this, other, other, this, cost)
	record := "AAAA"
	skip := "curl: --ipv4 (or a shorter --happy-eyeballs-timeout-ms); Go: a net.Dialer with a shorter FallbackDelay, or the network \"tcp4\"; Node.js: family: 4, or a shorter autoSelectFamilyAttemptTimeout"
	if this == "IPv4" {
		record = "A"
		skip = "curl: --ipv6 (or a shorter --happy-eyeballs-timeout-ms); Go: a net.Dialer with a shorter FallbackDelay, or the network \"tcp6\"; Node.js: family: 6, or a shorter autoSelectFamilyAttemptTimeout"
	}
	fix := v.Fix
	switch {
	case v.Category == ConnectionRefused && d.c.TCP.RST.Number != 0 && this == "IPv6":
		fix = d.serverSide(fmt.Sprintf("make the server listen on IPv6 too, on port %d (the settings below show port 443), or open the port to IPv6 in its firewall", c.Server.Port()), ChangeListenIPv6)
	case v.Category == ConnectionRefused && d.c.TCP.RST.Number != 0:
		fix = fmt.Sprintf("make the server listen on IPv4 too (nginx: `listen 0.0.0.0:%d ssl;` beside the IPv6 `listen`), or open the port to IPv4 in its firewall", c.Server.Port())
	case v.Category == NoTCPAnswer:
		tables := "ip6tables"
		if this == "IPv4" {
			tables = "iptables"
		}
		fix = fmt.Sprintf("let %s to %s port %d through (the firewall or security group that drops it: %s/nftables, a cloud rule for %s) and check the %s route to it",
			this, c.Server.Addr(), c.Server.Port(), tables, this, this)
	}
	v.Fix = fmt.Sprintf("the server is reachable over %s; fix %s to it: %s; or, if the server is not meant to serve %s, remove the name's %s record. Until then each new connection waits for the %s attempt; on the client, to skip it: %s",
		other, this, fix, this, record, this, skip)
}
