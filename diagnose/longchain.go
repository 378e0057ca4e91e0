package diagnose

// A server that sends more certificates than GnuTLS takes: its
// certificate file holds a few CA certificates after its own chain, a
// message far under every client's size limit, and GnuTLS clients refuse
// it for the count alone while OpenSSL and Go take it
// (testdata/field/longchain).

import (
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// gnutlsChainSays is what gnutls-cli (3.7.9, measured) prints when it
// refuses a chain for its length; it then sends alert bad_certificate.
const gnutlsChainSays = "Could not verify certificate (err: Some constraint limits were reached.)"

// longChain explains a GnuTLS client that refused a chain of more than
// gnutlsMaxChain certificates in a Certificate message it takes by size.
func (d *diagnosis) longChain() (Verdict, bool) {
	c := d.c
	n := len(c.Certificates)
	if c.Established || n <= gnutlsMaxChain || d.client().Stack != fingerprint.StackGnuTLS {
		return Verdict{}, false
	}
	m := c.Large
	if m != nil && m.Type == tlsparse.HandshakeTypeCertificate && m.Size > gnutlsMaxMessage {
		// Over GnuTLS's size limit: the size is the cause (bigCertificate).
		return Verdict{}, false
	}
	abort, how := d.clientAbort()
	if abort.Number == 0 || abort.Number < c.CertificateFrame.Number {
		return Verdict{}, false
	}
	if !d.clientAlertIs(abort.Number, tlsparse.AlertBadCertificate) && how != "FIN" && how != "RST" {
		// GnuTLS counts the certificates before it verifies any: another
		// alert is about something else (or a program that raised the
		// limit).
		return Verdict{}, false
	}
	msg, certFrame := fmt.Sprintf("its Certificate message in %s", frameRef(c.CertificateFrame.Number)), c.CertificateFrame
	if m != nil && m.Type == tlsparse.HandshakeTypeCertificate {
		msg, certFrame = fmt.Sprintf("its Certificate message, %s, its header in %s", kib(m.Size), frameRef(m.Frame.Number)), m.Frame
	}
	path := ""
	if p, extra := d.chainPath(); extra > 0 {
		path = fmt.Sprintf(": the leaf's path is the first %d, the %d after them do not continue it", p, extra)
	}
	summary := fmt.Sprintf("the client %s after the server's chain of %d certificates (%s)%s. Likely: the client refused the chain for its length: its ClientHello is GnuTLS's, which refuses a chain of more than %d certificates (%q, then alert bad_certificate), whatever their size; possible: it refused the chain for another reason, which the capture does not show",
		hungUp(how, abort), n, msg, path, gnutlsMaxChain, gnutlsChainSays)
	d.bigCertSaid = true
	return verdict(CertRejected, summary, d.longChainFix(), d.helloFrame, certFrame, abort), true
}

// clientAlertIs reports whether the client's alert in frame n is desc.
func (d *diagnosis) clientAlertIs(n int64, desc tlsparse.AlertDescription) bool {
	return slices.ContainsFunc(d.c.Alerts, func(a analysis.Alert) bool {
		return a.Sender == client && a.Frame.Number == n && (!a.Encrypted || a.Decrypted) && a.Description == desc
	})
}

// longChainFix says which certificates to drop from a server's chain of
// more than gnutlsMaxChain.
func (d *diagnosis) longChainFix() string {
	settings := "nginx: `ssl_certificate`; Apache: `SSLCertificateFile` (and `SSLCertificateChainFile` before httpd 2.4.8); HAProxy: the `crt` PEM; then reload the server"
	certs := d.c.Certificates
	path, extra := d.chainPath()
	if extra > 0 {
		var drop []string
		for _, cert := range certs[path:] {
			if cert.X509 != nil {
				drop = append(drop, name(cert.X509))
			}
		}
		return fmt.Sprintf("send the leaf's path only: keep the first %d certificates of the server's certificate file (the leaf and its intermediates) and drop the %d after them (%s), which do not continue it (CA certificates appended; clients trust their own roots): %s",
			path, extra, list(drop, 3), settings)
	}
	return fmt.Sprintf("the leaf's path itself is %d certificates long: drop its root, if sent (clients have their own), and if it is still longer than %d have the leaf issued under a shorter chain: %s", path, gnutlsMaxChain, settings)
}

// longChainWarning warns of a chain of more than gnutlsMaxChain
// certificates when the verdict is not about it and the large-certificate
// warning does not already say so.
func (d *diagnosis) longChainWarning(v *Verdict) {
	n := len(d.c.Certificates)
	if n <= gnutlsMaxChain || d.bigCertSaid || d.bigCertMessage() != nil {
		return
	}
	who := ""
	switch abort, _ := d.clientAbort(); {
	case v.Category == OK:
		who = "this client took it, but "
	case abort.Number != 0 && d.clientAlertIs(abort.Number, tlsparse.AlertBadCertificate) && !d.takesLongChains():
		who = "possible cause of this client's alert bad_certificate, if it uses GnuTLS: "
	}
	v.Warnings = append(v.Warnings, fmt.Sprintf("the server sent a chain of %d certificates (%s); %sGnuTLS clients (gnutls-cli, and programs linked with GnuTLS: on Debian and Ubuntu wget, apt and git over HTTPS) refuse a chain of more than %d certificates by default (%q, alert bad_certificate): %s",
		n, frameRef(d.c.CertificateFrame.Number), who, gnutlsMaxChain, gnutlsChainSays, d.longChainFix()))
}

// takesLongChains reports whether the client's hello is that of a stack
// measured to take a chain of more than gnutlsMaxChain certificates.
func (d *diagnosis) takesLongChains() bool {
	switch d.client().Stack {
	case fingerprint.StackOpenSSL, fingerprint.StackCurl, fingerprint.StackPython, fingerprint.StackGo:
		return true
	}
	return false
}
