package diagnose

// A ClientHello that never reached the server: the TCP handshake worked,
// the hello was sent again and again, and the server's TCP stack — which
// acknowledges whatever arrives, busy application or not — never
// acknowledged a byte of it.

import (
	"fmt"
	"math"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// MiddleboxDrop: the ClientHello was sent again and again and never
// acknowledged, although the TCP handshake succeeded; or, seen from the
// server's end, nothing came after the TCP handshake.
const MiddleboxDrop Category = "middlebox_drop"

var middleboxDropCategory = categorySpec{
	name:          MiddleboxDrop,
	meaning:       "the TCP handshake succeeded, the ClientHello was retransmitted and the server never acknowledged a byte of it: it never arrived; or, in TLS 1.3, the server acknowledged the hello but never the client's Finished flight, which the client sent again and again; or, in a capture taken at the server's end, the TCP handshake and then nothing from the client — no hello, no FIN — while the capture went on",
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
		prose.Count(resendCount(rs), "time"), frameRef(rs[0].First.Number), frameRef(last.Number), d.waitFrom(p.HelloFirst, last))
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

// captureEnd is the last frame the capture shows while the connection was
// open: the capture's last frame for a connection still open when it
// ended, else the connection's last.
func (d *diagnosis) captureEnd() capture.Frame {
	if e := d.c.CaptureEnd; e.Number > d.c.Last.Number && !e.Time.Before(d.c.Last.Time) {
		return e
	}
	return d.c.Last
}

// silentAfterHandshake explains a connection whose TCP handshake
// completed and over which neither end sent anything, not even a FIN or
// a RST, for at least minSilence while the capture went on. Where the
// capture was taken decides the reading: at the server's end it is all a
// hello dropped on the path leaves (the client's retransmissions, and its
// FIN queued behind them, are dropped as well); at the client's end the
// client never sent one.
func (d *diagnosis) silentAfterHandshake() (Verdict, bool) {
	c, p, t := d.c, d.c.Path, &d.c.TCP
	end := d.captureEnd()
	silence := end.Time.Sub(c.Last.Time)
	if !c.SilentAtEnd() || p == nil || silence < minSilence {
		return Verdict{}, false
	}
	_, synHops := hopsAway(p.SYN.IP.TTL)
	_, synackHops := hopsAway(p.SYNACK.IP.TTL)
	seen := fmt.Sprintf("nothing came from either end for %s after the TCP handshake (SYN-ACK %s, the client's last packet %s) while the capture went on (to %s): no ClientHello, no FIN, no RST",
		wait(silence), frameRef(t.SYNACK.Number), frameRef(c.Last.Number), frameRef(end.Number))
	where := fmt.Sprintf("the SYN has %s; the SYN-ACK %s", hopsText(p.SYN), hopsText(p.SYNACK))
	if synHops > synackHops {
		at := "at the server's end"
		if synackHops > 0 {
			at = "nearer the server than the client"
		}
		return verdict(MiddleboxDrop,
			fmt.Sprintf("the server saw the TCP handshake and no ClientHello: %s; the capture was taken %s (%s) "+
				"(likely: the client's hello was lost on the path — a firewall, IPS or content filter that drops a hello by its name or content also drops its retransmissions and the client's FIN queued behind them; "+
				"less likely: the client opened the connection and sent nothing, keeping it open — a browser's unused preconnection, a client stalled before its hello — or the capture missed the connection's later packets); "+
				"a capture at the client tells them apart: a ClientHello sent there again and again, never acknowledged, is the drop, and names the SNI",
				seen, at, where),
			fmt.Sprintf("capture at the client to see the hello it sent and for which name; if it was sent, a firewall, IPS or content filter between the client and %s drops it: have its TLS/SNI-filtering policy allow it; nothing changes on the server, which never saw the hello", c.Server),
			t.SYN, t.SYNACK, c.Last), true
	}
	at, more := "at the client's end", ", where a hello dropped on the path would show as sent and retransmitted"
	switch {
	case synHops == 0 && synackHops == 0:
		at, more = "on the host of both ends", ", with no path between them"
	case synHops == synackHops:
		at, more = "as far from the client as from the server", ""
	case synHops > 0:
		at, more = "nearer the client than the server", ", where a hello dropped beyond it would show as sent and retransmitted"
	}
	return verdict(NotTLSClient,
		fmt.Sprintf("the client opened the TCP connection and never sent a ClientHello: %s; the capture was taken %s (%s)%s: a browser's unused preconnection, a client stalled before its hello, or a port check that keeps the connection open",
			seen, at, where, more),
		"nothing to fix on the server if this is a preconnection or a health check; otherwise look at the client, which stopped before its ClientHello",
		t.SYN, t.SYNACK, c.Last), true
}

// hopsText is a packet's TTL and the hop count it implies, in short.
func hopsText(p analysis.Packet) string {
	_, hops := hopsAway(p.IP.TTL)
	name := "TTL"
	if p.IP.V6 {
		name = "hop limit"
	}
	return fmt.Sprintf("%s %d, %s away", name, p.IP.TTL, hopText(hops))
}

// finishedDropped explains a TLS 1.3 handshake the client finished and
// the server never did: the server acknowledged the ClientHello, then no
// byte after it (the client's Finished, its request), which the client
// sent again and again. They never reached the server: a device on the
// path that lets the hello through drops what follows it. The client's
// side of the capture reads as a completed handshake whose request went
// unanswered; the server's acknowledgments say otherwise.
func (d *diagnosis) finishedDropped() (Verdict, bool) {
	c, p := d.c, d.c.Path
	if p == nil || !c.Version.IsTLS13() || p.HelloEnd == 0 || p.Acked[client] != p.HelloEnd || c.ClientSide.Finished.Number == 0 {
		return Verdict{}, false
	}
	rs := resentIn(p, client, p.HelloEnd, math.MaxInt64)
	if resendCount(rs) < 2 {
		return Verdict{}, false
	}
	last := lastResend(rs)
	summary := fmt.Sprintf("the client finished its handshake (%s), but the server acknowledged nothing after the ClientHello: the client's Finished and what followed it never reached the server, although the client sent them %s more (%s to %s) over %s "+
		"(likely: a device on the path lets the hello through and drops the client's next flight; less likely, the server's host stopped right after its answer, or the path loses the acknowledgments on the way back)",
		frameRef(c.ClientSide.Finished.Number), prose.Count(resendCount(rs), "time"), frameRef(rs[0].First.Number), frameRef(last.Number), d.waitFrom(c.ClientSide.Finished, last))
	fix := fmt.Sprintf("a firewall, IPS or TLS-inspecting device between the client and %s drops the client's second flight (its ChangeCipherSpec and Finished): look at its logs and policy; the server application never got a request, so its logs show none", c.Server)
	return verdict(MiddleboxDrop, summary, fix, c.ClientSide.Finished, rs[0].First, last), true
}
