package diagnose

// A reverse proxy's connection to its HTTPS upstream: nginx
// (`proxy_pass https://…`) sends no SNI unless `proxy_ssl_server_name
// on;` is set, so an upstream that serves several names (nginx with
// `ssl_reject_handshake on;` in its default server, a Go server whose
// GetCertificate needs the name, an ingress, a CDN) refuses it; and with
// `proxy_ssl_verify on;` nginx judges the upstream's certificate only
// after the handshake, then closes without a word on the wire (its error
// log: "upstream SSL certificate verify error" or "upstream SSL
// certificate does not match"), and answers its own client 502
// (testdata/field/revproxy).
//
// The packets of the upstream connection alone do not say that its
// client is a proxy. A capture on the proxy does, likely, when the
// client's address is the server address of another connection whose
// client had sent its request just before this connection began: the
// front leg the upstream connection serves.

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// proxySNISettings are the reverse proxies' settings that send the
// upstream's name in SNI.
const proxySNISettings = "nginx: `proxy_ssl_server_name on;` (off by default: nginx sends no SNI to an https:// upstream), " +
	"and `proxy_ssl_name` the upstream's name when proxy_pass names it by IP address or by an upstream{} block; " +
	"HAProxy: `sni req.hdr(host)` (or `sni str(<name>)`) on the `server` line; " +
	"Envoy: `sni` in the cluster's UpstreamTlsContext, or `auto_sni` in its upstream HTTP protocol options; " +
	"Traefik: `serverName` in the serversTransport"

// proxyVerifySettings are nginx's settings a refused upstream
// certificate points to.
const proxyVerifySettings = "nginx with `proxy_ssl_verify on;` checks the chain against `proxy_ssl_trusted_certificate` " +
	"(give it the upstream's root, a private CA's for an internal upstream, not the system bundle) " +
	"and the name against `proxy_ssl_name` (by default the host of proxy_pass: an IP address there needs " +
	"`proxy_ssl_name <the certificate's name>;`, or a certificate with that address among its names); " +
	"a chain with intermediates may need `proxy_ssl_verify_depth` above its default of 1. " +
	"Other proxies: " + proxyTrustSettings

// proxyTrustSettings are the settings of the other reverse proxies that
// give them the upstream's root and the name to check.
const proxyTrustSettings = "HAProxy: `ca-file` (with `verify required`) and `verifyhost` on the `server` line; " +
	"Apache httpd: `SSLProxyCACertificateFile` (with `SSLProxyVerify require`) and `SSLProxyCheckPeerName`; " +
	"Traefik: `rootCAs` and `serverName` in the serversTransport; " +
	"Go's httputil.ReverseProxy: its Transport's TLSClientConfig.RootCAs and ServerName"

// proxyRefusalClose bounds the time from the end of the handshake to the
// close of a proxy that refused the certificate: it closes at once.
const proxyRefusalClose = time.Second

// frontLeg is the connection a reverse proxy's upstream connection
// serves: one to the upstream connection's client address, whose client
// had sent its request just before. A Capture keeps what it needs of each
// connection as one, to find it again when a later connection is its
// upstream connection.
type frontLeg struct {
	client, server netip.AddrPort // the front leg's ends (server: the proxy)
	request        capture.Frame  // the front leg's first data from its client
	// gateway is the proxy's answer on the front leg when a key log
	// showed it and it is a gateway error (502, 503, 504); nil otherwise.
	gateway *analysis.HTTPResponse
}

// frontWindow bounds the time from a front leg's request to the upstream
// connection it caused: a proxy connects as soon as the request arrives.
const frontWindow = time.Second

// maxServed bounds the connections a Capture remembers as front legs.
const maxServed = 1 << 14

// frontLegs finds, for each of conns (in the capture's order), its front
// leg: the latest connection to its client's address whose client sent
// its first data at most frontWindow before this connection's first
// frame, to another server than this one's. Connections within one host
// (loopback, or client and server at one address) and those through a
// forward proxy (CONNECT, SOCKS: their TLS is the end client's) are not
// taken. The connections are remembered for the capture's later batches.
func (cs *Capture) frontLegs(conns []*analysis.Connection) []*frontLeg {
	var out []*frontLeg
	for i, c := range conns {
		if c.DNSFailure != nil || !c.Client.IsValid() || !c.Server.IsValid() || c.First.Number == 0 {
			continue
		}
		if f := cs.frontOf(c); f != nil {
			if out == nil {
				out = make([]*frontLeg, len(conns))
			}
			out[i] = f
		}
		req := firstClientData(c)
		if req.Number == 0 || c.Proxy != nil || c.ProxyInTLS != nil || c.Client.Addr() == c.Server.Addr() {
			continue
		}
		if cs.served == nil || len(cs.served) >= maxServed {
			cs.served = make(map[netip.Addr][]frontLeg)
		}
		a := c.Server.Addr()
		var gateway *analysis.HTTPResponse
		if r := c.Response; r != nil && (r.Status == 502 || r.Status == 503 || r.Status == 504) {
			gateway = r
		}
		cs.served[a] = append(pruneServed(cs.served[a], c.First), frontLeg{client: c.Client, server: c.Server, request: req, gateway: gateway})
	}
	return out
}

// pruneServed drops from the head of list, which is in the order of the
// connections' first frames, the connections whose request came more
// than frontWindow before first, the first frame of a connection at
// least as late as any to come: they cannot be a later one's front leg.
// Those not at the head go once those before them have.
func pruneServed(list []frontLeg, first capture.Frame) []frontLeg {
	n := 0
	for n < len(list) && first.Time.Sub(list[n].request.Time) > frontWindow {
		n++
	}
	if n == 0 {
		return list
	}
	return append(list[:0], list[n:]...)
}

// frontOf is c's front leg among the remembered connections, or nil: the
// latest, looked for from the end of the list back to the first request
// too old.
func (cs *Capture) frontOf(c *analysis.Connection) *frontLeg {
	a := c.Client.Addr()
	if a == c.Server.Addr() {
		return nil
	}
	list := pruneServed(cs.served[a], c.First)
	if len(list) == 0 {
		delete(cs.served, a)
		return nil
	}
	cs.served[a] = list
	for i := len(list) - 1; i >= 0; i-- {
		s := list[i]
		since := c.First.Time.Sub(s.request.Time)
		if since > frontWindow {
			break
		}
		if s.request.Number < c.First.Number && since >= 0 && s.server != c.Server {
			return &s
		}
	}
	return nil
}

// firstClientData is the frame of the first data the client sent on c:
// its first application data record, or the first bytes of a client that
// did not speak TLS (a plain HTTP request); zero when it sent none.
func firstClientData(c *analysis.Connection) capture.Frame {
	if f := c.ClientSide.AppData.First; f.Number != 0 {
		return f
	}
	if n := c.ClientSide.NonTLS; n != nil && c.ClientHello == nil {
		return n.Frame
	}
	return capture.Frame{}
}

// frontNote is the clause that says the client is likely a reverse
// proxy, and what that rests on.
func (d *diagnosis) frontNote() string {
	f := d.front
	s := fmt.Sprintf("the client %s is likely a reverse proxy and this its upstream connection: %s had just sent its request to %s (%s), %s before this connection began",
		d.c.Client.Addr(), f.client, f.server, frameRef(f.request.Number), d.waitFrom(f.request, d.c.First))
	if g := f.gateway; g != nil && g.Frame.Number > d.c.First.Number {
		return s + fmt.Sprintf(", and the proxy's answer to that request was %d %s (%s), after this connection began (matched by the addresses and the timing)",
			g.Status, g.Reason, frameRef(g.Frame.Number))
	}
	return s + " (resting on the addresses and the timing only: a host that serves and connects at once is not always a proxy)"
}

// sniFix is the fix for a client that sent no SNI to a server that
// requires one: the proxy's settings first when the capture shows the
// client is likely a reverse proxy, else a client's, with the proxies'
// as a possibility.
func (d *diagnosis) sniFix() string {
	if d.front != nil {
		d.frontSaid = true
		return "make the reverse proxy send the upstream's name in SNI: " + proxySNISettings +
			"; if the client is no proxy: connect by hostname, not IP address, or set ServerName / -servername"
	}
	return "make the client send the server's name: connect by hostname, not IP address, or set ServerName / -servername; " +
		"if the client is a reverse proxy (the packets alone do not say), " + proxySNISettings
}

// proxyRejectedAfterHandshake explains an upstream connection whose
// handshake completed and whose client, likely a reverse proxy (d.front),
// then closed without sending the request it had connected for: nginx
// with `proxy_ssl_verify on;` refuses the certificate so, after the
// handshake and without an alert that says why.
func (d *diagnosis) proxyRejectedAfterHandshake() (Verdict, bool) {
	c := d.c
	done := c.HandshakeDone.Number
	if d.front == nil || done == 0 || c.ClientSide.AppData.Records > 0 {
		return Verdict{}, false
	}
	if f, _ := d.serverClosedFirst(); f.Number != 0 {
		return Verdict{}, false
	}
	var end capture.Frame
	how := ""
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number >= done {
			end, how = a.Frame, alertText(a)
			break
		}
	}
	if f, who, h := d.firstClose(); end.Number == 0 && who == client && f.Number >= done {
		end, how = f, h
	}
	// nginx closes as soon as it has judged the certificate; a spare
	// connection a proxy opened ahead of need (Envoy's preconnect) and
	// closed when idle is not a refusal.
	if end.Number == 0 || end.Time.Sub(c.HandshakeDone.Time) > proxyRefusalClose {
		return Verdict{}, false
	}
	d.frontSaid = true
	cat, seen := CertRejected, ""
	switch {
	case len(d.probs) > 0:
		d.used = &d.probs[0]
		cat, seen = d.probs[0].Category, "; what the capture shows wrong with the certificate: "+d.problemText(d.probs[0])
	case d.addrProb != nil:
		// nginx sends no SNI whether proxy_pass names the upstream or
		// its address: which one it checked is not on the wire.
		_, covers, _ := strings.Cut(d.addrProb.Detail, "; ")
		seen = fmt.Sprintf("; nginx sends no SNI by default, to a name as to an address, so the name it checked is not on the wire: if it connected by address (%s), %s", d.addrProb.Address, covers)
	}
	summary := fmt.Sprintf("the handshake completed (%s), then the client closed (%s, %s) without sending the request it had connected for. Likely: the proxy refused the server's certificate after the handshake, as nginx with `proxy_ssl_verify on;` does, closing without an alert that says why and answering its own client 502 Bad Gateway (its error log: \"upstream SSL certificate verify error: (…)\" for the chain, \"upstream SSL certificate does not match\" for the name); which of the two the packets do not tell%s; possible: the proxy's health check, with nothing to send",
		frameRef(done), how, frameRef(end.Number), seen)
	return verdict(cat, summary, "the proxy refused the upstream's certificate, likely: "+proxyVerifySettings, c.CertificateFrame, c.HandshakeDone, end), true
}

// frontVerdict completes v, the verdict of a connection with a front leg
// (d.front): the clause that says the client is likely a reverse proxy,
// when a text used it, and its evidence; for a server that refused the
// hello of a proxy that sent no SNI, the proxy's SNI settings first.
func (d *diagnosis) frontVerdict(v *Verdict) {
	f := d.front
	if f == nil {
		return
	}
	if !d.frontSaid && d.hello != nil && d.hello.ServerName == "" && !d.c.Established {
		switch v.Category {
		case HandshakeFailure, NoSharedCipher, ConnectionReset, ServerNoResponse:
			d.frontSaid = true
			v.Fix = "the proxy sent no SNI, which servers that pick their certificate by name refuse: first make it send the upstream's name (" + proxySNISettings + "); if it still fails: " + v.Fix
		}
	}
	if !d.frontSaid && v.Category.IsCertificate() && d.clientRefusedInHandshake() {
		// A proxy that judges the chain during the handshake (HAProxy,
		// Apache httpd, Go) refuses it with an alert, as any client.
		d.frontSaid = true
		v.Fix = "the client is likely a reverse proxy that refused the upstream's certificate: give it the upstream's root and the name to check (nginx: `proxy_ssl_trusted_certificate` and `proxy_ssl_name`; " + proxyTrustSettings + "); as for any client: " + v.Fix
	}
	if !d.frontSaid {
		return
	}
	v.Summary += "; " + d.frontNote()
	v.Evidence = append(v.Evidence, f.request.Number)
	if g := f.gateway; g != nil && g.Frame.Number > d.c.First.Number {
		v.Evidence = append(v.Evidence, g.Frame.Number)
	}
	v.Evidence = sortFrames(v.Evidence)
}

// clientRefusedInHandshake reports whether the client ended the
// handshake with a fatal alert before it completed.
func (d *diagnosis) clientRefusedInHandshake() bool {
	c := d.c
	for _, a := range c.Alerts {
		if a.Sender == client && a.Level == tlsparse.AlertLevelFatal {
			return c.HandshakeDone.Number == 0 || a.Frame.Number < c.HandshakeDone.Number
		}
	}
	return false
}
