package diagnose

// Rules that changed: a defect clients began refusing on a known date,
// and roots that left the trust stores, judged against the capture's own
// time. A public capture from 2014 shows a SHA-1 chain every client then
// accepted; reading it with today's rules would blame the server for a
// failure that did not happen.

import (
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// sha1RefusedSince is when widely used clients began refusing SHA-1
// signatures in a server's chain: Firefox 51 (released 2017-01-24) and
// Chrome 56 (2017-01-25). Until then every client accepted them; the
// others followed: Debian's OpenSSL at security level 2 (buster, 2019),
// OpenSSL 3.0 (September 2021), Go 1.18 (March 2022).
var sha1RefusedSince = time.Date(2017, 1, 24, 0, 0, 0, 0, time.UTC)

const sha1RefusedBy = "browsers since January 2017 (Chrome 56, Firefox 51), Debian's OpenSSL since 2019, OpenSSL 3 and Go 1.18 since 2021–22"

// secLevel2Since is when the first widely used OpenSSL clients refused RSA
// keys under 2048 bits: Debian 10 (buster, released 2019-07-06) set
// OpenSSL's security level to 2 in its openssl.cnf; Ubuntu 20.04 and
// OpenSSL 3.2's own default followed. Until then OpenSSL accepted them,
// and Go and GnuTLS still do.
var secLevel2Since = time.Date(2019, 7, 6, 0, 0, 0, 0, time.UTC)

const secLevel2RefusedBy = "OpenSSL at security level 2: Debian since 2019, Ubuntu since 2020, OpenSSL 3.2's default"

// formerRoot is a root that every major trust store held and that has
// left them: its key (the DER SubjectPublicKeyInfo, so that a private CA
// that copies the name does not match), and when clients stopped
// trusting it. A chain that leads to it in a capture made before then
// was trusted by the clients of the time.
type formerRoot struct {
	name string
	spki string // base64 DER SubjectPublicKeyInfo
	// left is when clients stopped trusting the root; before that, from
	// newIssuedAfter on (when set), they no longer trusted the leaves it
	// issued from that date on.
	left, newIssuedAfter time.Time
	why                  string
}

// formerRoots are the roots of the public captures that tlsdiag is most
// often first tried on, and of the largest distrust events. The keys are
// those of the roots' certificates (their SHA-256 SPKI pins are in
// Chrome's static pin list: GeoTrust Global, StartCom, AddTrust External
// CA Root, Deutsche Telekom Root CA 2; Equifax's is from its root
// certificate); the dates are from the
// distrust announcements (Mozilla's security blog and dev-security-policy,
// Chrome's security blog) or the root's own expiry.
var formerRoots = []formerRoot{
	{
		name: "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US",
		spki: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2swYYzD99BcjGlZ+W988bDjkcbd4kdS8odhM+KhDtgPpTSEHCIjaWC9mOSm9BXiLnTjoBbdqfnGk5sRgprDvgOSJKA+eJdbtg/OtppHHmMlCGDUUna2YRpIuT8rxh0PBFpVXLVDviS2Aelet8u5fa9IAjbkU+BQVNdnARqN7csiRv8lVK83Qlz6cJmTM386DGXHKTubU1XupGc1V3sjs0l44U+VcT4wt/lAjNvxm5suOpDkZALeVAjmRCw7+OC7RHQWa9k0+bw8HHa8sHo9gOeL6NlMTOdReJivbPagUvTLrGAMoUgRx5aszPeE4uwc2hGKceeoWMPRfwCvocWvk+QIDAQAB",
		// Symantec's PKI (GeoTrust, Thawte, VeriSign, RapidSSL): Chrome
		// 66 (2018-04-17) distrusted its certificates issued before
		// 2016-06-01, Chrome 70 (2018-10-16) and Firefox 63 (2018-10-23)
		// all of them. The first date is taken: some clients refused
		// such a chain from then on.
		left: time.Date(2018, 4, 17, 0, 0, 0, 0, time.UTC),
		why:  "distrusted with the rest of Symantec's PKI from 2018 (Chrome 66 and 70, Firefox 63)",
	},
	{
		name: "CN=StartCom Certification Authority,OU=Secure Digital Certificate Signing,O=StartCom Ltd.,C=IL",
		spki: "MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAwYjbCbxsRnx4n5V7tTOQ8nJi1sE2ICIkXs7pd/JDCqIGZKTMjjb4OOYj8G5tsTzdcqOFHKHTPbQzK9Mvr/7qsEFZZ7bEBn0KnnSF1nlMgDd63zkFUln39BtGQ6TShYXSw3HzdWI0uiyKfx6P7u000BHHls1SPboz1t1N3gs7SkufwiYv+rUWHHI1d8o8XebK4SaLGjZ2XAHbdBQl/u21oIgP3XjKLR8HlzABLXJ5+kbWEyqouaarg0kd5fLv3eQBjhgKj2NTFoViqQ4ZOsy1ZqbCa3QH5Cvhdj60bdj2ROFzYh87xL6gU1YlbFEJ96qryr92/W2b853bvz1mvAxWqq+YSJU6S9+nWFDZOHWpW+pDDAL/mevobE1wWyllnN2qXcyvATHsDOvSjejqnHvmbvcnZgwaSNduQuM/3iE+e+ENcPtjqqhsGlS0XCV6yaLJixamuyx+F14FTVhuEh0B7hIQDcYyfxj//PT6zW6R6DZJvhpIaYvClk0aErJpF8EKkNb6eSJIv7p7afhwx/p6N9jYDdJ2T1f/kLfjkdLd78Jgt2c63f6qnPDUi39yIs7Gn5e2+K+KoBCo2fsYxra1XFI8ibYZKnMBCg8DsxJg8novgdujbv8mMJf1i92JV7atPbOvK8W3dgLwpdYrmoYUKnL24zOMXQlLE9+7jHQTUksCAwEAAQ==",
		// WoSign and StartCom: Mozilla, Chrome (56) and Apple
		// distrusted their certificates issued after 2016-10-21, and
		// Chrome 61 (2017-09-05) the roots.
		left:           time.Date(2017, 9, 5, 0, 0, 0, 0, time.UTC),
		newIssuedAfter: time.Date(2016, 10, 21, 0, 0, 0, 0, time.UTC),
		why:            "distrusted with WoSign: its certificates issued after 2016-10-21 by Mozilla, Chrome and Apple, the root itself from Chrome 61 in September 2017",
	},
	{
		name: "CN=AddTrust External CA Root,OU=AddTrust External TTP Network,O=AddTrust AB,C=SE",
		spki: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt/caM+byAAQtOeBOW+0fvGwPzbX6I7bO3psRM5ekKUx9k5+9SryT7QMa44/P5W1QWtaXKZRagLBJetsulf24yr83OC0ePpFBrXBWx/BPP+gynnTKyJBU6cZfD3idmkA8Dqxhql4Uj56HoWpQ3NeaTq8Fs6ZxlJxxs1BgCscTnTgHhgKo6ahpJhiQq0ywTyOrOk+E2N/On+Fpb7vXQtdrROTHre5tQV9yWnEIN7N5ZaRZoJQ39wAvDcKSctrQOHLbFKhFxF0qfbe01sTurM0TRLfJK91DACX6YblpalgjEbenM49WdVn1zSnXRrcKK2W200JvFbK4e/vv6V1T1TRaJwIDAQAB",
		left: time.Date(2020, 5, 30, 10, 48, 38, 0, time.UTC),
		why:  "expired on 2020-05-30 and left the trust stores",
	},
	{
		name: "CN=Deutsche Telekom Root CA 2,OU=T-TeleSec Trust Center,O=Deutsche Telekom AG,C=DE",
		spki: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqwujNeCLKRSxFIWvPBDkOW81XUqu3ephjZVJ9G9koxpgZqSpQCKE2dSl5XiTDmgBrblNXDrO07ioQkDfz6O6gllqkhusHJraCCslJ/lpI0fx4Ossepv1EwLQfjR8wp48AFmr9doM9TI8K6xQ2tbD3oOUyqgMmTIOCEhWW2r72uFYWAFJX3JBPBUGAY5draq4k7TNnuun6GotUjTbOu9cdVHa2/Mx+e5xmDLEVBVEDPmbVe2t3xgIoKOGiknuUwWPGUzV3lh5m9JqHEKrxdWnz2gPluThYZh2YciRfNY+AOKRUIfhnQrmrZfSHcY6fcu82gM01Y5bAfVqB7cWtm5KfwIDAQAB",
		left: time.Date(2019, 7, 9, 23, 59, 0, 0, time.UTC),
		why:  "expired on 2019-07-09 and left the trust stores",
	},
	{
		name: "OU=Equifax Secure Certificate Authority,O=Equifax,C=US",
		spki: "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDBXbFYZwhi7qCaLR8IbZEUaJgKHv7aBG8ThGIhw9F8zp8F4LgB8E407OKKlQRkrPFrU18Fs8tngL9CAo7+3QEJ7OEAFE/8+/AM3UO6WyvhH4BwmRVXkxbxD5dqt8JoIxzMTVkwrFEeO68r1u5jRXvF2V9Q0uNQDzqI578U/eDHuQIDAQAB",
		// The 1024-bit root above GeoTrust Global CA (cross-signed) and
		// Google Internet Authority (2009–2013). Firefox 44
		// (2016-01-26) stopped trusting it, per its release notes ("will
		// no longer trust the Equifax Secure Certificate Authority
		// 1024-bit root certificate"), in Mozilla's phasing out of
		// 1024-bit roots (security blog, 2014-09-08); Apple's stores
		// dropped it with OS X 10.10.4 (2015), as reported by those it
		// broke; it expired on 2018-08-22. Its key is the one in the
		// certificate curl's and Mozilla's bundles carried until then
		// (serial 35:DE:F4:CF, SHA-1 D2:32:09:AD:…:63:3A).
		left: time.Date(2016, 1, 26, 0, 0, 0, 0, time.UTC),
		why:  "a 1024-bit root Firefox 44 stopped trusting in January 2016, Apple's stores in 2015, expired on 2018-08-22",
	},
}

// formerRootKey is a formerRoot's parsed key and the SHA-256 of its SPKI.
type formerRootKey struct {
	key  any
	hash [32]byte
	algo x509.PublicKeyAlgorithm // of key
}

var formerRootKeys = sync.OnceValue(func() []formerRootKey {
	keys := make([]formerRootKey, len(formerRoots))
	for i, r := range formerRoots {
		der, err := base64.StdEncoding.DecodeString(r.spki)
		if err != nil {
			panic("formerRoots: " + r.name + ": " + err.Error())
		}
		k, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			panic("formerRoots: " + r.name + ": " + err.Error())
		}
		keys[i] = formerRootKey{k, sha256.Sum256(der), keyAlgorithm(k)}
	}
	return keys
})

// keyAlgorithm is the kind of a public key as crypto/x509 parses it.
func keyAlgorithm(k any) x509.PublicKeyAlgorithm {
	switch k.(type) {
	case *rsa.PublicKey:
		return x509.RSA
	case *ecdsa.PublicKey:
		return x509.ECDSA
	case ed25519.PublicKey:
		return x509.Ed25519
	case *dsa.PublicKey:
		return x509.DSA
	}
	return x509.UnknownPublicKeyAlgorithm
}

// signerAlgorithm is the kind of key that makes signatures of algo, as
// crypto/x509 pairs them (its signatureAlgorithmDetails); unknown for an
// algorithm it does not know.
func signerAlgorithm(algo x509.SignatureAlgorithm) x509.PublicKeyAlgorithm {
	switch algo {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return x509.RSA
	case x509.DSAWithSHA1, x509.DSAWithSHA256:
		return x509.DSA
	case x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return x509.ECDSA
	case x509.PureEd25519:
		return x509.Ed25519
	}
	return x509.UnknownPublicKeyAlgorithm
}

// formerRootOf finds the former root a path leads to: a CA certificate
// of the path (not the leaf: its key must have signed the certificate
// below it) with a former root's key, the topmost first, or else a
// former root whose key signed the path's last certificate (the root,
// not sent). at is the index in the chain of the certificate with the
// root's key, -1 when the root was not sent.
func (ck *checker) formerRootOf(path []int) (r formerRoot, at int, ok bool) {
	keys := formerRootKeys()
	for k := len(path) - 1; k >= 1; k-- {
		h := sha256.Sum256(ck.chain[path[k]].RawSubjectPublicKeyInfo)
		for i, fk := range keys {
			if fk.hash == h {
				return formerRoots[i], path[k], true
			}
		}
	}
	last := ck.chain[path[len(path)-1]]
	signer := signerAlgorithm(last.SignatureAlgorithm)
	for i, fk := range keys {
		// CheckSignature fails at once for a key of another kind, but
		// only after hashing the certificate and making its error: the
		// chains of untrusted roots are checked against every key.
		if signer != x509.UnknownPublicKeyAlgorithm && fk.algo != signer {
			continue
		}
		root := &x509.Certificate{PublicKey: fk.key}
		if root.CheckSignature(last.SignatureAlgorithm, last.RawTBSCertificate, last.Signature) == nil {
			return formerRoots[i], -1, true
		}
	}
	return formerRoot{}, 0, false
}

// formerRootProblem marks an untrusted-root problem whose chain leads to
// a former root with when clients stopped trusting it.
func (ck *checker) formerRootProblem(probs []CertProblem, path []int) {
	i := -1
	for j, p := range probs {
		if p.Category == CertUntrustedCA {
			i = j
			break
		}
	}
	if i < 0 {
		return
	}
	r, at, ok := ck.formerRootOf(path)
	if !ok {
		return
	}
	p := &probs[i]
	where := "not sent by the server"
	if at >= 0 {
		where = fmt.Sprintf("certificate %d has its key", at)
	}
	p.RefusedSince, p.RefusedBy = r.left, r.why
	if leaf := ck.chain[0]; !r.newIssuedAfter.IsZero() && leaf.NotBefore.After(r.newIssuedAfter) {
		p.RefusedSince = r.newIssuedAfter
	}
	p.Fact = fmt.Sprintf("the chain leads to the root '%s' (%s)", r.name, where)
	p.TodayFix = "for today's clients the server needs a certificate from a CA they trust"
	p.Detail += fmt.Sprintf("; it was a trusted root until %s (%s)", p.RefusedSince.Format(time.DateOnly), r.why)
}

// judgeEra sets AcceptedThen on the problems that clients began refusing
// only after the capture was made. It needs a capture time that can be
// believed: none at all (ck.noTime) or one before the leaf was issued
// (a clock left at 1970, say) says nothing of when the capture was made,
// and the problems are then judged by today's rules, as the Detail says.
func (ck *checker) judgeEra(probs []CertProblem) {
	var unsure string
	switch leaf := ck.chain[0]; {
	case ck.noTime:
		unsure = "judged by today's clients: the capture has no timestamps, so when it was made is not known"
	case ck.at.Before(leaf.NotBefore):
		unsure = fmt.Sprintf("judged by today's clients: the capture's clock (%s) is before certificate 0 was issued (%s), so when it was made is not known", stamp(ck.at), stamp(leaf.NotBefore))
	}
	for i := range probs {
		p := &probs[i]
		switch {
		case p.RefusedSince.IsZero():
		case unsure != "":
			p.Detail += " (" + unsure + ")"
		case ck.at.Before(p.RefusedSince):
			p.AcceptedThen, p.CapturedAt = true, ck.at
		}
	}
}

// thenWarning says of a problem the clients of the capture's time did not
// have that it did not matter then and does now.
func thenWarning(p CertProblem) string {
	then := fmt.Sprintf("clients accepted it when this capture was made (%s); today's refuse it (%s)", p.CapturedAt.Format(time.DateOnly), p.RefusedBy)
	if p.Category == CertUntrustedCA {
		then = fmt.Sprintf("clients trusted it when this capture was made (%s); today's do not (%s)", p.CapturedAt.Format(time.DateOnly), p.RefusedBy)
	}
	return p.Fact + ": " + then + "; " + p.TodayFix
}
