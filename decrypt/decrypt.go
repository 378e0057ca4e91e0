// Package decrypt opens TLS 1.3 records with secrets from an NSS key log
// (SSLKEYLOGFILE), so the encrypted handshake can be analysed.
//
// A TLS 1.3 connection has one traffic secret per direction and epoch. To
// read one direction of a connection, as Wireshark does with a key log:
//
//  1. Take the client random from the ClientHello and the cipher suite from
//     the ServerHello.
//  2. Look up SERVER_HANDSHAKE_TRAFFIC_SECRET (or CLIENT_… for the other
//     direction) and open every encrypted record with a Decrypter made from
//     it, until the decrypted handshake messages include that side's
//     Finished.
//  3. Then switch to a Decrypter made from SERVER_TRAFFIC_SECRET_0 (or
//     CLIENT_TRAFFIC_SECRET_0) for the rest of the connection.
//
// A failed Open does not advance the sequence number, so when the boundary
// is unknown (the Finished was lost, or the record is cut) a caller can try
// the handshake Decrypter first and the application one after it. An alert
// is opened by whichever secret its sender was using: a client rejecting
// the server's certificate sends it under its handshake secret, a server
// rejecting the client's certificate under its traffic secret 0.
//
// Limits: KeyUpdate (RFC 8446 Section 4.6.3) is out of scope: records after
// a KeyUpdate fail to open with ErrAuthFailed. 0-RTT records open with a
// Decrypter made from CLIENT_EARLY_TRAFFIC_SECRET, which a caller tries
// after the client handshake secret (a failed Open costs nothing). A lost record leaves the
// Decrypter one sequence number behind, and every later record fails. TLS
// 1.2 master secrets (CLIENT_RANDOM) are parsed and kept, but TLS 1.2
// records are not decrypted.
//
// The package does no file I/O and prints nothing.
package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/cryptobyte"
)

// ErrUnsupportedSuite is wrapped by NewTLS13 for a cipher suite it cannot
// decrypt.
var ErrUnsupportedSuite = errors.New("cipher suite not supported for decryption")

// ErrAuthFailed is wrapped by Open when the record does not authenticate:
// the secret belongs to another direction, epoch or connection, the
// sequence number is out of step (a record was lost or skipped), or the
// record was changed.
var ErrAuthFailed = errors.New("record authentication failed")

// RFC 8446 Section 5.1: an encrypted record is always sent with the outer
// type application_data.
const (
	recordHeaderLen        = 5
	contentApplicationData = 23
)

// A suite is what record protection needs to know about a TLS 1.3 cipher
// suite (RFC 8446 Appendix B.4).
type suite struct {
	id     uint16
	name   string
	hash   func() hash.Hash
	keyLen int
	aead   func(key []byte) (cipher.AEAD, error)
}

var suites = []suite{
	{0x1301, "TLS_AES_128_GCM_SHA256", sha256.New, 16, newAESGCM},
	{0x1302, "TLS_AES_256_GCM_SHA384", sha512.New384, 32, newAESGCM},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", sha256.New, chacha20poly1305.KeySize, chacha20poly1305.New},
	{0x1304, "TLS_AES_128_CCM_SHA256", sha256.New, 16, newAESCCM(16)},
	{0x1305, "TLS_AES_128_CCM_8_SHA256", sha256.New, 16, newAESCCM(8)},
}

func suiteByID(id uint16) (*suite, bool) {
	for i := range suites {
		if suites[i].id == id {
			return &suites[i], true
		}
	}
	return nil, false
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newAESCCM(tagSize int) func(key []byte) (cipher.AEAD, error) {
	return func(key []byte) (cipher.AEAD, error) {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return newCCM(block, 12, tagSize)
	}
}

// A Decrypter opens the records of one direction of a TLS 1.3 connection in
// one epoch (handshake or application data), in order. It is not safe for
// concurrent use: record order is its state.
type Decrypter struct {
	suite *suite
	aead  cipher.AEAD
	iv    [12]byte // RFC 8446 Section 5.3: iv_length is 12 for every suite
	seq   uint64
}

// NewTLS13 returns a Decrypter for records protected with trafficSecret
// under the TLS 1.3 cipher suite suiteID (its IANA value, e.g. 0x1301). The
// secret must have the length of the suite's hash: 32 bytes for SHA-256
// suites, 48 for TLS_AES_256_GCM_SHA384. Supported: 0x1301 to 0x1305; any
// other value wraps ErrUnsupportedSuite.
func NewTLS13(suiteID uint16, trafficSecret []byte) (*Decrypter, error) {
	s, ok := suiteByID(suiteID)
	if !ok {
		return nil, fmt.Errorf("decrypt: suite 0x%04X: %w", suiteID, ErrUnsupportedSuite)
	}
	if n := s.hash().Size(); len(trafficSecret) != n {
		return nil, fmt.Errorf("decrypt: %s: traffic secret is %d bytes, want %d (the secret is for a suite with another hash)",
			s.name, len(trafficSecret), n)
	}
	// RFC 8446 Section 7.3.
	key, err := expandLabel(s.hash, trafficSecret, "key", s.keyLen)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %s: deriving key: %w", s.name, err)
	}
	iv, err := expandLabel(s.hash, trafficSecret, "iv", 12)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %s: deriving iv: %w", s.name, err)
	}
	aead, err := s.aead(key)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %s: %w", s.name, err)
	}
	d := &Decrypter{suite: s, aead: aead}
	copy(d.iv[:], iv)
	return d, nil
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 Section
// 7.1): the info is the HkdfLabel structure, uint16 length || "tls13 " +
// label || context, the last two with one-byte length prefixes.
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16(uint16(length))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddBytes([]byte("tls13 "))
		b.AddBytes([]byte(label))
	})
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	info, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return hkdf.Expand(h, secret, string(info), length)
}

// Seq returns the sequence number of the next record Open will try: the
// number of records opened so far.
func (d *Decrypter) Seq() uint64 { return d.seq }

// Skip advances the sequence number past n records that were not opened:
// a client's 0-RTT records sent before the ServerHello named the cipher
// suite, so that the EndOfEarlyData after them opens.
func (d *Decrypter) Skip(n uint64) { d.seq += n }

// Open decrypts one record (RFC 8446 Sections 5.2 and 5.3). header is the
// 5-byte record header exactly as received, which is also the additional
// data; ciphertext is the record body. It returns the real content type
// (the last non-zero byte of the decrypted TLSInnerPlaintext) and the
// content before it, padding removed, in a newly allocated slice.
//
// The per-record nonce is the IV XORed with the sequence number. The
// sequence number advances only when the record authenticates: a failed
// Open leaves the Decrypter as it was, so the caller can try the same record
// with another Decrypter. A record that authenticates but holds no content
// type (all zeros, forbidden by Section 5.4) still advances it, because the
// sender used that number, and is reported as an error.
//
// Open does not check the record size limit (2^14 + 256 bytes): a record
// over the limit is a finding for the caller, not a reason to stay blind.
func (d *Decrypter) Open(header, ciphertext []byte) (inner uint8, plaintext []byte, err error) {
	if len(header) != recordHeaderLen {
		return 0, nil, fmt.Errorf("decrypt: record header is %d bytes, want %d", len(header), recordHeaderLen)
	}
	if header[0] != contentApplicationData {
		return 0, nil, fmt.Errorf("decrypt: outer content type %d is not application_data(23): the record is not encrypted",
			header[0])
	}
	if n := int(binary.BigEndian.Uint16(header[3:])); n != len(ciphertext) {
		return 0, nil, fmt.Errorf("decrypt: record header gives length %d but the body is %d bytes", n, len(ciphertext))
	}
	if len(ciphertext) < d.aead.Overhead() {
		return 0, nil, fmt.Errorf("decrypt: %s record %d: body of %d bytes is shorter than the %d-byte tag",
			d.suite.name, d.seq, len(ciphertext), d.aead.Overhead())
	}
	if d.seq == math.MaxUint64 {
		// RFC 8446 Section 5.3: sequence numbers must not wrap.
		return 0, nil, fmt.Errorf("decrypt: %s: sequence number exhausted", d.suite.name)
	}
	var nonce [12]byte
	binary.BigEndian.PutUint64(nonce[4:], d.seq)
	for i := range nonce {
		nonce[i] ^= d.iv[i]
	}
	pt, err := d.aead.Open(nil, nonce[:], ciphertext, header)
	if err != nil {
		return 0, nil, fmt.Errorf("decrypt: %s record %d (%d bytes): %w", d.suite.name, d.seq, len(ciphertext), ErrAuthFailed)
	}
	d.seq++
	// RFC 8446 Section 5.4: strip the zero padding; the last non-zero byte
	// is the content type.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, fmt.Errorf("decrypt: %s record %d: decrypted %d bytes hold no content type (all zero)",
			d.suite.name, d.seq-1, len(pt))
	}
	return pt[i], pt[:i:i], nil
}
