package diagnose

// A client that refuses what the server negotiated because its policy
// forbids it, not because anything failed: OpenSSL 3 at its default
// security level (1) no longer accepts TLS 1.0 or 1.1, whose handshake
// signature is MD5+SHA-1, nor a SHA-1 or MD5 signature in TLS 1.2, and
// says so with internal_error after the server's flight — an alert that
// reads as a fault of the client. Distribution policies (RHEL's DEFAULT
// crypto policy, Debian's SECLEVEL=2) refuse the same.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// LegacyPolicyRefused: the client refused the legacy version (TLS ≤
// 1.1), SHA-1/MD5 signature or small DH group the server chose, by its
// security policy (OpenSSL 3's internal_error or handshake_failure after
// the server's flight).
const LegacyPolicyRefused Category = "legacy_policy_refused"

var legacyPolicyRefusedCategory = categorySpec{
	name:          LegacyPolicyRefused,
	meaning:       "the server chose TLS 1.0/1.1 (or signed its ServerKeyExchange with SHA-1 or MD5, or sent a DHE group under 2048 bits) and the client, which offered that version, refused it right after the server's flight with `internal_error`, `handshake_failure`, `illegal_parameter` or `insufficient_security`: its security policy (OpenSSL 3 at its default security level, a system crypto policy), not an error",
	serverFix:     "enable TLS 1.2 and 1.3 with SHA-256 or better signatures (`ssl_protocols TLSv1.2 TLSv1.3;`)",
	clientClasses: []string{"client_rejected_version"},
}

// legacyRefusalAlerts are the alerts clients refuse a legacy version or
// signature with: OpenSSL 3 sends internal_error, others
// handshake_failure, illegal_parameter or insufficient_security.
var legacyRefusalAlerts = map[tlsparse.AlertDescription]bool{
	tlsparse.AlertInternalError:        true,
	tlsparse.AlertHandshakeFailure:     true,
	tlsparse.AlertIllegalParameter:     true,
	tlsparse.AlertInsufficientSecurity: true,
}

// legacySignature reports whether a TLS 1.2 signature scheme hashes with
// MD5 or SHA-1: the hash byte 1 (md5) or 2 (sha1) of RFC 5246's
// SignatureAndHashAlgorithm, with RSA, DSA or ECDSA.
func legacySignature(s tlsparse.SignatureScheme) (string, bool) {
	hash, sig := uint16(s)>>8, uint16(s)&0xff
	if sig < 1 || sig > 3 {
		return "", false
	}
	switch hash {
	case 1:
		return "MD5", true
	case 2:
		return "SHA-1", true
	}
	return "", false
}

// legacyRefusal recognises a client's alert, right after the server's
// flight, that refuses a legacy version or signature the server chose.
func (d *diagnosis) legacyRefusal(a *analysis.Alert, ph phase) (Verdict, bool) {
	c := d.c
	if a.Sender != client || !a.Known() || !legacyRefusalAlerts[a.Description] || ph != phaseServerFlight || c.ServerHello == nil {
		return Verdict{}, false
	}
	v := c.Version
	var what string
	at := c.ServerHelloFrame
	switch {
	case v != 0 && !v.IsTLS13() && v <= tlsparse.VersionTLS11:
		what = fmt.Sprintf("%s, whose handshake signature hashes with MD5 and SHA-1", v)
	case c.ServerKeyExchange != nil && c.ServerKeyExchange.DHPrimeBits > 0 && c.ServerKeyExchange.DHPrimeBits < secLevel2DHBits:
		return d.smallDHRefusal(a), true
	case c.ServerKeyExchange != nil:
		hash, ok := legacySignature(c.ServerKeyExchange.SignatureScheme)
		if !ok {
			return Verdict{}, false
		}
		what = fmt.Sprintf("a %s signature (%s) on the ServerKeyExchange", hash, c.ServerKeyExchange.SignatureScheme)
		at = c.ServerKeyExchangeFrame
	default:
		return Verdict{}, false
	}
	after, last := d.lastMessageBefore(a.Frame.Number)
	summary := fmt.Sprintf("the client refused the server's legacy choice, %s (%s): it aborted right after %s (%s) with %s (%s), the way OpenSSL 3 at its default security level refuses TLS ≤ 1.1 and SHA-1/MD5 signatures "+
		"(likely: the client's security policy forbids it — OpenSSL 3, or a system crypto policy such as RHEL's DEFAULT or Debian's SECLEVEL=2; less likely, %s)",
		what, frameRef(at.Number), after, frameRef(last.Number), alertText(*a), frameRef(a.Frame.Number), legacyOther(a.Description))
	fix := "the server is the one to change: enable TLS 1.2 (and 1.3) with SHA-256 or better signatures — TLS 1.0 and 1.1 are deprecated (RFC 8996) and current clients refuse them"
	fix = d.serverSide(fix, ChangeModernVersions)
	fix += "; only as a stop-gap for a server nobody can change, lower the client's policy for it (OpenSSL: -cipher 'DEFAULT:@SECLEVEL=0'; curl: --ciphers 'DEFAULT:@SECLEVEL=0')"
	return verdict(LegacyPolicyRefused, summary, fix, d.helloFrame, at, last, a.Frame), true
}

// legacyOther is the other cause an alert fits.
func legacyOther(desc tlsparse.AlertDescription) string {
	if desc == tlsparse.AlertInternalError {
		return "an error inside the client unrelated to the server, such as running out of memory"
	}
	return "the client refuses another parameter of the server's flight (its key exchange group or certificate key)"
}

// secLevel2DHBits is the smallest finite-field DH group OpenSSL accepts at
// security level 2 (its default since 3.2, and Debian's and Ubuntu's);
// level 1 wants 1024 bits.
const secLevel2DHBits = 2048

// smallDHRefusal explains a client's refusal, right after the server's
// flight, of the DHE group the server sent in its ServerKeyExchange when
// that group is under 2048 bits: OpenSSL says "dh key too small" and
// sends handshake_failure.
func (d *diagnosis) smallDHRefusal(a *analysis.Alert) Verdict {
	c := d.c
	bits := c.ServerKeyExchange.DHPrimeBits
	level := "2 (its default since 3.2, and Debian's and Ubuntu's) wants 2048 bits and level 1 wants 1024"
	lower := "an OpenSSL client can lower its security level to 1 (curl --ciphers 'DEFAULT@SECLEVEL=1'; Python ctx.set_ciphers('DEFAULT@SECLEVEL=1'); openssl s_client -cipher 'DEFAULT@SECLEVEL=1')"
	if bits < 1024 {
		lower = "an OpenSSL client accepts it only at security level 0 ('DEFAULT@SECLEVEL=0'), which lets every weak parameter through"
	}
	after, last := d.lastMessageBefore(a.Frame.Number)
	other := "the client refuses another parameter of the server's flight (its certificate or its signature), which the client's log names"
	if a.Description == tlsparse.AlertInternalError {
		other = legacyOther(a.Description)
	}
	summary := fmt.Sprintf("the client refused the %d-bit DH group of the server's ServerKeyExchange (%s; the suite is %s): it aborted right after %s (%s) with %s (%s), the way OpenSSL refuses a DH group under its security level's minimum (\"dh key too small\"; level %s) "+
		"(likely: the client's security policy forbids it; less likely, %s)",
		bits, frameRef(c.ServerKeyExchangeFrame.Number), c.Cipher, after, frameRef(last.Number), alertText(*a), frameRef(a.Frame.Number), level, other)
	fix := d.serverSide("the server is the one to change: prefer ECDHE suites (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 works with an RSA certificate; better, TLS 1.3), and if it keeps DHE suites give it a DH group of 2048 bits or more (nginx: `ssl_dhparam` with a 2048-bit file such as RFC 7919's ffdhe2048; Apache httpd: `SSLOpenSSLConfCmd DHParameters`), or drop the DHE suites", ChangeCiphers)
	fix += "; only as a stop-gap for a server nobody can change, " + lower
	return verdict(LegacyPolicyRefused, summary, fix, d.helloFrame, c.ServerKeyExchangeFrame, last, a.Frame)
}
