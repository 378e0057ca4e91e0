package diagnose

// A server that refuses a version it does not speak with handshake_failure
// instead of protocol_version: GnuTLS does (gnutls-serv limited to TLS 1.2
// against a client that asks for TLS 1.3 alone, or limited to TLS 1.3
// against a client capped at TLS 1.2; testdata/field/servers), where
// OpenSSL, Go, Node.js and Python say protocol_version. The alert alone
// then reads as a cipher suite mismatch.

import (
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// gnutlsVersionAlert says which servers answer a version with
// handshake_failure.
const gnutlsVersionAlert = "GnuTLS answers a version it does not speak with handshake_failure, where OpenSSL, Go, Node.js and Python say protocol_version"

// tls13OnlyRefused reports whether the server refused with
// handshake_failure a ClientHello that offers TLS 1.3 alone, with TLS
// 1.3's mandatory suite and both mainstream groups: every TLS 1.3 server
// shares those, so the version is the likely cause.
func (d *diagnosis) tls13OnlyRefused(a *analysis.Alert, ph phase) bool {
	if a.Sender != server || ph != phaseHello || !a.Known() || a.Description != tlsparse.AlertHandshakeFailure || d.hello == nil {
		return false
	}
	if v := d.offeredVersions(); len(v) != 1 || v[0] != tlsparse.VersionTLS13 {
		return false
	}
	return slices.Contains(d.offeredSuites(), suiteTLS13Mandatory) && d.mainstreamGroups()
}

// mainstreamGroups reports whether the client offers both mainstream key
// exchange groups, x25519 and secp256r1: a client that offers one alone
// meets servers without it (testdata/field/only_x25519_vs_p384.pcap),
// which explains a refusal better than a version.
func (d *diagnosis) mainstreamGroups() bool {
	g := d.hello.SupportedGroups
	return slices.Contains(g, 0x001D) && slices.Contains(g, 0x0017)
}

// tls13OnlyMismatch is versionMismatch's verdict for tls13OnlyRefused.
func (d *diagnosis) tls13OnlyMismatch(a *analysis.Alert) Verdict {
	summary := fmt.Sprintf("the server rejected the ClientHello, which offers TLS 1.3 alone, with %s (%s): likely, the server does not speak TLS 1.3 (%s); possible: its key exchange groups or signature algorithms exclude the client's (every TLS 1.3 server has the suite the client offers, TLS_AES_128_GCM_SHA256)",
		alertText(*a), frameRef(a.Frame.Number), gnutlsVersionAlert)
	fix := d.serverSide("the server seems limited to versions older than TLS 1.3: enable TLS 1.2 and 1.3 on the server (or, while the server cannot be changed, let the client accept TLS 1.2, which is still safe: curl without --tlsv1.3, Go without MinVersion TLS 1.3)", ChangeModernVersions)
	return verdict(VersionMismatch, summary, fix, d.helloFrame, a.Frame)
}

// tls12CapNote completes the verdict of a server's handshake_failure to a
// client that offers TLS 1.2 at most, with current suites and groups: a server that
// requires TLS 1.3 answers so too, which the cipher suites do not
// explain.
func (d *diagnosis) tls12CapNote(v Verdict, a *analysis.Alert, ph phase) Verdict {
	if a.Sender != server || ph != phaseHello || !a.Known() || a.Description != tlsparse.AlertHandshakeFailure || d.hello == nil {
		return v
	}
	// A client whose suites are themselves odd (RSA key exchange alone,
	// NULL suites) explains the refusal better than any version.
	offered := d.offeredVersions()
	if len(offered) == 0 || slices.Max(offered) != tlsparse.VersionTLS12 || d.cipherSuspect() || !d.mainstreamGroups() {
		return v
	}
	v.Summary += "; or the server requires TLS 1.3, which the client does not offer (it offers TLS 1.2 at most; " + gnutlsVersionAlert + ")"
	v.Fix += "; if the server requires TLS 1.3: " + clientVersionAdvice(d.client(), "let the client offer TLS 1.3 (raise its MaxVersion / upgrade OpenSSL)") + ", or allow TLS 1.2 " + d.serverSide("", ChangeAllowTLS12)
	return v
}
