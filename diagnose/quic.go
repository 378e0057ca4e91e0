package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/quic"
)

// UDPBlocked: the client's QUIC Initials got no answer: UDP to the server's port is dropped
const UDPBlocked Category = "udp_blocked"

var udpBlockedCategory = categorySpec{
	name:      UDPBlocked,
	meaning:   "QUIC: the client's Initials, sent again and again, got no answer: UDP to the server's port is most likely dropped (or nothing listens); or they got an ICMP error, which says which: port unreachable from the server's host (nothing listens on the UDP port), a firewall's or a router's rejection; when the client then reached the same server over TCP, the summary says so, how long after its first Initial, and whether that handshake completed",
	serverFix: "—",
	unprobed:  "the probe speaks TLS over TCP: a QUIC attempt is read from captures only",
}

// quicVersion is the QUIC version the connection ended up with: the last
// its client used.
func quicVersion(c *analysis.Connection) string {
	q := c.QUIC
	if n := len(q.Versions); n > 0 {
		return q.Versions[n-1].String()
	}
	return q.Version.String()
}

// quicVerdict explains what only QUIC shows: a Version Negotiation the
// client could not follow, Initials that got no answer, a transport error
// that closed the connection. The TLS-level causes (alerts, certificates,
// ALPN) are the common rules' business: a crypto error is an alert.
func (d *diagnosis) quicVerdict() (Verdict, bool) {
	c := d.c
	if !c.IsQUIC() {
		return Verdict{}, false
	}
	q := c.QUIC
	switch {
	case q.VersionNegotiation != nil && c.ServerHello == nil:
		return d.quicNoCommonVersion(), true
	case q.Datagrams[server] == 0 && q.Datagrams[client] >= 2:
		return d.udpBlocked(), true
	case !q.Version.Known() && c.ClientHello == nil && c.ServerHello == nil:
		return d.quicUnreadable(), true
	}
	if cl, ok := quicTransportClose(c); ok {
		return d.quicTransportError(cl), true
	}
	return Verdict{}, false
}

// quicNoCommonVersion: the server answered the client's version with a
// Version Negotiation packet (RFC 9000, Section 6) and no handshake
// followed.
func (d *diagnosis) quicNoCommonVersion() Verdict {
	c := d.c
	q := c.QUIC
	vn := q.VersionNegotiation
	var listed []string
	for _, v := range vn.Versions {
		if !v.Known() && v.String()[0] == 'g' {
			continue // the server's GREASE entry (RFC 9000, Section 15)
		}
		listed = append(listed, v.String())
	}
	offered := q.Version.String()
	later := ""
	if n := len(q.Versions); n > 1 {
		later = fmt.Sprintf(", then tried %s", q.Versions[n-1])
	}
	summary := fmt.Sprintf("the server does not speak the client's QUIC version %s: its Version Negotiation (frame %d) lists %s, none of which the client went on with%s",
		offered, vn.Frame.Number, strings.Join(listed, ", "), later)
	fix := fmt.Sprintf("enable one of the server's QUIC versions (%s) in the client, or QUIC %s on the server", strings.Join(listed, ", "), offered)
	return verdict(VersionMismatch, summary, fix, c.First, vn.Frame)
}

// udpBlocked: the client sent Initials, retransmitted them, and nothing
// came back. On the wire a firewall that drops UDP, a server with nothing
// listening on the port (its ICMP port unreachable is not read) and a
// path that loses every datagram look alike; the first is the common one.
func (d *diagnosis) udpBlocked() Verdict {
	c := d.c
	q := c.QUIC
	port := c.Server.Port()
	summary := fmt.Sprintf("the client sent %s to UDP port %d (frames %d–%d, over %s) and got no answer: UDP to the server's port is most likely blocked (or nothing listens there)",
		prose.Count(q.Datagrams[client], "QUIC Initial datagram"), port, c.First.Number, c.Last.Number, d.waitFrom(c.First, c.Last))
	evidence := []capture.Frame{c.First, c.Last}
	fix := fmt.Sprintf("allow UDP port %d to %s in the firewalls on the path (or start the QUIC listener); clients that fall back to TCP only lose time", port, c.Server.Addr())
	if u := q.Unreachable; u != nil {
		summary, fix = d.quicUnreachable(*u)
		evidence = append(evidence, u.Frame)
	}
	if fb := q.Fallback; fb != nil {
		outcome := "its handshake there did not complete"
		if fb.Established {
			outcome = "its handshake there completed"
		}
		summary += fmt.Sprintf("; the client fell back to TCP (frame %d, %s after its first Initial): %s", fb.First.Number, d.waitFrom(c.First, fb.First), outcome)
		evidence = append(evidence, fb.First)
	}
	return verdict(UDPBlocked, summary, fix, evidence...)
}

// quicUnreachable says what an ICMP error about the client's Initials
// tells: from the server's own address, port unreachable means nothing
// listens on the UDP port (a REJECT rule answers alike, less often);
// otherwise a firewall or router on the way refuses or cannot deliver.
func (d *diagnosis) quicUnreachable(u analysis.ICMPReport) (summary, fix string) {
	c, q := d.c, d.c.QUIC
	port := c.Server.Port()
	sent := fmt.Sprintf("the client sent %s to UDP port %d (frames %d–%d, over %s)",
		prose.Count(q.Datagrams[client], "QUIC Initial datagram"), port, c.First.Number, c.Last.Number, d.waitFrom(c.First, c.Last))
	icmp := fmt.Sprintf("ICMP %q (%s)", u.String(), frameRef(u.Frame.Number))
	switch {
	case u.From == c.Server.Addr() && u.Meaning() == capture.ICMPPortUnreachable:
		return fmt.Sprintf("%s and the server's host answered with %s: nothing listens on UDP port %d there (likely: the server has no QUIC (HTTP/3) listener; less likely, a firewall's REJECT of UDP)", sent, icmp, port),
			fmt.Sprintf("start the QUIC listener on UDP port %d (nginx: `listen %d quic;`), or stop advertising HTTP/3 (the Alt-Svc header, the DNS HTTPS record) while it is not served; clients that fall back to TCP only lose time", port, port)
	case u.From == c.Server.Addr():
		return fmt.Sprintf("%s and the server's host rejected them with %s: a firewall on it rejects UDP port %d", sent, icmp, port),
			fmt.Sprintf("allow UDP port %d in the firewall of %s (firewalld: `firewall-cmd --permanent --add-port=%d/udp`); clients that fall back to TCP only lose time", port, c.Server.Addr(), port)
	}
	return fmt.Sprintf("%s and %s answered with %s: a firewall or router on the way does not let UDP port %d through to %s", sent, u.From, icmp, port, c.Server.Addr()),
		fmt.Sprintf("allow UDP port %d to %s at %s; clients that fall back to TCP only lose time", port, c.Server.Addr(), u.From)
}

// quicUnreadable: the client speaks a QUIC version whose packets cannot
// be decrypted here, and no Version Negotiation moved it to one that can.
// The handshake is in the capture but cannot be read: the connection is
// not judged.
func (d *diagnosis) quicUnreadable() Verdict {
	c := d.c
	v := c.QUIC.Version
	what := fmt.Sprintf("QUIC version %s, whose packets tlsdiag cannot decrypt (it reads v1, v2 and draft-29)", v)
	if v.Google() {
		what = fmt.Sprintf("Google QUIC (gQUIC, version %s), which came before RFC 9000 and whose handshake tlsdiag cannot read", v)
	}
	summary := fmt.Sprintf("the client speaks %s (frame %d): the handshake is in the capture, but nothing in it can be judged", what, c.First.Number)
	verd := verdict(IncompleteCapture, summary,
		"to diagnose this server, make the client use QUIC v1 or TCP (in Chrome, chrome://flags#enable-quic off, or --disable-quic) and capture again",
		c.First)
	verd.NotJudged = true
	return verd
}

// quicTransportClose returns the first CONNECTION_CLOSE that carries a
// transport error (not a TLS alert, not NO_ERROR, not the application's)
// before the handshake completed.
func quicTransportClose(c *analysis.Connection) (quic.Close, bool) {
	for _, cl := range c.QUIC.Closes {
		if cl.Application || cl.ErrorCode == 0 {
			continue
		}
		if _, tls := quic.CryptoAlert(cl.ErrorCode); tls {
			continue
		}
		if c.HandshakeDone.Number != 0 && cl.Frame.Number > c.HandshakeDone.Number {
			continue
		}
		return cl, true
	}
	return quic.Close{}, false
}

func (d *diagnosis) quicTransportError(cl quic.Close) Verdict {
	reason := ""
	if cl.Reason != "" {
		reason = fmt.Sprintf(" (reason %q)", cl.Reason)
	}
	summary := fmt.Sprintf("the %s closed the QUIC connection with transport error %s%s (frame %d, in a%s %s packet) before the handshake completed",
		cl.Dir, cl.ErrorName(), reason, cl.Frame.Number, anIf(cl.Level.String()), cl.Level)
	fix := "see the " + cl.Dir.String() + "'s log for why it closed; the error code names the QUIC rule it saw broken (RFC 9000, Section 20)"
	return verdict(HandshakeFailure, summary, fix, d.helloFrame, cl.Frame)
}

func anIf(word string) string {
	if word != "" && slices.Contains([]byte("aeiou"), word[0]) {
		return "n"
	}
	return ""
}

// quicWarnings says what of a QUIC connection was not read: handshake
// bytes cut by the memory bounds, packets that would not decode.
func (d *diagnosis) quicWarnings() []string {
	c := d.c
	if !c.IsQUIC() {
		return nil
	}
	var w []string
	if n := c.QUIC.CryptoCut; n > 0 {
		w = append(w, fmt.Sprintf("%s of the QUIC handshake were not read: the memory bounds on CRYPTO reassembly were hit (crypto_cut)", prose.Count(n, "byte")))
	}
	if len(c.QUIC.Errors) > 0 {
		e := c.QUIC.Errors[0]
		w = append(w, fmt.Sprintf("%s of the QUIC connection did not decode, the first in frame %d: %v", prose.Count(len(c.QUIC.Errors), "packet"), e.Frame.Number, e.Err))
	}
	return w
}
