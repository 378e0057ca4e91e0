package diagnose

// Heartbleed (CVE-2014-0160): OpenSSL 1.0.1 to 1.0.1f answered a heartbeat
// request (RFC 6520) with as many payload bytes as the request claimed,
// read from its own memory past the request's. The attack tools of 2014
// send one request claiming up to 64 KB in a record of a few dozen bytes,
// in plaintext in the middle of the handshake or encrypted right after
// it. A patched OpenSSL, and every other stack, discards a request whose
// claim leaves no room for the 16 bytes of padding the RFC requires
// (Section 4), silently: any answer to such a request shows the bug. The
// client is an attack tool or a scanner, not a client judging the
// server's certificate, so the verdict comes before the certificate's.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Heartbleed: the client sent a Heartbleed request
const Heartbleed Category = "heartbleed"

var heartbleedCategory = categorySpec{
	name:      Heartbleed,
	meaning:   "the client is a Heartbleed (CVE-2014-0160) probe or exploit: it sent a heartbeat request claiming a longer payload than its record carries (certain, in plaintext), or an encrypted one the server answered with more bytes than it sent (the sizes show it), or, likely, an encrypted one as the first thing after the handshake that got no answer; says whether the server answered, and so is vulnerable and leaked its memory, with the frames and sizes; an ordinary heartbeat answered alike is no attack",
	serverFix: "upgrade OpenSSL to 1.0.1g or later (or rebuild it with `-DOPENSSL_NO_HEARTBEATS`) and restart what uses it; if the server answered: a new key and certificate, the old one revoked, session ticket keys and passwords rotated",
	unprobed:  "the probe never sends heartbeats",
	rule:      (*diagnosis).heartbleed,
}

// heartbleedFix is the fix for a server that answered: its memory, the
// private key among it, may have been read.
const heartbleedFix = "upgrade OpenSSL on the server to 1.0.1g or later (or rebuild it with `-DOPENSSL_NO_HEARTBEATS`) and restart every process that uses it; then, since its private key may have leaked, make a new key and certificate and have the old certificate revoked, and rotate the session ticket keys and the passwords and session cookies users sent to the server"

// heartbleed is heartbleed's rule: the client's first heartbeat record
// is a Heartbleed request, and the server's heartbeat records after it, if
// any, its answer.
func (d *diagnosis) heartbleed() (Verdict, bool) {
	c := d.c
	req, resp := c.HeartbeatsFrom(client), c.HeartbeatsFrom(server)
	q := req.First
	if req.Records == 0 || resp.Records > 0 && resp.First.Frame.Number < q.Frame.Number {
		// None, or the server's ping and the client's answer (gnutls-serv
		// pings a client that types **HEARTBEAT**).
		return Verdict{}, false
	}
	answered := resp.Records > 0
	a := resp.First
	larger := answered && a.Length > q.Length
	frames := []capture.Frame{q.Frame}
	if answered {
		frames = append(frames, a.Frame)
	}
	where := d.heartbeatWhen(q.Frame)
	reqText := fmt.Sprintf("a heartbeat request (%s, %s, %s)", frameRef(q.Frame.Number), prose.Count(q.Length, "byte"), where)
	answer := fmt.Sprintf("with a heartbeat record of %s (%s)", prose.Count(a.Length, "byte"), frameRef(a.Frame.Number))
	if resp.Records > 1 {
		answer = fmt.Sprintf("with %d heartbeat records, %s in all (the first, %s, of %s)", resp.Records, prose.Count(resp.Bytes, "byte"), frameRef(a.Frame.Number), prose.Count(a.Length, "byte"))
	}
	var summary string
	switch {
	case !q.Encrypted && q.Message.Type == tlsparse.HeartbeatRequest && q.Message.PayloadLength+3+tlsparse.HeartbeatMinPadding > q.Length:
		carried := q.Length - 3
		summary = fmt.Sprintf("the client is a Heartbleed (CVE-2014-0160) probe or exploit: it sent %s in plaintext claiming a payload of %s, while the record carries %s after the message's header and RFC 6520 requires 16 more bytes of padding: a request no client makes (certain: the claim is read from the record)",
			reqText, prose.Count(q.Message.PayloadLength, "byte"), prose.Count(carried, "byte"))
		switch over := q.Message.PayloadLength - carried; {
		case answered && over > 0:
			summary += fmt.Sprintf("; the server answered it %s: it leaked up to %s of its memory past the request's payload, as only OpenSSL 1.0.1 to 1.0.1f does (a patched server discards such a request silently): the server is vulnerable", answer, prose.Count(over, "byte"))
		case answered:
			summary += fmt.Sprintf("; the server answered it %s, where a patched server discards it silently: the server runs a vulnerable OpenSSL (1.0.1 to 1.0.1f); this request claimed no more than its record held (it only left out the padding), so the answer could hold only the request's own bytes, but one claiming more (up to 64 KB) gets as much of the server's memory", answer)
		default:
			summary += "; " + d.heartbeatUnanswered(q.Frame)
		}
	case q.Encrypted && larger:
		extra, than := resp.Bytes-req.Bytes, "the request"
		if req.Records > 1 {
			than = fmt.Sprintf("the client's %d requests", req.Records)
		}
		summary = fmt.Sprintf("the client is a Heartbleed (CVE-2014-0160) exploit and the server is vulnerable (the sizes show it: the heartbeats are encrypted): the client sent %s, and the server answered %s, %s more than %s; a patched server never answers with more than the request it echoes, only OpenSSL 1.0.1 to 1.0.1f does, to a request claiming more than it carries; ",
			reqText, answer, prose.Count(extra, "byte"), than)
		if extra > heartbeatSlack {
			summary += fmt.Sprintf("an answer this much larger carries about %s of the server's memory the request never sent", prose.Count(extra, "byte"))
		} else {
			summary += "so small an excess may be only the padding the answer adds to a request that left its own out, so whether memory leaked is not known from the sizes"
		}
	case !q.Encrypted && q.Message.Type == tlsparse.HeartbeatRequest && larger:
		summary = fmt.Sprintf("the client is a Heartbleed (CVE-2014-0160) exploit and the server leaked its memory: it answered %s %s, more than the request carried, as only OpenSSL 1.0.1 to 1.0.1f does: the server is vulnerable", reqText, answer)
	case q.Encrypted && !answered && c.ClientSide.AppData.Records == 0:
		summary = fmt.Sprintf("Likely: the client is a Heartbleed (CVE-2014-0160) probe: it sent %s as the first thing after the handshake, before any data, as the 2014 scanners do; its claimed length is encrypted, so this rests on that timing and on the missing answer (possible: a keep-alive heartbeat of a client that sent nothing else); %s",
			reqText, d.heartbeatUnanswered(q.Frame))
	default:
		// An ordinary heartbeat exchange: answered with as many bytes.
		return Verdict{}, false
	}
	fix := heartbleedFix
	if !answered {
		who := "is an attack tool or scanner"
		if q.Encrypted {
			who = "is likely a scanner (see above)"
		}
		fix = fmt.Sprintf("nothing this capture proves on the server; if its OpenSSL is 1.0.1 to 1.0.1f, upgrade it to 1.0.1g or later (or rebuild it with `-DOPENSSL_NO_HEARTBEATS`); %s %s", c.Client.Addr(), who)
	}
	return verdict(Heartbleed, summary, fix, frames...), true
}

// heartbeatSlack is how much larger than an encrypted request an answer
// may be without holding memory: the 16 bytes of padding the answer adds
// to a request that carried none, and a cipher block.
const heartbeatSlack = tlsparse.HeartbeatMinPadding + 16

// heartbeatWhen says where in the connection a client heartbeat at f came.
func (d *diagnosis) heartbeatWhen(f capture.Frame) string {
	c := d.c
	switch {
	case c.HandshakeDone.Number == 0 || f.Number < c.HandshakeDone.Number:
		return "in the middle of the handshake"
	case c.ClientSide.AppData.Records == 0 || f.Number < c.ClientSide.AppData.First.Number:
		return "right after the handshake, encrypted"
	}
	return "encrypted, after application data"
}

// heartbeatUnanswered says what the server did instead of answering the
// heartbeat request at f.
func (d *diagnosis) heartbeatUnanswered(f capture.Frame) string {
	c := d.c
	for _, al := range c.Alerts {
		if al.Sender == server && al.Frame.Number > f.Number {
			return fmt.Sprintf("the server sent no heartbeat back but an alert (%s): not shown vulnerable by this capture", frameRef(al.Frame.Number))
		}
	}
	return "the server sent no heartbeat back: not shown vulnerable by this capture"
}
