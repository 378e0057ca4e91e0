// Package diagnose turns a connection record into a verdict: what went wrong,
// the frames that prove it, and what to change.
package diagnose

// The categories the handshake's own rules give (the others are declared
// with their rules).

// OK: the handshake completed (Warnings may still list problems)
const OK Category = "ok"

var okCategory = categorySpec{
	name:          OK,
	meaning:       "the handshake completed (warnings may still say e.g. the certificate was invalid, SSL 2.0 was negotiated, the server application never answered the request, or the server closed a kept-alive connection as idle just as the client reused it — see below)",
	serverFix:     "—",
	clientClasses: []string{"timeout_awaiting_headers", "http_error"},
}

// VersionMismatch: no protocol version both sides accept
const VersionMismatch Category = "version_mismatch"

var versionMismatchCategory = categorySpec{
	name:          VersionMismatch,
	meaning:       "client and server share no protocol version",
	serverFix:     "enable TLS 1.2 and 1.3; a TLS 1.3-only server facing a TLS 1.2 client: allow TLS 1.2 (`ssl_protocols TLSv1.2 TLSv1.3;`)",
	clientClasses: []string{"client_rejected_version", "tls_alert_protocol_version", "tls_alert_inappropriate_fallback"},
}

// NoSharedCipher: the server accepts none of the client's cipher suites
const NoSharedCipher Category = "no_shared_cipher"

var noSharedCipherCategory = categorySpec{
	name:          NoSharedCipher,
	meaning:       "the server accepts none of the client's cipher suites; against a client whose offer is the usual one but lacks RSA key exchange, the likely cause of two that look alike on the wire (the other: no key exchange group in common); or HTTP/2 negotiated over TLS 1.2 with a suite RFC 9113 forbids (not ECDHE/DHE with an AEAD cipher), which the client refused: its GOAWAY INADEQUATE_SECURITY opened with a key log, or, without one, Chromium closing within a second of the handshake without an answer (likely)",
	serverFix:     "include the ECDHE AEAD suites (`ssl_ciphers`); groups current clients offer (`ssl_ecdh_curve`)",
	clientClasses: []string{"client_rejected_cipher", "tls_alert_handshake_failure", "tls_alert_insufficient_security"},
}

// HandshakeFailure: a side rejected the handshake with no more specific cause visible
const HandshakeFailure Category = "handshake_failure"

var handshakeFailureCategory = categorySpec{
	name:          HandshakeFailure,
	meaning:       "the server rejected the handshake with no more specific visible cause",
	serverFix:     "a key exchange group in common with the client (`ssl_ecdh_curve`); when the client offers current suites: a cipher list limited to RSA key exchange (`ssl_ciphers`)",
	clientClasses: []string{"client_rejected_cipher", "tls_alert_handshake_failure", "tls_alert_bad_certificate", "tls_alert_unsupported_certificate", "tls_alert_certificate_revoked", "tls_alert_certificate_expired", "tls_alert_certificate_unknown", "tls_alert_unknown_ca", "tls_alert_access_denied", "tls_alert_insufficient_security", "tls_alert_certificate_required"},
}

// CertExpired: a certificate of the chain expired before the capture
const CertExpired Category = "cert_expired"

var certExpiredCategory = categorySpec{
	name:          CertExpired,
	meaning:       "a certificate of the chain had expired at capture time; or, on a chain that reaches an old root through a cross-signed new one, the cross-sign or (most likely, when the client says expired of a chain whose certificates are all valid) the client's copy of the old root had: then the fix is the new root in the client's trust store, then the cross-sign out of the server's chain",
	serverFix:     "install the renewed certificate and reload (`nginx -t && nginx -s reload`)",
	certificate:   true,
	clientClasses: []string{"cert_expired"},
}

// CertNotYetValid: a certificate of the chain is valid only after the capture
const CertNotYetValid Category = "cert_not_yet_valid"

var certNotYetValidCategory = categorySpec{
	name:          CertNotYetValid,
	meaning:       "a certificate of the chain was not yet valid at capture time",
	serverFix:     "— (clocks)",
	certificate:   true,
	clientClasses: []string{"cert_not_yet_valid"},
}

// CertSelfSigned: the server's certificate is self-signed and not trusted
const CertSelfSigned Category = "cert_self_signed"

var certSelfSignedCategory = categorySpec{
	name:          CertSelfSigned,
	meaning:       "the server sent a self-signed leaf",
	serverFix:     "— (a certificate from a trusted CA)",
	certificate:   true,
	clientClasses: []string{"cert_unknown_authority"},
}

// CertUntrustedCA: the chain ends at a root the client does not trust
const CertUntrustedCA Category = "cert_untrusted_ca"

var certUntrustedCACategory = categorySpec{
	name:          CertUntrustedCA,
	meaning:       "the chain ends in a root the client does not trust (sent, or named as the issuer of the last certificate sent)",
	serverFix:     "— (the client's trust store)",
	certificate:   true,
	clientClasses: []string{"cert_unknown_authority"},
}

// CertHostnameMismatch: the certificate does not cover the name the client asked for (SNI)
const CertHostnameMismatch Category = "cert_hostname_mismatch"

var certHostnameMismatchCategory = categorySpec{
	name:          CertHostnameMismatch,
	meaning:       "the certificate is not valid for the name the client asked for — or, for a client that sent no SNI (as clients do when they connect by IP address), not for the address it connected to",
	serverFix:     "a certificate covering the name; when its names share nothing with the SNI, the name matched no server block and the default one answered (`server_name`, `default_server`, `ssl_reject_handshake`)",
	certificate:   true,
	clientClasses: []string{"cert_hostname_mismatch"},
}

// CertIncompleteChain: the server did not send an intermediate the client needs
const CertIncompleteChain Category = "cert_incomplete_chain"

var certIncompleteChainCategory = categorySpec{
	name:          CertIncompleteChain,
	meaning:       "the server left out an intermediate; the missing issuer is named; the fix is the server's chain file",
	serverFix:     "the full chain, leaf first (`ssl_certificate …/fullchain.pem`, not `cert.pem`)",
	certificate:   true,
	clientClasses: []string{"cert_unknown_authority"},
}

// CertRejected: the client refused the server's certificate for a
// reason the capture does not show (TLS 1.3 encrypts the certificate
// and the alert; revocation; the client's own rules), or for a defect
// outside the categories above (an unknown critical extension, a
// SHA-1 signature, an issuer that is no CA, a leaf not for servers).
const CertRejected Category = "cert_rejected"

var certRejectedCategory = categorySpec{
	name:          CertRejected,
	meaning:       "the client aborted right after the certificate and the cause is not visible (TLS 1.3 without a key log), or another certificate defect",
	serverFix:     "—",
	certificate:   true,
	clientClasses: []string{"cert_unknown_authority", "cert_expired", "cert_not_yet_valid", "cert_hostname_mismatch"},
}

// ClientCertRequired: the server requires a client certificate and
// got none, or rejected the one it got.
const ClientCertRequired Category = "client_cert_required"

var clientCertRequiredCategory = categorySpec{
	name:          ClientCertRequired,
	meaning:       "the server wanted a client certificate and got none, or refused the one it got: then the verdict names it (subject, issuer, dates) and what the capture shows wrong with it (expired at the capture's time, no clientAuth usage, a chain that does not reach a CA the server names, a key that does not match it: decrypt_error), ranked by the alert; a public CA's TLS server certificate used as a client certificate (known by the CA/Browser Forum policy OID every publicly-trusted certificate carries) refused for want of clientAuth is named as such, with the fix a private CA the server trusts, since public CAs no longer issue certificates with clientAuth and renewing does not help (an `ok` connection whose public client certificate still has it is warned that its renewal will not); also a server that completed the handshake and then refused the request (nginx's HTTP 400 \"No required SSL certificate was sent\" or \"The SSL certificate error\": read when decrypted, else inferred from a short answer and the server closing first, on HTTP connections without a certificate, or with one whose defect the capture shows; also a resumed session's request refused so, whose handshake shows no CertificateRequest: certain when the decrypted page says so, likely (`read` only: it looks across connections) when an earlier connection of the same client to the same server was refused for want of a certificate and the resumed one got a short answer after which the server closed first, in TLS 1.2 of the same size); also a Chromium-based browser that closed the connection without an alert on the server's CertificateRequest, as it does to let its user pick a certificate (likely in TLS 1.3 without keys, where the request is encrypted: Chromium rejects a certificate with an alert)",
	serverFix:     "`ssl_verify_client`, `ssl_client_certificate`",
	clientClasses: []string{"tls_alert_handshake_failure", "tls_alert_bad_certificate", "tls_alert_unsupported_certificate", "tls_alert_certificate_revoked", "tls_alert_certificate_expired", "tls_alert_certificate_unknown", "tls_alert_unknown_ca", "tls_alert_access_denied", "tls_alert_insufficient_security", "tls_alert_certificate_required"},
}

// ALPNMismatch: no application protocol both sides speak
const ALPNMismatch Category = "alpn_mismatch"

var alpnMismatchCategory = categorySpec{
	name:          ALPNMismatch,
	meaning:       "no common application protocol: an alert `no_application_protocol`; or a client that offered ALPN h2 without http/1.1 and is known to refuse a server that selects no ALPN protocol (Go's crypto/tls offering h2 alone: likely gRPC-Go 1.67 or later, or Go's http2.Transport; gRPC's C core, known by its ALPN grpc-exp: Python's grpcio, C++, Ruby, PHP), completed the handshake and closed within a second without sending data, while the server selected no protocol (its ServerHello in TLS 1.2, its EncryptedExtensions with a key log; in TLS 1.3 without one, inferred from the client's close and said so)",
	serverFix:     "an h2-only client: enable HTTP/2 (`listen 443 ssl http2;`); for gRPC, ALPN h2 on the TLS terminator in front of the server",
	clientClasses: []string{"client_rejected_alpn", "tls_alert_no_application_protocol"},
}

// SNIUnrecognized: the server does not serve the name in the SNI (or requires one)
const SNIUnrecognized Category = "sni_unrecognized"

var sniUnrecognizedCategory = categorySpec{
	name:          SNIUnrecognized,
	meaning:       "the server does not know the requested name (`unrecognized_name`), or requires one and the client sent none: a client that connected by IP address, or often a reverse proxy's upstream connection (nginx sends no SNI to an `https://` upstream unless `proxy_ssl_server_name on;`)",
	serverFix:     "add the name (`server_name`); for a client without SNI, nothing: the client must send the name (nginx proxying: `proxy_ssl_server_name on;`)",
	clientClasses: []string{"tls_alert_unrecognized_name"},
}

// NotTLSServer: the server answered with something other than TLS
const NotTLSServer Category = "not_tls_server"

var notTLSServerCategory = categorySpec{
	name:          NotTLSServer,
	meaning:       "the server answered the ClientHello with something else, e.g. `HTTP/1.1 400`, or an HTTP/2 SETTINGS frame (h2c: a gRPC server without TLS); or it spoke first in a plaintext protocol (a MySQL greeting, an SMTP banner) and the client answered in it, so neither side started TLS (on a port that the capture filter names, or that carries TLS elsewhere in the capture)",
	serverFix:     "plain HTTP where TLS was expected: `listen 443 ssl;`",
	clientClasses: []string{"not_tls"},
}

// NotTLSClient: the client sent something other than a ClientHello, or nothing
const NotTLSClient Category = "not_tls_client"

var notTLSClientCategory = categorySpec{
	name:      NotTLSClient,
	meaning:   "the client sent plaintext (e.g. an HTTP request, or the HTTP/2 preface `PRI * HTTP/2.0` of a gRPC client without TLS) to a TLS port; or a load balancer began with a PROXY protocol header that the server does not expect (certain when the server answered it with something other than TLS, as nginx's 400, or closed before the ClientHello)",
	serverFix: "optionally redirect plain requests (`error_page 497 https://$host$request_uri;`); for a PROXY protocol header: `listen 443 ssl proxy_protocol;`, or stop sending it from the load balancer",
	unprobed:  "the probe always sends a ClientHello (a proxy's CONNECT is read as the proxy negotiation, not as plaintext)",
}

// ServerNoResponse: the ClientHello (or a later flight) got no answer
const ServerNoResponse Category = "server_no_response"

var serverNoResponseCategory = categorySpec{
	name:          ServerNoResponse,
	meaning:       "ClientHello, then silence until the client gave up; or the server stopped in the middle of its answer (after its ServerHello, say), or sent it too slowly to arrive before the client gave up; or a proxy that never answered the tunnel request",
	serverFix:     "—",
	clientClasses: []string{"timeout"},
}

// ConnectionRefused: the SYN was answered by a RST, or a firewall
// rejected it with ICMP
const ConnectionRefused Category = "connection_refused"

var connectionRefusedCategory = categorySpec{
	name:      ConnectionRefused,
	meaning:   "the SYN was answered by a RST, or rejected by a firewall's ICMP error (port unreachable, administratively prohibited: a REJECT rule, firewalld's default, which the client reports as \"no route to host\"); or, once the server had accepted the connection, such errors answered one side's packets (its handshake flight, the request), which never got through: the client times out",
	serverFix: "— (open the port in the host's firewall: `firewall-cmd --add-port`, `ufw allow`)",
	// A firewall that rejects after the TCP handshake leaves the client
	// waiting: Linux TCP keeps the ICMP as a soft error.
	clientClasses: []string{"proxy_refused", "connection_refused", "host_unreachable", "network_unreachable", "timeout"},
	rule:          (*diagnosis).icmpRefused,
}

// ConnectionReset: a RST (or an immediate close) ended the handshake
const ConnectionReset Category = "connection_reset"

var connectionResetCategory = categorySpec{
	name:          ConnectionReset,
	meaning:       "a RST ended the handshake; a RST that carries text (RFC 1122 allows it; F5 BIG-IP load balancers write why they reset: \"BIG-IP: [0x11c5672:3045] {peer} TCP RST from remote system\") has it quoted in the summary of any verdict that rests on the RST, as Wireshark's \"Reset cause\"",
	serverFix:     "—",
	clientClasses: []string{"connection_reset", "connection_closed"},
}

// NoTCPAnswer: the SYNs were never answered
const NoTCPAnswer Category = "no_tcp_answer"

var noTCPAnswerCategory = categorySpec{
	name:      NoTCPAnswer,
	meaning:   "the SYN was never answered (a firewall dropping), or answered only after the client had given up: SYNs sent again, a SYN-ACK seconds late, and the client's system resetting it at once; or answered only with acknowledgments of an older connection between the same ports that the server still holds (a challenge ACK) while the client's resets of it do not reach the server",
	serverFix: "—",
	// A client that gave up on an ICMP error the capture does not hold
	// (filtered out, or taken where it does not pass) saw more than the
	// wire shows.
	clientClasses: []string{"connect_timeout", "host_unreachable", "network_unreachable"},
}

// IncompleteCapture: the handshake is not (entirely) in the capture
const IncompleteCapture Category = "incomplete_capture"

var incompleteCaptureCategory = categorySpec{
	name:      IncompleteCapture,
	meaning:   "the handshake is not in the capture (not judged when the capture began after the connection), the snap length cut it (tcpdump -s; not judged unless an alert shows the failure), the capture holds one direction only (tcpdump -Q, a mirror port of one direction, asymmetric routing: the other side's acknowledgments show the bytes it missed; not judged), a DNS lookup's answer could not be in it yet (the capture ended less than 1 s after the query), or the connection's packets stop mid-handshake while the capture went on, without the acknowledgment of the last bytes that the peer's TCP sends or the resending of them that the sender's TCP makes (a capture that dropped or kept only some of the packets)",
	serverFix: "—",
	unprobed:  "the probe captures its own connection from the first SYN: an incomplete capture says the capture lost packets, not what the client met",
}

// Verdict is the diagnosis of one connection.
type Verdict struct {
	Category Category
	// Summary is one line saying what happened, naming the facts.
	Summary string
	// Headline is a few words for a table's reason column where the
	// summary's first clause would not say what happened: a request that
	// failed over a good handshake ("TLS is fine"). Empty otherwise.
	Headline string
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
