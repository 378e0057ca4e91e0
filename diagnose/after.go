package diagnose

// What the application did after a completed handshake: a request that
// got no answer is not a TLS failure, but it is what the user is looking
// at when a client reports a timeout.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// minSilence is how long the server must have stayed silent after a
// request before the silence is reported: a client that hangs up sooner
// gave up (or never waited), the server did not hang.
const minSilence = time.Second

// unanswered describes a request the server never answered: the server
// sent no application data after it (session tickets aside) and either
// someone closed the connection or the capture ended, at least minSilence
// later — or the server closed without answering. It returns the
// finding (its summary, headline and evidence) and whether it applies.
func (d *diagnosis) unanswered() (afterFinding, bool) {
	c := d.c
	a := c.Afterwards()
	req := a.Request
	if req.Number == 0 || a.Response.Number != 0 {
		return afterFinding{}, false
	}
	if u := c.Tail(server); u.Bytes > 0 && u.First.Number > req.Number {
		// The server's bytes after the request, in a record the capture
		// does not hold whole, began an answer: the capture ends inside
		// it (or missed the rest), which is no silence of the server.
		return afterFinding{}, false
	}
	what := requestName(req, a.RequestLine)
	tickets := ""
	if n := a.Tickets; n > 0 {
		tickets = fmt.Sprintf(" (%s of session-ticket size came right after the request, %s: taken for NewSessionTicket by size, timing and the silence after it; were it a short answer instead, the client merely kept the connection idle)",
			prose.Count(n, "record"), frameRef(a.TicketFrames[0].Number))
	}
	end, who, how := d.closeAfter(req.Number)
	if r := renegotiationStart(c); r.Number > req.Number && (end.Number == 0 || r.Number <= end.Number) {
		// What followed the request answered a renegotiation, which
		// renegotiation describes: neither a silence nor a close.
		return afterFinding{}, false
	}
	var s, headline string
	switch {
	case end.Number != 0 && who == server && (how == "FIN" || how == "RST") && c.Proxy != nil && c.Proxy.Outcome == proxyparse.Granted:
		// A server that closes says so in TLS first (close_notify), which
		// the proxy would carry; a tunnel cut bare is the proxy's doing
		// as a rule.
		s = fmt.Sprintf("TLS is fine; nothing came back after %s, and the proxy %s closed the tunnel (%s, %s) %s later without a TLS close_notify "+
			"(likely: the proxy cut the tunnel, its idle or read timeout being shorter than the server takes to answer (Squid: read_timeout; a corporate proxy's tunnel idle timeout) — a server that closes sends close_notify first, and the proxy would have carried it; "+
			"less likely, the server's program stopped without closing TLS): compare with the proxy's log and with a request that bypasses it%s",
			what, c.Server, how, frameRef(end.Number), d.waitFrom(req, end), tickets)
		headline = "proxy cut the tunnel"
	case end.Number != 0 && who == server:
		s = fmt.Sprintf("TLS is fine; the server sent nothing after %s and closed the connection (%s, %s) %s later: the server application dropped the request — look at the server's log, not at TLS%s%s",
			what, how, frameRef(end.Number), d.waitFrom(req, end), d.h2OnlyHint(req, end), tickets)
		headline = "server dropped request"
	case end.Number != 0:
		silence := end.Time.Sub(req.Time)
		if silence < minSilence {
			return afterFinding{}, false
		}
		s = fmt.Sprintf("TLS is fine; the server sent nothing after %s for %s, then the client closed (%s, %s): the server application did not answer — look at the server, not at TLS%s",
			what, wait(silence), how, frameRef(end.Number), tickets)
		headline = "no answer to request"
	default:
		end = c.Last
		silence := end.Time.Sub(req.Time)
		if silence < minSilence {
			return afterFinding{}, false
		}
		s = fmt.Sprintf("TLS is fine; the server sent nothing after %s until the connection's last frame (%s), %s later: the server application did not answer — look at the server, not at TLS%s",
			what, frameRef(end.Number), wait(silence), tickets)
		headline = "no answer to request"
	}
	warn := fmt.Sprintf("no answer to the client's request (%s): a client timeout after a good handshake (Go's \"Client.Timeout exceeded while awaiting headers\", curl's \"Operation timed out\") is the server application's (or a proxy's behind it) doing, not TLS's", frameRef(req.Number))
	return afterFinding{headline: headline, summary: s, warning: warn, evidence: []capture.Frame{req, end}}, true
}

// h2OnlyHint names a server that speaks HTTP/2 alone as a possible cause
// of a request dropped at once (the server closing within a second of
// it, req to end) when the client offered no ALPN h2: it spoke HTTP/1.1,
// which such a server cannot read. crypto/tls lets a client that offers
// http/1.1 (or no ALPN) in without a protocol instead of refusing it
// with no_application_protocol (testdata/field/h2/go_http11_to_h2only).
// A server that selected a protocol (seen in TLS 1.2, or with a key log)
// rules it out. It returns "" when it does not apply.
func (d *diagnosis) h2OnlyHint(req, end capture.Frame) string {
	h := d.hello
	// HTTP/2 over TLS wants TLS 1.2 at least (RFC 9113).
	if h == nil || d.c.ALPN != "" || d.c.Version < tlsparse.VersionTLS12 || end.Time.Sub(req.Time) > time.Second {
		return ""
	}
	if len(h.ALPN) > 1 || len(h.ALPN) == 1 && h.ALPN[0] != "http/1.1" {
		return ""
	}
	return fmt.Sprintf("; possible, if the server speaks HTTP/2 alone (a gRPC server, or Go's net/http with HTTP/1 off): the client offered %s, not h2, so it spoke HTTP/1.1, which such a server drops, and Go's crypto/tls lets such a client in without a protocol rather than refusing it (no_application_protocol). "+
		"Go's net/http client offers no ALPN when its Transport has a TLSClientConfig of its own: set the Transport's ForceAttemptHTTP2 (curl: drop --http1.1)", alpnOffer(h))
}

// requestName names the client's request at frame req, with its
// request line when a key log showed it.
func requestName(req capture.Frame, line string) string {
	if line == "" {
		return "the client's request (" + frameRef(req.Number) + ")"
	}
	return fmt.Sprintf("the client's request %q (%s)", line, frameRef(req.Number))
}

// encryptedCloseText names a TLS 1.3 record no key log opened whose
// length is that of an encrypted alert, taken for the sender's close
// (Afterwards().AlertLike).
const encryptedCloseText = "an encrypted alert by its size, close_notify as a rule"

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

// afterFinding is what went wrong after a good handshake: its summary,
// the few words a table shows for it (headline; the summary's first
// clause, "TLS is fine", would not tell it from a connection that
// worked), a warning, the fix, and its evidence.
type afterFinding struct {
	headline, summary, warning, fix string
	evidence                        []capture.Frame
}

// minIdle is the shortest time a connection must have been idle before
// the request for its close to be taken for an idle timeout's: servers'
// keep-alive timeouts are seconds to minutes.
const minIdle = 500 * time.Millisecond

// idleClosed returns the idle close, if the connection ended in one: a
// request sent on a kept-alive connection just as the server closed it
// for being idle, the commonest failure of an HTTPS client whose TLS is
// fine (Go: "EOF", "http: server closed idle connection"; Python:
// "RemoteDisconnected"; HTTP/2: "server sent GOAWAY"). The client reused
// the connection after an idle time close to the server's keep-alive
// timeout; the server's close (its close_notify or FIN, or under HTTP/2
// its GOAWAY) either came before the request in the capture — a capture
// at the server's end — or came less than the connection's round trip
// after it, which is too soon to answer it: the two crossed on the wire.
// The server's TCP then answers the request with a RST. A close must
// come less than nine tenths of the round trip after the request to
// count as crossing it (the margin is for jitter).
func (d *diagnosis) idleClosed() (afterFinding, bool) {
	c := d.c
	a := c.Afterwards()
	req := a.LastTurn
	if a.Turns < 2 || req.Number == 0 || a.BeforeLastTurn.Number == 0 || a.Response.Number == 0 {
		return afterFinding{}, false
	}
	end, how := d.serverClose(a.BeforeLastTurn.Number)
	if end.Number == 0 {
		return afterFinding{}, false
	}
	rtt, _ := roundTrip(&c.TCP) // 0 without one: no close counts as soon
	if w, ok := c.Elapsed(a.BeforeLastTurn, req); !ok || w < minIdle {
		return afterFinding{}, false // not idle: the close answered something else
	}
	soon := func(f capture.Frame) bool {
		gap, ok := c.Elapsed(req, f)
		return ok && rtt >= minRoundTrip && gap >= 0 && gap < rtt-rtt/10
	}
	closedFirst := end.Number < req.Number
	if !closedFirst && !soon(end) {
		return afterFinding{}, false
	}
	if n := a.AfterLastTurn; n.Number != 0 && !closedFirst && !soon(n) {
		return afterFinding{}, false // the server answered the request
	}
	what := requestName(req, a.LastTurnLine)
	idle := ""
	if w, ok := c.Elapsed(a.BeforeLastTurn, req); ok {
		idle = fmt.Sprintf(", idle for %s since the server's last data (%s)", wait(w), frameRef(a.BeforeLastTurn.Number))
	}
	timeout := ""
	if w, ok := c.Elapsed(a.BeforeLastTurn, end); ok {
		timeout = fmt.Sprintf(" %s after its last data", wait(w))
	}
	if r := d.response; r != nil && r.Decrypted {
		// The server's own word on its timeout (Node.js, Apache send it),
		// from an answer a key log opened.
		if n := statedTimeout(r.KeepAlive); n >= 0 {
			timeout += fmt.Sprintf(" (its answers state 'Keep-Alive: %s', %s: an idle timeout of %d s)", r.KeepAlive, frameRef(r.Frame.Number), n)
		}
	}
	goAway := ""
	if g := a.GoAway[server]; g.Frame.Number != 0 && g.Frame.Number > a.BeforeLastTurn.Number {
		goAway = fmt.Sprintf(", after an HTTP/2 GOAWAY %s with last stream ID %d (%s, opened with the key log): streams above %d were not processed", g.Code, g.LastStream, frameRef(g.Frame.Number), g.LastStream)
	} else if n := a.AfterLastTurn; n.Number != 0 && (c.ALPN == "h2" || c.ALPN == "" && d.hello != nil && slices.Contains(d.hello.ALPN, "h2")) {
		goAway = fmt.Sprintf(", after a record of its own (%s: under HTTP/2, its GOAWAY as a rule; a key log would show its last stream ID)", frameRef(n.Number))
	}
	clientErr := `Go's "EOF" or "http: server closed idle connection", Python's "RemoteDisconnected", "connection reset by peer" or "broken pipe"`
	if goAway != "" {
		clientErr = `Go's "http2: server sent GOAWAY and closed the connection" or, for a body it cannot replay, "cannot retry err [http2: Transport received Server's graceful shutdown GOAWAY] after Request.Body was written"`
	}
	var race string
	if closedFirst {
		race = fmt.Sprintf("the server had closed the connection (%s, %s)%s%s before the request reached it: certain, the capture shows the close first",
			how, frameRef(end.Number), timeout, goAway)
	} else {
		gap, _ := c.Elapsed(req, end)
		race = fmt.Sprintf("the server closed the connection (%s, %s)%s%s, and that close came %s after the request, less than the connection's round trip (%s, SYN to SYN-ACK): the server sent it before the request could reach it, so the two crossed on the wire (certain, by that timing)",
			how, frameRef(end.Number), timeout, goAway, wait(gap), wait(rtt))
	}
	rst := ""
	ev := []capture.Frame{a.BeforeLastTurn, req, end}
	if t := &c.TCP; t.RST.Number > req.Number && t.RSTFrom == server {
		rst = fmt.Sprintf("; the server's TCP answered the request with a RST (%s): nothing read from that connection any more", frameRef(t.RST.Number))
		ev = append(ev, t.RST)
	}
	s := fmt.Sprintf("TLS is fine; the client reused a kept-alive connection for %s%s, and %s%s — the server closed the idle connection as the client reused it (its keep-alive idle timeout: nginx keepalive_timeout, Apache KeepAliveTimeout, Node.js server.keepAliveTimeout (5 s by default), a load balancer's or proxy's idle timeout in front of it), not a server that dropped the request; the client's error is %s",
		what, idle, race, rst, clientErr)
	warn := fmt.Sprintf("the server closed a kept-alive connection as the client reused it (%s): a client retries such a request by itself only when it is idempotent and has no body it cannot replay (Go: GET, HEAD, OPTIONS, TRACE, or a request with an Idempotency-Key header; a POST fails)", frameRef(req.Number))
	fix := d.serverSide("make the client stop reusing an idle connection before the server closes it: a client idle timeout shorter than the server's (Go: http.Transport.IdleConnTimeout, 90 s by default; libcurl: CURLOPT_MAXAGE_CONN, 118 s by default; Python requests and urllib3 have none and reuse until the server closes), and retry requests that failed on a reused connection when they are safe to repeat (Go: set Request.GetBody and an Idempotency-Key header); or keep idle connections open longer than the clients do", ChangeKeepAlive)
	return afterFinding{headline: "request hit idle close", summary: s, warning: warn, fix: fix, evidence: ev}, true
}

// serverClose returns the server's first sign of closing after frame n:
// an alert (close_notify as a rule), a TLS 1.3 record of an encrypted
// alert's size, or its FIN; and how to name it.
func (d *diagnosis) serverClose(n int64) (capture.Frame, string) {
	c := d.c
	var f capture.Frame
	how := ""
	consider := func(g capture.Frame, h string) {
		if g.Number > n && (f.Number == 0 || g.Number < f.Number) {
			f, how = g, h
		}
	}
	for _, a := range c.Alerts {
		if a.Sender == server {
			h := alertText(a)
			if !a.Known() {
				h += ", close_notify as a rule"
			}
			consider(a.Frame, h)
		}
	}
	if g := c.Afterwards().AlertLike[server]; g.Number != 0 && c.TCP.FIN[server].Number >= g.Number {
		consider(g, encryptedCloseText)
	}
	consider(c.TCP.FIN[server], "FIN")
	return f, how
}

// goAwayRefused describes an HTTP/2 GOAWAY that refused requests the
// client had already sent: a key log opened the server's GOAWAY
// (NO_ERROR, a graceful close) and the client's HEADERS frames, and the
// client had opened streams above the GOAWAY's last stream ID. Those the
// server did not process (RFC 9113, Section 6.8) and the client may send
// again; a client that cannot replay their bodies fails them.
func (d *diagnosis) goAwayRefused() (afterFinding, bool) {
	a := d.c.Afterwards()
	g := a.GoAway[server]
	if g.Frame.Number == 0 || g.Code != 0 || a.MaxStream <= g.LastStream {
		return afterFinding{}, false
	}
	served := ""
	if g.LastStream > 0 && g.LastStream%2 == 1 {
		served = fmt.Sprintf(", after %s on the connection (streams 1 to %d)", prose.Count(int(g.LastStream+1)/2, "request"), g.LastStream)
	}
	s := fmt.Sprintf("TLS is fine; the server sent an HTTP/2 GOAWAY NO_ERROR with last stream ID %d (%s, opened with the key log)%s, while the client had sent requests on streams up to %d: those above %d were refused unprocessed — a graceful close by the server: its limit of requests per connection (nginx keepalive_requests, 1000 by default; http2_max_requests before nginx 1.19.7) or a shutdown or reload; the server processed none of them, so they are safe to send again on a new connection, which a client does by itself only for a request it can replay (Go's error for a body it cannot: \"cannot retry err [http2: Transport received Server's graceful shutdown GOAWAY] after Request.Body was written\")",
		g.LastStream, frameRef(g.Frame.Number), served, a.MaxStream, g.LastStream)
	warn := fmt.Sprintf("the server's GOAWAY (%s) refused streams the client had sent (up to %d): a client that cannot replay a request's body fails it instead of sending it again", frameRef(g.Frame.Number), a.MaxStream)
	fix := d.serverSide("let the client send refused requests again: give each request a body it can replay (Go: Request.GetBody, which http.NewRequest sets for bytes and strings readers) or retry on its error; or raise the server's limit of requests per connection", ChangeKeepAlive)
	return afterFinding{headline: "GOAWAY refused requests", summary: s, warning: warn, fix: fix, evidence: []capture.Frame{g.Frame}}, true
}

// afterHandshake is what went wrong after a good handshake, the first
// that applies: the server ended a connection the client was still
// using (the idle close, or else a GOAWAY that refused requests in
// flight), a later request got no answer, or the request got none.
func (d *diagnosis) afterHandshake() (afterFinding, bool) {
	for _, find := range []func(*diagnosis) (afterFinding, bool){
		(*diagnosis).idleClosed, (*diagnosis).goAwayRefused, (*diagnosis).laterUnanswered, (*diagnosis).unanswered,
	} {
		if f, ok := find(d); ok {
			return f, true
		}
	}
	return afterFinding{}, false
}

// laterUnanswered describes a later request on a kept-alive HTTP/1.1
// connection that the server never answered, its earlier ones answered:
// the server closed after it, not crossing it (idleClosed), or stayed
// silent for minSilence until the client closed or the capture ended.
// Only HTTP/1.1, where each of the client's turns is a request: under
// HTTP/2 and other protocols a client's last turn may be a close of its
// own (a GOAWAY, a Terminate message) that the server rightly answers by
// closing.
func (d *diagnosis) laterUnanswered() (afterFinding, bool) {
	c := d.c
	a := c.Afterwards()
	req := a.LastTurn
	if a.Turns < 2 || req.Number == 0 || a.Response.Number == 0 || a.AfterLastTurn.Number != 0 || !d.http11() {
		return afterFinding{}, false
	}
	what := requestName(req, a.LastTurnLine)
	if w, ok := c.Elapsed(a.BeforeLastTurn, req); ok {
		what += fmt.Sprintf(", sent after %s idle", wait(w))
	}
	end, who, how := d.closeAfter(req.Number)
	var s, headline string
	switch {
	case end.Number != 0 && who == server:
		s = fmt.Sprintf("TLS is fine; the server answered earlier requests on this kept-alive connection, then sent nothing after %s, and closed the connection (%s, %s) %s later: likely the server application closed on reading it without an answer (nginx `return 444`, a crash, a limit of its own) — look at the server's log, not at TLS; possible: its idle timeout ended just as the request arrived; the client's error is Go's \"EOF\", Python's \"RemoteDisconnected\", curl's \"Empty reply from server\"",
			what, how, frameRef(end.Number), d.waitFrom(req, end))
		headline = "later request dropped"
	case end.Number != 0:
		silence := end.Time.Sub(req.Time)
		if silence < minSilence {
			return afterFinding{}, false
		}
		s = fmt.Sprintf("TLS is fine; the server answered earlier requests on this kept-alive connection, then sent nothing after %s for %s, then the client closed (%s, %s): the server application did not answer — look at the server, not at TLS",
			what, wait(silence), how, frameRef(end.Number))
		headline = "later request unanswered"
	default:
		end = c.Last
		silence := end.Time.Sub(req.Time)
		if silence < minSilence {
			return afterFinding{}, false
		}
		s = fmt.Sprintf("TLS is fine; the server answered earlier requests on this kept-alive connection, then sent nothing after %s until the connection's last frame (%s), %s later: the server application did not answer — look at the server, not at TLS",
			what, frameRef(end.Number), wait(silence))
		headline = "later request unanswered"
	}
	warn := fmt.Sprintf("no answer to the client's later request (%s) on a kept-alive connection: the server application's (or a proxy's behind it) doing, not TLS's", frameRef(req.Number))
	return afterFinding{headline: headline, summary: s, warning: warn, evidence: []capture.Frame{req, end}}, true
}

// http11 reports whether the connection carries HTTP/1.1: negotiated by
// ALPN, offered alone by a client whose TLS 1.3 hides the choice, or a
// request line a key log opened.
func (d *diagnosis) http11() bool {
	c := d.c
	switch {
	case c.ALPN == "http/1.1":
		return true
	case c.ALPN != "":
		return false
	case strings.HasSuffix(c.Afterwards().RequestLine, " HTTP/1.1"):
		return true
	}
	return c.Version.IsTLS13() && d.hello != nil && len(d.hello.ALPN) == 1 && d.hello.ALPN[0] == "http/1.1"
}
