package diagnose

// Servers that stop or crawl in the middle of answering: the client's time
// limit ends the connection, so the client's close is not its verdict on
// the handshake but the end of its patience.

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// stallSilence is the server silence before the client's close past which
// the close is the client giving up, not rejecting: a client that rejects
// what it got does so within milliseconds.
const stallSilence = time.Second

// serverStalled explains a handshake the client ended while the server's
// flight was unfinished: the server sent its hello (and maybe more), then
// nothing for a while, or the rest too slowly to arrive in time.
func (d *diagnosis) serverStalled() (Verdict, bool) {
	c := d.c
	if c.Version.IsTLS13() && c.ServerSide.Finished.Number != 0 ||
		!c.Version.IsTLS13() && (c.ServerHelloDoneFrame.Number != 0 || c.ServerSide.ChangeCipherSpec.Number != 0) {
		return Verdict{}, false // the server's flight is complete: the client was to speak
	}
	end, who, how := d.firstClose()
	if end.Number == 0 || who != client {
		return Verdict{}, false
	}
	if slices.ContainsFunc(d.handshakeGaps(), func(g analysis.Gap) bool { return g.Dir == server }) {
		// The capture lost bytes of the server's: the silence may be
		// the capture's, not the server's (abortBehindGap).
		return Verdict{}, false
	}
	name, last := d.lastServerMessage(end.Number)
	if u := c.Tail(server); u.Bytes > 0 && u.Last.Number > last.Number && u.Last.Number < end.Number {
		return verdict(ServerNoResponse,
			fmt.Sprintf("the server was still sending its handshake after its %s (%s), too slowly: %s of an unfinished record in %s (%s to %s), when the client gave up (%s, %s) %s after its ClientHello",
				name, frameRef(last.Number), prose.Count(int(u.Bytes), "byte"), prose.Count(u.Frames, "frame"), frameRef(u.First.Number), frameRef(u.Last.Number),
				how, frameRef(end.Number), d.waitFrom(d.helloFrame, end)),
			slowServerFix, d.helloFrame, last, u.First, u.Last, end), true
	}
	silence := end.Time.Sub(last.Time)
	if silence < stallSilence {
		return Verdict{}, false
	}
	return verdict(ServerNoResponse,
		fmt.Sprintf("the server stopped after its %s (%s): nothing more from it for %s, until the client gave up (%s, %s) %s after its ClientHello",
			name, frameRef(last.Number), wait(silence), how, frameRef(end.Number), d.waitFrom(d.helloFrame, end)),
		"the server stalled in the middle of its handshake: look at its log and load (a slow key store or HSM, an OCSP or backend lookup, an overloaded worker) and at middleboxes holding packets; a longer client time limit helps only if it is merely slow",
		d.helloFrame, last, end), true
}

const slowServerFix = "the server (or a middlebox throttling the connection) sends its handshake too slowly: look at its load and at the path; a longer client time limit helps only if it is merely slow"

// slowFirstAnswer explains a ClientHello whose answer never made a complete
// record: the server sent bytes, too slowly or too few, before the client
// gave up. It is not a server that never spoke.
func (d *diagnosis) slowFirstAnswer() (Verdict, bool) {
	c := d.c
	u := c.Tail(server)
	end, who, how := d.firstClose()
	if u.Bytes == 0 || end.Number == 0 || who != client || u.First.Number < d.helloFrame.Number {
		return Verdict{}, false
	}
	return verdict(ServerNoResponse,
		fmt.Sprintf("the server answered the ClientHello (%s) too slowly: %s in %s (%s to %s), not yet a complete TLS record when the client gave up (%s, %s) %s after its ClientHello",
			frameRef(d.helloFrame.Number), prose.Count(int(u.Bytes), "byte"), prose.Count(u.Frames, "frame"), frameRef(u.First.Number), frameRef(u.Last.Number),
			how, frameRef(end.Number), d.waitFrom(d.helloFrame, end)),
		slowServerFix, d.helloFrame, u.First, u.Last, end), true
}

// lastServerMessage names the server's last handshake message before
// frame n, and its frame.
func (d *diagnosis) lastServerMessage(n int64) (string, capture.Frame) {
	c := d.c
	best, name := c.ServerHelloFrame, "ServerHello"
	for _, m := range []struct {
		name string
		f    capture.Frame
	}{
		{"HelloRetryRequest", c.HelloRetryFrame},
		{"ServerHello", c.ServerHelloFrame},
		{"Certificate", c.CertificateFrame},
		{"ServerKeyExchange", c.ServerKeyExchangeFrame},
		{"CertificateRequest", c.CertificateRequestFrame},
		{"ChangeCipherSpec", c.ServerSide.ChangeCipherSpec},
	} {
		if m.f.Number != 0 && m.f.Number < n && m.f.Number >= best.Number {
			best, name = m.f, m.name
		}
	}
	return name, best
}

// gaveUpBeforeAnswer explains a client that closed (FIN or RST) before
// the server's answer to its ClientHello arrived: the server answered,
// late, and what the client's system sends then (a RST to bytes reaching
// a closed connection) is no verdict on them, least of all on the
// certificate. Retransmissions of the ClientHello say why it was late.
func (d *diagnosis) gaveUpBeforeAnswer() (Verdict, bool) {
	c, t := d.c, &d.c.TCP
	answer := d.serverHelloFrame()
	end, how := t.FIN[client], "FIN"
	if t.RST.Number != 0 && t.RSTFrom == client && (end.Number == 0 || t.RST.Number < end.Number) {
		end, how = t.RST, "RST"
	}
	if answer.Number == 0 || end.Number == 0 || end.Number > answer.Number || end.Number < d.helloFrame.Number {
		return Verdict{}, false
	}
	summary := fmt.Sprintf("the client gave up (%s, %s) %s after its ClientHello (%s), before the server's answer arrived (%s, %s after the ClientHello): the server answered too late, and nothing the client did after that judges the answer",
		how, frameRef(end.Number), d.waitFrom(d.helloFrame, end), frameRef(d.helloFrame.Number), frameRef(answer.Number), d.waitFrom(d.helloFrame, answer))
	evidence := []capture.Frame{d.helloFrame, end, answer}
	if p := c.Path; p != nil && p.HelloEnd > 0 {
		if rs := resentIn(p, client, p.HelloStart, p.HelloEnd); len(rs) > 0 {
			last := lastResend(rs)
			summary += fmt.Sprintf("; the client sent its ClientHello %s more (%s to %s): it was lost on the way, and the server got it late", prose.Count(resendCount(rs), "time"), frameRef(rs[0].First.Number), frameRef(last.Number))
			evidence = append(evidence, last)
		}
	}
	return verdict(ServerNoResponse, summary,
		"find where the ClientHello was delayed or lost (a congested or lossy path, a device that holds it), or give the client a longer timeout; the certificate is not what it refused",
		evidence...), true
}

// minRTO is the shortest time TCP waits before it sends a segment again
// (Linux's minimum retransmission timeout). Bytes sent again at least this
// long before the client closed were being lost while it waited; a copy
// of a segment microseconds after it is the capture's duplicate, not a
// loss.
const minRTO = 200 * time.Millisecond

// lossAfterHandshake warns of bytes after the ClientHello (the client's
// Finished, a request, an answer) that the path lost: sent again and
// again over at least minSilence, or still unacknowledged when the client
// closed (it sent them again after its FIN). A client that gave up
// meanwhile timed out on the network, not on TLS or the server.
func (d *diagnosis) lossAfterHandshake() string {
	c, p := d.c, d.c.Path
	if p == nil {
		return ""
	}
	fin := c.TCP.FIN[client]
	resp := c.Afterwards().Response
	answeredBeforeFIN := resp.Number != 0 && resp.Number < fin.Number
	for _, dir := range []capture.Direction{client, server} {
		for _, r := range p.Resent[dir] {
			if dir == client && r.Offset < p.HelloEnd {
				continue
			}
			span := r.Last.Time.Sub(r.First.Time)
			// Sent again after the FIN, and either before any answer
			// came or already sent again a while before the FIN: a
			// close_notify lost at the end of a good exchange, first
			// sent again after the FIN that followed it, is not it. An
			// answer to the request's first bytes (HTTP/2's SETTINGS)
			// does not make the rest delivered.
			afterFIN := dir == client && fin.Number != 0 && r.Last.Number > fin.Number &&
				(!answeredBeforeFIN || r.First.Number < fin.Number && fin.Time.Sub(r.First.Time) >= minRTO)
			// Across a step back of the capture's clock the span is not
			// known (its timestamps may even say negative): the resends
			// are not taken for a quick retransmission.
			if span < minSilence && !afterFIN && !c.SteppedBetween(r.First, r.Last) {
				continue
			}
			lost, cause := "packets were lost on the path", "the path's loss"
			if from, ok := d.rejectedBy(dir, r); ok {
				lost = fmt.Sprintf("they did not get through: %s answered them with ICMP errors", from)
				cause = fmt.Sprintf("the rejection at %s", from)
			}
			w := fmt.Sprintf("the %s's bytes at stream offset %d were sent %s more over %s (%s to %s): %s",
				dir, r.Offset, prose.Count(r.Count, "time"), d.waitFrom(r.First, r.Last), frameRef(r.First.Number), frameRef(r.Last.Number), lost)
			if afterFIN {
				w = fmt.Sprintf("the client's bytes at stream offset %d were still unacknowledged when it closed (FIN, %s): it sent them again after closing (%s): %s",
					r.Offset, frameRef(fin.Number), frameRef(r.Last.Number), lost)
			}
			// A client that gave up closes while its bytes are still
			// being sent again, not long after they got through.
			if end, who, how := d.closeAfter(r.First.Number - 1); who == client && end.Number != 0 && end.Time.Sub(r.Last.Time) < minSilence || afterFIN {
				if afterFIN {
					end, how = fin, "FIN"
				}
				w += fmt.Sprintf("; the client gave up (%s, %s): a client timeout here (curl's \"Operation timed out\", Go's \"Client.Timeout exceeded\") is %s, not TLS's or the server's doing",
					how, frameRef(end.Number), cause)
			}
			return w
		}
	}
	return ""
}

// rejectedBy names the sender of ICMP errors about dir's packets from the
// first sending of the resent bytes r on: they were answered, not lost.
func (d *diagnosis) rejectedBy(dir capture.Direction, r analysis.Resend) (netip.Addr, bool) {
	for _, e := range d.icmpAfterAccept(dir) {
		if e.Frame.Number >= r.First.Number {
			return e.From, true
		}
	}
	return netip.Addr{}, false
}
