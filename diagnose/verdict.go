// Package diagnose turns a connection record into a verdict: what went wrong,
// the frames that prove it, and what to change.
package diagnose

// Category is a verdict's stable snake_case name. The names are part of the
// product's interface (JSON output, --verdict filters, exit status): never
// rename one.
type Category string

const (
	OK                   Category = "ok"
	VersionMismatch      Category = "version_mismatch"
	NoSharedCipher       Category = "no_shared_cipher"
	HandshakeFailure     Category = "handshake_failure"
	CertExpired          Category = "cert_expired"
	CertNotYetValid      Category = "cert_not_yet_valid"
	CertSelfSigned       Category = "cert_self_signed"
	CertUntrustedCA      Category = "cert_untrusted_ca"
	CertHostnameMismatch Category = "cert_hostname_mismatch"
	CertIncompleteChain  Category = "cert_incomplete_chain"
	CertRejected         Category = "cert_rejected"
	ClientCertRequired   Category = "client_cert_required"
	ALPNMismatch         Category = "alpn_mismatch"
	SNIUnrecognized      Category = "sni_unrecognized"
	NotTLSServer         Category = "not_tls_server"
	NotTLSClient         Category = "not_tls_client"
	ServerNoResponse     Category = "server_no_response"
	ConnectionRefused    Category = "connection_refused"
	ConnectionReset      Category = "connection_reset"
	NoTCPAnswer          Category = "no_tcp_answer"
	IncompleteCapture    Category = "incomplete_capture"
)

// Categories lists every category in the order reports show them.
var Categories = []Category{
	OK, VersionMismatch, NoSharedCipher, HandshakeFailure,
	CertExpired, CertNotYetValid, CertSelfSigned, CertUntrustedCA,
	CertHostnameMismatch, CertIncompleteChain, CertRejected,
	ClientCertRequired, ALPNMismatch, SNIUnrecognized,
	NotTLSServer, NotTLSClient, ServerNoResponse,
	ConnectionRefused, ConnectionReset, NoTCPAnswer, IncompleteCapture,
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
}

// Failed reports whether the verdict is anything but ok.
func (v Verdict) Failed() bool { return v.Category != OK }
