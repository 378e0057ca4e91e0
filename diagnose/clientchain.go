package diagnose

// What the client's own certificate shows when a server refuses it: the
// chain the client sent (TLS 1.2, or TLS 1.3 with a key log) read against
// the capture's time and the CA names of the server's CertificateRequest,
// so that the verdict names the certificate, what is wrong with it, and
// which side changes what.

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// clientDefect is one thing wrong with the client's certificate that the
// wire shows.
type clientDefect uint8

const (
	ccExpired clientDefect = iota + 1
	ccNotYetValid
	ccSelfSigned
	ccIncomplete // the chain stops below the CAs the server names
	ccUntrusted  // the chain ends at a root the server does not name
	ccNoClientAuth
)

// clientFinding is a defect with what it means and what to change.
type clientFinding struct {
	defect clientDefect
	text   string
	fix    string
	// server: the fix can also be made on the server (its client-CA list).
	server bool
}

// clientLeaf is the client's certificate as the client sent it, or nil.
func (d *diagnosis) clientLeaf() *x509.Certificate {
	if chain := d.c.ClientCerts(); len(chain) > 0 {
		return chain[0].X509
	}
	return nil
}

// clientCertDesc names the client's certificate with its issuer and
// dates, as the wire shows them.
func clientCertDesc(leaf *x509.Certificate) string {
	return fmt.Sprintf("%s (issued by %s, valid %s to %s)", name(leaf), issuerQuoted(leaf),
		leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
}

// issuerQuoted is c's issuer as name quotes a subject.
func issuerQuoted(c *x509.Certificate) string {
	if s := issuerName(c); s != "" {
		return "'" + s + "'"
	}
	return "(an empty issuer)"
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// clientFindings reads the client's chain: its leaf's dates against the
// time the client sent it, its extended key usage, and whether the chain
// reaches one of the CAs the CertificateRequest names.
func (d *diagnosis) clientFindings() []clientFinding {
	c := d.c
	leaf := d.clientLeaf()
	if leaf == nil {
		return nil
	}
	var out []clientFinding
	at := c.ClientCertificateFrame.Time.UTC()
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	switch {
	case at.IsZero():
	case at.After(leaf.NotAfter):
		out = append(out, clientFinding{ccExpired,
			fmt.Sprintf("the client certificate %s expired on %s, before the capture (%s)", name(leaf), day(leaf.NotAfter), day(at)),
			fmt.Sprintf("renew the client certificate %s (it expired on %s) and install the new one on the client; the server's certificate and the client's trust store are not at fault", name(leaf), day(leaf.NotAfter)),
			false})
	case at.Before(leaf.NotBefore):
		out = append(out, clientFinding{ccNotYetValid,
			fmt.Sprintf("the client certificate %s is not valid until %s, after the capture (%s): likely it was issued with a start date in the future; possible: the server's clock is behind", name(leaf), day(leaf.NotBefore), day(at)),
			fmt.Sprintf("issue the client a certificate valid now (%s starts on %s), or set the server's clock right if it is behind", name(leaf), day(leaf.NotBefore)),
			false})
	}
	if ekus := leaf.ExtKeyUsage; (len(ekus) > 0 || len(leaf.UnknownExtKeyUsage) > 0) && !slices.Contains(ekus, x509.ExtKeyUsageClientAuth) && !slices.Contains(ekus, x509.ExtKeyUsageAny) {
		out = append(out, d.noClientAuthFinding(leaf))
	}
	if f, ok := d.chainFinding(leaf); ok {
		out = append(out, f)
	}
	return out
}

// chainFinding says where the client's chain stops when it does not
// reach a CA that the CertificateRequest names.
func (d *diagnosis) chainFinding(leaf *x509.Certificate) (clientFinding, bool) {
	cr := d.c.CertificateRequest
	if cr == nil || len(cr.CANames) == 0 {
		if selfSigned(leaf) {
			return clientFinding{ccSelfSigned,
				fmt.Sprintf("the client certificate %s is self-signed", name(leaf)),
				fmt.Sprintf("get the client a certificate issued by a CA the server trusts, or, to accept this self-signed one, add %s itself to the server's client-CA list", name(leaf)),
				true}, true
		}
		return clientFinding{}, false
	}
	named := func(raw []byte) bool {
		return slices.ContainsFunc(cr.CANames, func(n []byte) bool { return bytes.Equal(n, raw) })
	}
	chain := d.c.ClientCerts()
	for _, cc := range chain {
		if cc.X509 != nil && (named(cc.X509.RawIssuer) || named(cc.X509.RawSubject)) {
			return clientFinding{}, false
		}
	}
	accepts := quoteList(CANames(cr), 3)
	if selfSigned(leaf) {
		return clientFinding{ccSelfSigned,
			fmt.Sprintf("the client certificate %s is self-signed, and the server accepts only certificates issued by %s", name(leaf), accepts),
			fmt.Sprintf("get the client a certificate issued by %s, or, to accept this self-signed one, add %s itself to the server's client-CA list", accepts, name(leaf)),
			true}, true
	}
	// Follow the chain as sent from the leaf up to the last certificate
	// whose issuer the client also sent.
	top := leaf
	for range chain {
		i := slices.IndexFunc(chain, func(cc analysis.Certificate) bool {
			return cc.X509 != nil && cc.X509 != top && bytes.Equal(cc.X509.RawSubject, top.RawIssuer)
		})
		if i < 0 {
			break
		}
		top = chain[i].X509
	}
	if selfSigned(top) {
		return clientFinding{ccUntrusted,
			fmt.Sprintf("the client's chain ends at the root %s, which is not among the CAs the server accepts (%s): the server does not trust the client certificate's issuer", name(top), accepts),
			fmt.Sprintf("get the client a certificate issued by %s, or, if %s should be trusted, add it to the server's client-CA list", accepts, name(top)),
			true}, true
	}
	sent := "the client sent only its certificate " + name(leaf)
	if top != leaf {
		sent = fmt.Sprintf("the chain the client sent stops at %s", name(top))
	}
	sent = fmt.Sprintf("%s, issued by %s, which is not among the CAs the server accepts (%s), without that issuer's certificate: the chain does not reach a CA the server names", sent, issuerQuoted(top), accepts)
	missing := fmt.Sprintf("%s is an intermediate under one of those CAs that the client left out", issuerQuoted(top))
	other := fmt.Sprintf("%s is a CA the server does not trust", issuerQuoted(top))
	sendIt := fmt.Sprintf("make the client send the intermediate %s after its certificate (curl --cert with a file holding the certificate then the intermediate; openssl s_client -cert_chain FILE, as -cert sends only the file's first certificate; Go: tls.Certificate.Certificate with both, as tls.LoadX509KeyPair reads every certificate of the file), or add %s to the server's client-CA list", issuerQuoted(top), issuerQuoted(top))
	trustIt := fmt.Sprintf("get the client a certificate issued by %s, or, if %s should be trusted, add it to the server's client-CA list", accepts, issuerQuoted(top))
	if org, ok := d.sameOrganization(top); ok {
		// An issuer of the same organization as a CA the server names
		// is as a rule that CA's intermediate.
		return clientFinding{ccIncomplete,
			fmt.Sprintf("%s. Likely: %s (both are of the organization '%s'); possible: %s", sent, missing, org, other),
			sendIt + "; if it is no such intermediate, " + trustIt, true}, true
	}
	return clientFinding{ccUntrusted,
		fmt.Sprintf("%s. Likely: %s (it is of another organization than the CAs the server names); possible: %s", sent, other, missing),
		trustIt + "; if it is an intermediate under one of them, " + sendIt, true}, true
}

// sameOrganization reports the organization that c's issuer shares with
// a CA the CertificateRequest names, if any.
func (d *diagnosis) sameOrganization(c *x509.Certificate) (string, bool) {
	if len(c.Issuer.Organization) == 0 {
		return "", false
	}
	for _, der := range d.c.CertificateRequest.CANames {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		if slices.Equal(n.Organization, c.Issuer.Organization) {
			return strings.Join(n.Organization, ", "), true
		}
	}
	return "", false
}

func ekuList(c *x509.Certificate) string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, "serverAuth")
		case x509.ExtKeyUsageCodeSigning:
			out = append(out, "codeSigning")
		case x509.ExtKeyUsageEmailProtection:
			out = append(out, "emailProtection")
		case x509.ExtKeyUsageTimeStamping:
			out = append(out, "timeStamping")
		case x509.ExtKeyUsageOCSPSigning:
			out = append(out, "OCSPSigning")
		default:
			out = append(out, fmt.Sprintf("usage %d", u))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	return strings.Join(out, ", ")
}

// alertDefects are the defects each alert a server sends about a client
// certificate stands for, most likely first: OpenSSL answers
// unknown_ca for an issuer it cannot find, certificate_expired,
// bad_certificate for one not yet valid, unsupported_certificate for a
// wrong purpose; Go's crypto/tls answers unknown_ca, certificate_expired
// for expired and not yet valid alike, bad_certificate for the rest.
func alertDefects(a tlsparse.AlertDescription) []clientDefect {
	switch a {
	case tlsparse.AlertUnknownCA:
		return []clientDefect{ccSelfSigned, ccIncomplete, ccUntrusted}
	case tlsparse.AlertCertificateExpired:
		return []clientDefect{ccExpired, ccNotYetValid}
	case tlsparse.AlertUnsupportedCertificate:
		return []clientDefect{ccNoClientAuth}
	case tlsparse.AlertBadCertificate:
		return []clientDefect{ccNotYetValid, ccNoClientAuth, ccExpired}
	}
	return nil
}

// rankFindings puts the findings the alert names first.
func rankFindings(fs []clientFinding, a tlsparse.AlertDescription) (matched, others []clientFinding) {
	for _, want := range alertDefects(a) {
		for _, f := range fs {
			if f.defect == want {
				matched = append(matched, f)
			}
		}
	}
	for _, f := range fs {
		if !slices.ContainsFunc(matched, func(m clientFinding) bool { return m.defect == f.defect }) {
			others = append(others, f)
		}
	}
	return matched, others
}

// refusedCertText is the part of a summary that says what is wrong with
// the refused certificate, and the fix: the findings the alert names,
// then the others; when none, that the wire shows no defect.
func (d *diagnosis) refusedCertText(fs []clientFinding, a tlsparse.AlertDescription, known bool) (string, string) {
	matched, others := rankFindings(fs, a)
	if !known {
		matched, others = fs, nil
	}
	all := append(append([]clientFinding{}, matched...), others...)
	if len(all) == 0 {
		if known {
			if t, f, ok := d.alertOnlyText(a); ok {
				return t, f
			}
		}
		if d.clientLeaf() == nil {
			return "the capture does not show the certificate (encrypted, or not readable)",
				d.serverSide("the server refused the client's certificate: its log says why (nginx: \"client SSL certificate verify error\"); then fix the certificate, or the server's client-CA list and verify depth", ChangeClientCA)
		}
		if t, f, ok := d.nginxDepthText(); ok {
			return t, f
		}
		what := "valid at the capture's time, clientAuth allowed"
		if d.c.CertificateRequest != nil && len(d.c.CertificateRequest.CANames) > 0 {
			what += ", its chain reaches a CA the server names"
		}
		return fmt.Sprintf("the capture shows nothing wrong with the certificate itself (%s): the server's own check failed, which its log names (a CA it names but does not trust, a verify depth too small for the chain, revocation)", what),
			d.serverSide("the server refused the client's certificate for a reason the wire does not show: its log says which (nginx: \"client SSL certificate verify error\"); then fix the certificate, or the server's client-CA list and verify depth", ChangeClientCA)
	}
	var texts, fixes []string
	server := false
	for i, f := range all {
		t := f.text
		if i == len(matched) && len(matched) > 0 {
			t = "also: " + t
		}
		texts = append(texts, t)
		fixes = append(fixes, f.fix)
		server = server || f.server
	}
	if len(matched) == 0 && known && len(alertDefects(a)) > 0 {
		texts[0] = "the alert names no defect the capture shows, but " + texts[0]
	}
	fix := strings.Join(fixes, "; then ")
	if server {
		fix = d.serverSide(fix, ChangeClientCA)
	}
	return strings.Join(texts, "; "), fix
}

// keyMismatch explains decrypt_error from a server that got the client's
// certificate: its CertificateVerify did not verify.
func (d *diagnosis) keyMismatch() (string, string) {
	cert := "its certificate"
	if leaf := d.clientLeaf(); leaf != nil {
		cert = "its certificate " + name(leaf)
	}
	return fmt.Sprintf("the server could not verify the client's signature (CertificateVerify) with the key in %s. Likely: the client's private key does not belong to %s (a key file from another certificate; curl and openssl s_client refuse such a pair before connecting, a program that sets the key itself does not); possible: a middlebox altered the handshake", cert, cert),
		fmt.Sprintf("configure the client with the private key that belongs to %s: `openssl x509 -noout -pubkey -in cert.pem` and `openssl pkey -pubout -in key.pem` must print the same key", cert)
}

// curlExpiredWarning: curl reports a certificate_expired alert, which a
// server sends about the client's certificate, as its own failure to
// verify the server ("(60) SSL certificate verification failed").
func (d *diagnosis) curlExpiredWarning(a tlsparse.AlertDescription) string {
	if a != tlsparse.AlertCertificateExpired || (d.client().Stack != fingerprint.StackCurl && d.client().Also != fingerprint.StackCurl) {
		return ""
	}
	return "curl reports this alert as \"(60) SSL certificate verification failed\", which reads as if the server's certificate failed: here the server refused the client's certificate, so neither the server's certificate nor curl's CA bundle needs changing"
}

// unseenCertCauses ranks the causes of a refused client certificate that
// TLS 1.3 encrypts, for a fix that cannot read it.
const unseenCertCauses = "the server does not accept the client's certificate; which check failed is encrypted. In order of likelihood: its issuer is not in the server's client-CA list, or the client left out the intermediate; it expired or is not yet valid; it lacks the clientAuth extended key usage (a public CA's certificate renewed since February 2026 does); the client's key does not match it. Check the client's certificate (`openssl x509 -noout -subject -issuer -dates -ext extendedKeyUsage -in client.pem`) and the server's log"

// alertOnlyText explains a refusal by its alert alone, when the capture
// shows no defect that the alert names (the certificate unreadable, or
// no CA names to check the chain against).
func (d *diagnosis) alertOnlyText(a tlsparse.AlertDescription) (string, string, bool) {
	leaf := d.clientLeaf()
	switch a {
	case tlsparse.AlertUnknownCA:
		t := "the server does not trust the issuer of the client certificate (its alert says so)"
		cr := d.c.CertificateRequest
		switch {
		case leaf == nil:
		case cr == nil || len(cr.CANames) == 0:
			t += "; its CertificateRequest names no CAs, so the capture cannot tell which it trusts"
		default:
			t += "; yet the chain the client sent reaches a CA the server names: likely the server's verify depth is too short for the chain (nginx `ssl_verify_depth`, 1 by default), or the CAs it names are not those it verifies against"
		}
		return t, d.serverSide("the server does not trust the issuer of the client certificate: use a certificate from a CA in the server's client-CA list, or add its CA there", ChangeClientCA), true
	case tlsparse.AlertCertificateExpired:
		t := "the server found the client certificate expired or not yet valid (OpenSSL sends certificate_expired for an expired one, Go's crypto/tls for both)"
		if leaf != nil {
			t += fmt.Sprintf("; its dates (%s to %s) hold at the capture's time, so likely the server's clock is wrong", leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
			return t, "check the server's clock: the client certificate's dates hold at the capture's time", true
		}
		return t, "renew the client certificate, or set the server's clock right if it is wrong", true
	case tlsparse.AlertUnsupportedCertificate:
		return "the server refused the client certificate's kind or purpose (OpenSSL sends unsupported_certificate for a certificate without clientAuth in its extended key usage)",
			"issue the client a certificate whose extendedKeyUsage includes clientAuth (OpenSSL: extendedKeyUsage = clientAuth), with a key type the server accepts", true
	}
	return "", "", false
}

// nginxDefaultDepth is nginx's ssl_verify_depth when it is not set.
// OpenSSL's verify depth counts the CAs above the client's certificate
// and leaves out the trusted root: 1 allows leaf → one intermediate →
// root, and refuses a second intermediate.
const nginxDefaultDepth = 1

// sentChainCAs follows the chain the client sent from its certificate,
// issuer by issuer, to the first CA the CertificateRequest names: the
// CAs in between, which a verifier counts against its depth, the named
// CA's name, and whether the client sent that CA as a self-signed root
// (then it is the top of the chain for certain). ok is false when the
// chain as sent reaches no CA the server names.
func (d *diagnosis) sentChainCAs() (between []*x509.Certificate, anchor string, root, ok bool) {
	cr := d.c.CertificateRequest
	leaf := d.clientLeaf()
	if cr == nil || len(cr.CANames) == 0 || leaf == nil {
		return nil, "", false, false
	}
	named := func(raw []byte) bool {
		return slices.ContainsFunc(cr.CANames, func(n []byte) bool { return bytes.Equal(n, raw) })
	}
	chain := d.c.ClientCerts()
	path := []*x509.Certificate{leaf}
	for cur := leaf; len(path) <= len(chain); {
		if named(cur.RawIssuer) {
			return path[1:], issuerQuoted(cur), false, true
		}
		i := slices.IndexFunc(chain, func(cc analysis.Certificate) bool {
			return cc.X509 != nil && !slices.Contains(path, cc.X509) && bytes.Equal(cc.X509.RawSubject, cur.RawIssuer)
		})
		if i < 0 {
			break
		}
		cur = chain[i].X509
		if named(cur.RawSubject) {
			return path[1:], name(cur), selfSigned(cur), true
		}
		path = append(path, cur)
	}
	return nil, "", false, false
}

// nginxDepthText explains nginx's refusal of a client certificate
// (HTTP 400 "The SSL certificate error") that shows nothing else wrong,
// when the chain the client sent is deeper than nginx's default
// ssl_verify_depth allows, or at its limit below a CA the server names
// that may itself be an intermediate. The server's setting is not on
// the wire, so the depth is the likely cause, not a certain one; nginx
// builds the chain up to the root whatever the client sends, so only
// the server's setting changes it.
func (d *diagnosis) nginxDepthText() (string, string, bool) {
	r := d.response
	if r == nil || r.Status != 400 || !strings.Contains(strings.ToLower(r.Title+" "+r.Body), "ssl certificate error") {
		return "", "", false
	}
	srv, how := d.server()
	between, anchor, root, ok := d.sentChainCAs()
	atLimit := len(between) == nginxDefaultDepth && !root && len(d.c.CertificateRequest.CANames) > 1
	if srv != ServerNginx || !ok || len(between) <= nginxDefaultDepth && !atLimit {
		return "", "", false
	}
	at := d.c.ClientCertificateFrame.Time
	var cas []string
	for _, ca := range between {
		if at.Before(ca.NotBefore) || at.After(ca.NotAfter) {
			return "", "", false // nginx would name the dates first
		}
		cas = append(cas, name(ca))
	}
	log := "nginx then logs \"client SSL certificate verify error: (20:unable to get local issuer certificate)\", not that the chain is too long"
	others := fmt.Sprintf("%s is not the CA that issued the chain's top (another certificate of that name: nginx logs the same error, or \"certificate signature failure\" when the chain's top names no key identifier); the certificate was revoked (`ssl_crl`: \"certificate revoked\")", anchor)
	need, more := len(between), ""
	if !root {
		more = fmt.Sprintf(" (one more for each CA above %s, if it is not itself a root)", anchor)
	}
	fixFor := func(depth int) string {
		return fmt.Sprintf("on the server (nginx, %s), set `ssl_verify_depth %d;`%s beside `ssl_client_certificate` and reload nginx; the client cannot shorten the chain, as nginx builds it up to the root whatever the client sends; if nginx still refuses, its error log says why (\"client SSL certificate verify error: (N:…)\")", how, depth, more)
	}
	if need > nginxDefaultDepth {
		return fmt.Sprintf("the capture shows nothing wrong with the certificate itself (valid at the capture's time, clientAuth allowed, its chain reaches %s, which the server names). Likely: nginx's verify depth is too small for the chain: the client's chain has %d CAs between its certificate and %s (%s), and nginx's default `ssl_verify_depth` of %d allows one (OpenSSL counts the CAs above the client's certificate and leaves out the trusted root); %s. This rests on the chain on the wire and nginx's default, as the server's setting is not on the wire; possible, if the server sets a larger depth: %s",
				anchor, need, anchor, strings.Join(cas, ", "), nginxDefaultDepth, log, others),
			fixFor(need), true
	}
	// At the default's limit: too deep only if the CA the server names
	// is an intermediate (nginx verifies up to a root), which the wire
	// does not show; likelier when the server names several CAs.
	log = "nginx then logs \"client SSL certificate verify error: (2:unable to get issuer certificate)\", not that the chain is too long"
	return fmt.Sprintf("the capture shows nothing wrong with the certificate itself (valid at the capture's time, clientAuth allowed, its chain reaches %s, which the server names among %d CAs). Possible, most likely first: nginx's verify depth is too small, if %s is an intermediate in the server's `ssl_client_certificate` rather than a root: nginx verifies up to the root, so the chain has %d CAs above the client's certificate, and its default `ssl_verify_depth` of %d allows one; %s; %s",
			anchor, len(d.c.CertificateRequest.CANames), anchor, need+1, nginxDefaultDepth, log, others),
		fixFor(need + 1), true
}
