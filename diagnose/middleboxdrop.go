package diagnose

// A ClientHello that never reached the server: the TCP handshake worked,
// the hello was sent again and again, and the server's TCP stack — which
// acknowledges whatever arrives, busy application or not — never
// acknowledged a byte of it.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// MiddleboxDrop: the ClientHello was sent again and again and never
// acknowledged, although the TCP handshake succeeded.
const MiddleboxDrop Category = "middlebox_drop"

var middleboxDropCategory = categorySpec{
	name:          MiddleboxDrop,
	meaning:       "the TCP handshake succeeded, the ClientHello was retransmitted and the server never acknowledged a byte of it: it never arrived",
	serverFix:     "— (the firewall's policy)",
	clientClasses: []string{"timeout"},
}

var _ = registerPathRule(MiddleboxDrop, (*diagnosis).middleboxDrop)

func (d *diagnosis) middleboxDrop() (Verdict, bool) {
	c, p := d.c, d.c.Path
	if c.ClientHello == nil || c.ServerHello != nil || c.HelloRetry != nil || c.TCP.SYNACK.Number == 0 ||
		c.ServerSide.Bytes > 0 || p.HelloEnd == 0 || p.Acked[client] < 0 || p.Acked[client] > p.HelloStart {
		return Verdict{}, false
	}
	rs := resentIn(p, client, p.HelloStart, p.HelloEnd)
	if len(rs) == 0 {
		return Verdict{}, false
	}
	last := lastResend(rs)
	name := "the ClientHello"
	if sni := d.hello.ServerName; sni != "" {
		name = fmt.Sprintf("the ClientHello for '%s'", sni)
	}
	summary := fmt.Sprintf("%s (%s, %s) never reached the server: the server accepted the TCP connection (SYN-ACK, %s), but acknowledged no byte of the hello, which the client sent %s more (%s to %s) over %s "+
		"(likely: a server's TCP stack acknowledges what arrives even when its program is busy, so a device on the path drops the hello — by its name, size or content; less likely, the server's host stopped right after accepting, or the path loses the acknowledgments on the way back)",
		name, prose.Count(int(p.HelloEnd-p.HelloStart), "byte"), frameRef(p.HelloFirst.Number), frameRef(c.TCP.SYNACK.Number),
		prose.Count(resendCount(rs), "time"), frameRef(rs[0].First.Number), frameRef(last.Number), wait(last.Time.Sub(p.HelloFirst.Time)))
	if r := rs[0]; r.Len >= fullSize && r.DF {
		// A hello of a full segment fits an MTU black hole as well.
		summary += fmt.Sprintf("; the hello went out in a full-size segment (%s, don't-fragment set), so a path MTU black hole fits too: a connection with a smaller hello (fewer key shares) to the same server tells them apart", prose.Count(r.Len, "byte"))
	}
	others, otherFrames := d.otherNames()
	if others != "" {
		summary += "; " + others
	}
	fix := fmt.Sprintf("a firewall, IPS or content filter between the client and %s silently drops this ClientHello: have its TLS/SNI-filtering policy allow it (compare with a connection to the same server under another name, which the same device lets through if it filters by name); nothing changes on the server, which never saw the hello", c.Server)
	if others != "" {
		fix = fmt.Sprintf("a firewall, IPS or content filter between the client and %s silently drops ClientHellos for '%s' while it lets other names to the same host through (SNI filtering): have its TLS/SNI-filtering policy allow '%s'; nothing changes on the server, which never saw the hello", c.Server, d.hello.ServerName, d.hello.ServerName)
	}
	return verdict(MiddleboxDrop, summary, fix, append([]capture.Frame{c.TCP.SYNACK, p.HelloFirst, rs[0].First, last}, otherFrames...)...), true
}
