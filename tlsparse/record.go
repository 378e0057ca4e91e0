package tlsparse

import (
	"errors"
	"fmt"
)

// MaxRecordLength is the largest record body accepted: 2^14 bytes of
// plaintext plus 2048 bytes of expansion allowed for TLS ≤ 1.2 ciphertext
// (RFC 5246, Section 6.2.3). Anything longer is not a TLS record.
const MaxRecordLength = 16384 + 2048

// MaxHandshakeSize caps a handshake message the Decoder will reassemble.
// Real certificate chains stay well below it; crypto/tls uses 65536.
const MaxHandshakeSize = 1 << 17

// ErrOversized is wrapped by the error of a KindMalformed item for a
// handshake message longer than MaxHandshakeSize, which the Decoder skips
// without reading it.
var ErrOversized = errors.New("oversized handshake message")

// OversizedError is the error of a KindMalformed item for a handshake
// message longer than MaxHandshakeSize: the message's type, the stream
// offset of its header and the body length the header announces. It is
// ErrOversized for errors.Is.
type OversizedError struct {
	Type   HandshakeType
	At     int64
	Length int
}

func (e *OversizedError) Error() string {
	return fmt.Sprintf("tlsparse: %s at offset %d: %v: %d bytes exceed the %d-byte cap", e.Type, e.At, ErrOversized, e.Length, MaxHandshakeSize)
}

func (e *OversizedError) Unwrap() error { return ErrOversized }

// RecordHeader is the 5-byte header of a TLS record (RFC 8446, Section 5.1).
type RecordHeader struct {
	Type    ContentType
	Version Version
	Length  int // of the body, not counting the header
}

// ParseRecordHeader reads a record header from the first 5 bytes of b. It
// fails when b is shorter, when the content type is not one of 20–24, when the
// version's major byte is not 3, or when the length exceeds MaxRecordLength;
// the returned header is filled in as far as it was read.
func ParseRecordHeader(b []byte) (RecordHeader, error) {
	if len(b) < 5 {
		return RecordHeader{}, fmt.Errorf("tlsparse: record header: truncated: %d of 5 bytes", len(b))
	}
	h := RecordHeader{
		Type:    ContentType(b[0]),
		Version: Version(uint16(b[1])<<8 | uint16(b[2])),
		Length:  int(b[3])<<8 | int(b[4]),
	}
	switch {
	case h.Type < ContentTypeChangeCipherSpec || h.Type > ContentTypeHeartbeat:
		return h, fmt.Errorf("tlsparse: record header: content type %d is not a TLS content type", b[0])
	case b[1] != 3:
		return h, fmt.Errorf("tlsparse: record header: version 0x%04X is not SSL 3.0 or TLS", uint16(h.Version))
	case h.Length > MaxRecordLength:
		return h, fmt.Errorf("tlsparse: record header: length %d exceeds %d", h.Length, MaxRecordLength)
	}
	return h, nil
}

// plausibleHeader is the resynchronisation test: a known content type,
// version 3.0–3.4 and a non-zero length within the cap. Given fewer than 5
// bytes it tells whether they may begin such a header.
func plausibleHeader(b []byte) bool {
	switch {
	case len(b) > 0 && b[0]-20 > 4,
		len(b) > 1 && b[1] != 3,
		len(b) > 2 && b[2] > 4:
		return false
	case len(b) < 5:
		return true
	}
	n := int(b[3])<<8 | int(b[4])
	return n > 0 && n <= MaxRecordLength
}

// plausibleFirstHeader is plausibleHeader without heartbeat records: a
// stream that has shown no TLS yet (a capture that began mid-connection)
// is not read as heartbeats, which RPC protocols' framing (18 03 01 LL
// LL…) resembles, record after record.
func plausibleFirstHeader(b []byte) bool {
	return plausibleHeader(b) && (len(b) == 0 || b[0] != byte(ContentTypeHeartbeat))
}

// anchorWidth is how many bytes plausibleAnchor needs of a record that
// begins with b0, 0 when no record of its type can be one.
func anchorWidth(b0 byte) int {
	switch ContentType(b0) {
	case ContentTypeHandshake:
		return helloWidth
	case ContentTypeAlert, ContentTypeChangeCipherSpec:
		return alertWidth
	}
	return 0
}

// plausibleAnchor recognises the records whose first bytes confirm a
// resynchronisation by themselves: a hello or a plaintext alert
// (plausibleHello), or a change_cipher_spec record (14 03 0x 00 01 01).
func plausibleAnchor(b []byte) bool {
	if len(b) > 0 && b[0] == byte(ContentTypeChangeCipherSpec) {
		return len(b) >= alertWidth && plausibleHeader(b[:5]) && b[3] == 0 && b[4] == 1 && b[5] == 1
	}
	return plausibleHello(b)
}

// plausibleHello is the stricter test used after a plaintext prelude: a
// handshake record whose first message is a ClientHello or ServerHello
// shorter than 64 KiB, of a version 3.x (or a TLS 1.3 draft's 7f or fb)
// (16 03 0x LL LL 01|02 00 LL LL 03|7f|fb xx), or an alert record (15 03 0x
// 00 02, level 1 or 2): a server that refuses a ClientHello which came
// through a proxy's tunnel answers with one. The stream before it may be
// megabytes of an HTTP body, which hold a shorter match by chance. Like
// plausibleHeader it accepts valid prefixes.
func plausibleHello(b []byte) bool {
	if len(b) > 0 && b[0] == byte(ContentTypeAlert) {
		return plausibleAlert(b)
	}
	switch {
	case len(b) > 0 && b[0] != byte(ContentTypeHandshake), !plausibleHeader(b),
		len(b) >= 5 && int(b[3])<<8|int(b[4]) < 4,
		len(b) > 5 && b[5] != byte(HandshakeTypeClientHello) && b[5] != byte(HandshakeTypeServerHello),
		len(b) > 6 && b[6] != 0:
		return false
	}
	return len(b) < helloWidth || b[9] == 3 && b[10] <= 4 || b[9] == 0x7f || b[9] == facebookDraftMajor
}

// helloWidth and alertWidth are how many bytes plausibleHello looks at of
// a hello and of an alert.
const (
	helloWidth = 11
	alertWidth = 6
)

// plausibleAlert recognises a plaintext alert record (15 03 0x 00 02,
// level 1 or 2); like plausibleHeader it accepts valid prefixes.
func plausibleAlert(b []byte) bool {
	switch {
	case !plausibleHeader(b):
		return false
	case len(b) >= 5 && (b[3] != 0 || b[4] != 2):
		return false
	}
	return len(b) < 6 || b[5] == 1 || b[5] == 2
}

// sslv2ServerHello is the SSLv2 SERVER-HELLO message type
// (draft-hickman-netscape-ssl-00, Appendix A).
const sslv2ServerHello = 4

// plausibleSSLv2ServerHello recognises an SSLv2 SERVER-HELLO: a 2-byte
// header with the high bit set, message type 4, a session-id-hit flag of 0
// or 1 and a certificate type of 0 (none, on a session hit) or 1 (X.509).
func plausibleSSLv2ServerHello(b []byte) bool {
	if b[0]&0x80 == 0 || b[2] != sslv2ServerHello || b[3] > 1 || b[4] > 1 {
		return false
	}
	n := int(b[0]&0x7f)<<8 | int(b[1])
	return n >= 11
}

// plausibleSSLv2Hello recognises an SSLv2-compatible ClientHello
// (draft-hickman-netscape-ssl-00 and RFC 5246 Appendix E.2): a 2-byte
// header with the high bit set, message type 1 and version 0x0002 or 3.x.
func plausibleSSLv2Hello(b []byte) bool {
	if b[0]&0x80 == 0 || b[2] != 1 {
		return false
	}
	n := int(b[0]&0x7f)<<8 | int(b[1])
	return n >= 9 && ((b[3] == 0 && b[4] == 2) || (b[3] == 3 && b[4] <= 4))
}
