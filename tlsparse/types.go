package tlsparse

import (
	"fmt"
	"strconv"
	"strings"
)

// ContentType is the type byte of a TLS record (RFC 8446, Section 5.1).
type ContentType uint8

const (
	ContentTypeChangeCipherSpec ContentType = 20
	ContentTypeAlert            ContentType = 21
	ContentTypeHandshake        ContentType = 22
	ContentTypeApplicationData  ContentType = 23
	ContentTypeHeartbeat        ContentType = 24 // RFC 6520
)

func (t ContentType) String() string {
	switch t {
	case ContentTypeChangeCipherSpec:
		return "change_cipher_spec"
	case ContentTypeAlert:
		return "alert"
	case ContentTypeHandshake:
		return "handshake"
	case ContentTypeApplicationData:
		return "application_data"
	case ContentTypeHeartbeat:
		return "heartbeat"
	}
	return "content_type(" + strconv.Itoa(int(t)) + ")"
}

// HeartbeatMessageType is the type byte of a heartbeat message (RFC 6520,
// Section 3).
type HeartbeatMessageType uint8

const (
	HeartbeatRequest  HeartbeatMessageType = 1
	HeartbeatResponse HeartbeatMessageType = 2
)

func (t HeartbeatMessageType) String() string {
	switch t {
	case HeartbeatRequest:
		return "heartbeat_request"
	case HeartbeatResponse:
		return "heartbeat_response"
	}
	return "heartbeat_message_type(" + strconv.Itoa(int(t)) + ")"
}

// HeartbeatHeader is the start of a plaintext heartbeat message: its type
// and the payload length it claims (RFC 6520, Section 4). The message
// must also carry at least HeartbeatMinPadding bytes of padding after the
// payload; a claim the record cannot hold is the Heartbleed attack
// (CVE-2014-0160).
type HeartbeatHeader struct {
	Type          HeartbeatMessageType
	PayloadLength int
}

// HeartbeatMinPadding is the least padding a heartbeat message carries
// (RFC 6520, Section 4): a receiver discards a message whose
// 3 + payload_length + 16 exceeds its record.
const HeartbeatMinPadding = 16

// Version is a protocol version as it appears on the wire.
type Version uint16

const (
	VersionSSL20 Version = 0x0002
	VersionSSL30 Version = 0x0300
	VersionTLS10 Version = 0x0301
	VersionTLS11 Version = 0x0302
	VersionTLS12 Version = 0x0303
	VersionTLS13 Version = 0x0304

	// Google's 2017 experiment versions of TLS 1.3 (BoringSSL's
	// tls13_experiment and tls13_experiment2), deployed in Chrome to
	// measure middlebox breakage before the final version.
	VersionGoogleExperiment1 Version = 0x7e01
	VersionGoogleExperiment2 Version = 0x7e02
)

// tls13DraftMajor is the high byte of a TLS 1.3 draft version: 0x7f00 |
// draft number (draft-ietf-tls-tls13-28, Section 4.2.1).
const tls13DraftMajor = 0x7f

// facebookDraftMajor is the high byte of Facebook's variants of the TLS
// 1.3 drafts, which its apps and servers speak (Fizz's "fb" versions,
// 0xfb00 | draft number: 0xfb17, 0xfb1a, 0xfb1c): each draft's handshake,
// with minor differences in the record layer.
const facebookDraftMajor = 0xfb

// TLS13Draft returns the draft number of a TLS 1.3 draft version,
// Facebook's variants included, and whether v is one.
func (v Version) TLS13Draft() (int, bool) {
	if v>>8 != tls13DraftMajor && v>>8 != facebookDraftMajor {
		return 0, false
	}
	return int(v & 0xff), true
}

// IsTLS13 reports whether v is TLS 1.3, one of its drafts (0x7fXX, and
// Facebook's 0xfbXX) or Google's 2017 experiment versions, which share its
// handshake: encrypted after the ServerHello, TLS 1.3's message formats,
// and (the experiments) the session ID echoed for middlebox compatibility.
func (v Version) IsTLS13() bool {
	_, draft := v.TLS13Draft()
	return v == VersionTLS13 || draft || v == VersionGoogleExperiment1 || v == VersionGoogleExperiment2
}

func (v Version) String() string {
	switch v {
	case VersionSSL20:
		return "SSL 2.0"
	case VersionSSL30:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	if IsGREASE(uint16(v)) {
		return fmt.Sprintf("GREASE 0x%04x", uint16(v))
	}
	if n, ok := v.TLS13Draft(); ok {
		if v>>8 == facebookDraftMajor {
			return "TLS 1.3 draft " + strconv.Itoa(n) + " (Facebook)"
		}
		return "TLS 1.3 draft " + strconv.Itoa(n)
	}
	return fmt.Sprintf("0x%04X", uint16(v))
}

// IsGREASE reports whether v is one of the sixteen values that RFC 8701
// reserves so that peers learn to ignore unknown code points: 0x0A0A,
// 0x1A1A, …, 0xFAFA (both bytes equal, low nibble 0xA).
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// HandshakeType is the type byte of a handshake message (RFC 8446, Section 4).
type HandshakeType uint8

const (
	HandshakeTypeHelloRequest        HandshakeType = 0
	HandshakeTypeClientHello         HandshakeType = 1
	HandshakeTypeServerHello         HandshakeType = 2
	HandshakeTypeHelloVerifyRequest  HandshakeType = 3
	HandshakeTypeNewSessionTicket    HandshakeType = 4
	HandshakeTypeEndOfEarlyData      HandshakeType = 5
	HandshakeTypeEncryptedExtensions HandshakeType = 8
	HandshakeTypeCertificate         HandshakeType = 11
	HandshakeTypeServerKeyExchange   HandshakeType = 12
	HandshakeTypeCertificateRequest  HandshakeType = 13
	HandshakeTypeServerHelloDone     HandshakeType = 14
	HandshakeTypeCertificateVerify   HandshakeType = 15
	HandshakeTypeClientKeyExchange   HandshakeType = 16
	HandshakeTypeFinished            HandshakeType = 20
	HandshakeTypeCertificateURL      HandshakeType = 21
	HandshakeTypeCertificateStatus   HandshakeType = 22
	HandshakeTypeSupplementalData    HandshakeType = 23
	HandshakeTypeKeyUpdate           HandshakeType = 24
	HandshakeTypeCompressedCert      HandshakeType = 25 // RFC 8879
	HandshakeTypeNextProtocol        HandshakeType = 67 // draft-agl-tls-nextprotoneg
	HandshakeTypeMessageHash         HandshakeType = 254
)

var handshakeTypeNames = map[HandshakeType][2]string{
	HandshakeTypeHelloRequest:        {"hello_request", "Hello Request"},
	HandshakeTypeClientHello:         {"client_hello", "Client Hello"},
	HandshakeTypeServerHello:         {"server_hello", "Server Hello"},
	HandshakeTypeHelloVerifyRequest:  {"hello_verify_request", "Hello Verify Request"},
	HandshakeTypeNewSessionTicket:    {"new_session_ticket", "New Session Ticket"},
	HandshakeTypeEndOfEarlyData:      {"end_of_early_data", "End of Early Data"},
	HandshakeTypeEncryptedExtensions: {"encrypted_extensions", "Encrypted Extensions"},
	HandshakeTypeCertificate:         {"certificate", "Certificate"},
	HandshakeTypeServerKeyExchange:   {"server_key_exchange", "Server Key Exchange"},
	HandshakeTypeCertificateRequest:  {"certificate_request", "Certificate Request"},
	HandshakeTypeServerHelloDone:     {"server_hello_done", "Server Hello Done"},
	HandshakeTypeCertificateVerify:   {"certificate_verify", "Certificate Verify"},
	HandshakeTypeClientKeyExchange:   {"client_key_exchange", "Client Key Exchange"},
	HandshakeTypeFinished:            {"finished", "Finished"},
	HandshakeTypeCertificateURL:      {"certificate_url", "Client Certificate URL"},
	HandshakeTypeCertificateStatus:   {"certificate_status", "Certificate Status"},
	HandshakeTypeSupplementalData:    {"supplemental_data", "Supplemental Data"},
	HandshakeTypeKeyUpdate:           {"key_update", "Key Update"},
	HandshakeTypeCompressedCert:      {"compressed_certificate", "Compressed Certificate"},
	HandshakeTypeNextProtocol:        {"next_protocol", "Next Protocol"},
	HandshakeTypeMessageHash:         {"message_hash", "Message Hash"},
}

// String returns the RFC name in snake_case, e.g. "client_hello".
func (t HandshakeType) String() string {
	if n, ok := handshakeTypeNames[t]; ok {
		return n[0]
	}
	return "handshake_type(" + strconv.Itoa(int(t)) + ")"
}

// Title returns the name Wireshark displays, e.g. "Client Hello".
func (t HandshakeType) Title() string {
	if n, ok := handshakeTypeNames[t]; ok {
		return n[1]
	}
	return "Unknown Handshake Message (" + strconv.Itoa(int(t)) + ")"
}

// AlertLevel is the first byte of an alert (RFC 5246, Section 7.2).
type AlertLevel uint8

const (
	AlertLevelWarning AlertLevel = 1
	AlertLevelFatal   AlertLevel = 2
)

func (l AlertLevel) String() string {
	switch l {
	case AlertLevelWarning:
		return "warning"
	case AlertLevelFatal:
		return "fatal"
	}
	return "alert_level(" + strconv.Itoa(int(l)) + ")"
}

// AlertDescription is the second byte of an alert (RFC 8446, Section 6).
type AlertDescription uint8

const (
	AlertCloseNotify                  AlertDescription = 0
	AlertUnexpectedMessage            AlertDescription = 10
	AlertBadRecordMAC                 AlertDescription = 20
	AlertDecryptionFailed             AlertDescription = 21
	AlertRecordOverflow               AlertDescription = 22
	AlertDecompressionFailure         AlertDescription = 30
	AlertHandshakeFailure             AlertDescription = 40
	AlertNoCertificate                AlertDescription = 41
	AlertBadCertificate               AlertDescription = 42
	AlertUnsupportedCertificate       AlertDescription = 43
	AlertCertificateRevoked           AlertDescription = 44
	AlertCertificateExpired           AlertDescription = 45
	AlertCertificateUnknown           AlertDescription = 46
	AlertIllegalParameter             AlertDescription = 47
	AlertUnknownCA                    AlertDescription = 48
	AlertAccessDenied                 AlertDescription = 49
	AlertDecodeError                  AlertDescription = 50
	AlertDecryptError                 AlertDescription = 51
	AlertExportRestriction            AlertDescription = 60
	AlertProtocolVersion              AlertDescription = 70
	AlertInsufficientSecurity         AlertDescription = 71
	AlertInternalError                AlertDescription = 80
	AlertInappropriateFallback        AlertDescription = 86
	AlertUserCanceled                 AlertDescription = 90
	AlertNoRenegotiation              AlertDescription = 100
	AlertMissingExtension             AlertDescription = 109
	AlertUnsupportedExtension         AlertDescription = 110
	AlertCertificateUnobtainable      AlertDescription = 111
	AlertUnrecognizedName             AlertDescription = 112
	AlertBadCertificateStatusResponse AlertDescription = 113
	AlertBadCertificateHashValue      AlertDescription = 114
	AlertUnknownPSKIdentity           AlertDescription = 115
	AlertCertificateRequired          AlertDescription = 116
	AlertNoApplicationProtocol        AlertDescription = 120
	AlertECHRequired                  AlertDescription = 121
)

// alertNames holds the RFC name and Wireshark's title of each description.
var alertNames = map[AlertDescription][2]string{
	AlertCloseNotify:                  {"close_notify", "Close Notify"},
	AlertUnexpectedMessage:            {"unexpected_message", "Unexpected Message"},
	AlertBadRecordMAC:                 {"bad_record_mac", "Bad Record MAC"},
	AlertDecryptionFailed:             {"decryption_failed", "Decryption Failed"},
	AlertRecordOverflow:               {"record_overflow", "Record Overflow"},
	AlertDecompressionFailure:         {"decompression_failure", "Decompression Failure"},
	AlertHandshakeFailure:             {"handshake_failure", "Handshake Failure"},
	AlertNoCertificate:                {"no_certificate", "No Certificate"},
	AlertBadCertificate:               {"bad_certificate", "Bad Certificate"},
	AlertUnsupportedCertificate:       {"unsupported_certificate", "Unsupported Certificate"},
	AlertCertificateRevoked:           {"certificate_revoked", "Certificate Revoked"},
	AlertCertificateExpired:           {"certificate_expired", "Certificate Expired"},
	AlertCertificateUnknown:           {"certificate_unknown", "Certificate Unknown"},
	AlertIllegalParameter:             {"illegal_parameter", "Illegal Parameter"},
	AlertUnknownCA:                    {"unknown_ca", "Unknown CA"},
	AlertAccessDenied:                 {"access_denied", "Access Denied"},
	AlertDecodeError:                  {"decode_error", "Decode Error"},
	AlertDecryptError:                 {"decrypt_error", "Decrypt Error"},
	AlertExportRestriction:            {"export_restriction", "Export Restriction"},
	AlertProtocolVersion:              {"protocol_version", "Protocol Version"},
	AlertInsufficientSecurity:         {"insufficient_security", "Insufficient Security"},
	AlertInternalError:                {"internal_error", "Internal Error"},
	AlertInappropriateFallback:        {"inappropriate_fallback", "Inappropriate Fallback"},
	AlertUserCanceled:                 {"user_canceled", "User Canceled"},
	AlertNoRenegotiation:              {"no_renegotiation", "No Renegotiation"},
	AlertMissingExtension:             {"missing_extension", "Missing Extension"},
	AlertUnsupportedExtension:         {"unsupported_extension", "Unsupported Extension"},
	AlertCertificateUnobtainable:      {"certificate_unobtainable", "Certificate Unobtainable"},
	AlertUnrecognizedName:             {"unrecognized_name", "Unrecognized Name"},
	AlertBadCertificateStatusResponse: {"bad_certificate_status_response", "Bad Certificate Status Response"},
	AlertBadCertificateHashValue:      {"bad_certificate_hash_value", "Bad Certificate Hash Value"},
	AlertUnknownPSKIdentity:           {"unknown_psk_identity", "Unknown PSK Identity"},
	AlertCertificateRequired:          {"certificate_required", "Certificate Required"},
	// Wireshark really does spell this one with a lower-case "application".
	AlertNoApplicationProtocol: {"no_application_protocol", "No application Protocol"},
	AlertECHRequired:           {"ech_required", "ECH Required"},
}

func (d AlertDescription) String() string {
	if n, ok := alertNames[d]; ok {
		return n[0]
	}
	return "alert(" + strconv.Itoa(int(d)) + ")"
}

// Title returns the name Wireshark displays, e.g. "Certificate Expired".
func (d AlertDescription) Title() string {
	if n, ok := alertNames[d]; ok {
		return n[1]
	}
	return "Unknown (" + strconv.Itoa(int(d)) + ")"
}

// Alert is the two-byte body of an alert record.
type Alert struct {
	Level       AlertLevel
	Description AlertDescription
}

func (a Alert) String() string { return a.Level.String() + " " + a.Description.String() }

// CipherSuite is a TLS cipher suite code point.
type CipherSuite uint16

// Signalling cipher suite values: code points in the cipher suite list
// that name no cipher but say something about the client.
const (
	// TLS_EMPTY_RENEGOTIATION_INFO_SCSV: the client supports secure
	// renegotiation (RFC 5746, Section 3.3).
	SuiteEmptyRenegotiationInfoSCSV CipherSuite = 0x00ff
	// TLS_FALLBACK_SCSV: the client retries with a lower version than it
	// supports (RFC 7507, Section 2).
	SuiteFallbackSCSV CipherSuite = 0x5600
)

// IsSCSV reports whether c is a signalling cipher suite value.
func (c CipherSuite) IsSCSV() bool {
	return c == SuiteEmptyRenegotiationInfoSCSV || c == SuiteFallbackSCSV
}

// String returns the IANA name, "GREASE 0x…" for RFC 8701 values, or "0x%04X".
func (c CipherSuite) String() string {
	if n, ok := cipherSuiteName(c); ok {
		return n
	}
	if IsGREASE(uint16(c)) {
		return fmt.Sprintf("GREASE 0x%04x", uint16(c))
	}
	return fmt.Sprintf("0x%04X", uint16(c))
}

// KeyExchange is how a cipher suite agrees on keys, read from its IANA name.
type KeyExchange uint8

const (
	KeyExchangeUnknown  KeyExchange = iota
	KeyExchangeRSA                  // TLS_RSA_*, TLS_RSA_EXPORT_*: no ServerKeyExchange (except export)
	KeyExchangeDHE                  // TLS_DHE_*, TLS_DH_anon_*: ServerDHParams
	KeyExchangeECDHE                // TLS_ECDHE_*, TLS_ECDH_anon_*: ServerECDHParams
	KeyExchangeDH                   // static TLS_DH_DSS/RSA_*
	KeyExchangeECDH                 // static TLS_ECDH_ECDSA/RSA_*
	KeyExchangePSK                  // TLS_PSK_*, TLS_RSA_PSK_*
	KeyExchangeDHEPSK               // TLS_DHE_PSK_*
	KeyExchangeECDHEPSK             // TLS_ECDHE_PSK_*
	KeyExchangeTLS13                // TLS 1.3 suites: key exchange is in key_share
	KeyExchangeOther                // SRP, KRB5, ECCPWD, GOST, NULL
)

func (k KeyExchange) String() string {
	switch k {
	case KeyExchangeRSA:
		return "RSA"
	case KeyExchangeDHE:
		return "DHE"
	case KeyExchangeECDHE:
		return "ECDHE"
	case KeyExchangeDH:
		return "DH"
	case KeyExchangeECDH:
		return "ECDH"
	case KeyExchangePSK:
		return "PSK"
	case KeyExchangeDHEPSK:
		return "DHE_PSK"
	case KeyExchangeECDHEPSK:
		return "ECDHE_PSK"
	case KeyExchangeTLS13:
		return "TLS1.3"
	case KeyExchangeOther:
		return "other"
	}
	return "unknown"
}

// KeyExchange derives the key exchange from the suite's IANA name; suites
// without a name give KeyExchangeUnknown.
func (c CipherSuite) KeyExchange() KeyExchange {
	n, ok := cipherSuiteName(c)
	if !ok {
		return KeyExchangeUnknown
	}
	kx, _, with := strings.Cut(strings.TrimPrefix(n, "TLS_"), "_WITH_")
	if !with {
		// RFC 8446 Appendix B.4 names carry only AEAD and hash (TLS_AES_128_GCM_SHA256,
		// TLS_SM4_GCM_SM3, TLS_SHA256_SHA256, GOST MGM suites).
		if strings.HasPrefix(n, "TLS_GOSTR341112_256_WITH_") || n == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" || n == "TLS_FALLBACK_SCSV" {
			return KeyExchangeOther
		}
		return KeyExchangeTLS13
	}
	switch kx {
	case "RSA", "RSA_EXPORT", "RSA_EXPORT1024":
		return KeyExchangeRSA
	case "DHE_RSA", "DHE_DSS", "DHE_RSA_EXPORT", "DHE_DSS_EXPORT", "DH_anon", "DH_anon_EXPORT":
		return KeyExchangeDHE
	case "ECDHE_RSA", "ECDHE_ECDSA", "ECDH_anon":
		return KeyExchangeECDHE
	case "DH_RSA", "DH_DSS", "DH_RSA_EXPORT", "DH_DSS_EXPORT":
		return KeyExchangeDH
	case "ECDH_RSA", "ECDH_ECDSA":
		return KeyExchangeECDH
	case "PSK", "RSA_PSK":
		return KeyExchangePSK
	case "DHE_PSK", "PSK_DHE":
		return KeyExchangeDHEPSK
	case "ECDHE_PSK":
		return KeyExchangeECDHEPSK
	}
	return KeyExchangeOther
}

// anonymous reports whether the suite's server sends no certificate and no
// signature over its key exchange parameters.
func (c CipherSuite) anonymous() bool {
	n, _ := cipherSuiteName(c)
	return strings.Contains(n, "_anon_") || strings.Contains(n, "PSK")
}

// export reports a TLS_RSA_EXPORT suite, whose server may send a temporary RSA key.
func (c CipherSuite) export() bool {
	n, _ := cipherSuiteName(c)
	return strings.HasPrefix(n, "TLS_RSA_EXPORT")
}

// NamedGroup is a key exchange group (RFC 8446, Section 4.2.7; formerly "elliptic curves").
type NamedGroup uint16

const (
	GroupSecp256r1      NamedGroup = 23
	GroupSecp384r1      NamedGroup = 24
	GroupSecp521r1      NamedGroup = 25
	GroupX25519         NamedGroup = 29
	GroupX448           NamedGroup = 30
	GroupFFDHE2048      NamedGroup = 256
	GroupX25519MLKEM768 NamedGroup = 0x11EC
)

func (g NamedGroup) String() string {
	if n, ok := namedGroupName(g); ok {
		return n
	}
	if IsGREASE(uint16(g)) {
		return fmt.Sprintf("GREASE 0x%04x", uint16(g))
	}
	return fmt.Sprintf("0x%04X", uint16(g))
}

// SignatureScheme is a signature algorithm (RFC 8446, Section 4.2.3).
type SignatureScheme uint16

func (s SignatureScheme) String() string {
	if n, ok := signatureSchemeName(s); ok {
		return n
	}
	if IsGREASE(uint16(s)) {
		return fmt.Sprintf("GREASE 0x%04x", uint16(s))
	}
	return fmt.Sprintf("0x%04X", uint16(s))
}

// ExtensionType is a hello extension code point.
type ExtensionType uint16

// Extensions that this package decodes.
const (
	ExtServerName              ExtensionType = 0
	ExtStatusRequest           ExtensionType = 5
	ExtSupportedGroups         ExtensionType = 10
	ExtECPointFormats          ExtensionType = 11
	ExtSignatureAlgorithms     ExtensionType = 13
	ExtALPN                    ExtensionType = 16
	ExtSCT                     ExtensionType = 18
	ExtPadding                 ExtensionType = 21
	ExtEncryptThenMAC          ExtensionType = 22
	ExtExtendedMasterSecret    ExtensionType = 23
	ExtCompressCertificate     ExtensionType = 27
	ExtRecordSizeLimit         ExtensionType = 28
	ExtSessionTicket           ExtensionType = 35
	ExtPreSharedKey            ExtensionType = 41
	ExtEarlyData               ExtensionType = 42
	ExtSupportedVersions       ExtensionType = 43
	ExtCookie                  ExtensionType = 44
	ExtPSKModes                ExtensionType = 45
	ExtCertificateAuthorities  ExtensionType = 47
	ExtSignatureAlgorithmsCert ExtensionType = 50
	ExtKeyShare                ExtensionType = 51
	ExtECH                     ExtensionType = 0xfe0d
	ExtRenegotiationInfo       ExtensionType = 0xff01
)

func (e ExtensionType) String() string {
	if n, ok := extensionTypeName(e); ok {
		return n
	}
	if IsGREASE(uint16(e)) {
		return fmt.Sprintf("GREASE 0x%04x", uint16(e))
	}
	return fmt.Sprintf("0x%04X", uint16(e))
}
