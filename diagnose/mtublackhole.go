package diagnose

// A path whose MTU is smaller than the ends believe and whose routers'
// "fragmentation needed" (ICMPv6 "packet too big") never arrives: full-size
// segments vanish, smaller ones pass. Seen from the sender, its largest
// segments go out again and again at the same sequence number and are
// never acknowledged; seen from the receiver, they never arrive, the
// smaller segment after them does, and the receiver never acknowledges
// past the hole — so the capture did not lose them, the path did.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// PathMTUBlackhole: full-size segments never got through while
// smaller ones did, and no ICMP said why.
const PathMTUBlackhole Category = "path_mtu_blackhole"

var pathMTUBlackholeCategory = categorySpec{
	name:          PathMTUBlackhole,
	meaning:       "full-size segments (don't-fragment set) never got through while smaller ones did, and no ICMP \"fragmentation needed\" made the sender resend them smaller",
	serverFix:     "— (the path: let the ICMP through, clamp the MSS)",
	clientClasses: []string{"timeout"},
}

var _ = registerPathRule(PathMTUBlackhole, (*diagnosis).pathMTUBlackhole)

// fullSize is the smallest segment counted as full-size: below every
// common MSS (1460 on Ethernet, ~1380 through tunnels) and above what
// IPv6's minimum MTU (1280) always carries.
const fullSize = 1200

const mtuFix = "the path's MTU is smaller than the ends believe and the ICMP that would say so (\"fragmentation needed\", ICMPv6 \"packet too big\") does not get through: " +
	"let that ICMP through the firewalls on the path; clamp the TCP MSS on the router, VPN or tunnel with the small link (iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu); " +
	"or, as a stop-gap, lower the MTU of the sender's interface or enable packetization-layer probing on it (Linux: sysctl net.ipv4.tcp_mtu_probing=1)"

func (d *diagnosis) pathMTUBlackhole() (Verdict, bool) {
	if v, ok := d.blackholeAtSender(); ok {
		return v, true
	}
	if v, ok := d.blackholeAtReceiver(); ok {
		return v, true
	}
	return d.answerLostOnWayBack()
}

// answerLostOnWayBack: the capture is on the client's side and shows the
// server acknowledging the ClientHello, then not one byte from it, and
// the client's FIN sent again and again, never acknowledged. A server
// whose program is silent acknowledges a FIN at once (its kernel does);
// one with an answer in flight acknowledges with that answer, so when the
// answer is lost its acknowledgments are lost with it.
func (d *diagnosis) answerLostOnWayBack() (Verdict, bool) {
	c, p := d.c, d.c.Path
	fin := p.FINResent[client]
	if c.ClientHello == nil || c.ServerHello != nil || c.HelloRetry != nil || c.ServerSide.Bytes > 0 || p.HelloEnd == 0 ||
		p.Acked[client] < p.HelloEnd || fin.Count == 0 || p.Acked[client] > fin.Offset || c.TCP.FIN[server].Number != 0 ||
		(c.TCP.RST.Number != 0 && c.TCP.RSTFrom == server) {
		return Verdict{}, false
	}
	finFrame := c.TCP.FIN[client]
	summary := fmt.Sprintf("the server acknowledged the ClientHello (%s) and then sent nothing the capture saw, and never acknowledged the client's FIN (%s), which the client sent %s more (%s to %s) over %s: "+
		"a server whose program is silent acknowledges a FIN at once, so the server had an answer in flight that never arrived, with its acknowledgments "+
		"(likely: the answer is lost on the way back — a path MTU black hole toward the client, the server's certificate flight being the connection's first full-size packet, or a filter dropping the server's packets to the client; less likely, the server's host stopped right after acknowledging the hello)",
		frameRef(p.AckedFrame[client].Number), frameRef(finFrame.Number), prose.Count(fin.Count, "time"), frameRef(fin.First.Number), frameRef(fin.Last.Number), d.waitFrom(finFrame, fin.Last))
	fix := mtuFix + "; a capture at the server's end shows its answer going out and being sent again, unacknowledged, which tells a black hole from a host that stopped"
	return verdict(PathMTUBlackhole, summary, fix, d.helloFrame, p.AckedFrame[client], finFrame, fin.First, fin.Last), true
}

// blackholeAtSender: the capture is on the sender's side of the small
// link and shows its full-size segments retransmitted, unacknowledged.
func (d *diagnosis) blackholeAtSender() (Verdict, bool) {
	p := d.c.Path
	for _, dir := range []capture.Direction{server, client} {
		acked := p.Acked[dir]
		for _, r := range p.Resent[dir] {
			if r.Len < fullSize || !r.DF || r.Count < 2 || acked < 0 || acked > r.Offset {
				continue
			}
			if dir == client && r.Offset < p.HelloEnd {
				continue // the hello: a drop on the path fits as well (middleboxDrop)
			}
			peer := dir.Reverse()
			why := fmt.Sprintf("(likely: a path MTU black hole, a link smaller than the %s's segments whose \"fragmentation needed\" never arrives — the capture shows no such ICMP and the %s never made its segments smaller; less likely, a link that drops large packets for another reason)", dir, dir)
			fix := mtuFix
			evidence := []capture.Frame{d.helloFrame}
			if e, ok := d.tooBig(dir); ok {
				why = fmt.Sprintf("(likely: the %s ignores the path's MTU: %s sent %q (%s%s), which the capture saw, yet the %s never made its segments smaller — its own firewall drops that ICMP after the capture point, or path MTU discovery is off on it; less likely, the error came from a device the %s does not believe)",
					dir, e.From, e.String(), frameRef(e.Frame.Number), mtuText(e), dir, dir)
				fix = fmt.Sprintf("let ICMP \"fragmentation needed\" (ICMPv6 \"packet too big\") through the %s's own firewall (its INPUT chain) and keep path MTU discovery on (Linux: sysctl net.ipv4.ip_no_pmtu_disc=0); or clamp the TCP MSS on the link with the small MTU", dir)
				evidence = append(evidence, e.Frame)
			}
			summary := fmt.Sprintf("the %s's full-size segment (%s at stream offset %d, don't-fragment set) never got through: it was sent again %s (%s to %s, over %s) and never acknowledged, while the %s's smaller packets got through %s",
				dir, prose.Count(r.Len, "byte"), r.Offset, prose.Count(r.Count, "time"), frameRef(r.First.Number), frameRef(r.Last.Number), d.waitFrom(r.First, r.Last), peer, why)
			after, at := d.lastMessageBefore(r.First.Number)
			summary += fmt.Sprintf("; the last message the %s sent before resending is %s (%s)", dir, after, frameRef(at.Number))
			evidence = append(evidence, at, r.First, r.Last, p.AckedFrame[dir])
			return verdict(PathMTUBlackhole, summary, fix, evidence...), true
		}
	}
	return Verdict{}, false
}

// blackholeAtReceiver: the capture is on the receiver's side and shows a
// hole of full-size bytes, then a smaller segment that did arrive, and the
// receiver never acknowledging past the hole.
func (d *diagnosis) blackholeAtReceiver() (Verdict, bool) {
	c, p := d.c, d.c.Path
	for _, g := range c.TCP.Gaps {
		acked := p.Acked[g.Dir]
		if g.SnapLen > 0 || g.Size < fullSize || acked < 0 || acked > g.Offset || c.Side(g.Dir).Bytes <= g.Offset || p.AfterGap[g.Dir].Number == 0 {
			continue
		}
		peer := g.Dir.Reverse()
		after, at := d.lastMessageBefore(p.AfterGap[g.Dir].Number)
		summary := fmt.Sprintf("the %s's first %s after %s (%s) never arrived, while its next, smaller segment did (%s): the %s never acknowledged past the hole, so the path lost them, not the capture "+
			"(likely: a path MTU black hole, a link smaller than the %s's full-size segments whose \"fragmentation needed\" never reaches it, so it resends them unchanged; less likely, heavy loss of exactly those segments)",
			g.Dir, prose.Count(g.Size, "byte"), after, frameRef(at.Number), frameRef(p.AfterGap[g.Dir].Number), peer, g.Dir)
		end, _, how := d.firstClose()
		if end.Number != 0 {
			summary += fmt.Sprintf("; the handshake stalled until the %s (%s, %s)", how, frameRef(end.Number), d.waitFrom(at, end))
		}
		return verdict(PathMTUBlackhole, summary, mtuFix, d.helloFrame, at, p.AfterGap[g.Dir], end), true
	}
	return Verdict{}, false
}

// tooBig returns the first "fragmentation needed" ("packet too big")
// about dir's packets.
func (d *diagnosis) tooBig(dir capture.Direction) (analysis.ICMPReport, bool) {
	for _, e := range d.c.Path.ICMP {
		if e.About == dir && e.Meaning() == capture.ICMPTooBig {
			return e, true
		}
	}
	return analysis.ICMPReport{}, false
}

// mtuText says the next hop's MTU an ICMP error announces, if it does.
func mtuText(e analysis.ICMPReport) string {
	if e.MTU == 0 {
		return ""
	}
	return fmt.Sprintf(", next-hop MTU %d", e.MTU)
}
