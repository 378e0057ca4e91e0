package diagnose

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// A chain's purpose and shape: the extended key usage of every certificate
// on the path, and the path length constraints of its CAs. Both are rules
// of RFC 5280 that every client enforces alike (crypto/x509's
// checkChainForKeyUsage and isValid, OpenSSL's check_purpose and
// check_chain), so the fix is never the client's: reissuing the leaf
// under the same CA does not help when a CA is at fault, and the fix says
// so.

// ekuNames names the extended key usages of c as OpenSSL's configuration
// spells them, unknown ones by OID.
func ekuNames(c *x509.Certificate) string {
	var names []string
	for _, u := range c.ExtKeyUsage {
		names = append(names, ekuName(u))
	}
	for _, o := range c.UnknownExtKeyUsage {
		names = append(names, o.String())
	}
	return strings.Join(names, ", ")
}

func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "anyExtendedKeyUsage"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	case x509.ExtKeyUsageIPSECEndSystem:
		return "ipsecEndSystem"
	case x509.ExtKeyUsageIPSECTunnel:
		return "ipsecTunnel"
	case x509.ExtKeyUsageIPSECUser:
		return "ipsecUser"
	case x509.ExtKeyUsageMicrosoftCommercialCodeSigning:
		return "msCodeCom"
	case x509.ExtKeyUsageMicrosoftKernelCodeSigning:
		return "Microsoft kernel code signing"
	}
	return fmt.Sprintf("usage %d", int(u))
}

// refusedUsage is what the common clients say about a chain whose
// extended key usage excludes TLS servers.
const refusedUsage = `Go: "x509: certificate specifies an incompatible key usage"; OpenSSL (curl): "unsuitable certificate purpose"`

// leafUsageProblem: the leaf's extended key usage lacks serverAuth, most
// often a client (or code-signing, e-mail) certificate installed as the
// server's.
func leafUsageProblem(leaf *x509.Certificate) CertProblem {
	return CertProblem{Category: CertRejected, Cert: 0,
		Detail: fmt.Sprintf("certificate 0 %s is not valid for TLS servers: its extended key usage is %s, without serverAuth (%s)", name(leaf), ekuNames(leaf), refusedUsage),
		Fix: fmt.Sprintf("reissue the certificate %s with serverAuth in its extended key usage (openssl: `extendedKeyUsage = serverAuth`; a CA's server or \"web server\" template, not its client or user one) and install it on the server; a certificate made for clients cannot serve TLS, whatever the client trusts",
			name(leaf))}
}

// caUsageProblem: a CA on the path limits what it issues to usages without
// serverAuth; crypto/x509 and OpenSSL apply that to every certificate
// below it, so a leaf with serverAuth is refused all the same.
func caUsageProblem(ca *x509.Certificate, idx int) CertProblem {
	return CertProblem{Category: CertRejected, Cert: idx,
		Detail: fmt.Sprintf("%s limits what it issues to %s (its extended key usage lacks serverAuth), so no certificate under it is valid for TLS servers (%s)", caName(ca, idx), ekuNames(ca), refusedUsage),
		Fix: fmt.Sprintf("reissuing the leaf under %s will not help: get the server's certificate from a CA allowed to issue server certificates (serverAuth, or no extended key usage, in every CA above the leaf), or have %s reissued with serverAuth added to its extendedKeyUsage (same key) and send the new one in the server's chain",
			name(ca), name(ca))}
}

// caName names the CA ca at index idx of the sent chain, or the trusted
// root the server did not send (idx < 0).
func caName(ca *x509.Certificate, idx int) string {
	if idx < 0 {
		return "the trusted root " + name(ca)
	}
	return fmt.Sprintf("the CA certificate %d %s", idx, name(ca))
}

// usageProblems checks the extended key usage of the leaf and of every CA
// on the path, the trusted root included when it was not sent.
func (ck *checker) usageProblems(path []int, anchor *x509.Certificate) []CertProblem {
	var probs []CertProblem
	if leaf := ck.chain[0]; !serverAuth(leaf) {
		probs = append(probs, leafUsageProblem(leaf))
	}
	for _, i := range path[1:] {
		if c := ck.chain[i]; !serverAuth(c) {
			probs = append(probs, caUsageProblem(c, i))
		}
	}
	if anchor != nil && ck.sentIndex(anchor) < 0 && !serverAuth(anchor) {
		probs = append(probs, caUsageProblem(anchor, -1))
	}
	return probs
}

// pathLenProblems finds a CA with more CA certificates below it than its
// path length constraint allows (RFC 5280, Section 4.2.1.9): crypto/x509's
// "too many intermediates for path length constraint", OpenSSL's "path
// length constraint exceeded". A private root made with pathlen:0 that
// signed an intermediate is the usual case.
func (ck *checker) pathLenProblems(path []int, anchor *x509.Certificate) []CertProblem {
	var probs []CertProblem
	check := func(c *x509.Certificate, idx, below int) {
		if !c.BasicConstraintsValid || !c.IsCA || c.MaxPathLen < 0 || below <= c.MaxPathLen {
			return
		}
		probs = append(probs, CertProblem{Category: CertRejected, Cert: idx,
			Detail: fmt.Sprintf("%s allows at most %d intermediate CA certificate(s) below it (basicConstraints pathlen:%d), and the chain has %d below it (Go: \"x509: too many intermediates for path length constraint\"; OpenSSL: \"path length constraint exceeded\")", caName(c, idx), c.MaxPathLen, c.MaxPathLen, below),
			Fix:    pathLenFix(c, idx)})
	}
	for k, i := range path {
		if k > 0 {
			check(ck.chain[i], i, k-1)
		}
	}
	if anchor != nil && ck.sentIndex(anchor) < 0 {
		check(anchor, -1, len(path)-1)
	}
	return probs
}

// pathLenFix: the hierarchy, not the leaf, must change.
func pathLenFix(c *x509.Certificate, idx int) string {
	issue := fmt.Sprintf("have %s issue the server's certificate directly, with no intermediate between them", name(c))
	if c.MaxPathLen > 0 {
		issue = fmt.Sprintf("have the server's certificate issued with at most %d intermediate(s) between it and %s", c.MaxPathLen, name(c))
	}
	reissue := fmt.Sprintf("reissue %s without the constraint (or with a larger pathlen; same key) and send the new one in the server's chain", name(c))
	if idx < 0 {
		reissue = fmt.Sprintf("make a new root certificate for %s without the constraint (same key), which the clients must then trust in place of the old one", name(c))
	}
	return fmt.Sprintf("the CA hierarchy breaks its own rule, so reissuing the leaf under the same intermediate will not help: %s, or %s", issue, reissue)
}

// criticalFix is the fix for a certificate with a critical extension
// clients cannot process.
func criticalFix(c *x509.Certificate, idx int, oids string) string {
	if idx == 0 {
		return fmt.Sprintf("reissue the certificate %s without the critical extension %s (or with it marked non-critical) and install it on the server: a client that does not know a critical extension must refuse the certificate (RFC 5280, Section 4.2)", name(c), oids)
	}
	return fmt.Sprintf("the CA %s carries the critical extension %s, which clients do not know, so every certificate under it is refused: get the server's certificate from a CA without it, or have the CA reissued without it (or with it non-critical) and send the new one in the server's chain", name(c), oids)
}
