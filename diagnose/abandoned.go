package diagnose

// A client that closes its connection a few milliseconds after its
// ClientHello, before any answer could come, did not give up on the
// server: no client's time limit for a handshake is that short (they wait
// a second or more). It no longer wanted the connection. Browsers do this
// all day: they open several connections to a server at once, use the
// first that is ready (HTTP/2 carries every request on it) and close the
// others; a page load or request cancelled as it started, or a program
// that exits, closes them too. Reading such a close as a server that
// answered too late sends the user after a slow server that is not.

import (
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// ClientAbandoned: the client closed the connection too soon after its
// ClientHello to have been waiting for an answer
const ClientAbandoned Category = "client_abandoned"

var clientAbandonedCategory = categorySpec{
	name:          ClientAbandoned,
	meaning:       "the client closed the connection less than 100 ms after its ClientHello, before the server's answer: sooner than any client's time limit for a handshake, so it no longer wanted the connection (likely: a browser closing the extra connections it opened to a server once one was ready, a cancelled request, a program that exited; less likely: a client time limit that short); not judged, as the server had no chance to answer",
	serverFix:     "— (the client's own choice)",
	clientClasses: []string{"canceled", "timeout"},
	rule:          (*diagnosis).clientAbandoned,
}

// clientAbandoned is client_abandoned's rule: the connection began in the
// capture (its SYN), the client closed it (FIN or RST) less than
// tooSoonToGiveUp after its ClientHello without sending any of its bytes
// again, and nothing of the server's TLS came before the close.
func (d *diagnosis) clientAbandoned() (Verdict, bool) {
	c, t := d.c, &d.c.TCP
	end, who, how := d.firstClose()
	if c.ClientHello == nil || d.helloFrame.Number == 0 || t.SYN.Number == 0 || who != client ||
		end.Number < d.helloFrame.Number || (c.Path != nil && (len(c.Path.ICMP) > 0 || len(c.Path.Resent[client]) > 0)) {
		return Verdict{}, false // an ICMP error may be why; bytes sent again, that it was waiting
	}
	soon, ok := c.Elapsed(d.helloFrame, end)
	if !ok || soon < 0 || soon >= tooSoonToGiveUp || d.serverSpokeBefore(end) {
		return Verdict{}, false
	}
	summary := fmt.Sprintf("the client closed the connection (%s, %s) %s after its ClientHello (%s), before any answer from the server: no client's time limit for a handshake is that short (they wait a second or more), so it did not give up on the server, it no longer wanted the connection "+
		"(likely: a browser closing the extra connections it opened to the server once one of them was ready, as Chromium does, a request or page load cancelled as it began, or a program that exited; less likely: a client time limit under %s)",
		how, frameRef(end.Number), d.waitFrom(d.helloFrame, end), frameRef(d.helloFrame.Number), span(tooSoonToGiveUp))
	evidence := []capture.Frame{d.helloFrame, end}
	if answer := d.serverHelloFrame(); answer.Number != 0 {
		summary += fmt.Sprintf("; the server answered %s after the ClientHello (%s)", d.waitFrom(d.helloFrame, answer), frameRef(answer.Number))
		if rtt, ok := roundTrip(t); ok {
			summary += fmt.Sprintf(", with a round trip of %s (SYN to SYN-ACK)", span(rtt))
		}
		evidence = append(evidence, answer)
	}
	v := verdict(ClientAbandoned, summary,
		"nothing to change on the server or in TLS: the client closed the connection itself. If a request failed, the client's own log says why it closed (a cancelled request, an exiting program, a time limit shorter than the server's answer); a browser's extra connections are closed this way as a rule, while the connection it kept carries its requests",
		evidence...)
	v.NotJudged = true
	return v, true
}

// serverSpokeBefore reports whether any of the server's bytes (a hello,
// an unfinished record, bytes that are not TLS, an alert) came before
// frame end, or may have: the client acknowledged server bytes before
// it, or the capture lost some of them.
func (d *diagnosis) serverSpokeBefore(end capture.Frame) bool {
	c := d.c
	before := func(f capture.Frame) bool { return f.Number != 0 && f.Number < end.Number }
	if before(d.serverHelloFrame()) || before(c.Tail(server).First) {
		return true
	}
	if p := c.Path; p != nil && p.Acked[server] > 0 && before(p.AckedFrame[server]) {
		return true
	}
	if slices.ContainsFunc(c.TCP.Gaps, func(g analysis.Gap) bool { return g.Dir == server }) {
		return true
	}
	for _, s := range []*analysis.NonTLS{c.ServerSide.NonTLS, c.ServerSide.Prelude} {
		if s != nil && before(s.Frame) {
			return true
		}
	}
	return slices.ContainsFunc(c.Alerts, func(a analysis.Alert) bool { return a.Sender == server && before(a.Frame) })
}
