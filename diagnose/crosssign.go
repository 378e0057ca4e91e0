package diagnose

// A chain that leads to an old root through a cross-signed new one: the
// server sends leaf, intermediate and the new root's name and key signed
// by the old root (AddTrust External CA Root's cross-sign of USERTrust
// until May 2020; DST Root CA X3's of ISRG Root X1 until September 2021).
// A client that trusts the new root ends its path there (Go tries every
// path; OpenSSL from 1.1.0 looks in its trust store first); one that
// trusts only the old root goes through the cross-sign, and fails when
// the cross-sign or its own copy of the old root has expired. The
// server's chain file is not what broke, so "install the CA's current
// intermediate" is the wrong fix, and so is the client's clock.

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// crossSign reports whether chain[i] is a cross-signed root: a CA
// certificate the server sent after others, signed by another CA, that
// has the name and key of a trusted root, or whose own name says root.
func (d *diagnosis) crossSign(i int) bool {
	if i <= 0 || i >= len(d.chain) || d.chain[i] == nil {
		return false
	}
	c := d.chain[i]
	if !isCA(c) || bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	for _, r := range d.rootsOf.bySubject(c.RawSubject) {
		if bytes.Equal(r.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return issuerKind(c.Subject) == issuerRoot
}

// crossSignIssuedBy returns the index of the sent cross-signed root that
// root (a trusted root the server did not send) issued, or -1.
func (d *diagnosis) crossSignIssuedBy(root *x509.Certificate) int {
	for i, c := range d.chain {
		if c != nil && bytes.Equal(c.RawIssuer, root.RawSubject) && d.crossSign(i) && signedBy(c, root) {
			return i
		}
	}
	return -1
}

// markCrossSigns gives the date problems of a cross-signed path their
// own reading: an expired cross-sign, or an expired old root reached
// through one, fails only the clients that do not trust the new root, so
// a client that accepted the chain is not suspected of verifying nothing,
// and the fix is the client's trust store, then the server's chain.
func (d *diagnosis) markCrossSigns() {
	d.expiredCrossSign()
	for i := range d.probs {
		p := &d.probs[i]
		if p.Category != CertExpired {
			continue
		}
		switch {
		case p.Cert > 0 && d.crossSign(p.Cert):
			c := d.chain[p.Cert]
			p.CrossSign = p.Cert
			p.Detail += fmt.Sprintf(" (it is the root %s cross-signed by '%s': a client that trusts %s itself ends its path there and never uses it)", name(c), issuerName(c), name(c))
			p.Fix = d.crossSignFix(p.Cert, fmt.Sprintf("the cross-signed %s the server sends expired on %s", name(c), stamp(c.NotAfter)))
		case p.Cert < 0:
			root := d.expiredRoot()
			if root == nil {
				continue
			}
			j := d.crossSignIssuedBy(root)
			if j < 0 {
				continue
			}
			p.CrossSign = j
			p.Detail += fmt.Sprintf(" (the server's chain reaches it through %s, the root %s cross-signed by it: a client that trusts %s itself ends its path there)", name(d.chain[j]), name(d.chain[j]), name(d.chain[j]))
			p.Fix = d.crossSignFix(j, fmt.Sprintf("the root %s, which the client trusts and the server's cross-sign leads to, expired on %s", name(root), stamp(root.NotAfter)))
		}
	}
}

// expiredCrossSign adds the expired cross-sign of a chain that verifies
// here without it (the roots given hold the new root), which the checks
// of the chain, made for a chain that fails, do not report: the client
// that trusts only the old root fails on it, and one that accepted the
// chain is warned that such clients do.
func (d *diagnosis) expiredCrossSign() {
	if d.c == nil || len(d.chain) == 0 {
		return
	}
	at := d.certTime()
	if at.IsZero() {
		return
	}
	for i, c := range d.chain {
		if c == nil || !at.After(c.NotAfter) || !d.crossSign(i) || slices.ContainsFunc(d.probs, func(p CertProblem) bool { return p.Cert == i && p.Category == CertExpired }) {
			continue
		}
		d.probs = append(d.probs, CertProblem{Category: CertExpired, Cert: i,
			Detail: fmt.Sprintf("certificate %d %s expired on %s, %s before the capture (%s)", i, name(c), stamp(c.NotAfter), span(at.Sub(c.NotAfter)), stamp(at))})
		slices.SortStableFunc(d.probs, byRank)
		return
	}
}

// expiredRoot is the trusted root, not sent, that the chain as sent
// leads to and that has expired at the capture's time; nil when none.
func (d *diagnosis) expiredRoot() *x509.Certificate {
	at := d.certTime()
	for _, c := range d.chain {
		if c == nil {
			continue
		}
		for _, r := range d.rootsOf.bySubject(c.RawIssuer) {
			if at.After(r.NotAfter) && signedBy(c, r) {
				return r
			}
		}
	}
	return nil
}

// crossSignFix ranks the two fixes of a client that went through the
// cross-sign chain[i] and failed (why says what expired): the client's
// trust store lacks the new root, or the client follows the chain as
// sent; the server can drop the cross-sign for the second.
func (d *diagnosis) crossSignFix(i int, why string) string {
	c := d.chain[i]
	client := fmt.Sprintf("make the client trust the root %s (%s)", name(c), trustRootAdvice(d.client()))
	server := fmt.Sprintf("remove the cross-signed %s (issued by '%s') from the server's chain file, leaving leaf and intermediates (nginx: the `ssl_certificate` file; Apache httpd: `SSLCertificateFile`, before 2.4.8 `SSLCertificateChainFile`; HAProxy: the `crt` file), so that clients which trust %s but follow the chain as sent (OpenSSL before 1.1.0, old Android and Java) build the short path; a client that trusts only '%s' then fails as an unknown CA, and only that CA's owner can issue a new cross-sign",
		name(c), issuerName(c), name(c), issuerName(c))
	if d.client().Stack == fingerprint.StackGo {
		return fmt.Sprintf("%s: the client (Go's crypto/tls, which tries every path) does not trust %s; %s; besides, %s", why, name(c), client, server)
	}
	return fmt.Sprintf("%s. Likely: the client trusts only '%s' and not %s: %s; possible: the client trusts %s but follows the chain as sent: %s", why, issuerName(c), name(c), client, name(c), server)
}

// crossSignExpiredVerdict explains a client's certificate_expired about
// a chain whose sent certificates are all valid and that ends at a
// cross-signed root whose issuer, the old root, was not sent: the client
// took the path through it, and what expired is most likely the
// client's copy of the old root, else its clock is wrong. ok is false
// when the chain holds no such cross-sign, or the old root is known here
// and valid (the clock is then the reading).
func (d *diagnosis) crossSignExpiredVerdict(rejected string) (summary, fix string, ok bool) {
	at := d.certTime()
	if at.IsZero() {
		return "", "", false
	}
	if slices.ContainsFunc(d.chain, func(c *x509.Certificate) bool { return c != nil && at.After(c.NotAfter) }) {
		// An expired certificate sent is a problem of the chain
		// (expiredCrossSign adds a cross-sign's), not this reading.
		return "", "", false
	}
	// Every sent certificate is valid: the expired one is the client's
	// own, the root the cross-sign leads to, or its clock is wrong.
	j := -1
	for k := range d.chain {
		if d.crossSign(k) && !slices.ContainsFunc(d.chain, func(s *x509.Certificate) bool { return s != nil && bytes.Equal(s.RawSubject, d.chain[k].RawIssuer) }) {
			j = k
			break
		}
	}
	if j < 0 {
		return "", "", false
	}
	c := d.chain[j]
	for _, r := range d.rootsOf.bySubject(c.RawIssuer) {
		if !at.After(r.NotAfter) && signedBy(c, r) {
			// The old root is known here and valid: a client's copy of it
			// would be too, and the clock is the reading left.
			return "", "", false
		}
	}
	window := ""
	if from, until, ok := d.chainWindow(); ok {
		window = fmt.Sprintf(" (the chain sent is valid from %s to %s)", stamp(from), stamp(until))
	}
	summary = fmt.Sprintf("%s as expired, although every certificate the server sent was valid at the capture's time (%s); the chain ends at certificate %d, the root %s cross-signed by '%s', which the server did not send. Likely: the client trusts '%s' and its copy has expired (as DST Root CA X3's did in September 2021), and it does not trust %s, which would have ended its path sooner; possible: the client's clock is wrong%s",
		rejected, stamp(at), j, name(c), issuerName(c), issuerName(c), name(c), window)
	fix = d.crossSignFix(j, fmt.Sprintf("the client's root '%s' has most likely expired", issuerName(c))) +
		"; if the client's copy of '" + issuerName(c) + "' has not expired, set the client machine's clock right (NTP)"
	return summary, fix, true
}

// crossSignAccepted is the warning for a chain the client accepted
// although its path through a cross-sign has an expired certificate:
// the client trusts the new root, as it should; older clients fail.
func (d *diagnosis) crossSignAccepted(p CertProblem) string {
	c := d.chain[p.CrossSign]
	return fmt.Sprintf("%s; the client accepted the chain, as one that trusts %s does; clients that trust only '%s', or that follow the chain as sent (OpenSSL before 1.1.0, old Android and Java), fail on it: remove the cross-signed %s from the server's chain file",
		p.Detail, name(c), issuerName(c), name(c))
}

// crossSignUntrusted, for a chain that ends at a cross-signed root whose
// issuer the client does not trust, is the root to trust: the new root
// the cross-sign stands for, which serves every path, rather than the old
// one that signed it. ok is false when the chain's last certificate is
// no cross-sign.
func (d *diagnosis) crossSignUntrusted(p CertProblem) (fix string, ok bool) {
	if p.Category != CertUntrustedCA || p.MissingIssuer == "" || !d.crossSign(p.Cert) {
		return "", false
	}
	c := d.chain[p.Cert]
	return fmt.Sprintf("the chain ends at certificate %d, the root %s cross-signed by '%s', which the client does not trust (or trusts in a copy that has expired): make the client trust the root %s (%s), which ends the path before the cross-sign; trusting '%s' serves only while it and the cross-sign are valid (the cross-sign expires on %s); to confirm, run tlsdiag again with %s and the client's roots",
		p.Cert, name(c), p.MissingIssuer, name(c), trustRootAdvice(d.client()), p.MissingIssuer, stamp(c.NotAfter), d.setting(SettingRoots)), true
}
