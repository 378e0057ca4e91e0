package diagnose

// A server that refuses the client's certificate, or its lack of one, by
// closing the connection with no alert and no answer: Node.js's https
// and tls servers with requestCert and rejectUnauthorized let the
// handshake finish, check the certificate afterwards and destroy the
// socket; the JDK's HttpsServer closes without writing the alert its
// SSLEngine made (testdata/field/servers). Read alone, that close looks
// like an application dropping the request.

import (
	"fmt"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// certCloseWindow bounds the time from the client's flight to the
// server's close that reads as a refusal of the certificate: the check
// takes milliseconds; an application that gives up does so later.
const certCloseWindow = time.Second

// nodeClientCA is the Node.js setting of the client CAs, which the rule's
// likely server has and the fix table does not know.
const nodeClientCA = "if the server is Node.js, the `ca` option of `https.createServer` (or `tls.createServer`) must hold the client certificate's issuer"

// silentCloseServers names the servers that refuse a client so.
const silentCloseServers = "as Node.js servers (requestCert with rejectUnauthorized) and the JDK's HttpsServer do, closing without an alert"

// certClosedSilently explains a handshake in which the server asked for
// a client certificate and the client sent one, or none (seen in TLS 1.2,
// inferred from its records' sizes in TLS 1.3), and the server, without
// an alert and without a byte of answer, closed the connection right
// after the client's flight.
func (d *diagnosis) certClosedSilently() (Verdict, bool) {
	c := d.c
	var sent bool
	switch {
	case c.ClientCertificates > 0:
		sent = true
	case c.ClientCertificates < 0 && d.certificateSized():
		sent = true
	case c.ClientCertificates == 0 && c.CertificateRequestFrame.Number != 0:
	case d.emptyCertificateSent():
	default:
		return Verdict{}, false
	}
	fin := c.ClientSide.Finished
	sd := c.ServerSide.AppData
	// The server's records after the handshake: none, or only one or two
	// of an alert's size (TLS 1.3 encrypts alerts: GnuTLS sends
	// access_denied, then its close_notify).
	alertSize := int64(analysis.EncryptedRecordLength(c.Cipher, 2))
	alertsOnly := c.Version.IsTLS13() && sd.Records > 0 && sd.Records <= 2 && sd.Bytes == int64(sd.Records)*alertSize
	if fin.Number == 0 || sd.Records > 0 && !alertsOnly || len(c.TCP.Gaps) > 0 {
		return Verdict{}, false
	}
	for _, a := range c.Alerts {
		if a.Sender == server {
			return Verdict{}, false
		}
	}
	end, how := d.serverClosedFirst()
	if end.Number == 0 || end.Number < fin.Number || end.Time.Sub(fin.Time) > certCloseWindow {
		return Verdict{}, false
	}
	if alertsOnly {
		return d.encryptedRefusal(sent, fin, sd, end, how), true
	}
	return d.silentCertVerdict(sent, fin, end, how), true
}

// encryptedRefusal is certClosedSilently's verdict for a TLS 1.3 server
// whose only records after the client's flight were of an alert's size
// (sd) before it closed (end, how): an encrypted alert refusing the
// client, as a rule.
func (d *diagnosis) encryptedRefusal(sent bool, fin capture.Frame, sd analysis.Traffic, end capture.Frame, how string) Verdict {
	c := d.c
	answer := fmt.Sprintf("the server answered only with %s of an alert's size (%s, encrypted) and closed the connection (%s, %s)",
		prose.Count(sd.Records, "record"), frameRef(sd.First.Number), how, frameRef(end.Number))
	ev := []capture.Frame{fin, sd.First, end}
	if !sent {
		return verdict(ClientCertRequired,
			fmt.Sprintf("%s; %s: likely, its alert refuses the client for want of a certificate; possible: the server application closed at once (a close_notify is of the same size)",
				d.emptyCertificateText(fin), answer),
			d.clientCertFix(), ev...)
	}
	return verdict(ClientCertRequired,
		fmt.Sprintf("the client's encrypted flight (%s) begins with a record of %d bytes, a certificate (inferred from record sizes; TLS 1.3 encrypts it and the server's request for it); %s: likely, its alert refuses the client's certificate (GnuTLS sends access_denied for one it does not trust); possible: the server application closed at once (a close_notify is of the same size)",
			frameRef(fin.Number), c.ClientFlightRecords.First, answer),
		d.serverSide(unseenCertCauses+"; "+d.keyLogAdvice("the alert"), ChangeClientCA), ev...)
}

// certFlightClosed explains a TLS 1.2 handshake in which the server asked
// for a client certificate, the client answered with its flight (a
// certificate or an empty Certificate, and its Finished), and the server
// closed the connection without an alert and without its own Finished;
// an alert the client sent after that close reports the close.
func (d *diagnosis) certFlightClosed() (Verdict, bool) {
	c := d.c
	fin := c.ClientSide.Finished
	// A hole in the capture may hold the alert the close seems to lack
	// (testdata/derived/lost_server_alert.pcap).
	if c.Version.IsTLS13() || c.CertificateRequestFrame.Number == 0 || c.ClientCertificates < 0 || fin.Number == 0 || c.ServerSide.Finished.Number != 0 || len(c.TCP.Gaps) > 0 {
		return Verdict{}, false
	}
	end, who, how := d.firstClose()
	if who != server || end.Number < fin.Number || end.Time.Sub(fin.Time) > certCloseWindow {
		return Verdict{}, false
	}
	for _, a := range c.Alerts {
		if a.Sender == server || a.Frame.Number < end.Number {
			return Verdict{}, false
		}
	}
	v := d.silentCertVerdict(c.ClientCertificates > 0, fin, end, how)
	if len(c.Alerts) > 0 {
		a := c.Alerts[0]
		v.Summary += fmt.Sprintf("; %s from the client (%s) came after that close and reports it", alertText(a), frameRef(a.Frame.Number))
		v.Evidence = append(v.Evidence, a.Frame.Number)
	}
	return v, true
}

// silentCertVerdict is the verdict of certClosedSilently and
// certFlightClosed: the client sent a certificate (sent) or none, its
// flight ended with its Finished (fin), and the server closed (end, how).
func (d *diagnosis) silentCertVerdict(sent bool, fin, end capture.Frame, how string) Verdict {
	c := d.c
	closed := fmt.Sprintf("the server then closed the connection (%s, %s) %s after the client's Finished, with no alert and no answer",
		how, frameRef(end.Number), wait(end.Time.Sub(fin.Time)))
	alternative := "possible: the server application closed for a reason of its own, which its log names"
	ev := []capture.Frame{c.CertificateRequestFrame, c.ClientCertificateFrame, fin, end}
	if !sent {
		asked := d.emptyCertificateText(fin)
		if c.CertificateRequestFrame.Number != 0 {
			asked = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s) and the client sent none (empty Certificate, %s)",
				frameRef(c.CertificateRequestFrame.Number), frameRef(c.ClientCertificateFrame.Number))
		}
		return verdict(ClientCertRequired,
			fmt.Sprintf("%s; %s: likely, it requires a certificate and refused the client, %s; %s", asked, closed, silentCloseServers, alternative),
			d.clientCertFix(), ev...)
	}
	var what, why, fix string
	if c.ClientCertificates > 0 {
		what = fmt.Sprintf("the client sent a certificate (%s)", frameRef(c.ClientCertificateFrame.Number))
		if leaf := d.clientLeaf(); leaf != nil {
			what = fmt.Sprintf("the client sent its certificate %s (%s)", clientCertDesc(leaf), frameRef(c.ClientCertificateFrame.Number))
		}
		if c.CertificateRequestFrame.Number != 0 {
			what = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s) and %s", frameRef(c.CertificateRequestFrame.Number), what)
		}
		why, fix = d.refusedCertText(d.clientFindings(), 0, false)
		fix += "; " + nodeClientCA
	} else {
		what = fmt.Sprintf("the client's encrypted flight (%s) begins with a record of %d bytes, a certificate (inferred from record sizes; TLS 1.3 encrypts it and the server's request for it)",
			frameRef(fin.Number), c.ClientFlightRecords.First)
		why = "which check failed is not on the wire"
		fix = d.serverSide(unseenCertCauses+"; "+nodeClientCA, ChangeClientCA)
	}
	return verdict(ClientCertRequired,
		fmt.Sprintf("%s; %s: likely, it refused the client's certificate, %s; %s; %s", what, closed, silentCloseServers, alternative, why),
		fix, ev...)
}
