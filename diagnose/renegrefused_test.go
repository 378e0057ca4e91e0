package diagnose

import (
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func init() { caseTables = append(caseTables, renegotiationRefusedCases) }

func TestDiagnoseRenegotiationRefused(t *testing.T) {
	runDiagnoseCases(t, renegotiationRefusedCases(t))
}

// renegotiationRefusedCases are TLS 1.2 handshakes (the client's request
// in frame 10) after which the server asked to renegotiate (frame 12),
// as the captures in testdata/field/goerr show.
func renegotiationRefusedCases(t *testing.T) []diagnoseCase {
	asked := func(p *pki) *analysis.Connection {
		c := finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter))
		c.ServerSide.AppData = analysis.Traffic{}
		c.After = &analysis.AfterHandshake{Request: fr(10)}
		return c
	}
	// sealed: no key log, the server's encrypted handshake record.
	sealed := func(p *pki) *analysis.Connection {
		c := asked(p)
		c.After.Renegotiation[server] = fr(12)
		return c
	}
	// opened: a key log showed the HelloRequest.
	opened := func(p *pki) *analysis.Connection {
		c := asked(p)
		c.KeyLogFacts = &analysis.KeyLogFacts{Messages: []analysis.Message{{Frame: fr(12), Sender: server, Type: tlsparse.HandshakeTypeHelloRequest}}}
		return c
	}
	return []diagnoseCase{
		{name: "HelloRequest refused, with a key log", cat: RenegotiationRefused,
			conn: func(p *pki) *analysis.Connection {
				c := opened(p)
				c.Alerts = []analysis.Alert{
					{Frame: fr(13), Sender: client, Level: tlsparse.AlertLevelWarning, Description: tlsparse.AlertNoRenegotiation, Encrypted: true, Decrypted: true},
					{Frame: fr(18), Sender: server, Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertHandshakeFailure, Encrypted: true, Decrypted: true},
				}
				return c
			},
			summary:  []string{"it asked the client to renegotiate (HelloRequest, frame 12) and the client refused (no_renegotiation, frame 13), so the request failed", "(TLS 1.2 handshake completed", "Likely: the server asks for a client certificate"},
			evidence: []int64{4, 6, 9, 10, 12, 13}, fix: []string{"`SSLVerifyClient require`", "clientcertnegotiation=enable", "accept one renegotiation"},
			warnings: []string{"the server then ended the connection (handshake_failure, frame 18)"}, nWarn: 1},
		{name: "encrypted handshake record answered by an encrypted alert, no key log", cat: RenegotiationRefused,
			conn: func(p *pki) *analysis.Connection {
				return encryptedAlert(encryptedAlert(sealed(p), 13, client), 18, server)
			},
			summary:  []string{"it sent an encrypted handshake record (frame 12)", "most likely it refused (no_renegotiation; --keylog reads the alert), so the request failed"},
			evidence: []int64{4, 6, 9, 10, 12, 13}, fix: []string{"`SSLVerifyClient require`"}, nWarn: -1},
		{name: "the client went along: not refused", cat: OK,
			conn: func(p *pki) *analysis.Connection {
				c := sealed(p)
				c.After.Renegotiation[client] = fr(13)
				return c
			},
			evidence: []int64{4, 6, 9}, warnings: []string{"the renegotiation went ahead"}, nWarn: -1},
	}
}
