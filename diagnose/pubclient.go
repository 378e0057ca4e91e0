package diagnose

// A publicly-trusted TLS server certificate used as a client certificate
// (mutual TLS between servers, MQTT brokers, SMTP relays, webhooks):
// public CAs no longer put clientAuth in their certificates, so a renewed
// one is refused by every server that checks the client's extended key
// usage, and renewing again does not help. The certificate is recognised
// by the CA/Browser Forum policy identifier that the Baseline
// Requirements make mandatory in every publicly-trusted subscriber
// certificate (section 7.1.2.7.9, the identifiers of section 7.1.6.1).

import (
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// cabfPolicies are the CA/Browser Forum's reserved certificate policy
// identifiers of TLS server certificates, with the validation each
// stands for.
var cabfPolicies = []struct{ oid, kind string }{
	{"2.23.140.1.2.1", "domain validated"},
	{"2.23.140.1.2.2", "organization validated"},
	{"2.23.140.1.2.3", "individual validated"},
	{"2.23.140.1.1", "extended validation"},
}

// publicTLSPolicy says what marks c as a publicly-trusted TLS server
// certificate: the reserved policy identifier it carries. ok is false
// when it carries none (a private CA's certificate, as a rule).
func publicTLSPolicy(c *x509.Certificate) (string, bool) {
	for _, p := range c.Policies {
		s := p.String()
		for _, r := range cabfPolicies {
			if s == r.oid {
				return fmt.Sprintf("its CA/Browser Forum policy OID %s (%s) marks a publicly-trusted TLS server certificate", r.oid, r.kind), true
			}
		}
	}
	return "", false
}

// publicCAsDropClientAuth is why renewing a public certificate does not
// bring clientAuth back.
const publicCAsDropClientAuth = "public CAs no longer issue certificates with clientAuth (Let's Encrypt has left it out since 11 February 2026; Chrome's root program requires TLS server hierarchies without it from 15 June 2026)"

// privateCAText is what to do instead of a public client certificate.
const privateCAText = "issue the client's certificates from a private CA that the server trusts (step-ca, HashiCorp Vault PKI, AWS Private CA, or openssl with `extendedKeyUsage = clientAuth`) and put that CA in the server's client-CA list"

// privateCAFix is the fix for client authentication that rests on a
// public certificate: a private CA that the server trusts; for a Go
// server or an unknown one, also the weaker alternative of accepting
// serverAuth.
func (d *diagnosis) privateCAFix() string {
	fix := d.serverSide(privateCAText, ChangeClientCA)
	if srv, _ := d.server(); srv == ServerGo || srv == ServerUnknown {
		fix += "; less advisable, if the server is a Go program whose owner accepts the risk: ask with tls.RequireAnyClientCert and verify the chain in a VerifyConnection callback with x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, which accepts server certificates as client certificates and so weakens the check (anyone can get a public certificate for a name of their own: check the name too)"
	}
	return fix
}

// noClientAuthFinding is the finding for a client certificate whose
// extended key usage leaves out clientAuth: for a public CA's
// certificate, that renewing it does not help.
func (d *diagnosis) noClientAuthFinding(leaf *x509.Certificate) clientFinding {
	lacks := fmt.Sprintf("allows only %s in its extended key usage, not clientAuth (TLS client authentication), which servers require of a client certificate", ekuList(leaf))
	why, public := publicTLSPolicy(leaf)
	if !public {
		return clientFinding{ccNoClientAuth,
			fmt.Sprintf("the client certificate %s %s", name(leaf), lacks),
			fmt.Sprintf("issue the client a certificate whose extendedKeyUsage includes clientAuth (OpenSSL: extendedKeyUsage = clientAuth), in place of %s", name(leaf)),
			false}
	}
	return clientFinding{ccNoClientAuth,
		fmt.Sprintf("the client certificate %s is a public CA's TLS server certificate used as a client certificate (%s), and %s", name(leaf), why, lacks),
		fmt.Sprintf("renewing %s will not help: %s; %s", name(leaf), publicCAsDropClientAuth, d.privateCAFix()),
		false}
}

// publicClientCertWarning warns of a public CA's TLS server certificate
// that a client sent, readable, on a connection that went well: one that
// still allows clientAuth will be renewed without it, and one that does
// not is refused by a server that checks it after the handshake (nginx's
// HTTP 400, encrypted here).
func (d *diagnosis) publicClientCertWarning() string {
	leaf := d.clientLeaf()
	if leaf == nil {
		return ""
	}
	why, public := publicTLSPolicy(leaf)
	if !public {
		return ""
	}
	ekus := leaf.ExtKeyUsage
	if len(ekus) == 0 && len(leaf.UnknownExtKeyUsage) == 0 || slices.Contains(ekus, x509.ExtKeyUsageAny) {
		return ""
	}
	if slices.Contains(ekus, x509.ExtKeyUsageClientAuth) {
		return fmt.Sprintf("the client certificate %s is a public CA's TLS server certificate used as a client certificate (%s); it still allows clientAuth, but %s, so its renewal will lack it, and a server that checks (OpenSSL, nginx and Go's crypto/tls do) will likely refuse the renewed one: before it expires on %s, %s",
			name(leaf), why, publicCAsDropClientAuth, leaf.NotAfter.UTC().Format(time.DateOnly), privateCAText)
	}
	return fmt.Sprintf("the client certificate %s is a public CA's TLS server certificate used as a client certificate (%s), without clientAuth in its extended key usage: a server that verifies client certificates refuses it, and nginx does so after the handshake (HTTP 400 'The SSL certificate error', encrypted here): if the request failed, this is the likely cause; renewing will not help, as %s: %s",
		name(leaf), why, publicCAsDropClientAuth, privateCAText)
}
