package probe

import (
	"bytes"
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
// 7.4.4; getClientCertificate in crypto/tls). The usual cause is a
// certificate file that holds the leaf alone. ok is false when this is not
// what happened.
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
	leaf, last := o.ClientChain[0], o.ClientChain[len(o.ClientChain)-1]
	sent := "sent no certificate"
	if c.ClientCertificates == 0 {
		sent = fmt.Sprintf("sent an empty Certificate (frame %d)", c.ClientCertificateFrame.Number)
	}
	cause = fmt.Sprintf("a client certificate was configured ('%s', issued by '%s'), but the server's CertificateRequest (frame %d) accepts only certificates issued by %s, and no certificate of the configured chain was: crypto/tls then sends none, so the client %s",
		leaf.Subject, leaf.Issuer, c.CertificateRequestFrame.Number, quoted(accepted), sent)
	if len(o.ClientChain) == 1 {
		fix = fmt.Sprintf("the certificate file holds the leaf alone: add its issuer, the intermediate '%s', after the leaf (and any intermediate up to a CA the server lists: %s); crypto/tls then sends the chain", leaf.Issuer, quoted(accepted))
	} else {
		fix = fmt.Sprintf("the chain in the certificate file ends at '%s', issued by '%s', which the server does not list: add the intermediates up to one of %s, or ask for the server to accept '%s'", last.Subject, last.Issuer, quoted(accepted), last.Issuer)
	}
	return cause, fix, true
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
