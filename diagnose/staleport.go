package diagnose

// A client's SYN that met an older connection between the same two ports:
// the server still held it (the client had forgotten it: its end never
// reached the server) and answered the SYN with an acknowledgment of that
// connection instead of a SYN-ACK (a challenge ACK, RFC 5961 Section 4).
// The client resets it, which ends it at the server, and sends its SYN
// again: the connection opens late by the client's wait.

import (
	"fmt"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// stalePortWarning says that the server answered the SYN with an
// acknowledgment of an older connection between the same ports, and what
// it cost; "" when it did not.
func (d *diagnosis) stalePortWarning() string {
	p, t := d.c.Path, &d.c.TCP
	if p == nil || p.StaleACK.Number == 0 || t.SYNACK.Number == 0 {
		return "" // with no SYN-ACK, the verdict tells it (staleNoAnswer)
	}
	w := fmt.Sprintf("the server answered the client's SYN (%s) with an acknowledgment of an older connection between the same two ports (%s: a challenge ACK, RFC 5961), which the server still held and the client no longer had",
		frameRef(t.SYN.Number), frameRef(p.StaleACK.Number))
	if p.StaleReset.Number != 0 {
		w += fmt.Sprintf("; the client reset it (%s),", frameRef(p.StaleReset.Number))
	} else {
		w += "; the client"
	}
	w += fmt.Sprintf(" sent its SYN again and was accepted (SYN-ACK, %s) %s after its first SYN", frameRef(t.SYNACK.Number), d.waitFrom(t.SYN, t.SYNACK))
	return w + ". The client's port was used again while the server kept the older connection, whose end never reached it (a reset or FIN lost on the way, a client that vanished, a NAT that gave the port to a new connection after dropping the old one's mapping); each time it happens the connection opens late by the client's wait before it sends its SYN again"
}

// staleNoAnswer explains SYNs that got, instead of a SYN-ACK, only
// acknowledgments of an older connection between the same ports: the
// server still holds a connection from the client's port, and the
// client's resets of it (RFC 793 answers each such acknowledgment with
// one) did not end it, or none was sent.
func (d *diagnosis) staleNoAnswer() Verdict {
	c, p, t := d.c, d.c.Path, &d.c.TCP
	summary := fmt.Sprintf("%s answered the client's %s not with a SYN-ACK but with an acknowledgment of an older connection between the same two ports (%s: a challenge ACK, RFC 5961): the server still holds a connection from %s that the client no longer has",
		c.Server, prose.Count(max(t.SYNCount, 1), "SYN"), frameRef(p.StaleACK.Number), c.Client)
	evidence := []capture.Frame{t.SYN, p.StaleACK}
	if r := p.StaleReset; r.Number != 0 && c.Last.Number == r.Number {
		// Nothing after the reset: the SYN the client sends again, which
		// would show whether the reset ended the older connection, is not
		// in the capture.
		end := d.captureEnd()
		summary += fmt.Sprintf("; the client reset it (%s), and then %s: it does not show the SYN the client sends again after such a reset (Linux within milliseconds, Windows after 3 s or more), so whether the reset ended the older connection is not in it",
			frameRef(r.Number), d.stopAfter(r, end))
		evidence = append(evidence, r)
		if end.Time.Sub(r.Time) < staleRetryWithin {
			return verdict(IncompleteCapture, summary,
				fmt.Sprintf("capture on until the client's next attempt: if every SYN is answered so, end the stale connection on the server (Linux: `ss -K dst %s dport = %d`) and let the client's resets reach it", c.Client.Addr(), c.Client.Port()),
				evidence...)
		}
		summary += ": the client did not try again while the capture went on"
		return verdict(NoTCPAnswer, summary, staleFix(c), evidence...)
	}
	if p.StaleReset.Number != 0 {
		summary += fmt.Sprintf("; the client's reset of it (%s) did not end it, as no SYN-ACK followed: the reset did not reach the server (a firewall between them that drops resets of connections it does not track), or did not match it", frameRef(p.StaleReset.Number))
		evidence = append(evidence, p.StaleReset)
	} else {
		summary += "; the capture shows no reset of it from the client, which answers such an acknowledgment with one: a firewall dropped it (on the client's host or on the way), or the client's system sent none"
	}
	return verdict(NoTCPAnswer, summary, staleFix(c), append(evidence, c.Last)...)
}

// staleRetryWithin is how long after its reset of the older connection a
// client sends its SYN again, at most: Linux within milliseconds, Windows
// after 3 s and 13 s (staleport/windows_stale_ports.pcap). A capture that
// goes on longer without it shows a client that gave up.
const staleRetryWithin = 30 * time.Second

// staleFix ends the stale connection on the server and lets the client's
// resets through.
func staleFix(c *analysis.Connection) string {
	return fmt.Sprintf("end the stale connection on the server (Linux: `ss -K dst %s dport = %d`, or restart the server application) and let the client's resets reach the server (a firewall that drops resets of connections it does not track keeps such connections alive); or have the client connect from another source port",
		c.Client.Addr(), c.Client.Port())
}

// stopAfter says what the capture did after frame f, the connection's
// last: it ended, or went on without the connection.
func (d *diagnosis) stopAfter(f, end capture.Frame) string {
	if end.Number <= f.Number {
		return "the capture ends"
	}
	return fmt.Sprintf("the capture went on %s without the connection (to %s)", d.waitFrom(f, end), frameRef(end.Number))
}
