package diagnose

// What the application did after a completed handshake: a request that
// got no answer is not a TLS failure, but it is what the user is looking
// at when a client reports a timeout.

import (
	"fmt"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/proxyparse"
)

// minSilence is how long the server must have stayed silent after a
// request before the silence is reported: a client that hangs up sooner
// gave up (or never waited), the server did not hang.
const minSilence = time.Second

// unanswered describes a request the server never answered: the server
// sent no application data after it (session tickets aside) and either
// someone closed the connection or the capture ended, at least minSilence
// later — or the server closed without answering. It returns the
// sentence, its evidence frames and whether it applies.
func (d *diagnosis) unanswered() (string, []capture.Frame, bool) {
	c := d.c
	a := c.Afterwards()
	req := a.Request
	if req.Number == 0 || a.Response.Number != 0 {
		return "", nil, false
	}
	what := "the client's request (" + frameRef(req.Number) + ")"
	if a.RequestLine != "" {
		what = fmt.Sprintf("the client's request %q (%s)", a.RequestLine, frameRef(req.Number))
	}
	tickets := ""
	if n := a.Tickets; n > 0 {
		tickets = fmt.Sprintf(" (%s of session-ticket size came right after the request, %s: taken for NewSessionTicket by size, timing and the silence after it; were it a short answer instead, the client merely kept the connection idle)",
			prose.Count(n, "record"), frameRef(a.TicketFrames[0].Number))
	}
	end, who, how := d.closeAfter(req.Number)
	if r := renegotiationStart(c); r.Number > req.Number && (end.Number == 0 || r.Number <= end.Number) {
		// What followed the request answered a renegotiation, which
		// renegotiation describes: neither a silence nor a close.
		return "", nil, false
	}
	var s string
	switch {
	case end.Number != 0 && who == server && (how == "FIN" || how == "RST") && c.Proxy != nil && c.Proxy.Outcome == proxyparse.Granted:
		// A server that closes says so in TLS first (close_notify), which
		// the proxy would carry; a tunnel cut bare is the proxy's doing
		// as a rule.
		s = fmt.Sprintf("TLS is fine; nothing came back after %s, and the proxy %s closed the tunnel (%s, %s) %s later without a TLS close_notify "+
			"(likely: the proxy cut the tunnel, its idle or read timeout being shorter than the server takes to answer (Squid: read_timeout; a corporate proxy's tunnel idle timeout) — a server that closes sends close_notify first, and the proxy would have carried it; "+
			"less likely, the server's program stopped without closing TLS): compare with the proxy's log and with a request that bypasses it%s",
			what, c.Server, how, frameRef(end.Number), d.waitFrom(req, end), tickets)
	case end.Number != 0 && who == server:
		s = fmt.Sprintf("TLS is fine; the server sent nothing after %s and closed the connection (%s, %s) %s later: the server application dropped the request — look at the server's log, not at TLS%s",
			what, how, frameRef(end.Number), d.waitFrom(req, end), tickets)
	case end.Number != 0:
		silence := end.Time.Sub(req.Time)
		if silence < minSilence {
			return "", nil, false
		}
		s = fmt.Sprintf("TLS is fine; the server sent nothing after %s for %s, then the client closed (%s, %s): the server application did not answer — look at the server, not at TLS%s",
			what, wait(silence), how, frameRef(end.Number), tickets)
	default:
		end = c.Last
		silence := end.Time.Sub(req.Time)
		if silence < minSilence {
			return "", nil, false
		}
		s = fmt.Sprintf("TLS is fine; the server sent nothing after %s until the connection's last frame (%s), %s later: the server application did not answer — look at the server, not at TLS%s",
			what, frameRef(end.Number), wait(silence), tickets)
	}
	return s, []capture.Frame{req, end}, true
}

// closeAfter returns the first sign of a close after frame n — an alert
// (close_notify, encrypted in TLS 1.2 after the handshake), a FIN or a RST
// — its sender and how to name it. A server that closes in answer to the
// client's close_notify did not close first.
func (d *diagnosis) closeAfter(n int64) (capture.Frame, capture.Direction, string) {
	c := d.c
	t := &c.TCP
	var f capture.Frame
	var who capture.Direction
	how := ""
	consider := func(g capture.Frame, w capture.Direction, h string) {
		if g.Number > n && (f.Number == 0 || g.Number < f.Number) {
			f, who, how = g, w, h
		}
	}
	for _, a := range c.Alerts {
		how := alertText(a)
		if !a.Known() {
			how += ", close_notify as a rule"
		}
		consider(a.Frame, a.Sender, how)
	}
	consider(t.RST, t.RSTFrom, "RST")
	consider(t.FIN[client], client, "FIN")
	consider(t.FIN[server], server, "FIN")
	return f, who, how
}

// answered says what the key log showed of an answered request, or "".
func (d *diagnosis) answered() string {
	a := d.c.Afterwards()
	if a.Response.Number == 0 || a.RequestLine == "" {
		return ""
	}
	s := fmt.Sprintf("request %q (%s)", a.RequestLine, frameRef(a.Request.Number))
	if a.ResponseLine != "" {
		s += fmt.Sprintf(" answered %q", a.ResponseLine)
	} else {
		s += " answered"
	}
	return s + fmt.Sprintf(" after %s (%s)", d.waitFrom(a.Request, a.Response), frameRef(a.Response.Number))
}
