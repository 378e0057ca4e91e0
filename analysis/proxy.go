package analysis

import (
	"bytes"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Proxy is the proxy negotiation that opened a connection: an HTTP CONNECT
// or a SOCKS request and the proxy's reply. The TLS that follows, if any,
// is the client's, tunnelled to Target; Client and Server of the record are
// the client and the proxy.
type Proxy struct {
	proxyparse.Exchange
	// RequestFrame completed the client's request; ReplyFrame the reply
	// that decided the outcome (zero when there was none).
	RequestFrame capture.Frame
	ReplyFrame   capture.Frame
	// TLS is, for an https:// proxy whose TLS a key log opened and whose
	// tunnel carried the client's TLS to Target, the handshake with the
	// proxy itself; the record's TLS fields are the target's handshake.
	// Nil for a proxy spoken to in plaintext.
	TLS *ProxyTLS
}

// proxyHead keeps the first bytes of both directions of a connection that
// opened like a proxy request, until the negotiation is over: at most
// proxyparse.MaxHead bytes a direction.
type proxyHead struct {
	b      [2][]byte
	chunks [2][]chunk
}

// watchProxy reads the start of a connection for a proxy negotiation. It
// is called with each direction's bytes before they go to the TLS decoder,
// at stream offset off. Only a connection whose SYN was seen is watched:
// the client must be known, and its first bytes must be in the capture.
func (t *tracker) watchProxy(d capture.Direction, b []byte, off int64, f capture.Frame) {
	if t.proxyOff {
		return
	}
	ph := t.proxy
	if ph == nil {
		if !t.conn.ClientKnown || d != capture.ClientToServer || off != 0 || !proxyparse.Starts(b) {
			t.proxyOff = true
			return
		}
		ph = &proxyHead{}
		t.proxy = ph
	}
	if off != int64(len(ph.b[d])) || len(ph.b[d]) >= proxyparse.MaxHead {
		// A gap, or more than a negotiation needs: judge by what is held.
		t.endProxy()
		return
	}
	take := b[:min(len(b), proxyparse.MaxHead-len(ph.b[d]))]
	ph.b[d] = append(ph.b[d], take...)
	ph.chunks[d] = append(ph.chunks[d], chunk{end: int64(len(ph.b[d])), frame: f})
	x, ok := proxyparse.Parse(ph.b[capture.ClientToServer], ph.b[capture.ServerToClient])
	if !ok {
		t.c.Proxy = nil
		t.endProxy()
		return
	}
	p := &Proxy{Exchange: x}
	p.RequestFrame = frameAtEnd(ph.chunks[capture.ClientToServer], x.RequestEnd)
	p.ReplyFrame = frameAtEnd(ph.chunks[capture.ServerToClient], statusEnd(x, ph.b[capture.ServerToClient]))
	t.c.Proxy = p
	// An HTTP reply is waited for to the end of its header block: a
	// tunnel starts after it, and a 407's challenges are in it. A proxy
	// may write the status line and the fields in separate segments.
	// After a 407 the client may authenticate on the same connection
	// (another CONNECT): the watch goes on.
	if x.RequestEnd > 0 && x.ReplyEnd > 0 && !x.ReplyPartial && x.Outcome != proxyparse.Unanswered && x.Outcome != proxyparse.AuthRequired {
		if x.Outcome == proxyparse.Granted {
			t.tunnelAt = int64(x.ReplyEnd)
		}
		t.endProxy()
	}
}

// watchProxyInTLS reads the decrypted application data of a connection
// for an HTTP CONNECT exchange, as an https:// proxy carries it inside its
// own TLS: the client's first decrypted bytes must be a CONNECT request.
// plain is one record's plaintext from direction d, in frame f. SOCKS
// inside TLS is not looked for.
func (t *tracker) watchProxyInTLS(d capture.Direction, plain []byte, f capture.Frame) {
	if len(plain) == 0 {
		return
	}
	l := t.lateFacts()
	if l.inTLSOff {
		return
	}
	ph := l.inTLS
	if ph == nil {
		if d != capture.ClientToServer {
			return // the server's before the client's first bytes
		}
		if !bytes.HasPrefix(plain, []byte("CONNECT ")) {
			l.inTLSOff = true
			return
		}
		ph = &proxyHead{}
		l.inTLS = ph
	}
	if len(ph.b[d]) >= proxyparse.MaxHead {
		l.inTLS, l.inTLSOff = nil, true
		return
	}
	ph.b[d] = append(ph.b[d], plain[:min(len(plain), proxyparse.MaxHead-len(ph.b[d]))]...)
	ph.chunks[d] = append(ph.chunks[d], chunk{end: int64(len(ph.b[d])), frame: f})
	x, ok := proxyparse.Parse(ph.b[capture.ClientToServer], ph.b[capture.ServerToClient])
	if !ok || x.Kind != proxyparse.KindHTTPConnect {
		t.c.ProxyInTLS = nil
		l.inTLS, l.inTLSOff = nil, true
		return
	}
	t.c.ProxyInTLS = &Proxy{Exchange: x,
		RequestFrame: frameAtEnd(ph.chunks[capture.ClientToServer], x.RequestEnd),
		ReplyFrame:   frameAtEnd(ph.chunks[capture.ServerToClient], statusEnd(x, ph.b[capture.ServerToClient]))}
	if x.RequestEnd > 0 && x.ReplyEnd > 0 && !x.ReplyPartial && x.Outcome != proxyparse.Unanswered {
		l.inTLS, l.inTLSOff = nil, true
		if x.Outcome == proxyparse.Granted && len(ph.b[d]) < proxyparse.MaxHead {
			t.openTunnel(ph, x, d, plain, f)
		}
	}
}

// openTunnel starts reading the tunnel an https:// proxy granted in the
// decrypted exchange x, whose bytes ph holds, decided by plain, the
// plaintext of direction d's record in frame f: the bytes of both
// directions past the exchange are the first the tunnel carried. A
// direction whose bytes ph could not all hold leaves the tunnel unread.
func (t *tracker) openTunnel(ph *proxyHead, x proxyparse.Exchange, d capture.Direction, plain []byte, f capture.Frame) {
	held := ph.b[capture.ClientToServer]
	if len(held) >= proxyparse.MaxHead {
		return
	}
	n := t.nestedTracker(t.c.ProxyInTLS)
	t.late.nested = n
	// The client's bytes past its request came before the reply (a
	// client that did not wait for it), in the frames that carried them.
	from := x.RequestEnd
	for _, ch := range ph.chunks[capture.ClientToServer] {
		if end := int(ch.end); end > from {
			n.tunnelData(capture.ClientToServer, held[from:end], ch.frame)
			from = end
		}
	}
	// The server's: the rest of the record that ended the reply.
	if d == capture.ServerToClient {
		if rest := len(ph.b[d]) - x.ReplyEnd; rest > 0 && rest <= len(plain) {
			n.tunnelData(d, plain[len(plain)-rest:], f)
		}
	}
}

// statusEnd is the offset in the server's bytes b just past what decided
// x's outcome: an HTTP reply's status line (the frame Wireshark labels
// with it, even when the header fields come in later segments), a SOCKS
// reply whole; 0 without a reply.
func statusEnd(x proxyparse.Exchange, b []byte) int {
	if x.ReplyEnd == 0 || x.Kind != proxyparse.KindHTTPConnect {
		return x.ReplyEnd
	}
	if i := bytes.IndexByte(b[x.ReplyStart:x.ReplyEnd], '\n'); i >= 0 {
		return x.ReplyStart + i + 1
	}
	return x.ReplyEnd
}

// tunnelStart reads the first byte the proxy's side sent through the
// tunnel it opened, in b at stream offset off. What is not a TLS record
// (nor SSLv2) is the server side's NonTLS: a filtering proxy's block page
// written into a tunnel it has just granted, or a target that speaks
// plaintext. The TLS decoder, still passing over the proxy's reply,
// would take it for more of it.
func (t *tracker) tunnelStart(b []byte, off int64, f capture.Frame) {
	at := t.tunnelAt - off
	if at >= int64(len(b)) {
		return
	}
	t.tunnelAt = 0
	if at < 0 {
		return
	}
	t.tunnelFirst(b[at:], f)
}

// tunnelFirst reads first, the first bytes the proxy's side sent through
// a tunnel, in frame f (tunnelStart).
func (t *tracker) tunnelFirst(first []byte, f capture.Frame) {
	if c := first[0]; c-20 <= 4 || c&0x80 != 0 {
		return
	}
	if side := &t.c.ServerSide; side.NonTLS == nil {
		side.NonTLS = &NonTLS{Frame: f, Looks: tlsparse.DescribeNonTLS(first[:min(len(first), 256)])}
	}
}

// endProxy stops watching and lets the held bytes go.
func (t *tracker) endProxy() {
	t.proxy, t.proxyOff = nil, true
}

// frameAtEnd returns the frame that carried byte end-1 of a head; the zero
// Frame for end 0.
func frameAtEnd(cs []chunk, end int) capture.Frame {
	if end <= 0 {
		return capture.Frame{}
	}
	for _, c := range cs {
		if c.end >= int64(end) {
			return c.frame
		}
	}
	return capture.Frame{}
}

// proxyDecided reports whether the proxy answered the request with
// anything but an open tunnel or a 407: the connection's outcome is then
// known.
func (c *Connection) proxyDecided() bool {
	p := c.Proxy
	// A 407 decides nothing yet: the client may answer the challenge
	// with another CONNECT on the same connection.
	return p != nil && p.ReplyEnd > 0 && p.Outcome != proxyparse.Granted && p.Outcome != proxyparse.Unanswered && p.Outcome != proxyparse.AuthRequired
}

// viaProxy reports whether the connection asked a proxy for a tunnel that
// is meant for TLS: every HTTP CONNECT (clients use it for https:// URLs;
// plain http:// goes through a proxy without it), and a SOCKS request to
// a TLS port.
func (c *Connection) viaProxy(tlsPort func(uint16) bool) bool {
	p := c.Proxy
	if p == nil {
		return false
	}
	return p.Kind == proxyparse.KindHTTPConnect || tlsPort(p.Port)
}
