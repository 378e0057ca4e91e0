package diagnose

// Encrypted Client Hello (RFC 9849) refused: the client aborts a completed
// handshake, which would otherwise read as a certificate rejected after
// the handshake.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// echRejected reads a client that offered Encrypted Client Hello and
// ended a completed handshake with alert ech_required: the server did not
// accept its ECH, so the handshake ran with the outer ClientHello and its
// public name, and a client must then abort with that alert (RFC 9849
// Section 6.1.6) once it has checked the certificate against the public
// name. The alert is readable with a key log only (TLS 1.3 encrypts it).
func (d *diagnosis) echRejected() (Verdict, bool) {
	c := d.c
	if d.hello == nil || !d.hello.ECH {
		return Verdict{}, false
	}
	for _, a := range c.Alerts {
		if a.Sender != client || !a.Known() || a.Description != tlsparse.AlertECHRequired {
			continue
		}
		summary := fmt.Sprintf("the server did not accept the client's Encrypted Client Hello (ECH): the handshake completed (%s) with the outer ClientHello and its public name '%s', then the client aborted with alert %s (%s), as RFC 9849 requires of a client whose ECH was rejected; the certificate is not the cause",
			frameRef(c.HandshakeDone.Number), d.hello.ServerName, alertName(a), frameRef(a.Frame.Number))
		fix := "give the client the server's current ECH configuration: the ECHConfigList it used (from the DNS HTTPS record's ech= parameter, or its own setting; Go: tls.Config.EncryptedClientHelloConfigList) is for other or rotated keys, or the server (or the TLS terminator in front of it) does not do ECH. " +
			"Publish the server's current ECHConfigList in DNS; keep old keys accepted for a while after a rotation (Go: old entries in tls.Config.EncryptedClientHelloKeys with SendAsRetry false); a client may retry with the configurations the server sent in its EncryptedExtensions (Go: ECHRejectionError.RetryConfigList)"
		return verdict(HandshakeFailure, summary, fix, d.helloFrame, c.ServerHelloFrame, a.Frame), true
	}
	return Verdict{}, false
}

// echUnreadAbort warns, on a connection read as ok, when a client that
// offered ECH sent, after the handshake, a single record of an encrypted
// alert's size and nothing else, and no key log opened it: a health
// check's close_notify looks the same, but so does the ech_required of a
// client whose ECH the server declined, which only the key log tells
// apart.
func (d *diagnosis) echUnreadAbort() string {
	c := d.c
	app := c.ClientSide.AppData
	if d.hello == nil || !d.hello.ECH || !c.Version.IsTLS13() || c.Decrypted || c.HandshakeDone.Number == 0 ||
		app.Records != 1 || app.Bytes != int64(analysis.EncryptedRecordLength(c.Cipher, 2)) {
		return ""
	}
	return fmt.Sprintf("the client offered Encrypted Client Hello (ECH; the SNI '%s' is its outer, public name) and after the handshake sent only one record of an encrypted alert's size (%s), no data: if the server declined ECH, that is alert ech_required and the client failed (Go: \"tls: server rejected ECH\"); if not, a close_notify with nothing to send (a health check); %s",
		d.hello.ServerName, frameRef(app.First.Number), d.keyLogAdvice("the alert"))
}
