package tlsparse

import (
	"slices"
	"sync"
)

// Anomaly is the stable snake_case ID of an oddity found while reading a
// connection, like Zeek's weirds: a finding, not prose. The IDs are part of
// the product's interface (the JSON field anomalies, and the verdicts that
// match on them): never rename one. Every ID is declared here, those the
// parsers of this package record and those the connection builder
// (package analysis) records while reading records, TCP and key logs.
type Anomaly string

func (a Anomaly) String() string { return string(a) }

// Recorded by the hello and message parsers.
const (
	AnomalyDuplicateExtension  Anomaly = "duplicate_extension"
	AnomalyEmptySNI            Anomaly = "empty_sni"
	AnomalySNITrailingDot      Anomaly = "sni_trailing_dot"
	AnomalyMultipleServerNames Anomaly = "multiple_server_names"
	AnomalyEmptyALPNProtocol   Anomaly = "empty_alpn_protocol"
	AnomalyNonzeroPadding      Anomaly = "nonzero_padding"
	AnomalyPSKNotLast          Anomaly = "pre_shared_key_not_last"
	AnomalyNoNullCompression   Anomaly = "no_null_compression"
	AnomalySessionIDTooLong    Anomaly = "session_id_too_long"
	AnomalyNoCipherSuites      Anomaly = "no_cipher_suites"
	AnomalyTrailingData        Anomaly = "trailing_bytes_after_extensions"
	AnomalyDowngradeTLS12      Anomaly = "downgrade_sentinel_tls12"
	AnomalyDowngradeTLS11      Anomaly = "downgrade_sentinel_tls11"
	AnomalyCompressionNotNull  Anomaly = "compression_not_null"
	// The challenge of an SSLv2 ClientHello is outside 16–32 bytes
	// (RFC 6101, Appendix E.1).
	AnomalySSLv2ChallengeLength Anomaly = "sslv2_challenge_length"
)

// Recorded by the connection builder (package analysis).
const (
	// Two TCP segments carry different bytes for the same sequence numbers.
	AnomalyTCPOverlapConflict Anomaly = "tcp_overlap_conflict"

	AnomalyMalformedRecord             Anomaly = "malformed_record"
	AnomalyOversizedHandshakeMessage   Anomaly = "oversized_handshake_message" // longer than MaxHandshakeSize
	AnomalyHeartbeat                   Anomaly = "heartbeat"                   // a heartbeat record (RFC 6520)
	AnomalyTooManyAlerts               Anomaly = "too_many_alerts"             // more alerts than a connection record keeps
	AnomalyMalformedSSLv2ClientHello   Anomaly = "malformed_sslv2_client_hello"
	AnomalyMalformedSSLv2ServerHello   Anomaly = "malformed_sslv2_server_hello"
	AnomalyMalformedClientHello        Anomaly = "malformed_client_hello"
	AnomalyRepeatedClientHello         Anomaly = "repeated_client_hello"
	AnomalyMalformedServerHello        Anomaly = "malformed_server_hello"
	AnomalyRepeatedServerHello         Anomaly = "repeated_server_hello"
	AnomalyMalformedCertificate        Anomaly = "malformed_certificate"
	AnomalyMalformedServerKeyExchange  Anomaly = "malformed_server_key_exchange"
	AnomalyMalformedCertificateRequest Anomaly = "malformed_certificate_request"
	AnomalyKeyLogUnsupportedCipher     Anomaly = "keylog_unsupported_cipher" // the key log has the secrets, but the suite cannot be opened
	AnomalyKeyLogDecryptionFailed      Anomaly = "keylog_decryption_failed"  // the key log's secrets did not open the records
	// A CompressedCertificate (RFC 8879) that does not decompress: an
	// unknown algorithm, corrupt data, or a length that does not match.
	AnomalyUnreadableCompressedCertificate Anomaly = "compressed_certificate_unreadable"
)

// Anomalies lists every anomaly but the two per-extension families
// (MalformedExtension, TrailingBytesInExtension), in the order declared.
var Anomalies = []Anomaly{
	AnomalyDuplicateExtension, AnomalyEmptySNI, AnomalySNITrailingDot,
	AnomalyMultipleServerNames, AnomalyEmptyALPNProtocol, AnomalyNonzeroPadding,
	AnomalyPSKNotLast, AnomalyNoNullCompression, AnomalySessionIDTooLong,
	AnomalyNoCipherSuites, AnomalyTrailingData, AnomalyDowngradeTLS12,
	AnomalyDowngradeTLS11, AnomalyCompressionNotNull, AnomalySSLv2ChallengeLength,

	AnomalyTCPOverlapConflict, AnomalyMalformedRecord, AnomalyOversizedHandshakeMessage,
	AnomalyHeartbeat, AnomalyTooManyAlerts, AnomalyMalformedSSLv2ClientHello, AnomalyMalformedSSLv2ServerHello,
	AnomalyMalformedClientHello, AnomalyRepeatedClientHello, AnomalyMalformedServerHello,
	AnomalyRepeatedServerHello, AnomalyMalformedCertificate, AnomalyMalformedServerKeyExchange,
	AnomalyMalformedCertificateRequest, AnomalyKeyLogUnsupportedCipher, AnomalyKeyLogDecryptionFailed,
	AnomalyUnreadableCompressedCertificate,
}

// MalformedExtension is the anomaly of an extension whose content does not
// parse: "malformed_" followed by the extension's name, e.g.
// "malformed_server_name".
func MalformedExtension(t ExtensionType) Anomaly {
	return Anomaly("malformed_" + t.String())
}

// TrailingBytesInExtension is the anomaly of an extension with bytes left
// after its content: "trailing_bytes_in_" followed by the extension's name.
func TrailingBytesInExtension(t ExtensionType) Anomaly {
	return Anomaly("trailing_bytes_in_" + t.String())
}

// KnownAnomaly reports whether a is declared: one of Anomalies, or a
// per-extension anomaly of a registered extension type.
func KnownAnomaly(a Anomaly) bool {
	_, ok := knownAnomalies()[a]
	return ok
}

var knownAnomalies = sync.OnceValue(func() map[Anomaly]struct{} {
	m := make(map[Anomaly]struct{}, len(Anomalies))
	for _, a := range Anomalies {
		m[a] = struct{}{}
	}
	for v := range 1 << 16 {
		t := ExtensionType(v)
		if _, ok := extensionTypeName(t); ok {
			m[MalformedExtension(t)] = struct{}{}
			m[TrailingBytesInExtension(t)] = struct{}{}
		}
	}
	return m
})

// anomalies collects IDs without duplicates, in first-seen order.
type anomalies []Anomaly

func (a *anomalies) add(id Anomaly) {
	if !slices.Contains(*a, id) {
		*a = append(*a, id)
	}
}
