package fingerprint

import (
	"slices"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Stack is a TLS implementation (or a well-known program built on one)
// recognised from its ClientHello.
type Stack uint8

// The stacks Recognize tells apart.
const (
	StackUnknown  Stack = iota
	StackGo             // Go's crypto/tls (net/http, gRPC-Go, tlsdiag probe…)
	StackOpenSSL        // OpenSSL's libssl: openssl s_client and programs built on it
	StackCurl           // curl built on OpenSSL
	StackPython         // Python's ssl module (OpenSSL) with its default context
	StackGnuTLS         // GnuTLS (gnutls-cli, programs linked with it)
	StackJava           // Java's JSSE (SunJSSE)
	StackChromium       // a Chromium-based browser (Chrome, Edge, Brave…)
	StackFirefox        // Firefox (NSS)
	StackNode           // Node.js (its tls and https modules, on OpenSSL)
)

func (s Stack) String() string {
	switch s {
	case StackGo:
		return "Go crypto/tls"
	case StackOpenSSL:
		return "OpenSSL"
	case StackCurl:
		return "curl (OpenSSL)"
	case StackPython:
		return "Python ssl (OpenSSL)"
	case StackGnuTLS:
		return "GnuTLS"
	case StackJava:
		return "Java (JSSE)"
	case StackChromium:
		return "Chromium-based browser"
	case StackFirefox:
		return "Firefox (NSS)"
	case StackNode:
		return "Node.js (OpenSSL)"
	}
	return "unknown"
}

// Certainty says how much a recognition rests on.
type Certainty uint8

const (
	// Guess: a shape several stacks could share; worth a mention only.
	Guess Certainty = iota + 1
	// Likely: one characteristic list or extension, the rest consistent.
	Likely
	// Sure: a list no other common stack sends in that order.
	Sure
)

func (c Certainty) String() string {
	switch c {
	case Guess:
		return "a guess"
	case Likely:
		return "likely"
	case Sure:
		return "almost certain"
	}
	return "not recognised"
}

// Client is what a ClientHello says about the program that sent it.
type Client struct {
	Stack Stack
	// Also is a second program whose hello is the same, less probable
	// than Stack or as probable: advice must fit both. StackUnknown when
	// the hello tells one program.
	Also      Stack
	Certainty Certainty
	// Reason names the facts the recognition rests on.
	Reason string
	// Go describes a Go client's defaults; zero for other stacks.
	Go GoDefaults
}

// GoDefaults is what a Go ClientHello shows about the Go version and the
// GODEBUG switches that shape crypto/tls's defaults.
type GoDefaults struct {
	// MinVersion and MaxVersion bound the Go release (minor numbers, 0 =
	// unbounded) whose defaults the hello matches.
	MinVersion, MaxVersion int
	// RSAKeyExchange: TLS_RSA_* suites offered (Go < 1.22 by default, or
	// GODEBUG=tlsrsakex=1, or an explicit CipherSuites).
	RSAKeyExchange bool
	// TripleDES: 3DES suites offered (Go < 1.23, or GODEBUG=tls3des=1).
	TripleDES bool
	// MLKEM: a post-quantum hybrid group offered (X25519MLKEM768: Go ≥
	// 1.24 unless GODEBUG=tlsmlkem=0).
	MLKEM bool
}

// goSignatureSchemes is the signature_algorithms list of crypto/tls's
// client (supportedSignatureAlgorithms in common.go), unchanged since Go
// 1.13 except that releases before Go 1.25 append the SHA-1 schemes. No
// other common stack starts with rsa_pss_rsae_sha256 then
// ecdsa_secp256r1_sha256 then ed25519.
var goSignatureSchemes = []tlsparse.SignatureScheme{0x0804, 0x0403, 0x0807, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0503, 0x0603}

// jsseSignatureSchemes begins the signature_algorithms list of JSSE's
// client (the order of sun.security.ssl.SignatureScheme, as OpenJDK 17
// and 25 send it): ECDSA, EdDSA, then RSA-PSS with rsaEncryption keys before
// RSA-PSS with PSS keys. OpenSSL puts the rsa_pss_pss schemes first, NSS
// and Go send no EdDSA scheme before RSA-PSS, BoringSSL starts with
// ecdsa_secp256r1_sha256 then rsa_pss_rsae_sha256.
var jsseSignatureSchemes = []tlsparse.SignatureScheme{0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B}

// Code points the recognition reads.
const (
	groupX25519Kyber768  = 0x6399
	groupX25519MLKEM768  = 0x11EC
	groupSecP256r1MLKEM  = 0x11EB
	extPostHandshakeAuth = 49
	extStatusRequestV2   = 17
	extDelegatedCreds    = 34
	extALPS              = 17513
	extALPSNew           = 17613
	suiteTLS13CCM        = 0x1304
	suiteECDHECCM        = 0xC0AC // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
	sigDSAWithSHA256     = 0x0402
)

// Recognize says which implementation most probably sent ch, from the
// lists and extensions whose values and order differ between
// implementations. It names a stack only on a characteristic trait and
// says how sure it is; anything else is StackUnknown. A client can imitate
// another (uTLS does), so a recognition is evidence, not proof.
func Recognize(ch *tlsparse.ClientHello) Client {
	if ch == nil || ch.SSLv2 {
		return Client{}
	}
	grease := slices.ContainsFunc(ch.CipherSuites, func(s tlsparse.CipherSuite) bool { return tlsparse.IsGREASE(uint16(s)) })
	has := func(t tlsparse.ExtensionType) bool {
		return slices.ContainsFunc(ch.Extensions, func(e tlsparse.Extension) bool { return e.Type == t })
	}
	sigs := ch.SignatureSchemes
	switch {
	case !grease && len(sigs) >= len(goSignatureSchemes) && slices.Equal(sigs[:len(goSignatureSchemes)], goSignatureSchemes):
		return Client{Stack: StackGo, Certainty: Sure, Reason: "its signature_algorithms list is crypto/tls's, in crypto/tls's order", Go: goDefaults(ch)}
	case grease && (has(extALPS) || has(extALPSNew) || has(tlsparse.ExtCompressCertificate)):
		return Client{Stack: StackChromium, Certainty: Likely, Reason: "GREASE values with Chromium's application_settings or compress_certificate extensions"}
	case !grease && has(extDelegatedCreds) && has(tlsparse.ExtRecordSizeLimit):
		return Client{Stack: StackFirefox, Certainty: Likely, Reason: "delegated_credentials and record_size_limit extensions, no GREASE, as NSS sends them"}
	case has(extStatusRequestV2) || slices.Contains(sigs, sigDSAWithSHA256) && has(tlsparse.ExtSignatureAlgorithmsCert):
		return Client{Stack: StackJava, Certainty: Likely, Reason: "status_request_v2 or DSA signature schemes, which only JSSE still sends"}
	case !grease && len(sigs) >= len(jsseSignatureSchemes) && slices.Equal(sigs[:len(jsseSignatureSchemes)], jsseSignatureSchemes) && has(tlsparse.ExtSignatureAlgorithmsCert):
		// A TLS 1.3-only JSSE hello (jdk.tls.client.protocols=TLSv1.3,
		// or SSLParameters naming TLSv1.3 alone) sends neither of the
		// traits above: they belong to TLS 1.2.
		return Client{Stack: StackJava, Certainty: Likely, Reason: "its signature_algorithms list is JSSE's, in JSSE's order (EdDSA before the RSA-PSS schemes, rsa_pss_rsae before rsa_pss_pss), with signature_algorithms_cert"}
	case (slices.Contains(ch.CipherSuites, suiteTLS13CCM) || slices.Contains(ch.CipherSuites, suiteECDHECCM)) && has(tlsparse.ExtRecordSizeLimit) && len(sigs) > 0 && sigs[0] == 0x0401:
		// Limited to TLS 1.2, GnuTLS still offers CCM, as a TLS 1.2 suite.
		return Client{Stack: StackGnuTLS, Certainty: Likely, Reason: "AES-CCM suites (TLS_AES_128_CCM_SHA256, or TLS 1.2's TLS_ECDHE_ECDSA_WITH_AES_128_CCM), record_size_limit and rsa_pkcs1_sha256 first in signature_algorithms, as GnuTLS sends them"}
	case !grease && len(sigs) >= 4 && slices.Equal(sigs[:4], []tlsparse.SignatureScheme{0x0403, 0x0503, 0x0603, 0x0807}) && has(tlsparse.ExtEncryptThenMAC):
		return openSSLClient(ch, has)
	}
	return Client{}
}

// openSSLClient tells apart the best-known programs built on OpenSSL,
// whose hellos share OpenSSL's lists. The cipher list is the firmest
// trait: Node.js and Python (by default, and urllib3 1.x) set their own.
// Programs that keep OpenSSL's default list differ only in what they
// switch on: curl turns session tickets off and offers ALPN (h2 first when
// built with nghttp2) and post-handshake authentication; urllib3 (requests)
// does the same with ALPN http/1.1, so on a Python built to keep OpenSSL's
// default list (Debian's, Ubuntu's) requests and curl --http1.1 send the
// same hello, and both are named.
func openSSLClient(ch *tlsparse.ClientHello, has func(tlsparse.ExtensionType) bool) Client {
	base := "OpenSSL's signature_algorithms list and encrypt_then_mac"
	if hasNodeSuites(ch.CipherSuites) {
		return Client{Stack: StackNode, Certainty: Likely, Reason: base + ", with Node.js's default cipher list (ECDHE-RSA-AES128-GCM-SHA256 first among the TLS 1.2 suites, then ECDHE-ECDSA, DHE-RSA and the SHA-256/384 suites in Node's order)"}
	}
	if list := pythonSuiteList(ch.CipherSuites); list != "" {
		return Client{Stack: StackPython, Certainty: Likely, Reason: base + ", with " + list}
	}
	h2 := slices.Contains(ch.ALPN, "h2")
	onlyHTTP11 := len(ch.ALPN) == 1 && ch.ALPN[0] == "http/1.1"
	ticket := has(tlsparse.ExtSessionTicket)
	switch {
	case !ticket && h2:
		return Client{Stack: StackCurl, Certainty: Likely, Reason: base + ", with ALPN h2 and http/1.1 and no session_ticket extension, as curl sends them"}
	case !ticket && onlyHTTP11:
		return Client{Stack: StackPython, Also: StackCurl, Certainty: Guess, Reason: base + ", with ALPN http/1.1 alone and no session_ticket extension: Python's urllib3 (requests) sends them so on a Python that keeps OpenSSL's default cipher list (Debian's, Ubuntu's), and so does curl --http1.1 (or a curl without HTTP/2)"}
	case ticket && has(extPostHandshakeAuth):
		return Client{Stack: StackPython, Certainty: Guess, Reason: base + ", with post_handshake_auth and a session_ticket extension, as Python's http.client and urllib send them on a Python that keeps OpenSSL's default cipher list"}
	case ticket && len(ch.ALPN) == 0 && has(tlsparse.ExtPadding):
		// OpenSSL pads a hello of 256 to 511 bytes only for a program
		// that sets SSL_OP_ALL (its F5 workaround), as CPython's ssl
		// module does and openssl s_client does not; a longer or shorter
		// hello has no padding, and then nothing tells Python from s_client.
		return Client{Stack: StackPython, Also: StackOpenSSL, Certainty: Guess, Reason: base + ", with the padding extension, a session_ticket extension and no ALPN: Python's ssl module sends them so with a context of its own (ssl.create_default_context()) on a Python that keeps OpenSSL's default cipher list (Python 3.7 to 3.9, or a distribution's build such as Debian's), and so may another program on OpenSSL that sets SSL_OP_ALL; openssl s_client sends no padding"}
	}
	return Client{Stack: StackOpenSSL, Certainty: Likely, Reason: base}
}

// pythonSuiteLists begin the TLS 1.2 part of the cipher lists CPython's
// ssl module sets by default (Python ≥ 3.10; Python ≤ 3.6 and 2.7) and
// urllib3 1.x sets for requests, as OpenSSL 3 expands them. OpenSSL's own
// default puts DHE-RSA-AES256-GCM-SHA384 third.
var pythonSuiteLists = []struct {
	what   string
	suites []tlsparse.CipherSuite
}{
	{"Python's default cipher list (Python ≥ 3.10: ECDHE AES-GCM and ChaCha20 first, then ECDHE CBC-SHA2, then DHE, no RSA key exchange)", []tlsparse.CipherSuite{0xC02C, 0xC030, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC024, 0xC028, 0xC023, 0xC027, 0x009F, 0x009E}},
	{"urllib3 1.x's cipher list (requests)", []tlsparse.CipherSuite{0xC02C, 0xC030, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0x009F, 0x009E, 0xCCAA, 0xC0AF, 0xC0AD, 0xC0AE, 0xC0AC}},
	{"Python's default cipher list of Python ≤ 3.6 and 2.7 (ECDHE then DHE AES-GCM first)", []tlsparse.CipherSuite{0xC02C, 0xC030, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0x00A3, 0x009F, 0x00A2, 0x009E, 0xCCAA}},
}

// pythonSuiteList names the Python cipher list suites begin with, past
// their TLS 1.3 suites, or returns "".
func pythonSuiteList(suites []tlsparse.CipherSuite) string {
	i := slices.IndexFunc(suites, func(s tlsparse.CipherSuite) bool { return s>>8 != 0x13 })
	if i < 0 {
		return ""
	}
	for _, l := range pythonSuiteLists {
		if len(suites)-i >= len(l.suites) && slices.Equal(suites[i:i+len(l.suites)], l.suites) {
			return l.what
		}
	}
	return ""
}

// nodeSuites begins Node.js's default cipher list (tls.DEFAULT_CIPHERS,
// the same from Node 12 to 22) after its TLS 1.3 suites: OpenSSL's own
// default puts the ECDSA and AES-256 suites first.
var nodeSuites = []tlsparse.CipherSuite{0xC02F, 0xC02B, 0xC030, 0xC02C, 0x009E, 0xC027, 0x0067, 0xC028, 0x006B}

// hasNodeSuites reports whether suites, past the TLS 1.3 ones, begin as
// Node.js's default list does.
func hasNodeSuites(suites []tlsparse.CipherSuite) bool {
	i := slices.IndexFunc(suites, func(s tlsparse.CipherSuite) bool { return s>>8 != 0x13 })
	return i >= 0 && len(suites)-i >= len(nodeSuites) && slices.Equal(suites[i:i+len(nodeSuites)], nodeSuites)
}

// goDefaults reads the Go release and GODEBUG switches from a Go hello.
func goDefaults(ch *tlsparse.ClientHello) GoDefaults {
	var g GoDefaults
	for _, s := range ch.CipherSuites {
		g.RSAKeyExchange = g.RSAKeyExchange || isRSAKeyExchange(s)
		g.TripleDES = g.TripleDES || s == 0x000A || s == 0xC012
	}
	groups := ch.SupportedGroups
	g.MLKEM = slices.Contains(groups, groupX25519MLKEM768)
	switch {
	case slices.Contains(groups, groupSecP256r1MLKEM):
		g.MinVersion = 26
	case g.MLKEM:
		g.MinVersion = 24
	case slices.Contains(groups, groupX25519Kyber768):
		g.MinVersion, g.MaxVersion = 23, 23
	}
	return g
}

// Release names the Go releases whose default groups the hello shows:
// "Go ≥ 1.26", "Go 1.24 or 1.25", "Go 1.23", or, without a post-quantum
// group, "Go ≤ 1.22 (or tlsmlkem=0, or CurvePreferences set)".
func (g GoDefaults) Release() string {
	switch {
	case g.MinVersion == 26:
		return "Go ≥ 1.26"
	case g.MinVersion == 24:
		return "Go 1.24 or 1.25"
	case g.MinVersion == 23:
		return "Go 1.23"
	}
	return "Go ≤ 1.22, or a later Go with GODEBUG=tlsmlkem=0 or its own CurvePreferences"
}

// isRSAKeyExchange reports whether s is a TLS_RSA_WITH_* suite: the key
// travels encrypted with the server's RSA key, without forward secrecy.
func isRSAKeyExchange(s tlsparse.CipherSuite) bool {
	switch s {
	case 0x000A, 0x002F, 0x0035, 0x003C, 0x003D, 0x009C, 0x009D, 0x0005, 0x0004, 0xC09C, 0xC09D, 0xC0A0, 0xC0A1, 0x0041, 0x0084, 0xC050, 0xC051:
		return true
	}
	return false
}

// IsRSAKeyExchange reports whether s is a TLS_RSA_WITH_* suite (RSA key
// transport: no forward secrecy, no longer offered by Go ≥ 1.22).
func IsRSAKeyExchange(s tlsparse.CipherSuite) bool { return isRSAKeyExchange(s) }
