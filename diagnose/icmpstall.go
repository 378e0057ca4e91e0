package diagnose

// ICMP errors about a connection the server had accepted: a router that
// lost its route to the server mid-connection, a firewall that lets the
// TCP handshake (or the ClientHello) through and then rejects what
// follows. Linux TCP takes such an error on a connected socket as a soft
// error (RFC 1122, 4.2.3.9): it keeps sending the bytes again, and the
// application sees its own timeout, or TCP's after about 15 minutes
// (tcp_retries2) with the ICMP's error ("No route to host"). Without
// reading the ICMP the stall looks like a server that stopped answering
// or a silent drop.

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// Registered once, before connection_refused's and host_unreachable's
// other path rules (it gives either): an end's packets rejected after the
// SYN-ACK are a cause whatever else the connection shows.
var _ = registerPathRule(ConnectionRefused, (*diagnosis).icmpStall)

// icmpStalled describes a direction of a connection whose bytes were
// answered by ICMP errors and never acknowledged after the first of them.
type icmpStalled struct {
	dir    capture.Direction
	errs   []analysis.ICMPReport // the errors about dir's packets after the SYN-ACK
	stuck  []analysis.Resend     // dir's retransmissions never acknowledged
	acked  int64                 // how far the peer acknowledged dir's bytes
	ackedF capture.Frame         // the frame that acknowledged that far
}

// icmpAfterAccept returns the ICMP errors about dir's packets sent after
// the server accepted the connection (its SYN-ACK), other than
// "fragmentation needed" (path_mtu_blackhole reads those).
func (d *diagnosis) icmpAfterAccept(dir capture.Direction) []analysis.ICMPReport {
	c, p := d.c, d.c.Path
	if p == nil || c.TCP.SYNACK.Number == 0 {
		return nil
	}
	var out []analysis.ICMPReport
	for _, r := range p.ICMP {
		if r.About == dir && r.Meaning() != capture.ICMPTooBig && r.Frame.Number > c.TCP.SYNACK.Number {
			out = append(out, r)
		}
	}
	return out
}

// icmpStallOf reports whether dir's bytes stalled behind ICMP errors:
// bytes sent again after the first error and never acknowledged, nothing
// of dir's acknowledged after it, the connection going on at least
// stallSilence after it, and dir not closing its side (FIN or RST)
// before, with or within stallSilence of the first error: an end that
// closes with its last bytes (a close_notify at the end of a good
// exchange) was not waiting for them.
func (d *diagnosis) icmpStallOf(dir capture.Direction) (icmpStalled, bool) {
	c, p := d.c, d.c.Path
	s := icmpStalled{dir: dir, errs: d.icmpAfterAccept(dir)}
	if len(s.errs) == 0 {
		return s, false
	}
	first := s.errs[0].Frame
	if p.Acked[dir] < 0 {
		// No acknowledgment known (live mode reports a connection before
		// it closes): whether the bytes got through is not known.
		return s, false
	}
	s.acked, s.ackedF = p.Acked[dir], p.AckedFrame[dir]
	if s.ackedF.Number > first.Number {
		return s, false // the path carried dir's bytes again
	}
	var last capture.Frame
	for _, r := range p.Resent[dir] {
		if r.Offset+int64(r.Len) > s.acked && r.Last.Number > first.Number {
			s.stuck = append(s.stuck, r)
			if r.Last.Number > last.Number {
				last = r.Last
			}
		}
	}
	if len(s.stuck) == 0 {
		return s, false
	}
	if f := d.closeOf(dir); f.Number != 0 && f.Time.Sub(first.Time) < stallSilence {
		return s, false // closed with (or right after) them: not waiting
	}
	end := last
	if f, _, _ := d.closeAfter(first.Number); f.Number > end.Number {
		end = f
	}
	if c.SteppedBetween(first, end) || end.Time.Sub(first.Time) < stallSilence {
		return s, false
	}
	return s, true
}

// closeOf is dir's first FIN or RST, or a zero frame.
func (d *diagnosis) closeOf(dir capture.Direction) capture.Frame {
	t := &d.c.TCP
	f := t.FIN[dir]
	if t.RST.Number != 0 && t.RSTFrom == dir && (f.Number == 0 || t.RST.Number < f.Number) {
		f = t.RST
	}
	return f
}

// icmpStall explains a connection accepted by the server whose bytes, in
// the handshake or after it, were answered by ICMP errors and never got
// through, until an end gave up or the capture ended: a firewall on the
// way rejecting (connection_refused) or a router that lost the server
// (host_unreachable).
func (d *diagnosis) icmpStall() (Verdict, bool) {
	s, ok := d.icmpStallOf(client)
	if !ok {
		if s, ok = d.icmpStallOf(server); !ok {
			return Verdict{}, false
		}
	}
	c := d.c
	r := s.errs[0]
	peer := c.Server.Addr()
	if s.dir == server {
		peer = c.Client.Addr()
	}
	fromPeer := r.From == peer
	refused := r.Meaning() == capture.ICMPPortUnreachable || r.Meaning() == capture.ICMPProhibited ||
		r.Meaning() == capture.ICMPHostUnreachable && fromPeer

	var frames []capture.Frame
	errFrames := make([]capture.Frame, len(s.errs))
	for i, e := range s.errs {
		errFrames[i] = e.Frame
	}
	frames = append(frames, errFrames...)
	var resent []string
	for _, rs := range s.stuck {
		span := frameRef(rs.First.Number)
		if rs.Last.Number != rs.First.Number {
			span += " to " + frameRef(rs.Last.Number)
		}
		resent = append(resent, fmt.Sprintf("stream offset %d, %s more, %s", rs.Offset, countTimes(rs.Count), span))
		frames = append(frames, rs.First, rs.Last)
	}
	errsText := fmt.Sprintf("ICMP %q (%s)", r.String(), strings.TrimSpace(frameList("", errFrames)))
	if others := otherICMP(s.errs); others != "" {
		errsText += ", also " + others
	}
	if len(c.Path.ICMP) >= analysis.MaxICMP {
		errsText += fmt.Sprintf(", perhaps more (the first %d are kept)", analysis.MaxICMP)
	}
	head := fmt.Sprintf("%s answered the %s's %s with %s: the %s acknowledged none of them, and the %s sent them again (%s)",
		d.icmpSenderFor(r, peer), s.dir, d.stuckWhat(s), errsText, s.dir.Reverse(), s.dir, strings.Join(resent, "; "))
	end := d.stallEnd(s)
	if end.Number != 0 {
		frames = append(frames, end)
	}

	var why, fix string
	cat := HostUnreachable
	switch {
	case refused && fromPeer:
		cat = ConnectionRefused
		why = fmt.Sprintf("a firewall on %s's own host rejects this connection's packets though it accepted the connection (likely: a rule that rejects packets its connection tracking no longer knows — state INVALID or NEW without SYN, after a firewall reload or a conntrack table that filled or timed out the entry; less likely, a rule added mid-connection)", peer)
		fix = fmt.Sprintf("look at the firewall of %s: its REJECT rules for packets of established connections (`iptables -S`, `nft list ruleset`: ctstate INVALID), and its connection tracking (`conntrack -S`: drops, a full table)", peer)
	case refused:
		cat = ConnectionRefused
		why = fmt.Sprintf("a firewall or router at %s let the connection open and then rejected the %s's packets (likely: a rule that matches their content — an IPS or application filter deciding on the handshake, the certificate or the request; less likely, a rule added, or its state for the connection lost in a failover or reload, mid-connection)", r.From, s.dir)
		fix = fmt.Sprintf("have the administrator of the firewall at %s look up why it rejects this connection (%s to %s): its log for the rule that matched; or connect from a network it allows", r.From, c.Client, c.Server)
	case r.Meaning() == capture.ICMPNetUnreachable:
		why = fmt.Sprintf("%s lost its route to %s's network mid-connection (likely: a route withdrawn, a VPN or tunnel that went down; less likely, a route changed on purpose)", r.From, peer)
		fix = fmt.Sprintf("check the route to %s at %s (and the VPN or tunnel that should carry it), and why it changed during the connection", peer, r.From)
	case r.Meaning() == capture.ICMPTimeExceeded:
		why = fmt.Sprintf("the packets' TTL ran out at %s: a routing loop toward %s appeared mid-connection (likely: routers that disagree while a route changes; less likely, a loop that stays)", r.From, peer)
		fix = fmt.Sprintf("look for a routing loop toward %s at and after %s (traceroute -T -p %d %s shows the hops repeat)", peer, r.From, c.Server.Port(), peer)
	case r.Meaning() == capture.ICMPHostUnreachable:
		why = fmt.Sprintf("%s could no longer reach %s, which it had reached moments before (likely: a route to it withdrawn or made unreachable — a routing daemon installs such a route when a prefix goes — or the host gone from the router's link: down, rebooted or its address moved; less likely, a firewall that rejects with host unreachable)", r.From, peer)
		fix = fmt.Sprintf("check at %s its route and neighbour entry for %s (`ip route get %s`, `ip neigh`), and that %s is still up at that address", r.From, peer, peer, peer)
	default:
		why = fmt.Sprintf("a device on the path stopped delivering them (%s)", r.String())
		fix = fmt.Sprintf("check the path to %s at %s", peer, r.From)
	}
	summary := fmt.Sprintf("%s: %s; %s; %s", head, why, d.stallEndText(s, end), softErrorText(r, s.dir))
	return verdict(cat, summary, fix, frames...), true
}

// icmpStallEstablished is icmpStall for a connection whose handshake
// completed, which the path rules do not see.
func (d *diagnosis) icmpStallEstablished() (Verdict, bool) {
	if !d.c.Established || d.c.Path == nil || d.c.ClientSide.NonTLS != nil || d.c.ServerSide.NonTLS != nil {
		return Verdict{}, false
	}
	return d.icmpStall()
}

// stuckWhat names the bytes that did not get through.
func (d *diagnosis) stuckWhat(s icmpStalled) string {
	c, p := d.c, d.c.Path
	from := s.stuck[0].Offset
	switch {
	case s.dir == client && p.HelloEnd > 0 && from < p.HelloEnd:
		return "ClientHello"
	case c.Established:
		return "bytes after the TLS handshake"
	case s.dir == client && c.ServerHelloFrame.Number != 0:
		return "second handshake flight (its Finished)"
	case s.dir == server:
		return "handshake flight"
	}
	return "bytes after the TCP handshake"
}

// stallEnd is how the connection ended after the stall: the first close
// after the first error, else the connection's last frame.
func (d *diagnosis) stallEnd(s icmpStalled) capture.Frame {
	if f, _, _ := d.closeAfter(s.errs[0].Frame.Number); f.Number != 0 {
		return f
	}
	return d.c.Last
}

func (d *diagnosis) stallEndText(s icmpStalled, end capture.Frame) string {
	first := s.errs[0].Frame
	if f, who, how := d.closeAfter(first.Number); f.Number != 0 {
		verb := "gave up"
		if who != client {
			verb = "closed"
		}
		return fmt.Sprintf("the %s %s (%s, %s) %s after the first error", who, verb, how, frameRef(f.Number), d.waitFrom(first, f))
	}
	return fmt.Sprintf("the bytes were still unacknowledged at the connection's last frame (%s), %s after the first error", frameRef(end.Number), d.waitFrom(first, end))
}

// icmpSenderFor names the sender of an ICMP error about the packets sent
// to peer, and how far from the capture point it is.
func (d *diagnosis) icmpSenderFor(r analysis.ICMPReport, peer netip.Addr) string {
	if r.From == peer {
		return fmt.Sprintf("%s, the peer's own address,", r.From)
	}
	return d.icmpSender(r)
}

// otherICMP names the errors of errs that say something else than the
// first, in order, each once.
func otherICMP(errs []analysis.ICMPReport) string {
	var out []string
	seen := []string{errs[0].String()}
	for _, e := range errs[1:] {
		if name := e.String(); !slices.Contains(seen, name) {
			seen = append(seen, name)
			out = append(out, fmt.Sprintf("%q (%s)", name, frameRef(e.Frame.Number)))
		}
	}
	return strings.Join(out, ", ")
}

func countTimes(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// softErrorText says what the applications see of an ICMP error about a
// connected socket: Linux TCP keeps it as a soft error and keeps sending
// again; the application meets its own timeout first, or TCP's with the
// error's errno.
func softErrorText(r analysis.ICMPReport, dir capture.Direction) string {
	errno := linuxErrno(r)
	if dir == server {
		return fmt.Sprintf("the error went to the server, whose TCP keeps sending again (a Linux server reports %q to its application only when TCP gives up, after about 15 minutes); the client sees nothing but silence, and a client timeout (curl's \"Operation timed out\", Go's \"Client.Timeout exceeded\" or \"i/o timeout\") is this rejection, not the server's or TLS's doing", errno)
	}
	return fmt.Sprintf("on an open connection Linux TCP takes the error as a soft error and keeps sending again: the client meets its own timeout first (curl's \"Operation timed out\" or \"Connection timed out\", exit 28; Go's \"Client.Timeout exceeded\" or \"i/o timeout\"), or after about 15 minutes TCP's, reported with the ICMP's error, %q (curl: \"Recv failure\" or \"Send failure\"); either is this error's doing, not the server's or TLS's", errno)
}

// icmpIncidental warns of ICMP errors about packets of a connection the
// server had accepted that did not stall it (icmpStall): a route that
// flapped, a rule that rejected one packet. "" when there are none.
func (d *diagnosis) icmpIncidental() string {
	if _, ok := d.icmpStallOf(client); ok {
		return ""
	}
	if _, ok := d.icmpStallOf(server); ok {
		return ""
	}
	for _, dir := range []capture.Direction{client, server} {
		errs := d.icmpAfterAccept(dir)
		if len(errs) == 0 {
			continue
		}
		r := errs[0]
		frames := make([]capture.Frame, len(errs))
		for i, e := range errs {
			frames[i] = e.Frame
		}
		w := fmt.Sprintf("%s answered %s of the %s's packets with ICMP %q (%s)", r.From, countOf(len(errs)), dir, r.String(), strings.TrimSpace(frameList("", frames)))
		if others := otherICMP(errs); others != "" {
			w += ", also " + others
		}
		if f := d.c.Path.AckedFrame[dir]; f.Number > r.Frame.Number {
			return w + fmt.Sprintf(", yet the connection went on: the %s acknowledged the %s's bytes after it (%s), so the path recovered (a route that flapped, a rule in force for a moment); not the cause of the verdict", dir.Reverse(), dir, frameRef(f.Number))
		}
		if f := d.closeOf(dir); f.Number != 0 && f.Time.Sub(r.Frame.Time) < stallSilence {
			return w + fmt.Sprintf("; the %s had closed its side with those bytes or right after them (%s), so it was not waiting on them (a closing close_notify, say): not taken as the cause of the verdict", dir, frameRef(f.Number))
		}
		return w + "; the capture does not show the connection waiting on those bytes for long after it, so it is not taken as the cause of the verdict"
	}
	return ""
}

func countOf(n int) string {
	if n == 1 {
		return "one"
	}
	return fmt.Sprint(n)
}
