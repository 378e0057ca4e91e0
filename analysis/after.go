package analysis

// After the handshake: the request, the answer, and session tickets told
// from an answer (see AfterHandshake).

import (
	"bytes"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// afterHandshake follows the request and the answer (see AfterHandshake).
// Server records after the request that look like session tickets are
// held back in ticketLike until finalize settles whether they were.
func (t *tracker) afterHandshake(d capture.Direction, it *tlsparse.Item, f capture.Frame, plain []byte) {
	c := t.c
	if c.After == nil {
		c.After = &AfterHandshake{}
	}
	a := c.After
	l := t.lateFacts()
	if plain != nil && a.Request.Number == 0 && d == capture.ClientToServer && bytes.HasPrefix(plain, []byte(http2Preface)) {
		l.http2 = true
	}
	line := firstLine
	if l.http2 && plain != nil {
		// HTTP/2: the records that carry only the connection's own
		// frames (the preface, SETTINGS) are neither the request nor
		// its answer.
		if d == capture.ClientToServer {
			a.MaxStream = max(a.MaxStream, h2MaxHeadersStream(plain))
		}
		if g := &a.GoAway[d]; g.Frame.Number == 0 {
			if code, last, ok := h2GoAwayCode(plain); ok {
				g.Frame, g.Code, g.LastStream = f, code, last
			}
		}
		exchange, block := h2Exchange(plain)
		if !exchange {
			return
		}
		line = func([]byte) string { return h2Line(block) }
	}
	t.turns(d, it, f, plain, line)
	switch {
	case d == capture.ClientToServer && plain == nil && c.Version.IsTLS13() && int(it.Record.Length) == encryptedAlertLength(c.Cipher) &&
		c.TCP.FIN[capture.ServerToClient].Number != 0 && c.TCP.FIN[capture.ServerToClient].Number < f.Number:
		// An alert-sized record after the server's FIN answers the close
		// (the client's close_notify): it is no request.
	case d == capture.ClientToServer:
		if a.Request.Number == 0 {
			a.Request, a.RequestLine = f, line(plain)
		}
	case a.Request.Number == 0:
		a.ServerFirst++
		if a.ServerFirst == 1 {
			l.firstLength = it.Record.Length
		}
	case a.Response.Number != 0 || l.afterNext.Number != 0:
	case plain == nil && t.ticketLike(it, f) && !l.ticketsBefore(it):
		if len(l.ticketLikes) < maxTicketLike {
			l.ticketLikes = append(l.ticketLikes, f)
			l.ticketLengths[len(l.ticketLikes)-1] = it.Record.Length
		} else {
			l.afterNext = f
		}
	case plain != nil:
		// Decrypted: tickets never get here, this is the answer.
		a.Response, a.ResponseLine = f, line(plain)
	default:
		l.afterNext = f
	}
}

// turns follows the client's turns and the server's records around its
// last one (AfterHandshake.Turns).
func (t *tracker) turns(d capture.Direction, it *tlsparse.Item, f capture.Frame, plain []byte, line func([]byte) string) {
	c, a := t.c, t.c.After
	if plain == nil && c.Version.IsTLS13() && int(it.Record.Length) == encryptedAlertLength(c.Cipher) {
		if a.AlertLike[d].Number == 0 {
			a.AlertLike[d] = f
		}
		return
	}
	a.AlertLike[d] = capture.Frame{}
	l := t.lateFacts()
	if d == capture.ServerToClient {
		l.lastServer = f
		if a.LastTurn.Number != 0 && a.AfterLastTurn.Number == 0 {
			a.AfterLastTurn = f
		}
		return
	}
	if a.Turns > 0 && l.lastServer.Number < a.LastTurn.Number {
		return // the turn goes on
	}
	a.Turns++
	a.LastTurn, a.LastTurnLine, a.BeforeLastTurn, a.AfterLastTurn = f, line(plain), l.lastServer, capture.Frame{}
}

// lateState follows a connection past its hellos.
type lateState struct {
	// ticketLikes are the server's records after the request that have
	// the size and timing of session tickets, and afterNext its first
	// record after the request that does not (see settleAfter).
	ticketLikes []capture.Frame
	afterNext   capture.Frame
	// lastServer is the server's last data record (see turns).
	lastServer capture.Frame
	// firstLength is the record length of the server's first record
	// before the request.
	firstLength int
	// ticketLengths are the record lengths of ticketLikes.
	ticketLengths [maxTicketLike]int
	// sslv2Records counts each direction's SSLv2 records after an SSLv2
	// SERVER-HELLO.
	sslv2Records [2]int
	// http2 is set when the client's first decrypted data is the HTTP/2
	// connection preface.
	http2 bool
	// inTLS and inTLSOff are tracker.proxy and proxyOff for the
	// decrypted application data (Connection.ProxyInTLS).
	inTLS    *proxyHead
	inTLSOff bool
	// nested reads what went through the tunnel an https:// proxy
	// granted inside the decrypted TLS (nested.go); nil otherwise.
	nested *tracker
}

// lateFacts returns t.late, allocating it.
func (t *tracker) lateFacts() *lateState {
	if t.late == nil {
		t.late = &lateState{}
	}
	return t.late
}

// ticketsBefore reports whether the server's tickets came before the
// request, so that its record after the request, of another length, is
// no ticket: a server sends its tickets of one flight at once, sealed
// alike (OpenSSL two, Go one), and when the request reached it after
// them — a capture at the server, or a client that waited — the short,
// quick answer that follows is the answer, not a ticket (and the
// silence after it a kept-alive connection's). The first record before
// the request must have a ticket's size (an HTTP/2 server's SETTINGS is
// shorter).
func (l *lateState) ticketsBefore(it *tlsparse.Item) bool {
	return l.firstLength >= minTicketLength && l.firstLength <= TicketMaxLength && it.Record.Length != l.firstLength
}

// maxTicketLike bounds the ticket-sized records held back; servers send
// one or two tickets.
const maxTicketLike = 4

// minTicketLength is the shortest record taken for a real ticket when
// telling tickets from the answer by size: OpenSSL's, Go's and
// BoringSSL's NewSessionTicket, encrypted, are 200 bytes or more.
const minTicketLength = 100

// TicketSilence is how long the server must stay silent after records of
// session-ticket size that followed the request before they are taken for
// tickets rather than a short, quick answer.
const TicketSilence = time.Second

// settleAfter decides, once the connection is over, whether the
// ticket-sized records after the request were session tickets: only when
// the server then stayed silent for TicketSilence or more (until its next
// record, a FIN or RST, or the connection's last frame). Otherwise the
// first of them was the answer.
func (t *tracker) settleAfter() {
	c := t.c
	a := c.After
	if a == nil || a.Response.Number != 0 || a.Request.Number == 0 {
		return
	}
	l := t.lateFacts()
	if len(l.ticketLikes) == 0 {
		a.Response = l.afterNext
		return
	}
	last := l.ticketLikes[len(l.ticketLikes)-1]
	end := l.afterNext
	if end.Number == 0 {
		end = c.Last
		for _, f := range []capture.Frame{c.TCP.RST, c.TCP.FIN[0], c.TCP.FIN[1]} {
			if f.Number > last.Number && f.Number < end.Number {
				end = f
			}
		}
	}
	if end.Time.Sub(last.Time) >= TicketSilence {
		// A server's tickets of one flight are records of one size
		// (the same state, sealed alike): the first record of another
		// size after them is the answer, and the silence that followed
		// a kept-alive connection's. Not when the first is too short
		// for a ticket, nor for a client that offered HTTP/2, whose
		// server sends short frames of its own (SETTINGS) before any
		// answer.
		n := len(l.ticketLikes)
		if l.ticketLengths[0] >= minTicketLength && (c.ClientHello == nil || !slices.Contains(c.ClientHello.ALPN, "h2")) {
			for i := 1; i < n; i++ {
				if l.ticketLengths[i] != l.ticketLengths[0] {
					n = i
					break
				}
			}
		}
		if n < len(l.ticketLikes) {
			a.Tickets, a.Response = n, l.ticketLikes[n]
			a.TicketFrames = slices.Clone(l.ticketLikes[:n])
			return
		}
		a.Tickets, a.Response = len(l.ticketLikes), l.afterNext
		a.TicketFrames = slices.Clone(l.ticketLikes)
		return
	}
	a.Response = l.ticketLikes[0]
}

// ticketLike reports whether a TLS 1.3 server record that could not be
// opened looks like a NewSessionTicket by size and timing.
func (t *tracker) ticketLike(it *tlsparse.Item, f capture.Frame) bool {
	c := t.c
	fin := c.ClientSide.Finished
	if !c.Version.IsTLS13() || it.Record.Length > TicketMaxLength || fin.Number == 0 {
		return false
	}
	window := 10 * time.Millisecond
	if c.ServerHelloFrame.Number != 0 && c.ClientHelloFrame.Number != 0 {
		window = max(window, 2*c.ServerHelloFrame.Time.Sub(c.ClientHelloFrame.Time))
	}
	return f.Time.Sub(fin.Time) <= window
}

// firstLine returns the first line of decrypted application data when it
// is printable text (an HTTP/1.x request or status line), cut to
// MaxLineLength bytes; "" otherwise.
func firstLine(plain []byte) string {
	if i := bytes.IndexByte(plain, '\n'); i >= 0 {
		plain = plain[:i]
	}
	plain = bytes.TrimRight(plain, "\r")
	if len(plain) > MaxLineLength {
		plain = plain[:MaxLineLength]
	}
	for _, b := range plain {
		if b < 0x20 || b > 0x7e {
			return ""
		}
	}
	return string(plain)
}
