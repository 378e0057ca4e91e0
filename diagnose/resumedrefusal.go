package diagnose

// A resumed session refused for want of a client certificate: a server
// that requires one (nginx `ssl_verify_client on`) completes a full
// handshake without it, answers HTTP 400 "No required SSL certificate was
// sent", and keeps the session; a client that resumes it (Chromium, Go,
// curl, any client with a session cache) gets the same 400 on a handshake
// that shows no CertificateRequest. Without keys the status is encrypted,
// and the resumed connection alone reads as ok: only the earlier
// connection of the same capture tells.

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// clientServer is a client's address and the server it connected to.
type clientServer struct {
	client netip.Addr
	server netip.AddrPort
}

// refusal is what resumedRefusal needs of a connection refused for want
// of a client certificate: copied, since the connection's record may be
// reused for a later one once written.
type refusal struct {
	version                                                      tlsparse.Version
	answered                                                     int64 // the server's application data, in bytes
	clientHello, serverHello, certRequest, clientCert, clientFin capture.Frame
	sessionID                                                    []byte // of its ServerHello
}

// resumedRefusals turns the ok verdict of a resumed connection into
// client_cert_required (likely) when an earlier connection of the same
// client to the same server was refused for want of a certificate, and
// the resumed one got the same kind of answer: a short one after which
// the server closed first, in TLS 1.2 of the very same size. vs are the
// verdicts of conns, in the capture's order; those changed are replaced.
// The refusals are remembered for the capture's later batches.
func (cs *Capture) resumedRefusals(conns []*analysis.Connection, vs []Verdict, cfg Config) {
	var d *diagnosis
	for i, c := range conns {
		key := clientServer{c.Client.Addr(), c.Server}
		switch v := vs[i]; {
		case v.Category == ClientCertRequired && c.Established && !c.Resumed && c.ClientCertificates <= 0:
			if cs.refused == nil {
				cs.refused = make(map[clientServer]refusal)
			}
			r := refusal{version: c.Version, answered: c.ServerSide.AppData.Bytes, clientHello: c.ClientHelloFrame, serverHello: c.ServerHelloFrame,
				certRequest: c.CertificateRequestFrame, clientCert: c.ClientCertificateFrame, clientFin: c.ClientSide.Finished}
			if c.ServerHello != nil {
				r.sessionID = slices.Clone(c.ServerHello.SessionID)
			}
			if len(cs.refused) >= maxRefusals {
				clear(cs.refused) // bounded: past maxRefusals it starts afresh
			}
			cs.refused[key] = r
		case v.Category == OK && !v.NotJudged && c.Resumed && c.Established && c.CertificateRequestFrame.Number == 0 && c.ClientCertificates <= 0:
			e, ok := cs.refused[key]
			if !ok || e.version != c.Version {
				continue
			}
			if d == nil {
				d = new(diagnosis)
			}
			d.init(c, cfg)
			if nv, ok := d.resumedRefusal(e); ok {
				nv.Evidence, nv.Warnings = sortFrames(nv.Evidence), v.Warnings
				vs[i] = nv
			}
		}
	}
}

// maxRefusals bounds the refused connections a Capture remembers.
const maxRefusals = 1 << 14

// resumedRefusal explains d's resumed connection as refused for want of a
// client certificate, as the earlier connection e was, when its answer
// reads as the same refusal.
func (d *diagnosis) resumedRefusal(e refusal) (Verdict, bool) {
	c := d.c
	if d.response != nil || c.After == nil || c.After.Request.Number == 0 || c.After.Response.Number == 0 {
		return Verdict{}, false // an answer that can be read, or none
	}
	end, how := d.serverClosedFirst()
	if end.Number == 0 || c.ServerSide.AppData.Bytes > shortResponse {
		return Verdict{}, false
	}
	var asked string
	if e.certRequest.Number != 0 {
		asked = fmt.Sprintf("asked for a client certificate (CertificateRequest, %s), got none", frameRef(e.certRequest.Number))
	} else {
		asked = fmt.Sprintf("asked for a client certificate, got none (the client's encrypted flight, %s, has the size of an empty Certificate)", frameRef(e.clientFin.Number))
	}
	same := ""
	if !c.Version.IsTLS13() {
		// TLS 1.2 has no tickets after the handshake: the data is the
		// answer, byte for byte the size of the earlier refusal.
		if e.answered != c.ServerSide.AppData.Bytes {
			return Verdict{}, false
		}
		same = ", exactly the size of its answer on the earlier connection,"
	}
	session := "resumed a session"
	if c.ServerHello != nil && !c.Version.IsTLS13() && len(c.ServerHello.SessionID) > 0 && string(e.sessionID) == string(c.ServerHello.SessionID) {
		session = fmt.Sprintf("resumed the session of that connection (the same session ID as its ServerHello, %s)", frameRef(e.serverHello.Number))
	}
	summary := fmt.Sprintf("Likely: an earlier connection of this client to this server (ClientHello %s) was refused for want of a client certificate: the server %s and refused the request; this connection %s (ServerHello, %s), so no CertificateRequest was sent on it, and the server answered the request (%s) with only %s%s and closed the connection (%s, %s): a resumed session carries the missing certificate of the handshake it came from, and a server that requires one refuses every request on it (nginx answers HTTP 400 'No required SSL certificate was sent'), as Chromium and clients with a session cache meet it. The status is encrypted; possible: the certificate was optional and this is a short answer of another kind",
		frameRef(e.clientHello.Number), asked, session, frameRef(c.ServerHelloFrame.Number), frameRef(c.After.Request.Number),
		prose.Count(c.ServerSide.AppData.Bytes, "byte"), same, how, frameRef(end.Number))
	frames := []capture.Frame{e.clientHello, e.certRequest, e.clientCert, c.ServerHelloFrame, c.After.Request, c.After.Response, end}
	return verdict(ClientCertRequired, summary, d.clientCertFix(), frames...), true
}
