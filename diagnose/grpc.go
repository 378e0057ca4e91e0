package diagnose

// gRPC and HTTP/2 clients and servers that do not negotiate HTTP/2:
// gRPC-Go (1.67 and later), Go's http2.Transport used alone and gRPC's C
// core (Python's grpcio, C++, Ruby, PHP) refuse a TLS connection whose
// server selected no ALPN protocol, right after a handshake that otherwise
// reads as ok. gRPC for Node.js (@grpc/grpc-js) does not check, and works
// (testdata/field/h2).

import (
	"fmt"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// h2Close is how soon after its Finished a client that refuses the
// server's ALPN choice closes: it decides as the handshake ends, so a
// close this soon is no idle timeout.
const h2Close = time.Second

// grpcFix is the fix for a server (or the TLS terminator in front of it)
// that negotiates no HTTP/2 with a gRPC client.
const grpcFix = "gRPC runs over HTTP/2 only: make the TLS server the client connects to (often a TLS terminator or stream proxy in front of the gRPC server) select ALPN h2; nginx's stream module: `ssl_alpn h2;` in the `server`; Envoy: `alpn_protocols: [h2]` in the listener's `common_tls_context`"

// grpcStopGap is gRPC-Go's client-side switch for the check.
const grpcStopGap = "stop-gap on a gRPC-Go client: the environment variable GRPC_ENFORCE_ALPN_ENABLED=false turns the check off (a temporary switch that gRPC-Go will remove)"

// noALPNForH2Only reads a client that offered ALPN h2 without http/1.1,
// completed the handshake with a server that selected no ALPN protocol,
// and closed at once without sending a byte of data, when the client is
// one that refuses such a server (h2OnlyRefuser): gRPC-Go 1.67 and later
// ("credentials: cannot check peer: missing selected ALPN property"), Go's
// http2.Transport ("http2: unexpected ALPN protocol"), gRPC's C core.
// The server's choice is in the ServerHello in TLS 1.2 and in TLS 1.3's
// encrypted EncryptedExtensions; without a key log a TLS 1.3 connection
// is read from the client's behaviour alone, and says so. Other clients that offer h2 alone and
// close at once (openssl s_client -alpn h2 </dev/null) are not judged: a
// tool that only checks the handshake looks the same.
func (d *diagnosis) noALPNForH2Only() (Verdict, bool) {
	c := d.c
	h := d.hello
	done := c.HandshakeDone
	refuser, goClient := d.h2OnlyRefuser()
	if done.Number == 0 || refuser == "" {
		return Verdict{}, false
	}
	if f, _ := d.serverClosedFirst(); f.Number != 0 {
		return Verdict{}, false
	}
	tls13 := c.Version.IsTLS13()
	decrypted := tls13 && c.Decryption == analysis.DecryptionDecrypted
	// Nothing from the client after the handshake but its close: in TLS
	// 1.3 without a key log, one record of an encrypted alert's size (its
	// close_notify) at most.
	app := c.ClientSide.AppData
	switch {
	case app.Records == 0:
	case tls13 && !decrypted && app.Records == 1 && app.Bytes == int64(analysis.EncryptedRecordLength(c.Cipher, 2)):
	default:
		return Verdict{}, false
	}
	var end capture.Frame
	how := ""
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number >= done.Number {
			end, how = a.Frame, alertText(a)
			break
		}
	}
	if end.Number == 0 && app.Records == 1 {
		end, how = app.First, "one record of an encrypted alert's size, likely close_notify"
	}
	if f, who, h := d.firstClose(); end.Number == 0 && who == client && f.Number >= done.Number {
		end, how = f, h
	}
	if end.Number == 0 || done.Time.IsZero() || end.Time.Sub(done.Time) > h2Close {
		return Verdict{}, false
	}
	alone := ""
	if len(h.ALPN) == 1 {
		alone = " alone"
	}
	offer := fmt.Sprintf("the client offered ALPN %s%s, no http/1.1 (ClientHello, %s)", alpnOffer(h), alone, frameRef(d.helloFrame.Number))
	closed := fmt.Sprintf("the handshake completed (%s), then the client closed %s later (%s, %s) without sending any data",
		frameRef(done.Number), wait(end.Time.Sub(done.Time)), how, frameRef(end.Number))
	who := refuser
	advice := d.keyLogAdvice("the server's ALPN choice in EncryptedExtensions")
	if c.Decryption == analysis.DecryptionNone && goClient {
		advice += " (gRPC-Go: give that tls.Config to credentials.NewTLS)"
	}
	var summary string
	switch {
	case !tls13:
		summary = fmt.Sprintf("%s and the server selected no ALPN protocol (its ServerHello, %s, has no ALPN extension); %s; %s",
			offer, frameRef(c.ServerHelloFrame.Number), closed, who)
	case decrypted:
		summary = fmt.Sprintf("%s and the server selected no ALPN protocol (its EncryptedExtensions, opened with the key log, has none); %s; %s",
			offer, closed, who)
	default:
		summary = fmt.Sprintf("%s; %s. Likely: the server selected no ALPN protocol and the client refused it; %s. TLS 1.3 encrypts the server's choice (EncryptedExtensions), so this is inferred from the client closing right after its Finished without a request; less likely: the server selected h2 and the program closed for a reason of its own (a check of the handshake alone, a client shut down as it connected); %s",
			offer, closed, who, advice)
	}
	fix := d.serverSide(grpcFix, ChangeHTTP2)
	if goClient {
		fix += "; " + grpcStopGap
	}
	return verdict(ALPNMismatch, summary, fix, d.helloFrame, c.ServerHelloFrame, done, end), true
}

// noALPNTolerated warns, on a connection read as ok, when a client that
// offered ALPN h2 without http/1.1 got no ALPN protocol from the server
// and sent data anyway: from Go, likely gRPC-Go with its ALPN check
// switched off, or a release before 1.67, which works until that switch
// goes; from another, a client that does not check (@grpc/grpc-js), while
// others refuse that server. Only where the server's
// choice is visible: TLS 1.2's ServerHello, or TLS 1.3 with a key log.
func (d *diagnosis) noALPNTolerated() string {
	c := d.c
	h := d.hello
	refuser, goClient := d.h2OnlyRefuser()
	if !d.h2OnlyNoALPN() || c.ClientSide.AppData.Records == 0 || refuser != "" && !goClient {
		return ""
	}
	where := fmt.Sprintf("its ServerHello, %s, has no ALPN extension", frameRef(c.ServerHelloFrame.Number))
	switch {
	case c.Version.IsTLS13() && c.Decryption == analysis.DecryptionDecrypted:
		where = "its EncryptedExtensions, opened with the key log, has none"
	case c.Version.IsTLS13():
		return ""
	}
	if !goClient {
		// gRPC for Node.js (@grpc/grpc-js) is such a client.
		return fmt.Sprintf("the client offered ALPN %s without http/1.1 and the server selected no ALPN protocol (%s), yet the client went on (%s), as gRPC for Node.js (@grpc/grpc-js) and clients that assume HTTP/2 do; gRPC-Go (1.67 and later), Go's http2.Transport and gRPC's C core (Python's grpcio, C++, Ruby, PHP) refuse such a server: make it select ALPN h2",
			alpnOffer(h), where, frameRef(c.ClientSide.AppData.First.Number))
	}
	return fmt.Sprintf("the client offered ALPN %s alone and the server selected no ALPN protocol (%s), yet the client sent data (%s): a Go client offering h2 alone is likely gRPC-Go, which since 1.67 refuses such a server; this works only while the client's ALPN check is off (GRPC_ENFORCE_ALPN_ENABLED=false, a temporary switch) or with an older release: make the server select ALPN h2",
		alpnOffer(h), where, frameRef(c.ClientSide.AppData.First.Number))
}

// h2OnlyNoALPN reports whether the client offered ALPN h2 without
// http/1.1 and the server answered its hello selecting no protocol.
func (d *diagnosis) h2OnlyNoALPN() bool {
	h := d.hello
	return h != nil && d.c.ServerHello != nil && d.c.ALPN == "" && slices.Contains(h.ALPN, "h2") && !slices.Contains(h.ALPN, "http/1.1")
}

// grpcCoreALPN is the ALPN protocol id only gRPC's C core offers (before
// h2): its clients (Python's grpcio, C++, Ruby, PHP) are known by it.
const grpcCoreALPN = "grpc-exp"

// h2OnlyRefuser says who the client is when it offered ALPN h2 without
// http/1.1, the server answered its hello selecting no protocol, and the
// client is one that refuses such a server: gRPC's C core (known by its
// ALPN grpc-exp) or Go's crypto/tls offering h2 alone (gRPC-Go, or
// http2.Transport used alone); "" otherwise. goClient is set for Go.
// Other clients offering h2 alone are not judged: gRPC for Node.js
// (@grpc/grpc-js) goes on without ALPN, and a tool that only checks the
// handshake (openssl s_client -alpn h2) closes alike.
func (d *diagnosis) h2OnlyRefuser() (who string, goClient bool) {
	h := d.hello
	if !d.h2OnlyNoALPN() {
		return "", false
	}
	switch {
	case slices.Contains(h.ALPN, grpcCoreALPN):
		return "the client offers ALPN grpc-exp, which only gRPC's C core sends (Python's grpcio, gRPC for C++, Ruby, PHP): it refuses a connection whose server selected no ALPN protocol (\"Cannot check peer: missing selected ALPN property\")", false
	case len(h.ALPN) == 1 && d.client().Stack == fingerprint.StackGo:
		return "the client is Go's crypto/tls offering h2 alone, which is likely gRPC-Go (1.67 and later refuse a connection whose server selected no ALPN protocol: \"credentials: cannot check peer: missing selected ALPN property\") or Go's http2.Transport used alone (\"http2: unexpected ALPN protocol\")", true
	}
	return "", false
}
