package quic

import (
	"strconv"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// transportErrors are RFC 9000, Section 20.1, with RFC 9368's.
var transportErrors = [...]string{
	0x00: "NO_ERROR",
	0x01: "INTERNAL_ERROR",
	0x02: "CONNECTION_REFUSED",
	0x03: "FLOW_CONTROL_ERROR",
	0x04: "STREAM_LIMIT_ERROR",
	0x05: "STREAM_STATE_ERROR",
	0x06: "FINAL_SIZE_ERROR",
	0x07: "FRAME_ENCODING_ERROR",
	0x08: "TRANSPORT_PARAMETER_ERROR",
	0x09: "CONNECTION_ID_LIMIT_ERROR",
	0x0a: "PROTOCOL_VIOLATION",
	0x0b: "INVALID_TOKEN",
	0x0c: "APPLICATION_ERROR",
	0x0d: "CRYPTO_BUFFER_EXCEEDED",
	0x0e: "KEY_UPDATE_ERROR",
	0x0f: "AEAD_LIMIT_REACHED",
	0x10: "NO_VIABLE_PATH",
	0x11: "VERSION_NEGOTIATION_ERROR",
}

// CryptoAlert returns the TLS alert a transport error code carries: the
// range 0x100-0x1ff is a CRYPTO_ERROR, the alert's description plus 0x100
// (RFC 9001, Section 4.8).
func CryptoAlert(code uint64) (tlsparse.AlertDescription, bool) {
	if code < 0x100 || code > 0x1ff {
		return 0, false
	}
	return tlsparse.AlertDescription(code - 0x100), true
}

// ErrorName names a CONNECTION_CLOSE's error code: a transport error by
// its RFC name, a crypto error by the TLS alert it carries
// ("CRYPTO_ERROR(no_application_protocol)"), an application's as a number
// (HTTP/3's codes are the application's business).
func (c Close) ErrorName() string {
	if c.Application {
		return "application(0x" + strconv.FormatUint(c.ErrorCode, 16) + ")"
	}
	if c.ErrorCode < uint64(len(transportErrors)) && transportErrors[c.ErrorCode] != "" {
		return transportErrors[c.ErrorCode]
	}
	if a, ok := CryptoAlert(c.ErrorCode); ok {
		return "CRYPTO_ERROR(" + a.String() + ")"
	}
	return "0x" + strconv.FormatUint(c.ErrorCode, 16)
}
