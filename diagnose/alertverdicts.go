package diagnose

// Verdicts for handshakes ended by an alert (see alertCause for the table).

import (
	"cmp"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// decisiveAlert is the first alert that ended the handshake: encrypted,
// fatal, or a warning that is not one of the harmless ones.
func (d *diagnosis) decisiveAlert() *analysis.Alert {
	for i, a := range d.c.Alerts {
		if !a.Known() || a.Level != tlsparse.AlertLevelWarning || !harmlessWarning(a.Description) {
			return &d.c.Alerts[i]
		}
	}
	return nil
}

// phase is where in the handshake an alert came.
type phase uint8

const (
	phaseHello        phase = iota // answering the ClientHello: the server judged the client's offer
	phaseServerFlight              // after the server's hello: the client judged the server's flight
	phaseClientFlight              // after the client's second flight: the server judged the client
	phaseAfterData                 // after the client's application data: the client had accepted the server
)

func (d *diagnosis) phaseOf(f int64) phase {
	c := d.c
	sh := c.ServerHelloFrame.Number
	if sh == 0 || f < sh {
		if hrr := c.HelloRetryFrame.Number; hrr != 0 && f > hrr && (c.RetryClientHelloFrame.Number == 0 || f < c.RetryClientHelloFrame.Number) {
			return phaseServerFlight // the client's answer to the HelloRetryRequest
		}
		return phaseHello
	}
	if cf := d.clientFlight(); cf != 0 && f > cf {
		return phaseClientFlight
	}
	if d.clientDataBefore(f) {
		// The client's flight is not in the capture, but its data
		// after the server's Finished shows it had sent it.
		return phaseAfterData
	}
	return phaseServerFlight
}

// pickCert returns the first chain problem of one of the wanted
// categories (any problem when want is empty), or fallback with no
// problem.
//
// A defect only some clients refuse (Refusers) is passed over when the
// client is one that accepts it, and is likely, not sure, otherwise: the
// alert does not name it.
func (d *diagnosis) pickCert(fallback Category, want ...Category) certCause {
	for i, p := range d.probs {
		if len(want) > 0 && !slices.Contains(want, p.Category) {
			continue
		}
		if p.Refusers != RefusedByAll {
			refuses, known := p.Refusers.refuses(d.client().Stack)
			if known && !refuses {
				continue
			}
			q := &d.probs[i]
			q.Certainty = Likely
			q.Why = "the alert does not name the reason, but it is how those clients refuse such a key"
			if known {
				q.Why += ", and the client is " + clientName(d.client())
			}
			q.Alternative = "the client refuses something else in the chain, such as a root it does not trust; its log names it"
		}
		return certCause{p.Category, &d.probs[i]}
	}
	return certCause{fallback, nil}
}

// certCause is a certificate category and the chain problem behind it.
type certCause struct {
	cat  Category
	prob *CertProblem
}

func (d *diagnosis) fromAlert(a *analysis.Alert) Verdict {
	c := d.c
	ph := d.phaseOf(a.Frame.Number)
	cause := d.alertCause(a, ph)
	how := alertText(*a)
	switch cause.cat {
	case VersionMismatch:
		if d.tls13OnlyRefused(a, ph) {
			return d.tls13OnlyMismatch(a)
		}
		return d.versionMismatch(a, ph)
	case NoSharedCipher:
		return d.tls12CapNote(d.noSharedCipher(a), a, ph)
	case ALPNMismatch:
		fix := "enable one of the client's protocols on the server, or configure the client to offer one the server speaks (NextProtos / -alpn / --http1.1)"
		switch {
		case a.Sender != server || !slices.Contains(d.hello.ALPN, "h2") || slices.Contains(d.hello.ALPN, "http/1.1"):
		case d.client().Stack == fingerprint.StackGo:
			// Go's crypto/tls offers h2 alone for gRPC-Go; net/http
			// offers http/1.1 beside it.
			fix = d.serverSide("the client speaks HTTP/2 only and the server does not offer h2: Go's crypto/tls offering h2 alone is likely gRPC-Go, which cannot fall back to HTTP/1.1: "+grpcFix, ChangeHTTP2)
		default:
			fix = d.serverSide("the client speaks HTTP/2 only (gRPC clients do) and the server does not offer h2: enable HTTP/2 on the server, or let the client fall back to http/1.1", ChangeHTTP2)
		}
		return verdict(ALPNMismatch,
			fmt.Sprintf("the %s supports none of the ALPN protocols the client offered (%s) and aborted (%s, %s)",
				a.Sender, alpnOffer(d.hello), how, frameRef(a.Frame.Number)),
			fix, d.helloFrame, a.Frame)
	case SNIUnrecognized:
		return d.sniUnrecognized(a)
	case ClientCertRequired:
		v := d.clientCert(a)
		if a.Known() && a.Description == tlsparse.AlertDecodeError && c.ClientCertificates == 0 {
			v.Summary += ": likely, for want of a certificate (GnuTLS servers answer an empty Certificate with decode_error when they require one); possible: the server could not parse another message of the client's flight, which its log names"
		}
		return v
	case HandshakeFailure:
		if v, ok := d.legacyRefusal(a, ph); ok {
			return v
		}
		return d.tls12CapNote(d.handshakeFailure(a, ph), a, ph)
	}
	if a.Known() && a.Description == tlsparse.AlertCertificateRevoked {
		leaf := "certificate"
		if len(d.chain) > 0 && d.chain[0] != nil {
			leaf = "certificate " + name(d.chain[0])
		}
		return verdict(CertRejected,
			fmt.Sprintf("the client rejected the server's %s as revoked (%s, %s): revocation (OCSP, CRL) is not visible in the capture", leaf, how, frameRef(a.Frame.Number)),
			fmt.Sprintf("the CA revoked the server's %s: get a new one and install it on the server", leaf),
			c.CertificateFrame, a.Frame)
	}
	return d.certVerdict(cause, a.Frame, how, a.Known())
}

func (d *diagnosis) versionMismatch(a *analysis.Alert, ph phase) Verdict {
	c := d.c
	offered := d.offeredVersions()
	how := fmt.Sprintf("%s (%s)", alertText(*a), frameRef(a.Frame.Number))
	if a.Description == tlsparse.AlertInappropriateFallback {
		return verdict(VersionMismatch,
			fmt.Sprintf("the client retried with a lower version (offering %s, with TLS_FALLBACK_SCSV) and the server refused the downgrade with %s", d.offerText(offered), how),
			"this is a retry: the first connection attempt failed for another reason; diagnose that earlier connection (the client's fallback hides it)",
			d.helloFrame, a.Frame)
	}
	if a.Sender == client || ph != phaseHello {
		chose := ""
		if c.ServerHello != nil {
			chose = fmt.Sprintf(" after the server chose %s (%s)", c.Version, frameRef(c.ServerHelloFrame.Number))
		}
		return verdict(VersionMismatch,
			fmt.Sprintf("the %s aborted with %s%s; the client offers %s", a.Sender, how, chose, d.offerText(offered)),
			d.serverSide("make the client and the server share a version: both should enable TLS 1.2 and TLS 1.3", ChangeModernVersions),
			d.helloFrame, c.ServerHelloFrame, a.Frame)
	}
	hi := slices.Max(append([]tlsparse.Version{0}, offered...))
	summary := fmt.Sprintf("the server rejected every version the client offers (%s) with %s", d.offerText(offered), how)
	var fix string
	switch {
	case hi < tlsparse.VersionTLS12:
		fix = fmt.Sprintf("the client offers %s at most and the server requires a newer version: enable TLS 1.2 and 1.3 on the client (%s)", hi, clientVersionAdvice(d.client(), "raise its MaxVersion / upgrade OpenSSL or Java"))
	case hi == tlsparse.VersionTLS12:
		summary += "; the server probably requires TLS 1.3"
		fix = d.serverSide("the client offers TLS 1.2 at most and the server requires TLS 1.3: "+clientVersionAdvice(d.client(), "raise the client's MaxVersion / upgrade OpenSSL")+", or allow TLS 1.2 on the server", ChangeAllowTLS12)
	case !slices.Contains(offered, tlsparse.VersionTLS13):
		summary, fix = d.draftRefused(summary, offered)
	case slices.Min(offered) <= tlsparse.VersionTLS10:
		// The server refuses TLS 1.0 to 1.3 alike: no version the
		// client lacks explains that. A server limited to versions
		// older than the client's maximum answers with its own; one
		// that knows supported_versions refuses only a client whose
		// versions are all newer than its own, which TLS 1.0 is not
		// (but SSL 3.0 alone is). Settings that leave a server no
		// version at all make Go's crypto/tls answer protocol_version
		// to every client ("client offered only unsupported
		// versions"); version-intolerant servers and middleboxes
		// refuse a hello naming a version newer than theirs.
		summary += "; it refuses TLS 1.0 to TLS 1.3 alike, which no version the client lacks explains (what the server speaks is not on the wire). " +
			"Likely: the server's version settings leave it none of them (a minimum raised above its maximum, or SSL 3.0 alone); " +
			"possible: the server, or a middlebox in front of it, is version-intolerant (it speaks an older version but refuses a ClientHello announcing a newer one instead of negotiating down), or it speaks only a pre-standard TLS 1.3 draft"
		fix = d.serverSide("check the server's version settings: its minimum must not be above its maximum, and TLS 1.2 and 1.3 should be enabled. "+
			"To tell the causes apart, try `openssl s_client -connect "+c.Server.String()+" -tls1_2` (then -tls1_1, -tls1): if a lower version connects, the server or a middlebox in front of it is version-intolerant: update its software or firmware, or bypass the middlebox (capping the client's version is only a stopgap)", ChangeModernVersions)
	default:
		summary += fmt.Sprintf("; the server probably supports only versions older than %s", slices.Min(offered))
		lower := "lowering the client's minimum would be insecure"
		if slices.Min(offered) >= tlsparse.VersionTLS13 {
			// A client that asks for TLS 1.3 alone refuses TLS 1.2,
			// which is still safe.
			lower = "or, while the server cannot be changed, let the client accept TLS 1.2, which is still safe"
		}
		fix = d.serverSide(fmt.Sprintf("the server seems limited to versions older than %s: enable TLS 1.2 and 1.3 on the server (%s)", slices.Min(offered), lower), ChangeModernVersions)
	}
	return verdict(VersionMismatch, summary, fix, d.helloFrame, a.Frame)
}

// draftRefused completes versionMismatch's summary and fix for a client
// whose highest version is a pre-standard TLS 1.3 (a draft, 0x7fXX, or
// Google's 2017 experiments) and who does not offer TLS 1.3 itself. Each
// draft is a version of its own: a server of another draft, or of the
// final TLS 1.3, does not speak it. When the client also offers TLS 1.2,
// the server refused that too, so it requires TLS 1.3 (in a form the
// client lacks); the alternative, a server speaking only versions older
// than all the client's, is named second.
func (d *diagnosis) draftRefused(summary string, offered []tlsparse.Version) (string, string) {
	var pre []tlsparse.Version
	for _, v := range offered {
		if v.IsTLS13() && v != tlsparse.VersionTLS13 {
			pre = append(pre, v)
		}
	}
	drafts := string(appendVersionList(nil, pre))
	lo := slices.Min(offered)
	older := fmt.Sprintf("versions older than %s", lo)
	if lo <= tlsparse.VersionTLS10 {
		older = "SSL 3.0"
	}
	older = "its version settings leave it none of the client's (" + older + " alone, or a minimum raised above its maximum)"
	if !slices.Contains(offered, tlsparse.VersionTLS12) {
		summary += fmt.Sprintf("; likely: the server does not speak the client's pre-standard %s (each TLS 1.3 draft is a version of its own, and none interoperates with another or with the final TLS 1.3); possible: %s", drafts, older)
		return summary, fmt.Sprintf("update the client to a release that speaks the final TLS 1.3 (RFC 8446) instead of %s", drafts)
	}
	summary += fmt.Sprintf("; likely: the server requires TLS 1.3 (it refused TLS 1.2 too) and speaks another TLS 1.3 draft or the final TLS 1.3, not the client's pre-standard %s: "+
		"each draft is a version of its own and none interoperates with another; possible: %s, or it is version-intolerant (it refuses a ClientHello announcing a newer version than its own instead of negotiating down)", drafts, older)
	fix := d.serverSide(fmt.Sprintf("the client offers TLS 1.2 and the pre-standard %s, which only a server of the same draft accepts: update the client to a release that speaks the final TLS 1.3 (RFC 8446), or allow TLS 1.2 on the server", drafts), ChangeAllowTLS12)
	return summary, fix
}

// offeredVersions are the versions the client offered, highest first,
// without GREASE.
func (d *diagnosis) offeredVersions() []tlsparse.Version {
	// OfferedVersions returns a slice of its own, which may hold a
	// GREASE legacy version: filtered in place.
	return slices.DeleteFunc(d.hello.OfferedVersions(), func(v tlsparse.Version) bool { return tlsparse.IsGREASE(uint16(v)) })
}

// offerText names the offered versions (offeredVersions): the
// supported_versions list, or "up to" the legacy version of a client
// without the extension (its minimum is not on the wire).
func (d *diagnosis) offerText(offered []tlsparse.Version) string {
	var b [128]byte
	return string(d.appendOfferText(b[:0], offered))
}

// appendOfferText appends offerText(offered).
func (d *diagnosis) appendOfferText(b []byte, offered []tlsparse.Version) []byte {
	if slices.ContainsFunc(d.hello.SupportedVersions, func(v tlsparse.Version) bool { return !tlsparse.IsGREASE(uint16(v)) }) || len(offered) != 1 {
		return appendVersionList(b, offered)
	}
	return append(append(b, "up to "...), offered[0].String()...)
}

// offeredSuites is the client's cipher suite list without GREASE and
// signalling values.
func (d *diagnosis) offeredSuites() []tlsparse.CipherSuite {
	return slices.DeleteFunc(slices.Clone(d.hello.CipherSuites), func(s tlsparse.CipherSuite) bool {
		return tlsparse.IsGREASE(uint16(s)) || s.IsSCSV()
	})
}

// Mainstream suites that any current server accepts: TLS 1.3's mandatory
// suite, and for TLS 1.2 the ECDHE AES-GCM/ChaCha20 suites for both RSA and
// ECDSA certificates.
var (
	suiteTLS13Mandatory = tlsparse.CipherSuite(0x1301) // TLS_AES_128_GCM_SHA256
	suitesECDHERSA      = []tlsparse.CipherSuite{0xC02F, 0xC030, 0xCCA8}
	suitesECDHEECDSA    = []tlsparse.CipherSuite{0xC02B, 0xC02C, 0xCCA9}
)

// cipherSuspect reports whether the client's suite list is unusual enough
// to explain a server's handshake_failure: the server's list is not on the
// wire, but a client offering the mainstream suites shares one with any
// current server, so then the cause is elsewhere (groups, signature
// algorithms, SNI).
func (d *diagnosis) cipherSuspect() bool {
	suites := d.offeredSuites()
	if slices.Contains(d.offeredVersions(), tlsparse.VersionTLS13) && slices.Contains(suites, suiteTLS13Mandatory) {
		return false
	}
	hasAny := func(set []tlsparse.CipherSuite) bool {
		return slices.ContainsFunc(set, func(s tlsparse.CipherSuite) bool { return slices.Contains(suites, s) })
	}
	return !hasAny(suitesECDHERSA) || !hasAny(suitesECDHEECDSA)
}

// rsaKexSuspect reports whether a server's handshake_failure to a
// mainstream hello is best explained by a server that accepts only RSA key
// exchange (TLS_RSA_WITH_*: old appliances, Java and IIS configurations):
// the client offers TLS 1.2, no RSA key exchange suite (Go ≥ 1.22 and
// Python by default), the usual groups and an SNI. What the server accepts
// is not on the wire, so this is a likelihood, said as such.
func (d *diagnosis) rsaKexSuspect() bool {
	h := d.hello
	if !slices.Contains(d.offeredVersions(), tlsparse.VersionTLS12) || h.ServerName == "" {
		return false
	}
	if slices.ContainsFunc(d.offeredSuites(), fingerprint.IsRSAKeyExchange) {
		return false
	}
	return slices.ContainsFunc(h.SupportedGroups, func(g tlsparse.NamedGroup) bool { return g == 0x001D || g == 0x0017 }) // x25519, secp256r1
}

func (d *diagnosis) noSharedCipher(a *analysis.Alert) Verdict {
	suites := d.offeredSuites()
	named := names(suites)
	if !d.cipherSuspect() && d.rsaKexSuspect() {
		return d.rsaKexOnly(a)
	}
	return verdict(NoSharedCipher,
		fmt.Sprintf("the server answered the ClientHello with %s (%s): it accepts none of the %d cipher suites the client offered (%s)",
			alertName(*a), frameRef(a.Frame.Number), len(suites), list(named, 4)),
		d.serverSide(fmt.Sprintf("the client offers only %s; the server's list is not on the wire: enable a current suite on the client (TLS 1.3, or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 / TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), or one of the client's suites on the server",
			list(named, 4)), ChangeCiphers),
		d.helloFrame, a.Frame)
}

// rsaKexOnly explains a server that refused a mainstream hello without RSA
// key exchange suites. The server's lists are not on the wire, so the
// causes are ranked: a server that accepts only suites the client lacks —
// RSA key exchange, the usual one, or DHE — is the likeliest; a server
// whose groups exclude the client's, or that can sign only with SHA-1 when
// the client no longer offers SHA-1 signatures, fails alike (an OpenSSL
// server sends the same alert, in the same record, for all of them), and
// the fix covers each.
func (d *diagnosis) rsaKexOnly(a *analysis.Alert) Verdict {
	groups := list(names(slices.DeleteFunc(slices.Clone(d.hello.SupportedGroups), func(g tlsparse.NamedGroup) bool { return tlsparse.IsGREASE(uint16(g)) })), 5)
	isGo := d.client().Stack == fingerprint.StackGo
	lacksDHE := !slices.ContainsFunc(d.offeredSuites(), func(s tlsparse.CipherSuite) bool { return s.KeyExchange() == tlsparse.KeyExchangeDHE })
	lacksSHA1 := d.lacksSHA1Signatures()
	suites := "RSA key exchange suites (TLS_RSA_WITH_*), as old appliances and Java stacks often do, and the client offers no RSA key exchange suite"
	if lacksDHE {
		suites = "RSA key exchange suites (TLS_RSA_WITH_*), as old appliances and Java stacks often do, or only DHE suites (TLS_DHE_*), and the client offers no RSA key exchange suite and no DHE suite"
	}
	signature := "or it wants a signature algorithm the client lacks"
	if lacksSHA1 {
		signature = "or it can sign its key exchange only with SHA-1 (rsa_pkcs1_sha1, ecdsa_sha1: old TLS stacks and HSMs), which the client does not offer"
	}
	summary := fmt.Sprintf("the server answered the ClientHello with %s (%s): it shares no cipher suite, key exchange group or signature algorithm with the client, whose offer is otherwise the usual one (the server's lists are not on the wire). "+
		"Likely: the server accepts only %s; "+
		"possible: the server's key exchange groups exclude every one the client offers (%s), %s, or its cipher list keeps only other suites the client lacks (CAMELLIA, ARIA or CCM suites) or suites its certificate's key cannot use (ECDSA suites with an RSA certificate); "+
		"less likely: it refuses this SNI with handshake_failure, as HAProxy's strict-sni does",
		alertName(*a), frameRef(a.Frame.Number), suites, groups, signature)
	if cl := clientName(d.client()); cl != "" {
		summary += "; the client is " + cl
	}
	if isGo {
		summary += "; " + goDropped(lacksDHE, lacksSHA1) + "; its error for each is \"remote error: tls: handshake failure\""
	}
	fix := "enable ECDHE key exchange on the server (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 works with its RSA certificate; better, TLS 1.3): RSA key exchange has no forward secrecy and current clients dropped it"
	if lacksDHE {
		fix += ", and the client offers no DHE suite (Go never implemented DHE; browsers dropped it)"
	}
	fix += "; if the server already offers ECDHE or TLS 1.3, its key exchange groups must include one the client offers (X25519 or P-256)"
	changes := []ServerChange{ChangeCiphers, ChangeGroups}
	if lacksSHA1 {
		fix += ", and it must sign with SHA-256 or better (rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ecdsa_secp256r1_sha256): allow those in its signature algorithm setting (below), and upgrade a TLS stack or HSM that can sign only with SHA-1"
		changes = append(changes, ChangeSignatures)
	}
	switch {
	case isBrowser(d.client()):
		fix += "; the browser has no setting to offer these again: only the server can change"
	case isGo:
		fix += "; as a stop-gap only against a server of RSA key exchange alone, run the Go client with GODEBUG=tlsrsakex=1 (or list TLS_RSA_WITH_AES_128_GCM_SHA256 in tls.Config.CipherSuites)"
		if lacksSHA1 {
			fix += ", and only against one that signs only with SHA-1, with GODEBUG=tlssha1=1 (Go 1.25 and later)"
		}
		if lacksDHE {
			fix += "; Go has no stop-gap for a server of DHE alone"
		}
	default:
		fix += "; as a stop-gap only against a server of RSA key exchange alone, enable one RSA key exchange suite on the client (e.g. TLS_RSA_WITH_AES_128_GCM_SHA256; OpenSSL: AES128-GCM-SHA256)"
		if lacksSHA1 {
			fix += ", and only against one that signs only with SHA-1, lower the client's security level (OpenSSL: 'DEFAULT:@SECLEVEL=0')"
		}
	}
	return verdict(NoSharedCipher, summary, d.serverSide(fix, changes...), d.helloFrame, a.Frame)
}

// lacksSHA1Signatures reports whether the client's signature_algorithms
// list, when it sends one, has no SHA-1 scheme: a TLS 1.2 server that can
// sign only with SHA-1 then has nothing to sign its key exchange with (Go
// ≥ 1.25 and OpenSSL 3 at its default security level offer none).
func (d *diagnosis) lacksSHA1Signatures() bool {
	schemes := d.hello.SignatureSchemes
	return len(schemes) > 0 && !slices.ContainsFunc(schemes, func(s tlsparse.SignatureScheme) bool {
		hash, ok := legacySignature(s)
		return ok && hash == "SHA-1"
	})
}

// goDropped says which of a server's legacy choices crypto/tls no longer
// offers (RSA key exchange always: rsaKexOnly is only for clients without
// it).
func goDropped(dhe, sha1 bool) string {
	s := "Go stopped offering RSA key exchange in Go 1.22"
	if sha1 {
		s += " and SHA-1 signatures in TLS 1.2 in Go 1.25"
	}
	if dhe {
		s += ", and has never offered DHE"
	}
	return s
}

func (d *diagnosis) sniUnrecognized(a *analysis.Alert) Verdict {
	how := fmt.Sprintf("%s, %s", alertText(*a), frameRef(a.Frame.Number))
	if d.hello.ServerName == "" {
		return verdict(SNIUnrecognized,
			fmt.Sprintf("the client sent no SNI and the server requires one (%s)", how),
			d.sniFix(), d.helloFrame, a.Frame)
	}
	return verdict(SNIUnrecognized,
		fmt.Sprintf("the server does not serve the name '%s' the client asked for in SNI (%s)", d.hello.ServerName, how),
		d.serverSide(fmt.Sprintf("connect with a name the server is configured for, or add '%s' to the server with a certificate covering it", d.hello.ServerName), ChangeServerName),
		d.helloFrame, a.Frame)
}

func (d *diagnosis) clientCert(a *analysis.Alert) Verdict {
	c := d.c
	how := fmt.Sprintf("%s, %s", alertText(*a), frameRef(a.Frame.Number))
	if !a.Known() && d.certificateSized() {
		return verdict(ClientCertRequired,
			fmt.Sprintf("the server rejected the client right after its Finished (%s) with an encrypted alert (%s): the client's encrypted flight begins with a record of %d bytes, too long for an empty Certificate or a Finished, so it sent a certificate, and the server refused it (inferred from record sizes; TLS 1.3 encrypts both)",
				frameRef(c.ClientSide.Finished.Number), frameRef(a.Frame.Number), c.ClientFlightRecords.First),
			d.serverSide(unseenCertCauses+"; "+d.keyLogAdvice("the encrypted messages"), ChangeClientCA),
			d.helloFrame, c.ClientSide.Finished, a.Frame)
	}
	if !a.Known() {
		return verdict(ClientCertRequired,
			fmt.Sprintf("the server rejected the client right after its Finished (%s) with an encrypted alert (%s): in TLS 1.3 this is a missing or refused client certificate (certificate_required); the CertificateRequest and the alert are encrypted",
				frameRef(c.ClientSide.Finished.Number), frameRef(a.Frame.Number)),
			d.serverSide("configure the client with a certificate and key the server accepts (curl --cert/--key, openssl s_client -cert/-key, Go tls.Config.Certificates); "+d.keyLogAdvice("the encrypted messages"), ChangeClientCertRequired),
			d.helloFrame, c.ClientSide.Finished, a.Frame)
	}
	asked := ""
	if c.CertificateRequestFrame.Number != 0 {
		asked = fmt.Sprintf("the server asked for a client certificate (CertificateRequest, %s); ", frameRef(c.CertificateRequestFrame.Number))
	}
	switch {
	case c.ClientCertificates > 0:
		sent := prose.Count(c.ClientCertificates, "certificate")
		if leaf := d.clientLeaf(); leaf != nil {
			sent = fmt.Sprintf("%s, %s", sent, clientCertDesc(leaf))
		}
		if cas := CANames(c.CertificateRequest); len(cas) > 0 && asked != "" {
			asked = fmt.Sprintf("the server asked for a client certificate issued by %s (CertificateRequest, %s); ", quoteList(cas, 3), frameRef(c.CertificateRequestFrame.Number))
		}
		var why, fix string
		if a.Description == tlsparse.AlertDecryptError {
			why, fix = d.keyMismatch()
		} else {
			why, fix = d.refusedCertText(d.clientFindings(), a.Description, true)
		}
		v := verdict(ClientCertRequired,
			fmt.Sprintf("%sthe client sent %s (%s) and the server rejected it (%s): %s", asked, sent, frameRef(c.ClientCertificateFrame.Number), how, why),
			fix, c.CertificateRequestFrame, c.ClientCertificateFrame, a.Frame)
		if w := d.curlExpiredWarning(a.Description); w != "" {
			v.Warnings = append(v.Warnings, w)
		}
		return v
	case c.ClientCertificates == 0:
		asked += fmt.Sprintf("the client sent an empty Certificate (%s)", frameRef(c.ClientCertificateFrame.Number))
		if why := d.clientSHA1Refusal(); why != "" {
			return verdict(ClientCertRequired,
				fmt.Sprintf("%s and the server aborted (%s); %s", asked, how, why),
				d.clientCertFix(), d.helloFrame, c.CertificateRequestFrame, c.ClientCertificateFrame, a.Frame)
		}
	case c.Version.IsTLS13():
		asked += "the server requires a client certificate (the client's flight is encrypted)"
	default:
		asked += "the client sent no certificate"
	}
	return verdict(ClientCertRequired,
		fmt.Sprintf("%s and the server aborted (%s)", asked, how),
		d.clientCertFix(), d.helloFrame, c.CertificateRequestFrame, c.ClientCertificateFrame, a.Frame)
}

// CANames decodes the distinguished names of the CAs a CertificateRequest
// accepts; names that do not decode are skipped.
func CANames(cr *tlsparse.CertificateRequest) []string {
	if cr == nil {
		return nil
	}
	var out []string
	for _, der := range cr.CANames {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		out = append(out, n.String())
	}
	return out
}

func (d *diagnosis) handshakeFailure(a *analysis.Alert, ph phase) Verdict {
	c := d.c
	how := fmt.Sprintf("%s (%s)", alertText(*a), frameRef(a.Frame.Number))
	after, at := d.lastMessageBefore(a.Frame.Number)
	summary := fmt.Sprintf("the %s aborted the handshake after %s (%s) with %s", a.Sender, after, frameRef(at.Number), how)
	if m := alertMeaning(a.Description); m != "" && a.Known() {
		summary += ": " + m
	}
	fix := fmt.Sprintf("the %s rejected the handshake: its log says why (%s)", a.Sender, alertName(*a))
	if ph == phaseAfterData && a.Sender == client {
		// Not a refusal of the server's flight: the client had sent
		// data, which it does only after accepting it.
		answer := " before any answer from the server"
		if sd := c.ServerSide.AppData.First.Number; sd != 0 && sd < a.Frame.Number {
			answer = fmt.Sprintf(" after the server's data (%s)", frameRef(sd))
		}
		summary = fmt.Sprintf("the client sent application data (%s) after the server's Finished, so it had accepted the server's handshake, then ended the connection with %s%s; the client's own Finished is not in the capture",
			frameRef(c.ClientSide.AppData.First.Number), how, answer)
		fix = "the client's log says why it closed (an encrypted alert is as a rule its close_notify); capture again to see the client's Finished"
	}
	if a.Sender == server && ph == phaseHello {
		summary = fmt.Sprintf("the server rejected the ClientHello with %s", how)
		var hints []string
		// A TLS 1.2 client with RSA key exchange and no DHE (Chromium)
		// leaves out the suites of a server restricted to DHE; a TLS
		// 1.3-only one has neither, and needs neither.
		suites := d.offeredSuites()
		noDHE := !d.cipherSuspect() && slices.Contains(d.offeredVersions(), tlsparse.VersionTLS12) &&
			slices.ContainsFunc(suites, fingerprint.IsRSAKeyExchange) &&
			!slices.ContainsFunc(suites, func(s tlsparse.CipherSuite) bool { return s.KeyExchange() == tlsparse.KeyExchangeDHE })
		if noDHE {
			hints = append(hints, fmt.Sprintf("the client offers mainstream cipher suites (%s) but no DHE suite (TLS_DHE_*): possible causes, none visible in the capture, are a server restricted to DHE suites or one whose key exchange groups or signature algorithms exclude the client's", list(names(suites), 3)))
		}
		fix = "check that the client and the server share a key exchange group and a signature algorithm"
		groups := slices.DeleteFunc(slices.Clone(d.hello.SupportedGroups), func(g tlsparse.NamedGroup) bool { return tlsparse.IsGREASE(uint16(g)) })
		switch len(groups) {
		case 0:
		case 1:
			// Clients offer several groups unless told otherwise: a
			// server without the one offered can only refuse.
			hints = append([]string{fmt.Sprintf("the client offers a single key exchange group, %s, which the server probably lacks (likely: no other reason is visible in the ClientHello)", groups[0])}, hints...)
			fix = fmt.Sprintf("the client offers only %s: let it offer the usual groups (OpenSSL, curl: -groups / --curves X25519:P-256; Go: leave tls.Config.CurvePreferences nil), or enable %s on the server; else check that the client and the server share a signature algorithm", groups[0], groups[0])
		default:
			fix += fmt.Sprintf(" (the client offers %s)", list(names(groups), 5))
		}
		if !noDHE && !d.cipherSuspect() {
			// Mainstream suites rule out a mainstream cipher list, not the
			// server's: one restricted to suites the client lacks, or to
			// suites its certificate's key cannot use (ECDSA suites with
			// an RSA key), refuses them (testdata/field/matrix).
			restricted := fmt.Sprintf("the client offers the mainstream ones, %s, so only a server restricted to others refuses them: CAMELLIA, ARIA or CCM suites only, or suites its certificate's key cannot use, such as ECDSA suites with an RSA certificate", list(names(suites), 3))
			if len(groups) == 1 {
				hints = append(hints, fmt.Sprintf("possible: the server's cipher suites (%s) or signature algorithms", restricted))
			} else {
				hints = append(hints, fmt.Sprintf("the capture does not show which of the server's lists has nothing in common with the client's offer: its cipher suites (%s), its key exchange groups or its signature algorithms; the server's error log names it (OpenSSL, nginx: \"no shared cipher\")", restricted))
			}
		}
		if d.hello.ServerName == "" {
			hints = append(hints, "the client sent no SNI, which some servers require")
			fix += ", and make the client send SNI"
			if d.front == nil {
				fix += " (a reverse proxy: nginx `proxy_ssl_server_name on;`, off by default; HAProxy `sni req.hdr(host)` on the `server` line)"
			}
		}
		if !d.cipherSuspect() {
			// The client's suites are current: a server that refuses them
			// all is restricted to others (RSA key exchange only, when the
			// client offers none), or to suites its key cannot use.
			switch {
			case noDHE:
				// The client offers RSA key exchange: an RSA-only server
				// would have answered.
				fix += "; or the server's cipher list excludes every current suite (DHE suites only, which the client does not offer)"
			case slices.ContainsFunc(suites, fingerprint.IsRSAKeyExchange):
				fix += "; or the server's cipher list excludes every suite the client offers, or keeps only suites its certificate's key cannot use (ECDHE-ECDSA suites need an ECDSA certificate, ECDHE-RSA suites an RSA one)"
			default:
				fix += "; or the server's cipher list excludes every current suite (RSA key exchange only)"
			}
			fix = d.serverSide(fix, ChangeGroups, ChangeCiphers)
		} else {
			fix = d.serverSide(fix, ChangeGroups)
		}
		if len(hints) > 0 {
			summary += "; " + strings.Join(hints, "; ")
		}
	}
	if c.HelloRetry != nil && c.RetryClientHello == nil && a.Sender == client {
		summary = fmt.Sprintf("the server asked the client to retry with group %s (HelloRetryRequest, %s) and the client aborted with %s",
			c.HelloRetry.KeyShare, frameRef(c.HelloRetryFrame.Number), how)
		fix = fmt.Sprintf("the client cannot use %s: enable it on the client, or enable on the server one of the groups the client offers", c.HelloRetry.KeyShare)
	}
	return verdict(HandshakeFailure, summary, fix, d.helloFrame, at, a.Frame)
}

// certVerdict explains a certificate rejected by the client, by alert or
// by abort (how, at frame f); plain says a plaintext alert named the
// reason.
func (d *diagnosis) certVerdict(cause certCause, f capture.Frame, how string, plain bool) Verdict {
	c := d.c
	d.used = cause.prob
	certFrame := c.CertificateFrame
	if certFrame.Number == 0 {
		certFrame = c.ServerSide.Finished // TLS 1.3: the encrypted flight carries it
	}
	rejected := fmt.Sprintf("the client rejected the server's certificate (%s, %s)", how, frameRef(f.Number))
	ev := []capture.Frame{certFrame, f}
	if p := cause.prob; p != nil {
		summary := rejected + ": " + d.problemText(*p)
		if p.Address != "" && len(d.probs) == 1 {
			summary += "; the chain itself verifies, so this is the likely reason (a client that connected by name without SNI would have checked the name instead)"
		}
		fix := d.certFix(*p)
		if i := slices.IndexFunc(d.probs, func(q CertProblem) bool { return q.Category == CertRejected }); i >= 0 && trustDependent(p.Category) {
			// Trusting the root or sending the intermediate leaves a
			// defect every client refuses.
			fix += "; besides, whatever the client trusts, " + d.probs[i].Detail + ": " + d.certFix(d.probs[i])
		}
		return verdict(cause.cat, summary, fix, ev...)
	}
	var summary, fix string
	switch {
	case len(d.chain) == 0 && c.Version.IsTLS13() && plain:
		// OpenSSL sends its alert in plaintext: it switches its write key
		// only when it sends its own Finished.
		summary = fmt.Sprintf("the client rejected the server's certificate with %s (%s) right after the server's encrypted flight (%s); in TLS 1.3 the certificate is encrypted, so only the alert says why",
			how, frameRef(f.Number), frameRef(certFrame.Number))
		switch cause.cat {
		case CertExpired:
			fix = d.serverSide("renew the server's certificate (the client says it expired; if it did not, check the client's clock); "+d.keyLogAdvice("the certificate"), ChangeRenew)
		case CertUntrustedCA:
			// unknown_ca says the client built no path to a root it
			// trusts: a root it lacks, or an intermediate the server
			// did not send, which the encrypted chain does not tell
			// apart.
			summary += "; unknown_ca means the client found no path to a root it trusts: the server's root is not among the client's (a private CA, a self-signed certificate), or the server did not send its intermediate certificate"
			fix = "make the server send its full chain (leaf, then intermediates), or make the client trust the server's CA (" + trustRootAdvice(d.client()) + "), or use a certificate from a CA it trusts; " + d.keyLogAdvice("the chain")
		default:
			fix = verifyLogAdvice(d.client()) + "; " + d.keyLogAdvice("the certificate")
		}
	case len(d.chain) == 0 && c.Version.IsTLS13():
		summary = fmt.Sprintf("the client aborted (%s, %s) right after the server's encrypted flight (%s), without its Finished: it rejected the server's certificate; in TLS 1.3 the certificate and the alert are encrypted, so the exact reason is not visible",
			how, frameRef(f.Number), frameRef(certFrame.Number))
		fix = verifyLogAdvice(d.client()) + "; " + d.keyLogAdvice("the certificate and the alert")
		if d.hello != nil && d.hello.ServerName == "" {
			ip := c.Server.Addr().Unmap()
			summary += fmt.Sprintf("; the client sent no SNI, so it most likely connected by address (%s) and checked that address against the certificate: a certificate without IP:%s among its names is a likely reason, but the usual ones (an untrusted CA, an expired certificate) fit the packets as well, and only the certificate tells them apart", ip, ip)
			fix = fmt.Sprintf("if the certificate lacks IP:%s, connect by a name it covers or add the address to its subjectAltName; ", ip) + fix
		}
	case len(d.chain) == 0:
		summary = rejected + "; the certificate is not in the capture"
		fix = "capture the whole handshake to see the certificate; " + verifyLogAdvice(d.client())
	case cause.cat == CertExpired:
		var ok bool
		if summary, fix, ok = d.crossSignExpiredVerdict(rejected); !ok {
			cause.cat = ClientClockSkew
			summary, fix = d.clientClockSkew(rejected)
		}
	case cause.cat == CertUntrustedCA:
		summary = fmt.Sprintf("%s: the client does not trust its issuer, although the chain verifies against the roots given here", rejected)
		fix = fmt.Sprintf("make the client trust the server's root CA (%s), or use a certificate from a CA the client trusts", trustRootAdvice(d.client()))
		if root := d.trustedRoot(); root != nil {
			summary += " (it ends at " + name(root) + ")"
			fix = fmt.Sprintf("make the client trust the root %s (%s), or use a certificate from a CA the client trusts", name(root), trustRootAdvice(d.client()))
			if why, storeFix, ok := d.otherStore(root); ok {
				summary = fmt.Sprintf("%s: the client does not trust its issuer, although the chain verifies against this machine's system roots (it ends at %s): %s", rejected, name(root), why)
				fix = storeFix
			}
		}
	case cause.cat == CertRejected && d.trustedRoot() != nil:
		// A generic alert (crypto/tls sends bad_certificate for every
		// verification failure) about a chain that is valid here, name
		// and dates included: what differs is the trust store.
		root := d.trustedRoot()
		cause.cat = CertUntrustedCA
		summary = fmt.Sprintf("%s, although the chain is valid against the roots given here (it ends at %s): the client most probably does not trust that root (likely: dates and name are right, so its trust store is what differs; less likely, pinning or revocation)",
			rejected, name(root))
		if cl := clientName(d.client()); cl != "" {
			summary += "; the client is " + cl
		}
		fix = fmt.Sprintf("make the client trust the root %s (%s); nothing changes on the server", name(root), trustRootAdvice(d.client()))
		if j := d.crossSignIssuedBy(root); j > 0 {
			// The path to that root runs through a cross-sign: the new
			// root serves the client whether it lacks the old one or
			// holds an expired copy of it.
			summary += fmt.Sprintf("; the path to it runs through certificate %d, the root %s cross-signed by it, so the client may instead hold an expired copy of %s", j, name(d.chain[j]), name(root))
			fix = fmt.Sprintf("make the client trust the root %s (%s), which ends the path before the cross-sign whether the client lacks %s or holds an expired copy of it; nothing changes on the server", name(d.chain[j]), trustRootAdvice(d.client()), name(root))
		} else if why, storeFix, ok := d.otherStore(root); ok {
			summary = strings.Replace(summary, "the roots given here", "this machine's system roots", 1) + "; " + why
			fix = storeFix
		}
	default:
		summary = rejected + ", although the chain verifies against the roots given here: the client applies other rules (its own trust store, pinning, revocation, key size)"
		fix = verifyLogAdvice(d.client())
	}
	return verdict(cause.cat, summary, fix, ev...)
}

// certFix says what to change for a chain problem.
func (d *diagnosis) certFix(p CertProblem) string {
	if p.Fix != "" {
		return p.Fix
	}
	var subject string
	if p.Cert >= 0 && p.Cert < len(d.chain) && d.chain[p.Cert] != nil {
		subject = name(d.chain[p.Cert])
	}
	switch p.Category {
	case CertExpired:
		switch {
		case p.Cert == 0:
			return d.serverSide(fmt.Sprintf("renew the server's certificate %s and install it on the server", subject), ChangeRenew)
		case p.Cert < 0:
			return "a root in the client's trust store has expired: update the client's trust store (ca-certificates)"
		}
		return d.serverSide(fmt.Sprintf("the intermediate %s the server sends has expired: install the CA's current intermediate (the chain file from the CA) on the server", subject), ChangeFullChain)
	case CertNotYetValid:
		return fmt.Sprintf("%s is not valid yet: check the clocks (the client's may be behind, or the certificate was issued with a future date), or wait", subject)
	case CertSelfSigned:
		return fmt.Sprintf("the server uses the self-signed certificate %s: replace it with one issued by a trusted CA, or make the client trust it (its trust store; %s here)", subject, d.setting(SettingRoots))
	case CertUntrustedCA:
		return d.untrustedFix(p, subject)
	case CertIncompleteChain:
		if p.Stale > 0 && p.Stale < len(d.chain) && d.chain[p.Stale] != nil {
			return d.serverSide(fmt.Sprintf("the server sends %s as the issuer of %s, but with another key than the one that signed it: a stale intermediate (the CA reissued it with a new key) or the wrong one; replace it in the server's chain file with the CA's current intermediate for this certificate (the full chain file the CA delivered with it, leaf first)",
				name(d.chain[p.Stale]), subject), ChangeFullChain)
		}
		fix := fmt.Sprintf("the server's chain stops at %s; configure the server to send its issuer '%s' after it (the full chain file, leaf first)", subject, p.MissingIssuer)
		if len(d.chain) == 1 {
			fix = fmt.Sprintf("the server sent only its leaf certificate; configure it to send the intermediate '%s' too (the full chain file, leaf first)", p.MissingIssuer)
		}
		if p.Alternative != "" {
			fix += fmt.Sprintf("; if '%s' is instead your private root, make the client trust it: %s", p.MissingIssuer, trustRootAdvice(d.client()))
		}
		return d.serverSide(fix, ChangeFullChain)
	case CertHostnameMismatch:
		if p.Address != "" {
			return d.serverSide(fmt.Sprintf("connect by a name the certificate covers, or add IP:%s to its subjectAltName", p.Address), ChangeCertName)
		}
		return d.hostnameFix()
	}
	return "reissue the certificate without this defect; clients refuse it"
}

// untrustedFix: the client must trust the root; nothing changes on the
// server, which is right not to send it.
func (d *diagnosis) untrustedFix(p CertProblem, subject string) string {
	if fix, ok := d.crossSignUntrusted(p); ok {
		return fix
	}
	if p.MissingIssuer == "" {
		return fmt.Sprintf("the chain ends at the root %s, which the client does not trust: make the client trust it (%s), or use a certificate from a publicly trusted CA; tlsdiag %s with that root confirms the rest of the chain",
			subject, trustRootAdvice(d.client()), d.setting(SettingRoots))
	}
	confirm := fmt.Sprintf("run tlsdiag again with %s and that root's PEM file", d.setting(SettingRoots))
	if d.ownRoots {
		confirm = fmt.Sprintf("add that root's PEM file to the roots given with %s", d.setting(SettingRoots))
	}
	server := "nothing changes on the server (servers do not send their root)"
	if isBrowser(d.client()) {
		// A browser user's own store is not the site's visitors'.
		server = fmt.Sprintf("trust it only if you know the organisation that runs that CA; a site open to the public needs a certificate from a publicly trusted CA instead, since its visitors' browsers do not trust '%s'", p.MissingIssuer)
	}
	fix := fmt.Sprintf("the client does not trust the root '%s': make it trust that root (%s); %s; to confirm, %s",
		p.MissingIssuer, trustRootAdvice(d.client()), server, confirm)
	if p.Alternative != "" {
		fix += fmt.Sprintf("; if '%s' is instead an intermediate, configure the server to send it after %s (the full chain file)", p.MissingIssuer, subject)
	}
	return fix
}

// problemDetail is a chain problem in a summary: its detail, how sure the
// category is and why, and the other explanation.
func problemDetail(p CertProblem) string {
	t := p.Detail
	if p.Category == CertUntrustedCA && p.MissingIssuer != "" {
		t += ": the client does not trust that root"
	}
	if p.Certainty != Sure {
		t += fmt.Sprintf(" (%s: %s)", p.Certainty, p.Why)
	}
	if p.Alternative != "" {
		t += "; less likely, " + p.Alternative
	}
	return t
}

// trustedRoot returns the root the server's chain verifies to here, or nil.
func (d *diagnosis) trustedRoot() *x509.Certificate {
	if len(d.chain) == 0 || d.chain[0] == nil {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range d.chain[1:] {
		if c != nil {
			inter.AddCert(c)
		}
	}
	chains, err := d.chain[0].Verify(x509.VerifyOptions{Roots: d.roots, Intermediates: inter, CurrentTime: within(d.chain[0], d.certTime())})
	if err != nil {
		return nil
	}
	shortest := slices.MinFunc(chains, func(a, b []*x509.Certificate) int { return cmp.Compare(len(a), len(b)) })
	return shortest[len(shortest)-1]
}

// keyLogAdvice says how to see what encryption hides (what): without a
// key log, how the client that sent the hello writes one; otherwise why
// the one given did not open the connection. It never advises a key log
// that was given.
func (d *diagnosis) keyLogAdvice(what string) string {
	c := d.c
	switch c.Decryption {
	case analysis.DecryptionNoKey:
		if p := c.Proxy; p != nil && p.TLS != nil {
			return "the key log given opened the TLS to the https:// proxy but has no secrets for the target's handshake inside its tunnel (" + c.DecryptionReason() + "): use a key log that holds both, as the client writes it during the capture (Go's tls.Config.KeyLogWriter and curl's SSLKEYLOGFILE log both handshakes), to see " + what
		}
		return "the key log given has no secrets for this connection (" + c.DecryptionReason() + "): use the SSLKEYLOGFILE the client wrote during this capture to see " + what
	case analysis.DecryptionUnsupportedCipher:
		return "the key log has this connection's secrets but tlsdiag does not decrypt its cipher suite: open the capture in Wireshark with the key log to see " + what
	case analysis.DecryptionFailed:
		return "the key log's secrets did not open this connection (" + c.DecryptionReason() + "): use the key log and the capture of the same run to see " + what
	case analysis.DecryptionDecrypted:
		return "the key log opened the connection but not the records that hold " + what + " (" + c.DecryptionReason() + ")"
	}
	return "to see " + what + ", " + clientKeyLogAdvice(d.client(), d.setting(SettingKeyLog))
}
