package diagnose

// A server whose Certificate message is larger than clients accept: its
// certificate file holds a CA bundle (the system's, ~150 certificates)
// after its own chain, and every client with a smaller limit hangs up on
// reading the message's header.

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// certMessageLimit is how large a Certificate message (its body) clients
// accept by default, and what they say of a larger one. Each was measured
// (testdata/field/bigchain): OpenSSL 3.0.19 (openssl s_client, curl
// 7.88.1, Python 3's ssl), GnuTLS 3.7.9 (gnutls-cli), crypto/tls of Go
// 1.26.
type certMessageLimit struct {
	clients string
	stacks  []fingerprint.Stack
	limit   int
	says    string
}

// GnuTLS (3.7.9, measured) refuses a chain of more certificates than
// gnutlsMaxChain ("Some constraint limits were reached", alert
// bad_certificate), and a handshake message over gnutlsMaxMessage.
const (
	gnutlsMaxChain   = 16
	gnutlsMaxMessage = 128 << 10
)

var certMessageLimits = []certMessageLimit{
	{"OpenSSL (so curl, Python's ssl and openssl s_client)", []fingerprint.Stack{fingerprint.StackOpenSSL, fingerprint.StackCurl, fingerprint.StackPython},
		100 << 10, `"excessive message size", alert illegal_parameter`},
	{"GnuTLS", []fingerprint.Stack{fingerprint.StackGnuTLS},
		gnutlsMaxMessage, `"The handshake data size is too large", alert decode_error`},
	{"Go's crypto/tls (1.26)", []fingerprint.Stack{fingerprint.StackGo},
		256 << 10, `"tls: handshake message of length … exceeds maximum of 262144 bytes", alert internal_error`},
}

// kib writes n bytes as "157,593 bytes (153.9 KiB)".
func kib(n int) string {
	return fmt.Sprintf("%s bytes (%.1f KiB)", prose.Thousands(n), float64(n)/1024)
}

// bigCertMessage returns the server's Certificate message when it is
// larger than the smallest limit clients set on it, else nil.
func (d *diagnosis) bigCertMessage() *analysis.LargeMessage {
	m := d.c.Large
	if m == nil || m.Type != tlsparse.HandshakeTypeCertificate || m.Size <= certMessageLimits[0].limit {
		return nil
	}
	return m
}

// bigCertificate explains a client that hung up after a server's
// Certificate message larger than clients accept.
func (d *diagnosis) bigCertificate() (Verdict, bool) {
	c := d.c
	m := d.bigCertMessage()
	if c.Established || m == nil {
		return Verdict{}, false
	}
	abort, how := d.clientAbort()
	if abort.Number == 0 || abort.Number < m.Frame.Number {
		return Verdict{}, false
	}
	stack := d.client().Stack
	own := ""
	for _, l := range certMessageLimits {
		if !slices.Contains(l.stacks, stack) {
			continue
		}
		if m.Size <= l.limit {
			// This client takes a message of that size: it refused
			// something else.
			return Verdict{}, false
		}
		own = fmt.Sprintf("; its ClientHello is %s's, whose limit this message exceeds", stack)
	}
	summary := fmt.Sprintf("the client %s after the server's Certificate message (its header in %s) of %s%s. ",
		hungUp(how, abort), frameRef(m.Frame.Number), kib(m.Size), d.bigCertContents(m))
	if how == "FIN" || how == "RST" {
		// Each client measured sends an alert when it refuses the
		// message: one that hangs up without any is none of them.
		summary += fmt.Sprintf("Possible: the client refused the message for its size, as these clients do by default: %s%s; but each of them sends an alert when it does, and this client sent none: it may be another client, or one that refused the chain for another reason, which the capture does not show", d.refusedBy(m.Size), own)
	} else {
		summary += fmt.Sprintf("Likely: the client refused the message for its size, as these clients do by default: %s%s; possible: it refused the chain for another reason, which the capture does not show", d.refusedBy(m.Size), own)
	}
	d.bigCertSaid = true
	return verdict(CertRejected, summary, d.bigCertFix(m), d.helloFrame, m.Frame, abort), true
}

// bigCertFix is the fix for a Certificate message m too large: a chain
// file that holds more than the leaf's path, when the message was read
// and shows it; otherwise that or a certificate that large.
func (d *diagnosis) bigCertFix(m *analysis.LargeMessage) string {
	settings := "nginx: `ssl_certificate` (the leaf, then its intermediates); Apache: `SSLCertificateFile` (and `SSLCertificateChainFile` before httpd 2.4.8), a CA bundle belongs only in `SSLCACertificateFile`, to verify client certificates; HAProxy: the `crt` PEM (leaf, intermediates, key), a CA bundle belongs in `ca-file`; then reload the server"
	if _, extra := d.bigCertPath(m); extra > 0 {
		return "the server sends far more than its chain: its certificate file should hold the leaf and its intermediates only (a few KB), not a CA bundle (such as /etc/ssl/certs/ca-certificates.crt appended to it: clients trust their own roots): " + settings
	}
	return "keep the server's Certificate message under 100 KiB: its certificate file should hold the leaf and its intermediates only, not a CA bundle (such as /etc/ssl/certs/ca-certificates.crt appended to it: clients trust their own roots), and a certificate that large by itself (thousands of names, embedded data) must be reissued smaller: " + settings
}

// bigCertPathText says how much of a chain that was read is the leaf's
// path, when certificates follow it; "" otherwise.
func (d *diagnosis) bigCertPathText(m *analysis.LargeMessage) string {
	if path, extra := d.bigCertPath(m); extra > 0 {
		return fmt.Sprintf(": the leaf's path is the first %d, the %d after them do not continue it", path, extra)
	}
	return ""
}

// bigCertPath returns, for a Certificate message m that was read, the
// length of the leaf's path at the head of the chain (each certificate
// issued by the next) and the number of certificates after it.
func (d *diagnosis) bigCertPath(m *analysis.LargeMessage) (path, extra int) {
	if !m.Read {
		return 0, 0
	}
	return d.chainPath()
}

// chainPath returns the length of the leaf's path at the head of the
// server's chain (each certificate issued by the next) and the number of
// certificates after it; 0, 0 when the chain was not read.
func (d *diagnosis) chainPath() (path, extra int) {
	certs := d.c.Certificates
	if len(certs) == 0 {
		return 0, 0
	}
	path = 1
	for path < len(certs) && certs[path-1].X509 != nil && certs[path].X509 != nil &&
		bytes.Equal(certs[path-1].X509.RawIssuer, certs[path].X509.RawSubject) {
		path++
	}
	return path, len(certs) - path
}

// bigCertWarning warns of a server's Certificate message larger than
// some clients accept when the verdict is not about it: the client of
// the capture took it, or failed for a reason of its own.
func (d *diagnosis) bigCertWarning(v *Verdict) {
	m := d.bigCertMessage()
	if m == nil || d.bigCertSaid {
		return
	}
	took := "; "
	if d.c.Established {
		took = "; this client took it, "
	}
	also := ""
	if n := len(d.c.Certificates); m.Read && n > gnutlsMaxChain {
		also = fmt.Sprintf(", and GnuTLS refuses a chain of more than %d certificates", gnutlsMaxChain)
	}
	v.Warnings = append(v.Warnings, fmt.Sprintf("the server's Certificate message (its header in %s) is %s%s%sbut these clients refuse one that large by default: %s%s; the server's certificate file should hold the leaf and its intermediates only",
		frameRef(m.Frame.Number), kib(m.Size), d.bigCertContents(m), took, d.refusedBy(m.Size), also))
}

// refusedBy names the clients that refuse a Certificate message of size
// bytes by default, and those that take it.
func (d *diagnosis) refusedBy(size int) string {
	var refuse, take []string
	for _, l := range certMessageLimits {
		if size > l.limit {
			refuse = append(refuse, fmt.Sprintf("%s over %d KiB (%s)", l.clients, l.limit>>10, l.says))
		} else {
			take = append(take, fmt.Sprintf("%s takes up to %d KiB", l.clients, l.limit>>10))
		}
	}
	s := strings.Join(refuse, ", ")
	if len(take) > 0 {
		s += " (" + strings.Join(take, ", ") + ")"
	}
	return s
}

// bigCertContents says what a large Certificate message m holds, when it
// was read, or why it was not.
func (d *diagnosis) bigCertContents(m *analysis.LargeMessage) string {
	certs := d.c.Certificates
	switch {
	case m.Read && len(certs) > 0:
		return fmt.Sprintf(", holding %d certificates", len(certs)) + d.bigCertPathText(m)
	case m.Size > tlsparse.MaxHandshakeSize:
		return fmt.Sprintf(", whose certificates were not read: tlsdiag reads no handshake message over %d KiB, to bound its memory", tlsparse.MaxHandshakeSize>>10)
	case !m.Read:
		return ", not all of which is in the capture"
	}
	return ""
}

// hungUp says how the client ended a handshake: an alert, its FIN or a
// RST in frame f.
func hungUp(how string, f capture.Frame) string {
	switch how {
	case "FIN":
		return fmt.Sprintf("closed the connection (FIN, %s)", frameRef(f.Number))
	case "RST":
		return fmt.Sprintf("reset the connection (%s)", frameRef(f.Number))
	}
	return fmt.Sprintf("sent %s (%s)", how, frameRef(f.Number))
}
