package diagnose

// A reset that the server did not send: its IP TTL says it came from
// another distance than the server's own packets.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/capture"
)

var _ = registerPathRule(MiddleboxReset, (*diagnosis).middleboxReset)

// middleboxReset recognises a RST whose hop distance differs from that of
// the packets its sender's address sent when the connection opened (the
// SYN-ACK for a reset "from the server", the SYN for one "from the
// client"). One host's packets to one place keep their distance for the
// life of a connection; a firewall, IPS or content filter that forges a
// reset in the server's name sits at another.
func (d *diagnosis) middleboxReset() (Verdict, bool) {
	p, t := d.c.Path, &d.c.TCP
	if t.RST.Number == 0 || p.RST.Frame.Number != t.RST.Number || p.RST.IP.TTL == 0 {
		return Verdict{}, false
	}
	ref, refName := p.SYNACK, "SYN-ACK"
	if t.RSTFrom == client {
		ref, refName = p.SYN, "SYN"
	}
	if ref.Frame.Number == 0 || ref.IP.TTL == 0 || ref.IP.V6 != p.RST.IP.V6 {
		return Verdict{}, false
	}
	_, rstHops := hopsAway(p.RST.IP.TTL)
	_, refHops := hopsAway(ref.IP.TTL)
	if rstHops == refHops {
		return Verdict{}, false
	}
	where := fmt.Sprintf("%s closer to the capture than the %s", hopText(refHops-rstHops), t.RSTFrom)
	if rstHops > refHops {
		where = fmt.Sprintf("%s farther from the capture than the %s", hopText(rstHops-refHops), t.RSTFrom)
	}
	after, at := d.lastMessageBefore(t.RST.Number)
	what := after
	if at.Number == d.helloFrame.Number && d.hello != nil && d.hello.ServerName != "" {
		what = fmt.Sprintf("%s for '%s'", after, d.hello.ServerName)
	}
	summary := fmt.Sprintf("a device on the path reset the connection, not the %s: the RST in the %s's name (%s) came %s after %s (%s) with %s, while the %s's %s (%s) has %s: it was sent by a device %s "+
		"(likely: one host's packets keep their hop distance for the life of a connection; less likely, a route change in the middle of the handshake, or a %s stack that resets with another initial TTL than it answers with)",
		t.RSTFrom, t.RSTFrom, frameRef(t.RST.Number), wait(t.RST.Time.Sub(at.Time)), what, frameRef(at.Number), ttlText(p.RST),
		t.RSTFrom, refName, frameRef(ref.Frame.Number), ttlText(ref), where, t.RSTFrom)
	return verdict(MiddleboxReset, summary, middleboxResetFix(d, at), ref.Frame, at, t.RST), true
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
