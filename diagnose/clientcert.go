package diagnose

// A server that requests a client certificate, completes the handshake
// without one, and refuses the request instead: nginx with
// `ssl_verify_client on` answers HTTP 400 "No required SSL certificate
// was sent" and closes. The handshake looks fine; the refusal is in the
// application data.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// shortResponse bounds the server's application data, in bytes, that
// reads as an error page rather than content (nginx's 400 page and TLS
// 1.3 session tickets fit well within).
const shortResponse = 4096

// clientCertRefused explains a completed handshake after which the server
// refused the client for want of a certificate.
func (d *diagnosis) clientCertRefused() (Verdict, bool) {
	c := d.c
	if c.ClientCertificates > 0 {
		return d.sentCertRefused()
	}
	var asked string
	emptyCert, packed := d.emptyCertificateFlight()
	switch {
	case c.CertificateRequestFrame.Number != 0:
		asked = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s)", frameRef(c.CertificateRequestFrame.Number))
		if c.ClientCertificates == 0 {
			asked += fmt.Sprintf(" and the client sent none (empty Certificate, %s)", frameRef(c.ClientCertificateFrame.Number))
		} else {
			asked += " and the client sent none"
		}
	case c.Resumed && d.certPageOnResumption():
		asked = fmt.Sprintf("the client resumed a session (ServerHello, %s), so the server sent no CertificateRequest on this connection: the session comes from an earlier full handshake in which the client sent no certificate, and the server holds that against every connection that resumes it",
			frameRef(c.ServerHelloFrame.Number))
	case emptyCert != "":
		asked = d.emptyCertificateText(c.ClientSide.Finished)
	default:
		return Verdict{}, false
	}
	r := d.response
	switch {
	case r != nil && r.Status >= 400 && r.Status < 500:
		how, page := responseSeen(r)
		certain := strings.Contains(strings.ToLower(r.Title+" "+r.Body), "ssl certificate")
		summary := fmt.Sprintf("%s; the handshake completed, then the server refused the request with HTTP %d%s (%s)",
			asked, r.Status, page, how)
		if !certain {
			summary += ": most likely for the missing certificate (the page does not say)"
		}
		return verdict(ClientCertRequired, summary, d.clientCertFix(), c.CertificateRequestFrame, c.ClientCertificateFrame, c.HandshakeDone, r.Frame), true
	case r != nil:
		return Verdict{}, false // the server answered: the certificate was optional
	}
	end, how := d.serverClosedFirst()
	requests, request := c.ClientSide.AppData.Records, fmt.Sprintf(" (%s)", frameRef(c.ClientSide.AppData.First.Number))
	if c.ClientFlightRecords.Second != 0 && !packed {
		requests, request = requests-1, "" // the Finished was counted as data
	}
	if !c.Version.IsTLS13() && requests != 1 {
		return Verdict{}, false // TLS 1.2 counts exactly: one request, one answer
	}
	https := d.https()
	if requests < 1 || c.ServerSide.AppData.Records == 0 || c.ServerSide.AppData.Bytes > shortResponse || end.Number == 0 || !https && (!d.mightBeHTTPS() || !d.oneExchange()) {
		return Verdict{}, false
	}
	if sd := c.ServerSide.AppData; c.Version.IsTLS13() && sd.Records == 1 && sd.Bytes == int64(analysis.EncryptedRecordLength(c.Cipher, 2)) {
		// One record of an alert's size is no answer but the alert
		// itself: Go's certificate_required, sent as the client's
		// flight arrives (testdata/field/servers).
		return verdict(ClientCertRequired,
			fmt.Sprintf("%s; the server's only record after the client's flight was one of an alert's size (%s) and it closed the connection (%s, %s): its alert, certificate_required as a rule (encrypted, inferred from its size)",
				asked, frameRef(sd.First.Number), how, frameRef(end.Number)),
			d.clientCertFix(), c.CertificateRequestFrame, c.ClientCertificateFrame, c.ClientSide.Finished, sd.First, end), true
	}
	summary := fmt.Sprintf("%s; the handshake completed, the client sent its request%s, and the server answered with %s of data and closed the connection (%s, %s): the short answer of a server refusing the request for want of a certificate (nginx answers HTTP 400 'No required SSL certificate was sent'); the status is encrypted (probable, from sizes and order); possible: the certificate was optional and the server closes after every answer, as gnutls-serv (which asks every client for a certificate) and HTTP/1.0 servers do",
		asked, request, prose.Count(c.ServerSide.AppData.Bytes, "byte"), how, frameRef(end.Number))
	if !https {
		summary = fmt.Sprintf("%s; the handshake completed, the client sent its request%s, and the server answered with %s of data and closed the connection (%s, %s). Likely, if the protocol is HTTP (the client offered no ALPN and port %d is not a usual HTTPS port, so the capture does not name it): the short answer of a server refusing the request for want of a certificate (nginx answers HTTP 400 'No required SSL certificate was sent'); possible: the certificate was optional and the server answered briefly and closed; the answer is encrypted",
			asked, request, prose.Count(c.ServerSide.AppData.Bytes, "byte"), how, frameRef(end.Number), c.Server.Port())
	}
	return verdict(ClientCertRequired, summary, d.clientCertFix(), c.CertificateRequestFrame, c.ClientCertificateFrame, c.HandshakeDone, c.ClientSide.AppData.First, end), true
}

// certPageOnResumption reports whether the server's answer is a client
// error page about a missing or refused certificate (nginx's HTTP 400 "No
// required SSL certificate was sent"): on a resumed session, which shows
// no CertificateRequest, the page alone tells the refusal.
func (d *diagnosis) certPageOnResumption() bool {
	r := d.response
	return r != nil && r.Status >= 400 && r.Status < 500 && strings.Contains(strings.ToLower(r.Title+" "+r.Body), "ssl certificate")
}

// browserPicksClientCert explains a Chromium-based browser that closed
// the connection without an alert right after a server flight with a
// CertificateRequest: Chromium does not answer a CertificateRequest on
// the connection it came on, but closes it, lets the user pick a
// certificate (or applies a remembered choice) and connects again with
// the certificate, or with none. A certificate it refused would have had
// its alert (certificate_unknown) before that.
func (d *diagnosis) browserPicksClientCert(abort capture.Frame, how string) (Verdict, bool) {
	c := d.c
	if !isBrowser(d.client()) || d.clientFlight() != 0 {
		return Verdict{}, false
	}
	if c.CertificateRequestFrame.Number == 0 {
		return d.browserClosedOnFlight(abort, how)
	}
	if abort.Number < c.CertificateRequestFrame.Number {
		return Verdict{}, false
	}
	summary := fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s) and the browser closed the connection (%s, %s) without answering: Chromium does so to let the user pick a certificate (or to apply the choice remembered for the site), then connects again, sending the certificate or an empty one; the server's answer to that is on the next connection to it",
		frameRef(c.CertificateRequestFrame.Number), how, frameRef(abort.Number))
	return verdict(ClientCertRequired, summary, d.clientCertFix(), c.CertificateRequestFrame, abort), true
}

// browserClosedOnFlight explains, in TLS 1.3 without keys, a
// Chromium-based browser that closed the connection with a bare FIN right
// after the server's encrypted flight: the CertificateRequest it closes
// on (browserPicksClientCert) is encrypted, but a certificate it rejects
// gets its alert first (certificate_unknown, sealed: testdata/field/browser
// has one for each reason), so a close without one is, as a rule, the
// browser going to pick a client certificate
// (testdata/field/resume/clientcert13_chromium.pcap).
func (d *diagnosis) browserClosedOnFlight(abort capture.Frame, how string) (Verdict, bool) {
	c := d.c
	flight := c.ServerSide.Finished
	if !c.Version.IsTLS13() || c.Decrypted || how != "FIN" || flight.Number == 0 || abort.Number < flight.Number || d.gapIn(client) {
		return Verdict{}, false
	}
	for _, a := range c.Alerts {
		if a.Sender == client {
			return Verdict{}, false
		}
	}
	summary := fmt.Sprintf("the browser closed the connection (FIN, %s) right after the server's encrypted flight (%s), without an alert and without its Finished: likely, the server asked for a client certificate and the browser closed to let the user pick one (or to apply the choice remembered for the site), as Chromium does, and connects again sending the certificate or an empty one, so the server's answer to that is on the next connection to it; TLS 1.3 encrypts the request, so this is inferred from the close: Chromium rejects a certificate with an alert (certificate_unknown) before closing, and here there was none. Possible: the page load was cancelled (a closed tab, a new navigation) as the handshake ran",
		frameRef(abort.Number), frameRef(flight.Number))
	return verdict(ClientCertRequired, summary, d.clientCertFix()+"; "+d.keyLogAdvice("the server's CertificateRequest"), flight, abort), true
}

// clientCertHint is the warning for a completed handshake in which the
// server asked for a client certificate (seen, or inferred from the sizes
// of a TLS 1.3 client's encrypted records) and got none, then sent one
// short answer, but the client closed first: a refusal for want of a
// certificate (nginx's HTTP 400) and an optional certificate followed by
// a short reply look the same on the wire, so the verdict stays ok.
func (d *diagnosis) clientCertHint() string {
	c := d.c
	https := d.https()
	if !https && (!d.mightBeHTTPS() || !d.oneExchange()) || c.ServerSide.AppData.Records == 0 || c.ServerSide.AppData.Bytes > shortResponse {
		return ""
	}
	if c.ClientCertificates > 0 {
		return d.deepChainHint()
	}
	var asked string
	switch {
	case c.ClientCertificates < 0 && d.certificateSized():
		// A certificate was sent, encrypted: whether the server refused
		// it (nginx's HTTP 400 after the handshake) or answered briefly
		// and closed is not on the wire.
		if end, _ := d.serverClosedFirst(); end.Number == 0 {
			return ""
		}
		return fmt.Sprintf("the client's encrypted flight begins with a record of %d bytes, a certificate (inferred from record sizes); the server then answered with only %s and closed first: if the request failed, the server probably refused the client's certificate after the handshake (nginx answers HTTP 400 'The SSL certificate error' and logs \"client SSL certificate verify error\"); the status is encrypted, so this is not certain: %s",
			c.ClientFlightRecords.First, prose.Count(c.ServerSide.AppData.Bytes, "byte"), d.keyLogAdvice("the answer"))
	case c.CertificateRequestFrame.Number != 0 && c.ClientCertificates == 0:
		asked = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s) and the client sent none", frameRef(c.CertificateRequestFrame.Number))
	case c.CertificateRequestFrame.Number == 0 && d.emptyCertificateSent():
		asked = d.emptyCertificateText(c.ClientSide.Finished)
	default:
		return ""
	}
	protocol := ""
	if !https {
		protocol = fmt.Sprintf(" and the protocol is HTTP (the client offered no ALPN and port %d is not a usual HTTPS port, so the capture does not name it)", c.Server.Port())
	}
	return fmt.Sprintf("%s; the server then answered with only %s: if the request failed%s, the server probably refused it for want of a certificate (nginx answers HTTP 400 'No required SSL certificate was sent'); the status is encrypted and the client closed first, so this is not certain",
		asked, prose.Count(c.ServerSide.AppData.Bytes, "byte"), protocol)
}

func (d *diagnosis) clientCertFix() string {
	configure := "curl --cert/--key, openssl s_client -cert/-key, Go tls.Config.Certificates"
	if isBrowser(d.client()) {
		configure = "the client is a Chromium-based browser: import the certificate with its key (a PKCS#12 file) into its store; Chrome and Edge on Windows and macOS use the system's (certmgr.msc, Keychain Access), Chromium on Linux its NSS database (pk12util -d sql:$HOME/.pki/nssdb -i client.p12, or Settings, Privacy and security, Manage certificates, Your certificates, Import)"
	}
	if d.c.ClientCertificates == 0 && d.certRequestSHA1Only() {
		fix := "let the server accept client signatures with SHA-256 (rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ecdsa_secp256r1_sha256): its CertificateRequest allows only SHA-1, which current clients no longer sign with in TLS 1.2 (RFC 9155)"
		if d.client().Stack == fingerprint.StackGo {
			fix += "; as a stop-gap, run the Go client with GODEBUG=tlssha1=1 (Go 1.25 and later)"
		}
		fix += "; if no certificate is configured on the client, configure one (" + configure + ")"
		return d.serverSide(fix, ChangeClientSignatures)
	}
	fix := "the server requires a client certificate: configure the client with a certificate and key the server accepts (" + configure + ")"
	if cas := CANames(d.c.CertificateRequest); len(cas) > 0 {
		fix += "; it accepts certificates issued by " + quoteList(cas, 3)
		if d.c.ClientCertificates == 0 {
			who := "Go, OpenSSL and most clients send"
			if d.client().Stack == fingerprint.StackGo {
				who = "the client is " + clientName(d.client()) + ", and Go sends"
			}
			fix += fmt.Sprintf(". If a certificate is configured: %s none when its chain does not reach one of these CAs, so its file must hold the intermediates after the leaf (an intermediate issued by %s)",
				who, quoteList(cas, 3))
		}
	}
	return d.serverSide(fix, ChangeClientCertRequired)
}

// emptyCertificateFlight reports whether a TLS 1.3 client's encrypted
// flight, read without keys, holds an empty Certificate (4-byte header,
// empty context, empty list: 8 bytes) before its Finished: the client
// answered a CertificateRequest it could not see the server send. what
// says how the records show it: two records, each sealed with its content
// type and the AEAD tag (OpenSSL, Go, GnuTLS and Java write a record a
// message), or one record holding both (packed: BoringSSL, so Chromium,
// seals its flight at once), whose Finished is then no record of its own.
func (d *diagnosis) emptyCertificateFlight() (what string, packed bool) {
	c := d.c
	if !c.Version.IsTLS13() || c.Decrypted {
		return "", false
	}
	const emptyCertificate = 8
	first, fin := int(c.ClientFlightRecords.First), analysis.EncryptedFinishedLength(c.Cipher)
	switch {
	case c.ClientFlightRecords.Second != 0 && first == analysis.EncryptedRecordLength(c.Cipher, emptyCertificate) && int(c.ClientFlightRecords.Second) == fin:
		return fmt.Sprintf("begins with a record the size of an empty Certificate (%d bytes) before its Finished", first), false
	case first == fin+emptyCertificate:
		return fmt.Sprintf("is one record the size of an empty Certificate and a Finished together (%d bytes; a Finished alone is %d)", first, fin), true
	}
	return "", false
}

// emptyCertificateSent reports whether emptyCertificateFlight finds an
// empty Certificate in the client's encrypted flight.
func (d *diagnosis) emptyCertificateSent() bool {
	what, _ := d.emptyCertificateFlight()
	return what != ""
}

// emptyCertificateText says that the client's encrypted flight, ending
// with its Finished (fin), holds an empty Certificate.
func (d *diagnosis) emptyCertificateText(fin capture.Frame) string {
	what, _ := d.emptyCertificateFlight()
	return fmt.Sprintf("the client's encrypted flight (%s) %s: the server asked for a client certificate and the client sent none (inferred from record sizes; TLS 1.3 encrypts both)", frameRef(fin.Number), what)
}

// certificateSized reports whether a TLS 1.3 client's first encrypted
// record after the server's flight is longer than both an empty
// Certificate and a Finished: a Certificate with certificates (more
// than a hundred bytes each), before its CertificateVerify and Finished.
func (d *diagnosis) certificateSized() bool {
	c := d.c
	if !c.Version.IsTLS13() || c.Decrypted || c.ClientFlightRecords.Second == 0 {
		return false
	}
	const minCertificateRecord = 200 // a certificate of a few names and a P-256 key is about 400 bytes
	return c.ClientFlightRecords.First >= minCertificateRecord
}

// serverClosedFirst returns how the server ended the connection after the
// handshake (its close_notify, FIN or RST) when it did so before the
// client did; a zero frame otherwise.
func (d *diagnosis) serverClosedFirst() (capture.Frame, string) {
	c := d.c
	var first [2]capture.Frame
	var how [2]string
	// Closes count after the handshake was done, but the client's FIN or
	// RST at any time: a client that closed after its Finished, before
	// the server's arrived (a browser's spare TLS 1.2 connection), closed
	// first, and the server's close_notify answers it.
	done := c.HandshakeDone.Number
	consider := func(dir capture.Direction, f capture.Frame, h string, since int64) {
		if f.Number > since && (first[dir].Number == 0 || f.Number < first[dir].Number) {
			first[dir], how[dir] = f, h
		}
	}
	for _, a := range c.Alerts {
		consider(a.Sender, a.Frame, alertText(a), done)
	}
	consider(server, c.TCP.FIN[server], "FIN", done)
	consider(client, c.TCP.FIN[client], "FIN", 0)
	if c.TCP.RST.Number != 0 {
		since := done
		if c.TCP.RSTFrom == client {
			since = 0
		}
		consider(c.TCP.RSTFrom, c.TCP.RST, "RST", since)
	}
	serverFirst := func() bool {
		return first[server].Number != 0 && (first[client].Number == 0 || first[server].Number < first[client].Number)
	}
	// A TLS 1.3 server's last record, of an encrypted alert's size, is
	// its close_notify as a rule: the sign of its close when it came
	// before the client's, and no FIN or RST of the server's did (nginx
	// refusing Chromium: resume/clientcert13_chromium; nginx refusing
	// curl, whose close_notify crossed it: nginx then resets, after the
	// client's FIN).
	if g := c.Afterwards().AlertLike[server]; !serverFirst() && g.Number > c.HandshakeDone.Number && (first[client].Number == 0 || g.Number < first[client].Number) {
		first[server], how[server] = g, encryptedCloseText
	}
	if !serverFirst() {
		return capture.Frame{}, ""
	}
	return first[server], how[server]
}

// https reports whether the connection carries HTTP, where a server that
// closes first after one short answer is refusing: ALPN chose HTTP, or,
// without a visible choice, the client offered only HTTP or the port is
// an HTTPS one. Protocols whose server closes
// after the client's last command (POP3's QUIT, after STARTTLS) do not
// count.
func (d *diagnosis) https() bool {
	c := d.c
	if c.ClientSide.Prelude != nil || c.ServerSide.Prelude != nil {
		return false
	}
	switch c.ALPN {
	case "http/1.1", "h2":
		return true
	case "":
		// TLS 1.3 without keys hides the server's choice: a client that
		// offers only HTTP speaks HTTP.
		offered := d.hello != nil && len(d.hello.ALPN) > 0 && !slices.ContainsFunc(d.hello.ALPN, func(p string) bool { return p != "http/1.1" && p != "h2" })
		return offered || slices.Contains([]uint16{443, 4443, 8443, 9443}, c.Server.Port())
	}
	return false
}

// mightBeHTTPS reports whether a connection whose protocol is not on the
// wire may be HTTPS: the client offered no ALPN, as Go's http.Transport
// given a TLSClientConfig of its own, Java, wget and openssl s_client do,
// nothing was said in plaintext first, and the port is not that of a
// protocol other than HTTP (mail, news, LDAP, DNS, FTP, SIP, XMPP, AMQP,
// syslog, IRC, MQTT over TLS).
func (d *diagnosis) mightBeHTTPS() bool {
	c := d.c
	if c.ClientSide.Prelude != nil || c.ServerSide.Prelude != nil || c.ALPN != "" || d.hello == nil || len(d.hello.ALPN) > 0 {
		return false
	}
	return !slices.Contains(otherTLSPorts, c.Server.Port())
}

// oneExchange reports whether the client sent one record of data and the
// server answered with one, as a request refused with an error page is:
// a protocol that is not named on the wire and talks on (an echo server)
// is no refusal. TLS 1.3 without keys counts the client's Finished and
// the server's tickets among them, and passes.
func (d *diagnosis) oneExchange() bool {
	c := d.c
	return c.Version.IsTLS13() || c.ClientSide.AppData.Records == 1 && c.ServerSide.AppData.Records == 1
}

// otherTLSPorts are the implicit-TLS ports of protocols other than HTTP.
var otherTLSPorts = []uint16{465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 3269, 5061, 5223, 5671, 6514, 6697, 8883}

// certRequestSHA1Only reports whether a TLS 1.2 CertificateRequest lets
// the client sign only with SHA-1 (or MD5) while the client's own
// signature_algorithms has no SHA-1 scheme: a client that no longer signs
// with SHA-1 in TLS 1.2 (RFC 9155) has no certificate it may use there.
// The server's list is OpenSSL's ClientSignatureAlgorithms (nginx
// ssl_conf_command, HAProxy client-sigalgs), or an old stack's.
func (d *diagnosis) certRequestSHA1Only() bool {
	cr := d.c.CertificateRequest
	if cr == nil || d.c.Version != tlsparse.VersionTLS12 || len(cr.SignatureSchemes) == 0 || !d.lacksSHA1Signatures() {
		return false
	}
	return !slices.ContainsFunc(cr.SignatureSchemes, func(s tlsparse.SignatureScheme) bool {
		_, legacy := legacySignature(s)
		return !legacy
	})
}

// clientSHA1Refusal explains an empty client Certificate answering a
// CertificateRequest that allows only SHA-1 signatures. Whether a
// certificate was configured is not on the wire; crypto/tls (Go ≥ 1.25)
// sends none when it cannot sign with one of the listed schemes, which
// other clients that dropped SHA-1 may do as well, or fail instead.
func (d *diagnosis) clientSHA1Refusal() string {
	if !d.certRequestSHA1Only() {
		return ""
	}
	schemes := d.c.CertificateRequest.SignatureSchemes
	s := fmt.Sprintf("the CertificateRequest allows the client to sign only with SHA-1 (%s), and the client's own signature_algorithms has no SHA-1 scheme", list(names(schemes), 3))
	if d.client().Stack == fingerprint.StackGo {
		return s + fmt.Sprintf(". Likely: the client has a certificate but will not sign with SHA-1 in TLS 1.2 (Go 1.25 and later, RFC 9155), so it sent none: crypto/tls sends a certificate only when it can sign with a scheme the server lists, and reports \"remote error: tls: handshake failure\"; possible: no certificate is configured at all (not on the wire). The client is %s", clientName(d.client()))
	}
	return s + ". Likely, if a certificate is configured: the client will not sign with SHA-1 (RFC 9155 forbids it in TLS 1.2; Go 1.25 and later send no certificate then) and sent none; otherwise none is configured (not on the wire)"
}

// sentCertRefused explains a completed handshake in which the client sent
// a certificate, after which the server refused the request: nginx with
// `ssl_verify_client on` completes the handshake whatever the
// certificate, then answers HTTP 400 "The SSL certificate error" and
// closes. Read when decrypted; without keys, only when the capture itself
// shows what is wrong with the certificate, since a short answer and a
// close also end many accepted requests.
func (d *diagnosis) sentCertRefused() (Verdict, bool) {
	c := d.c
	leaf := d.clientLeaf()
	if leaf == nil {
		return Verdict{}, false
	}
	fs := d.clientFindings()
	sent := fmt.Sprintf("the client sent its certificate %s (%s)", clientCertDesc(leaf), frameRef(c.ClientCertificateFrame.Number))
	if c.CertificateRequestFrame.Number != 0 {
		sent = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s) and %s", frameRef(c.CertificateRequestFrame.Number), sent)
	}
	r := d.response
	switch {
	case r != nil && r.Status >= 400 && r.Status < 500:
		certain := strings.Contains(strings.ToLower(r.Title+" "+r.Body), "ssl certificate")
		if !certain && len(fs) == 0 {
			return Verdict{}, false // a refusal of the application's own
		}
		how, page := responseSeen(r)
		summary := fmt.Sprintf("%s; the handshake completed, then the server refused the request with HTTP %d%s (%s)", sent, r.Status, page, how)
		if certain {
			summary += ": the server refused the client's certificate after the handshake, as nginx does when the certificate fails verification (its error log says \"client SSL certificate verify error\" and why)"
		} else {
			summary += ": most likely for the certificate (the page does not say)"
		}
		why, fix := d.refusedCertText(fs, 0, false)
		return verdict(ClientCertRequired, summary+"; "+why, fix, c.CertificateRequestFrame, c.ClientCertificateFrame, c.HandshakeDone, r.Frame), true
	case r != nil || len(fs) == 0:
		return Verdict{}, false
	}
	// The certificate's own defect is the evidence here, so any protocol
	// counts, not only HTTP's.
	end, how := d.serverClosedFirst()
	if c.ClientSide.AppData.Records < 1 || c.ServerSide.AppData.Records == 0 || c.ServerSide.AppData.Bytes > shortResponse || end.Number == 0 || c.ClientSide.Prelude != nil || c.ServerSide.Prelude != nil {
		return Verdict{}, false
	}
	why, fix := d.refusedCertText(fs, 0, false)
	summary := fmt.Sprintf("%s; the handshake completed, the client sent its request (%s), and the server answered with %s of data and closed the connection (%s, %s): the short answer of a server refusing the certificate after the handshake (nginx answers HTTP 400 'The SSL certificate error'); the status is encrypted (probable, from sizes and order, and from what the certificate shows): %s",
		sent, frameRef(c.ClientSide.AppData.First.Number), prose.Count(c.ServerSide.AppData.Bytes, "byte"), how, frameRef(end.Number), why)
	return verdict(ClientCertRequired, summary, fix, c.CertificateRequestFrame, c.ClientCertificateFrame, c.HandshakeDone, c.ClientSide.AppData.First, end), true
}

// responseSeen says where the HTTP answer r was read (decrypted, in
// plaintext, or as the client reported it) and quotes its page's title.
func responseSeen(r *analysis.HTTPResponse) (how, page string) {
	how = "decrypted, " + frameRef(r.Frame.Number)
	switch {
	case r.Frame.Number == 0:
		how = "as the client read it"
	case !r.Decrypted:
		how = "in plaintext, " + frameRef(r.Frame.Number)
	}
	if r.Title != "" {
		page = fmt.Sprintf(" '%s'", r.Title)
	}
	return how, page
}

// clientWentOn says what shows that a client whose certificate the server
// refused had accepted the server's chain, or "" when nothing does: it
// finished its handshake after the server's Certificate and sent no alert
// before the server refused it (an alert, an HTTP answer, a close), and
// it either sent its request too or is a client that judges the chain
// before its Finished (Go, curl, Python, Java, browsers). Node.js,
// GnuTLS and plain libssl programs may judge it only after the handshake,
// which the server's refusal then cut short, and an unrecognised client
// is not guessed at.
func (d *diagnosis) clientWentOn() string {
	c := d.c
	fin := c.ClientSide.Finished.Number
	if fin == 0 || fin < c.CertificateFrame.Number {
		return ""
	}
	var end int64
	earliest := func(n int64) {
		if n > fin && (end == 0 || n < end) {
			end = n
		}
	}
	for _, a := range c.Alerts {
		if a.Sender == server {
			earliest(a.Frame.Number)
		}
	}
	if r := d.response; r != nil && r.Status >= 400 && r.Status < 500 {
		earliest(r.Frame.Number)
	}
	earliest(c.TCP.FIN[server].Number)
	if c.TCP.RSTFrom == server {
		earliest(c.TCP.RST.Number)
	}
	if end == 0 {
		return ""
	}
	for _, a := range c.Alerts {
		if a.Sender == client && a.Frame.Number < end {
			return ""
		}
	}
	if f := c.TCP.FIN[client].Number; f != 0 && f < end || c.TCP.RSTFrom == client && c.TCP.RST.Number != 0 && c.TCP.RST.Number < end {
		return ""
	}
	if req := c.ClientSide.AppData.First.Number; req > fin && req < end {
		return fmt.Sprintf("it finished its handshake, %s, and sent its request, %s, before the server refused it", frameRef(fin), frameRef(req))
	}
	if d.client().Stack == fingerprint.StackUnknown || mayJudgeAfterHandshake(d.client().Stack) {
		return ""
	}
	return fmt.Sprintf("it finished its handshake, %s, after the server's certificate, and the server refused it then: %s judges the chain before its Finished", frameRef(fin), d.client().Stack)
}

// deepChainHint is the warning for a completed handshake in which the
// client sent, readable, a chain deeper than nginx's default
// ssl_verify_depth allows below the CA the server names, then got one
// short answer before the server closed: nginx's HTTP 400 for the verify
// depth looks so on the wire, but so does a short accepted answer, and
// the server's software and status are encrypted, so the verdict stays
// ok.
func (d *diagnosis) deepChainHint() string {
	between, anchor, _, ok := d.sentChainCAs()
	if !ok || len(between) <= nginxDefaultDepth || len(d.clientFindings()) > 0 {
		return ""
	}
	end, how := d.serverClosedFirst()
	if end.Number == 0 {
		return ""
	}
	return fmt.Sprintf("the client sent a chain with %d CAs between its certificate and %s, which the server names (%s); the server then answered with only %s and closed first (%s, %s): if the request failed and the server is nginx, the likely cause is its default `ssl_verify_depth` of %d, which allows one CA there: nginx answers HTTP 400 'The SSL certificate error' and logs \"(20:unable to get local issuer certificate)\" (set `ssl_verify_depth %d;`); the server's software and the status are encrypted, so this is not certain: %s",
		len(between), anchor, frameRef(d.c.ClientCertificateFrame.Number), prose.Count(d.c.ServerSide.AppData.Bytes, "byte"), how, frameRef(end.Number), nginxDefaultDepth, len(between), d.keyLogAdvice("the answer"))
}
