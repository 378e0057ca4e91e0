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

// SSLv2ServerHello is an SSLv2 SERVER-HELLO (draft-hickman-netscape-ssl-00,
// "Server Only Protocol Messages"): the answer of a server that speaks
// SSL 2.0 only. RFC 6176 prohibits SSL 2.0.
type SSLv2ServerHello struct {
	Raw []byte
	// SessionIDHit is set when the server resumes the session the client
	// named; it then sends no certificate.
	SessionIDHit    bool
	CertificateType uint8 // 1: X.509
	Version         Version
	// Certificate is the server's certificate (DER), or empty.
	Certificate []byte
	// CipherSpecs are the 3-byte cipher kinds the server supports; the
	// client picks one in its CLIENT-MASTER-KEY.
	CipherSpecs  []SSLv2Cipher
	ConnectionID []byte
}

// SSLv2Cipher is an SSLv2 cipher kind (3 bytes on the wire).
type SSLv2Cipher uint32

// sslv2CipherNames are the cipher kinds of draft-hickman-netscape-ssl-00,
// Appendix C, with the names Wireshark gives them.
var sslv2CipherNames = map[SSLv2Cipher]string{
	0x010080: "SSL2_RC4_128_WITH_MD5",
	0x020080: "SSL2_RC4_128_EXPORT40_WITH_MD5",
	0x030080: "SSL2_RC2_128_CBC_WITH_MD5",
	0x040080: "SSL2_RC2_128_CBC_EXPORT40_WITH_MD5",
	0x050080: "SSL2_IDEA_128_CBC_WITH_MD5",
	0x060040: "SSL2_DES_64_CBC_WITH_MD5",
	0x0700c0: "SSL2_DES_192_EDE3_CBC_WITH_MD5",
}

func (c SSLv2Cipher) String() string {
	if n, ok := sslv2CipherNames[c]; ok {
		return n
	}
	return fmt.Sprintf("SSL2_CIPHER_0x%06x", uint32(c))
}

// ParseSSLv2ServerHello parses the body of an SSLv2 SERVER-HELLO record
// (the Body of a KindSSLv2ServerHello item, from the message type byte 4).
func ParseSSLv2ServerHello(body []byte) (*SSLv2ServerHello, error) {
	const msg = "sslv2 server hello"
	m := &SSLv2ServerHello{Raw: bytes.Clone(body)}
	s := cryptobyte.String(m.Raw)
	var typ, hit uint8
	var vers, certLen, specLen, connLen uint16
	if !s.ReadUint8(&typ) {
		return nil, truncated(msg, "msg_type")
	}
	if typ != sslv2ServerHello {
		return nil, invalid(msg, "msg_type", fmt.Sprintf("%d is not SERVER-HELLO", typ))
	}
	if !s.ReadUint8(&hit) || !s.ReadUint8(&m.CertificateType) {
		return nil, truncated(msg, "session_id_hit")
	}
	m.SessionIDHit = hit != 0
	if !s.ReadUint16(&vers) {
		return nil, truncated(msg, "version")
	}
	m.Version = Version(vers)
	if !s.ReadUint16(&certLen) || !s.ReadUint16(&specLen) || !s.ReadUint16(&connLen) {
		return nil, truncated(msg, "lengths")
	}
	if specLen%3 != 0 {
		return nil, invalid(msg, "cipher_specs_length", fmt.Sprintf("%d is not a multiple of 3", specLen))
	}
	var specs []byte
	if !s.ReadBytes(&m.Certificate, int(certLen)) {
		return nil, truncated(msg, "certificate")
	}
	if !s.ReadBytes(&specs, int(specLen)) {
		return nil, truncated(msg, "cipher_specs")
	}
	if !s.ReadBytes(&m.ConnectionID, int(connLen)) {
		return nil, truncated(msg, "connection_id")
	}
	if !s.Empty() {
		return nil, invalid(msg, "connection_id", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	for i := 0; i < len(specs); i += 3 {
		m.CipherSpecs = append(m.CipherSpecs, SSLv2Cipher(uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2])))
	}
	return m, nil
}

// SSLv2ClientMasterKeyCipher returns the cipher kind a CLIENT-MASTER-KEY
// message (type 2) chose, from at least the first 4 bytes of its body.
func SSLv2ClientMasterKeyCipher(body []byte) (SSLv2Cipher, bool) {
	const clientMasterKey = 2
	if len(body) < 4 || body[0] != clientMasterKey {
		return 0, false
	}
	return SSLv2Cipher(uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])), true
}
