package diagnose

// curl checks the server's chain during the handshake, and refuses it
// there with an alert, but the certificate's name only after the
// handshake (and a pinned public key, and --cert-status): a name it
// rejects ends a TLS 1.3 handshake that looks complete, followed by one
// encrypted record the size of an alert (its close_notify) and no request
// (testdata/field/matrix: curl 7.88 on OpenSSL 3.0).

import (
	"fmt"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// curlRejectedHiddenName explains a curl client that completed a TLS 1.3
// handshake whose certificate the capture cannot read, then sent one
// alert-sized record and no request, and closed first: curl sends its
// request as soon as it accepts the server, so the record is the
// close_notify it sends when a check after the handshake fails.
func (d *diagnosis) curlRejectedHiddenName() (Verdict, bool) {
	c := d.c
	done := c.HandshakeDone.Number
	cd := c.ClientSide.AppData
	alertSize := analysis.EncryptedRecordLength(c.Cipher, 2) // an alert is two bytes
	if !c.Version.IsTLS13() || done == 0 || len(c.Certificates) > 0 || d.client().Stack != fingerprint.StackCurl ||
		cd.Records != 1 || cd.Bytes != int64(alertSize) {
		return Verdict{}, false
	}
	end, who, how := d.firstClose()
	switch {
	case end.Number < cd.First.Number:
		return Verdict{}, false
	case who == server:
		// OpenSSL's s_server and gnutls-serv answer the client's
		// close_notify with their own and close the TCP connection
		// before curl does (testdata/field/servers): the server's FIN
		// follows the client's alert-sized record at once.
		if end.Time.Sub(cd.First.Time) > serverCloseReply {
			return Verdict{}, false
		}
	}
	closing := fmt.Sprintf("hung up (%s, %s)", how, frameRef(end.Number))
	if who == server {
		closing = fmt.Sprintf("the server closed the connection in answer (%s, %s), as OpenSSL's s_server and gnutls-serv do", how, frameRef(end.Number))
	}
	sni := d.hello.ServerName
	what, cover, check := sni+", the name curl asked for in its SNI", "DNS:"+sni, " -servername NAME"
	if plainHostname(sni) {
		check = " -servername " + sni
	}
	if sni == "" {
		addr := c.Server.Addr().String()
		what, cover, check = addr+", the address curl connected to without SNI", "IP:"+addr, ""
	}
	summary := fmt.Sprintf("the TLS 1.3 handshake completed (%s), then the client sent one encrypted record of %d bytes, the size of an alert, and no request (%s), and %s. The client is curl, which sends its request as soon as it accepts the server: it checks the chain during the handshake (a rejection there is an alert before its Finished) but the certificate's name only after it, then closes with close_notify. "+
		"Likely: the certificate does not cover %s (curl: \"no alternative certificate subject name matches target host name\"); possible: a public key pinned with --pinnedpubkey that differs, or a failed --cert-status check. TLS 1.3 encrypts the certificate, so the capture does not show which",
		frameRef(done), alertSize, frameRef(cd.First.Number), closing, what)
	fix := fmt.Sprintf("check the names the server's certificate covers: `openssl s_client -connect %s%s </dev/null | openssl x509 -noout -ext subjectAltName`; if %s is missing, add it to the certificate's subjectAltName (%s) and reissue it, or have the client use a name the certificate has; %s",
		c.Server, check, strings.SplitN(what, ",", 2)[0], cover, d.keyLogAdvice("the certificate"))
	return verdict(CertRejected, summary, fix, d.helloFrame, c.HandshakeDone, cd.First, end), true
}

// serverCloseReply bounds the time from the client's close_notify to the
// server's FIN that reads as the server's answer to it.
const serverCloseReply = 100 * time.Millisecond

// plainHostname reports whether s is made of the letters, digits, dots and
// hyphens of a host name only, so that it can stand in a command line
// unquoted: an SNI is the network's text.
func plainHostname(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == ""
}
