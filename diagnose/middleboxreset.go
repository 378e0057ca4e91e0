package diagnose

// A reset that the server did not send: its IP TTL says it came from
// another distance than the server's own packets, or it came sooner after
// the ClientHello than the server could have answered.

import (
	"fmt"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// MiddleboxReset: a device on the path, not the peer, reset the
// connection (the RST's hop distance differs from the peer's).
const MiddleboxReset Category = "middlebox_reset"

var middleboxResetCategory = categorySpec{
	name:          MiddleboxReset,
	meaning:       "a device on the path reset the connection, not the peer in whose name the RST came: its IP TTL (hop limit) puts it at another hop distance than that peer's own SYN-ACK (or SYN), or it came after the ClientHello sooner than the server could have answered; says how many hops closer or farther, how soon, and after what (the ClientHello for which name)",
	serverFix:     "— (the firewall's policy; see below)",
	clientClasses: []string{"connection_reset"},
}

var _ = registerPathRule(MiddleboxReset, (*diagnosis).middleboxReset)

// middleboxReset recognises a RST that its sender's address did not send,
// by either of two facts. Its hop distance differs from that of the
// packets the same address sent when the connection opened (the SYN-ACK
// for a reset "from the server", the SYN for one "from the client"): one
// host's packets to one place keep their distance for the life of a
// connection. Or, for a reset in the server's name, it came after the
// ClientHello in less than a third of the round trip the SYN and SYN-ACK
// took: nothing the server sends in answer can come sooner than one round
// trip, so the sender sits between the capture and the server. A
// firewall, IPS or content filter that forges a reset shows one or both;
// one that copies the server's TTL shows the second only.
func (d *diagnosis) middleboxReset() (Verdict, bool) {
	p, t := d.c.Path, &d.c.TCP
	if t.RST.Number == 0 || p.RST.Frame.Number != t.RST.Number {
		return Verdict{}, false
	}
	ref, refName := p.SYNACK, "SYN-ACK"
	if t.RSTFrom == client {
		ref, refName = p.SYN, "SYN"
	}
	distance := resetDistance(p.RST, ref, refName, t.RSTFrom)
	_, rtt, timed := d.resetTooSoon()
	if distance == "" && !timed {
		return Verdict{}, false
	}
	after, at := d.lastMessageBefore(t.RST.Number)
	what := after
	if at.Number == d.helloFrame.Number && d.hello != nil && d.hello.ServerName != "" {
		what = fmt.Sprintf("%s for '%s'", after, d.hello.ServerName)
	}
	var facts []string
	if distance != "" {
		facts = append(facts, distance)
	}
	if timed {
		facts = append(facts, fmt.Sprintf("that is less than a third of the %s the server took to answer the SYN (%s, SYN-ACK %s): nothing the server sends in answer can arrive sooner than one round trip, so a device at most a third of the way to the server sent it",
			wait(rtt), frameRef(t.SYN.Number), frameRef(t.SYNACK.Number)))
	}
	summary := fmt.Sprintf("a device on the path reset the connection, not the %s: the RST in the %s's name (%s) came %s after %s (%s); %s",
		t.RSTFrom, t.RSTFrom, frameRef(t.RST.Number), d.waitFrom(at, t.RST), what, frameRef(at.Number), strings.Join(facts, "; and "))
	switch {
	case distance != "" && timed:
		summary += " (likely: two independent facts agree; less likely, a route change in the middle of the handshake together with a SYN-ACK delayed three times over)"
	case distance != "":
		summary += fmt.Sprintf(" (likely: one host's packets keep their hop distance for the life of a connection; less likely, a route change in the middle of the handshake, or a %s stack that resets with another initial TTL than it answers with)", t.RSTFrom)
	default:
		summary += fmt.Sprintf(" — its TTL fits the server's (%s), as a device that copies the server's TTL makes it (likely: a reset faster than the round trip cannot be the server's; less likely, a SYN-ACK delayed three times over its path's round trip, by a loaded link or server, so that the round trip measured is too long)", ttlText(p.RST))
	}
	frames := []capture.Frame{ref.Frame, at, t.RST}
	if timed {
		frames = append(frames, t.SYN, t.SYNACK)
	}
	if others, otherFrames := d.otherNames(); others != "" {
		summary += "; " + others
		frames = append(frames, otherFrames...)
	}
	return verdict(MiddleboxReset, summary, middleboxResetFix(d, at), frames...), true
}

// resetDistance describes how the RST's hop distance differs from that of
// ref, the packet its sender's address sent when the connection opened;
// "" when they agree or cannot be compared.
func resetDistance(rst, ref analysis.Packet, refName string, from capture.Direction) string {
	if rst.IP.TTL == 0 || ref.Frame.Number == 0 || ref.IP.TTL == 0 || ref.IP.V6 != rst.IP.V6 {
		return ""
	}
	_, rstHops := hopsAway(rst.IP.TTL)
	_, refHops := hopsAway(ref.IP.TTL)
	if rstHops == refHops {
		return ""
	}
	where := fmt.Sprintf("%s closer to the capture than the %s", hopText(refHops-rstHops), from)
	if rstHops > refHops {
		where = fmt.Sprintf("%s farther from the capture than the %s", hopText(rstHops-refHops), from)
	}
	return fmt.Sprintf("it has %s, while the %s's %s (%s) has %s: it was sent by a device %s",
		ttlText(rst), from, refName, frameRef(ref.Frame.Number), ttlText(ref), where)
}

// minRoundTrip is the shortest SYN to SYN-ACK time the timing of a reset
// is judged by: below it (a LAN, a capture beside the server) the round
// trip is too short to tell a device on the way from the server, and the
// jitter of a busy host or capture is of its order.
const minRoundTrip = 10 * time.Millisecond

// roundTrip is the connection's round trip, SYN to SYN-ACK, when it had
// one SYN (a SYN sent again makes its SYN-ACK's delay no round trip): the
// one measure of it the rules that judge by timing share.
func roundTrip(t *analysis.TCPFacts) (time.Duration, bool) {
	if t.SYNCount != 1 || t.SYN.Number == 0 || t.SYNACK.Number == 0 {
		return 0, false
	}
	return t.SYNACK.Time.Sub(t.SYN.Time), true
}

// resetTooSoon reports whether a RST in the server's name came after the
// ClientHello, with nothing from the server before it, in less than a
// third of the round trip the connection's one SYN and its SYN-ACK
// measured at the capture.
func (d *diagnosis) resetTooSoon() (soon, rtt time.Duration, ok bool) {
	c, t := d.c, &d.c.TCP
	rtt, measured := roundTrip(t)
	if t.RSTFrom != server || !measured || c.ServerSide.Bytes > 0 ||
		d.helloFrame.Number == 0 || d.helloFrame.Number > t.RST.Number {
		return 0, 0, false
	}
	soon = t.RST.Time.Sub(d.helloFrame.Time)
	if rtt < minRoundTrip || soon < 0 || soon*3 >= rtt {
		return 0, 0, false
	}
	return soon, rtt, true
}

// middleboxResetFix says what to ask of whoever runs the path, by what the
// device reset after.
func middleboxResetFix(d *diagnosis, at capture.Frame) string {
	c := d.c
	device := "a firewall, IPS or content filter between the client and the server"
	switch {
	case at.Number == d.helloFrame.Number && d.hello != nil && d.hello.ServerName != "":
		return fmt.Sprintf("%s blocks this connection, most likely by the name '%s' in the ClientHello (SNI filtering): have its TLS/URL-filtering policy allow '%s' to %s; the server never refused it, so nothing changes on the server", device, d.hello.ServerName, d.hello.ServerName, c.Server)
	case at.Number == d.helloFrame.Number:
		return fmt.Sprintf("%s blocks the ClientHello (without SNI: a filter that requires a name, or blocks the client's TLS version or fingerprint): have its policy allow TLS to %s", device, c.Server)
	case at.Number != 0 && at.Number >= c.ServerHelloFrame.Number && c.ServerHelloFrame.Number != 0:
		return fmt.Sprintf("%s reset the connection after reading the server's handshake (an inspection policy on the certificate or the negotiated parameters): look at that device's logs and policy for %s", device, c.Server)
	}
	return fmt.Sprintf("%s reset the connection: look at that device's logs and policy for %s", device, c.Server)
}
