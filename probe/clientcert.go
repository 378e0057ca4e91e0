package probe

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/diagnose"
)

// clientCertNotSent explains an empty client Certificate when a
// certificate was configured: crypto/tls sends the configured certificate
// only if one certificate of its chain (the leaf or one given after it)
// was issued by a CA the CertificateRequest lists (RFC 5246, Section
// 7.4.4; getClientCertificate in crypto/tls). The usual causes are a
// certificate file that holds the leaf alone and a certificate from a CA
// the server does not trust. ok is false when this is not what happened.
func clientCertNotSent(o *Outcome, c *analysis.Connection) (cause, fix string, ok bool) {
	cr := c.CertificateRequest
	if len(o.ClientChain) == 0 || cr == nil || len(cr.CANames) == 0 || c.ClientCertificates > 0 {
		return "", "", false
	}
	for _, cert := range o.ClientChain {
		if slices.ContainsFunc(cr.CANames, func(ca []byte) bool { return bytes.Equal(cert.RawIssuer, ca) }) {
			return "", "", false // the chain reaches a listed CA: something else
		}
	}
	accepted := diagnose.CANames(cr)
	leaf := o.ClientChain[0]
	sent := "sent no certificate"
	if c.ClientCertificates == 0 {
		sent = fmt.Sprintf("sent an empty Certificate (frame %d)", c.ClientCertificateFrame.Number)
	}
	cause = fmt.Sprintf("a client certificate was configured ('%s', issued by '%s'), but the server's CertificateRequest (frame %d) accepts only certificates issued by %s, and no certificate of the configured chain was: crypto/tls then sends none, so the client %s",
		leaf.Subject, leaf.Issuer, c.CertificateRequestFrame.Number, quoted(accepted), sent)
	return cause, clientChainFix(o.ClientChain, quoted(accepted)), true
}

// clientChainFix says what to change when the configured chain reaches
// none of the CAs the server accepts (accepted, quoted). The file tells
// whether the chain ends at a root, which nothing can be added above: the
// certificate must come from a CA the server lists, or the server must
// trust the chain's own. When the chain ends at a certificate whose
// issuer the file does not hold, that issuer may be an intermediate under
// a listed CA (then the file lacks it) or a root of another PKI, and only
// the issuer's certificate would tell: both are said.
func clientChainFix(chain []*x509.Certificate, accepted string) string {
	last := chain[len(chain)-1]
	switch {
	case selfSigned(last) && len(chain) == 1:
		return fmt.Sprintf("the certificate '%s' is self-signed, so no chain leads from it to a CA the server accepts (%s): use a certificate issued by one of them, or make the server trust this certificate (its client CA list)", last.Subject, accepted)
	case selfSigned(last):
		return fmt.Sprintf("the chain in the certificate file ends at its root '%s', which the server does not list, so no chain leads from it to a CA the server accepts (%s): use a certificate issued by one of them, or make the server trust '%s' (its client CA list)", last.Subject, accepted, last.Subject)
	}
	ends := "the certificate file holds the leaf alone"
	after := "the leaf"
	if len(chain) > 1 {
		ends = fmt.Sprintf("the chain in the certificate file ends at '%s'", last.Subject)
		after = "the last certificate"
	}
	return fmt.Sprintf("%s, issued by '%s', which the server does not list and the file does not hold: if '%s' is a root (of a CA the server does not trust), use a certificate issued by one of %s, or make the server trust '%s' (its client CA list); if it is an intermediate under one of those, add it after %s (with any intermediate between them), and crypto/tls sends the chain",
		ends, last.Issuer, last.Issuer, accepted, last.Issuer, after)
}

// selfSigned reports whether cert is issued by itself (a root, or a leaf
// made for the occasion), above which no chain goes. Its own key checks
// its signature: CheckSignatureFrom would also want it to be a CA.
func selfSigned(cert *x509.Certificate) bool {
	return bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	if len(q) > 3 {
		q = append(q[:3], fmt.Sprintf("and %d more", len(names)-3))
	}
	return strings.Join(q, ", ")
}
