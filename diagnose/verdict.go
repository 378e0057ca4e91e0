// Package diagnose turns a connection record into a verdict: what went wrong,
// the frames that prove it, and what to change.
package diagnose

// Category is a verdict's stable snake_case name. The names are part of the
// product's interface (JSON output, --verdict filters, exit status): never
// rename one.
type Category string

const (
	OK                   Category = "ok"                     // the handshake completed (Warnings may still list problems)
	VersionMismatch      Category = "version_mismatch"       // no protocol version both sides accept
	NoSharedCipher       Category = "no_shared_cipher"       // the server accepts none of the client's cipher suites
	HandshakeFailure     Category = "handshake_failure"      // a side rejected the handshake with no more specific cause visible
	CertExpired          Category = "cert_expired"           // a certificate of the chain expired before the capture
	CertNotYetValid      Category = "cert_not_yet_valid"     // a certificate of the chain is valid only after the capture
	CertSelfSigned       Category = "cert_self_signed"       // the server's certificate is self-signed and not trusted
	CertUntrustedCA      Category = "cert_untrusted_ca"      // the chain ends at a root the client does not trust
	CertHostnameMismatch Category = "cert_hostname_mismatch" // the certificate does not cover the name the client asked for (SNI)
	CertIncompleteChain  Category = "cert_incomplete_chain"  // the server did not send an intermediate the client needs
	// CertRejected: the client refused the server's certificate for a
	// reason the capture does not show (TLS 1.3 encrypts the certificate
	// and the alert; revocation; the client's own rules), or for a defect
	// outside the categories above (an unknown critical extension, a
	// SHA-1 signature, an issuer that is no CA, a leaf not for servers).
	CertRejected Category = "cert_rejected"
	// ClientCertRequired: the server requires a client certificate and
	// got none, or rejected the one it got.
	ClientCertRequired Category = "client_cert_required"
	ALPNMismatch       Category = "alpn_mismatch"      // no application protocol both sides speak
	SNIUnrecognized    Category = "sni_unrecognized"   // the server does not serve the name in the SNI (or requires one)
	NotTLSServer       Category = "not_tls_server"     // the server answered with something other than TLS
	NotTLSClient       Category = "not_tls_client"     // the client sent something other than a ClientHello, or nothing
	ServerNoResponse   Category = "server_no_response" // the ClientHello (or a later flight) got no answer
	// ProxyRefused: the proxy refused to open the tunnel (HTTP 403 or
	// another refusal of CONNECT, a SOCKS rejection).
	ProxyRefused Category = "proxy_refused"
	// ProxyAuthRequired: the proxy wants credentials it did not get (HTTP
	// 407, SOCKS5 authentication).
	ProxyAuthRequired Category = "proxy_auth_required"
	// ProxyUpstreamFailed: the proxy could not reach the target (HTTP 502,
	// 503, 504; SOCKS host unreachable, connection refused).
	ProxyUpstreamFailed Category = "proxy_upstream_failed"
	ConnectionRefused   Category = "connection_refused" // the SYN was answered by a RST
	ConnectionReset     Category = "connection_reset"   // a RST (or an immediate close) ended the handshake
	NoTCPAnswer         Category = "no_tcp_answer"      // the SYNs were never answered
	// MiddleboxReset: a device on the path, not the peer, reset the
	// connection (the RST's hop distance differs from the peer's).
	MiddleboxReset Category = "middlebox_reset"
	// MiddleboxDrop: the ClientHello was sent again and again and never
	// acknowledged, although the TCP handshake succeeded.
	MiddleboxDrop Category = "middlebox_drop"
	// ClientHelloSplitDropped: the ClientHello spans several segments; the
	// first was acknowledged, the continuation never was.
	ClientHelloSplitDropped Category = "clienthello_split_dropped"
	// PathMTUBlackhole: full-size segments never got through while
	// smaller ones did, and no ICMP said why.
	PathMTUBlackhole Category = "path_mtu_blackhole"
	// TLSIntercepted: a TLS-inspecting proxy on the path answered in the
	// server's name with a certificate of its own CA (a known inspection
	// product's, or one other than the server's for the same name).
	TLSIntercepted Category = "tls_intercepted"
	// ClientClockSkew: the client refused as expired (or not yet valid) a
	// chain valid at the capture's time: its clock is wrong.
	ClientClockSkew Category = "client_clock_skew"
	// LegacyPolicyRefused: the client refused the legacy version (TLS ≤
	// 1.1) or SHA-1/MD5 signature the server chose, by its security
	// policy (OpenSSL 3's internal_error after the server's flight).
	LegacyPolicyRefused Category = "legacy_policy_refused"
	IncompleteCapture   Category = "incomplete_capture" // the handshake is not (entirely) in the capture
	UDPBlocked          Category = "udp_blocked"        // the client's QUIC Initials got no answer: UDP to the server's port is dropped
)

// Categories lists every category in the order reports show them.
var Categories = []Category{
	OK, VersionMismatch, NoSharedCipher, HandshakeFailure,
	CertExpired, CertNotYetValid, CertSelfSigned, CertUntrustedCA,
	CertHostnameMismatch, CertIncompleteChain, CertRejected,
	ClientCertRequired, ALPNMismatch, SNIUnrecognized, LegacyPolicyRefused,
	NotTLSServer, NotTLSClient, ServerNoResponse,
	ProxyRefused, ProxyAuthRequired, ProxyUpstreamFailed,
	ConnectionRefused, ConnectionReset, MiddleboxReset, MiddleboxDrop, ClientHelloSplitDropped,
	PathMTUBlackhole, TLSIntercepted, ClientClockSkew,
	NoTCPAnswer, IncompleteCapture,
	UDPBlocked,
}

// Verdict is the diagnosis of one connection.
type Verdict struct {
	Category Category
	// Summary is one line saying what happened, naming the facts.
	Summary string
	// Evidence are the frame numbers that prove it, ascending.
	Evidence []int64
	// Fix says what to change; empty for ok.
	Fix string
	// Warnings are problems that did not stop the connection, e.g. a
	// certificate the client accepted although it is invalid.
	Warnings []string
	// NotJudged is set when the capture began after the connection did
	// (incomplete_capture without its start): nothing says whether its
	// handshake worked, so it is neither ok nor failed.
	NotJudged bool
}

// Failed reports whether the verdict is anything but ok, and was judged.
func (v Verdict) Failed() bool { return v.Category != OK && !v.NotJudged }
