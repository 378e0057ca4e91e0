package tlsparse

// DTLS record versions (RFC 6347, Section 4.1; RFC 9147, Section 5.3: a
// DTLS 1.3 plaintext record says 1.2).
const (
	versionDTLS10 = 0xfeff
	versionDTLS12 = 0xfefd
)

// dtlsRecordHeaderLen is the length of a DTLS record's header: type,
// version, epoch, 48-bit sequence number, length (RFC 6347, Section 4.1).
const dtlsRecordHeaderLen = 13

// dtlsHandshakeHeaderLen is the length of a DTLS handshake message's
// header: type, length, message_seq, fragment_offset, fragment_length
// (RFC 6347, Section 4.2.2).
const dtlsHandshakeHeaderLen = 12

// LooksDTLS reports what the UDP payload b begins with: record, a DTLS
// record with a plaintext header (a content type of TLS's, a DTLS 1.0 or
// 1.2 version, a length within b), and hello, such a record of epoch 0
// that carries the start of a ClientHello, HelloVerifyRequest or
// ServerHello, which only a DTLS handshake sends. hello implies record.
// Random bytes rarely pass: their first three bytes alone match once in
// 1.7 million datagrams.
func LooksDTLS(b []byte) (record, hello bool) {
	if len(b) < dtlsRecordHeaderLen {
		return false, false
	}
	typ := ContentType(b[0])
	version := uint16(b[1])<<8 | uint16(b[2])
	length := int(b[11])<<8 | int(b[12])
	if typ < ContentTypeChangeCipherSpec || typ > ContentTypeHeartbeat ||
		version != versionDTLS10 && version != versionDTLS12 ||
		length == 0 || length > len(b)-dtlsRecordHeaderLen {
		return false, false
	}
	epoch := uint16(b[3])<<8 | uint16(b[4])
	if typ != ContentTypeHandshake || epoch != 0 || length < dtlsHandshakeHeaderLen {
		return true, false
	}
	msg := b[dtlsRecordHeaderLen:]
	switch HandshakeType(msg[0]) {
	case HandshakeTypeClientHello, HandshakeTypeHelloVerifyRequest, HandshakeTypeServerHello:
	default:
		return true, false
	}
	total := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
	offset := int(msg[6])<<16 | int(msg[7])<<8 | int(msg[8])
	fragment := int(msg[9])<<16 | int(msg[10])<<8 | int(msg[11])
	return true, offset+fragment <= total && fragment <= length-dtlsHandshakeHeaderLen
}
