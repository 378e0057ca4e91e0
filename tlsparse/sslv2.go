package tlsparse

import (
	"bytes"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// ParseSSLv2ClientHello parses the body of an SSLv2-compatible ClientHello
// record (the Body of a KindSSLv2ClientHello item, starting with the message
// type byte 1), as described in RFC 5246, Appendix E.2. Cipher specs are 3
// bytes; those whose first byte is 0 are TLS cipher suites and go to
// CipherSuites, the others (SSLv2 ciphers) to SSLv2Ciphers. The challenge
// is returned as Random, unpadded.
func ParseSSLv2ClientHello(body []byte) (*ClientHello, error) {
	const msg = "sslv2 client hello"
	m := &ClientHello{Raw: bytes.Clone(body), SSLv2: true}
	s := cryptobyte.String(m.Raw)
	var typ uint8
	var vers, specLen, sidLen, chalLen uint16
	if !s.ReadUint8(&typ) {
		return nil, truncated(msg, "msg_type")
	}
	if typ != 1 {
		return nil, invalid(msg, "msg_type", fmt.Sprintf("%d is not CLIENT-HELLO", typ))
	}
	if !s.ReadUint16(&vers) {
		return nil, truncated(msg, "version")
	}
	m.Version = Version(vers)
	if !s.ReadUint16(&specLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chalLen) {
		return nil, truncated(msg, "lengths")
	}
	if specLen%3 != 0 {
		return nil, invalid(msg, "cipher_spec_length", fmt.Sprintf("%d is not a multiple of 3", specLen))
	}
	var specs, sid, chal cryptobyte.String
	if !s.ReadBytes((*[]byte)(&specs), int(specLen)) {
		return nil, truncated(msg, "cipher_specs")
	}
	if !s.ReadBytes((*[]byte)(&sid), int(sidLen)) {
		return nil, truncated(msg, "session_id")
	}
	if !s.ReadBytes((*[]byte)(&chal), int(chalLen)) {
		return nil, truncated(msg, "challenge")
	}
	if !s.Empty() {
		return nil, invalid(msg, "challenge", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	m.SessionID, m.Random = sid, chal
	m.CompressionMethods = []uint8{0}
	for i := 0; i < len(specs); i += 3 {
		if specs[i] == 0 {
			c := CipherSuite(uint16(specs[i+1])<<8 | uint16(specs[i+2]))
			m.CipherSuites = append(m.CipherSuites, c)
			if c == SuiteEmptyRenegotiationInfoSCSV {
				m.SecureRenegotiation = true
			}
		} else {
			m.SSLv2Ciphers = append(m.SSLv2Ciphers, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
		}
	}
	if len(chal) < 16 || len(chal) > 32 {
		m.Anomalies = append(m.Anomalies, AnomalySSLv2ChallengeLength)
	}
	return m, nil
}
