package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"math"

	"golang.org/x/crypto/chacha20poly1305"
)

// TLS 1.0 to 1.2 record protection (RFC 2246, 4346, 5246 Section 6): the
// key block is derived from the 48-byte master secret a key log gives
// under CLIENT_RANDOM, and each direction's records are opened in order.

// Protocol versions as they appear on the wire.
const (
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
	versionTLS12 = 0x0303
)

type cipherKind uint8

const (
	kindCBC    cipherKind = iota + 1
	kindGCM               // RFC 5288: 4-byte salt from the key block, 8-byte explicit nonce
	kindCCM               // RFC 6655: as GCM; tag 16 bytes
	kindCCM8              // RFC 6655: tag 8 bytes
	kindChaCha            // RFC 7905: 12-byte IV XOR the sequence number, no explicit nonce
)

// suite12 is what record protection needs to know about a TLS 1.0–1.2
// cipher suite.
type suite12 struct {
	id     uint16
	name   string
	kind   cipherKind
	keyLen int
	block  func(key []byte) (cipher.Block, error) // CBC only
	mac    func() hash.Hash                       // CBC only
	prf384 bool                                   // the TLS 1.2 PRF uses SHA-384 (suites named …_SHA384)
}

func newAESBlock(key []byte) (cipher.Block, error) { return aes.NewCipher(key) }

var suites12 = []suite12{
	// AES-GCM (RFC 5288, RFC 5289).
	{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", kindGCM, 16, nil, nil, false},
	{0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", kindGCM, 32, nil, nil, true},
	{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", kindGCM, 16, nil, nil, false},
	{0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", kindGCM, 32, nil, nil, true},
	{0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", kindGCM, 16, nil, nil, false},
	{0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", kindGCM, 32, nil, nil, true},
	{0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", kindGCM, 16, nil, nil, false},
	{0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", kindGCM, 32, nil, nil, true},
	{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", kindGCM, 16, nil, nil, false},
	{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", kindGCM, 32, nil, nil, true},
	{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", kindGCM, 16, nil, nil, false},
	{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", kindGCM, 32, nil, nil, true},
	// ChaCha20-Poly1305 (RFC 7905).
	{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, nil, nil, false},
	{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, nil, nil, false},
	{0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, nil, nil, false},
	{0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, nil, nil, false},
	{0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, nil, nil, false},
	{0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, nil, nil, false},
	// AES-CCM (RFC 6655, RFC 7251).
	{0xC09C, "TLS_RSA_WITH_AES_128_CCM", kindCCM, 16, nil, nil, false},
	{0xC09D, "TLS_RSA_WITH_AES_256_CCM", kindCCM, 32, nil, nil, false},
	{0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", kindCCM, 16, nil, nil, false},
	{0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", kindCCM, 32, nil, nil, false},
	{0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", kindCCM8, 16, nil, nil, false},
	{0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", kindCCM8, 32, nil, nil, false},
	{0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", kindCCM8, 16, nil, nil, false},
	{0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", kindCCM8, 32, nil, nil, false},
	{0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", kindCCM, 16, nil, nil, false},
	{0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", kindCCM, 32, nil, nil, false},
	{0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", kindCCM8, 16, nil, nil, false},
	{0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", kindCCM8, 32, nil, nil, false},
	// AES-CBC and 3DES-CBC with HMAC (RFC 5246 Appendix A.5, RFC 4492, RFC 5289).
	{0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", kindCBC, 16, newAESBlock, sha1.New, false},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", kindCBC, 32, newAESBlock, sha1.New, false},
	{0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", kindCBC, 16, newAESBlock, sha256.New, false},
	{0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", kindCBC, 32, newAESBlock, sha256.New, false},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", kindCBC, 16, newAESBlock, sha1.New, false},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", kindCBC, 32, newAESBlock, sha1.New, false},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", kindCBC, 16, newAESBlock, sha256.New, false},
	{0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", kindCBC, 32, newAESBlock, sha256.New, false},
	{0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", kindCBC, 16, newAESBlock, sha1.New, false},
	{0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", kindCBC, 32, newAESBlock, sha1.New, false},
	{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", kindCBC, 16, newAESBlock, sha1.New, false},
	{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", kindCBC, 32, newAESBlock, sha1.New, false},
	{0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", kindCBC, 16, newAESBlock, sha256.New, false},
	{0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", kindCBC, 32, newAESBlock, sha512.New384, true},
	{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", kindCBC, 16, newAESBlock, sha256.New, false},
	{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", kindCBC, 32, newAESBlock, sha512.New384, true},
	{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", kindCBC, 24, des.NewTripleDESCipher, sha1.New, false},
	{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", kindCBC, 24, des.NewTripleDESCipher, sha1.New, false},
	{0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", kindCBC, 24, des.NewTripleDESCipher, sha1.New, false},
}

func suite12ByID(id uint16) (*suite12, bool) {
	for i := range suites12 {
		if suites12[i].id == id {
			return &suites12[i], true
		}
	}
	return nil, false
}

// SupportedTLS12 reports whether records of the TLS 1.0–1.2 cipher suite
// id can be opened.
func SupportedTLS12(id uint16) bool {
	_, ok := suite12ByID(id)
	return ok
}

// ivLen is the implicit IV the key block holds for the suite: the GCM and
// CCM salt, ChaCha20's whole nonce, and for CBC the first IV of TLS 1.0
// (TLS 1.1 and later send an explicit IV per record).
func (s *suite12) ivLen() int {
	switch s.kind {
	case kindGCM, kindCCM, kindCCM8:
		return 4
	case kindChaCha:
		return 12
	}
	if s.keyLen == 24 {
		return des.BlockSize
	}
	return aes.BlockSize
}

func (s *suite12) macLen() int {
	if s.kind != kindCBC {
		return 0
	}
	return s.mac().Size()
}

// Params12 describes a TLS 1.0–1.2 connection as its hellos negotiated it.
type Params12 struct {
	Version        uint16 // the ServerHello's version: 0x0301, 0x0302 or 0x0303
	Suite          uint16 // the ServerHello's cipher suite
	MasterSecret   []byte // 48 bytes, from the key log's CLIENT_RANDOM line
	ClientRandom   []byte // 32 bytes
	ServerRandom   []byte // 32 bytes
	EncryptThenMAC bool   // both hellos carried encrypt_then_mac (RFC 7366); CBC suites only
}

// NewTLS12 returns the record openers of both directions of a TLS 1.0–1.2
// connection, for the records each side sends after its
// ChangeCipherSpec. An unknown suite wraps ErrUnsupportedSuite.
func NewTLS12(p Params12) (client, server *Decrypter12, err error) {
	s, ok := suite12ByID(p.Suite)
	if !ok {
		return nil, nil, fmt.Errorf("decrypt: suite 0x%04X: %w", p.Suite, ErrUnsupportedSuite)
	}
	if p.Version < versionTLS10 || p.Version > versionTLS12 {
		return nil, nil, fmt.Errorf("decrypt: %s: version 0x%04X is not TLS 1.0, 1.1 or 1.2", s.name, p.Version)
	}
	if len(p.MasterSecret) != 48 || len(p.ClientRandom) != 32 || len(p.ServerRandom) != 32 {
		return nil, nil, fmt.Errorf("decrypt: %s: master secret %d bytes and randoms %d and %d bytes, want 48, 32 and 32",
			s.name, len(p.MasterSecret), len(p.ClientRandom), len(p.ServerRandom))
	}
	macLen, ivLen := s.macLen(), s.ivLen()
	// RFC 5246 Section 6.3: key_block = PRF(master_secret, "key
	// expansion", server_random + client_random), cut in this order.
	seed := append(append([]byte(nil), p.ServerRandom...), p.ClientRandom...)
	kb := prf(p.Version, s.prf384, p.MasterSecret, "key expansion", seed, 2*(macLen+s.keyLen+ivLen))
	take := func(n int) []byte { b := kb[:n:n]; kb = kb[n:]; return b }
	cMAC, sMAC := take(macLen), take(macLen)
	cKey, sKey := take(s.keyLen), take(s.keyLen)
	cIV, sIV := take(ivLen), take(ivLen)
	if client, err = newDecrypter12(s, p, cKey, cMAC, cIV); err != nil {
		return nil, nil, err
	}
	if server, err = newDecrypter12(s, p, sKey, sMAC, sIV); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// A Decrypter12 opens the records of one direction of a TLS 1.0–1.2
// connection after its ChangeCipherSpec, in order. Like Decrypter, a
// failed Open leaves it as it was.
type Decrypter12 struct {
	suite   *suite12
	version uint16
	etm     bool
	aead    cipher.AEAD  // AEAD suites
	block   cipher.Block // CBC suites
	macKey  []byte
	iv      []byte // the salt or nonce (AEAD); the chained IV (TLS 1.0 CBC)
	seq     uint64
}

func newDecrypter12(s *suite12, p Params12, key, macKey, iv []byte) (*Decrypter12, error) {
	d := &Decrypter12{suite: s, version: p.Version, etm: p.EncryptThenMAC && s.kind == kindCBC,
		macKey: macKey, iv: append([]byte(nil), iv...)}
	var err error
	switch s.kind {
	case kindCBC:
		d.block, err = s.block(key)
	case kindGCM:
		d.aead, err = newAESGCM(key)
	case kindCCM, kindCCM8:
		tag := 16
		if s.kind == kindCCM8 {
			tag = 8
		}
		d.aead, err = newAESCCM(tag)(key)
	case kindChaCha:
		d.aead, err = chacha20poly1305.New(key)
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt: %s: %w", s.name, err)
	}
	return d, nil
}

// Suite returns the name of the cipher suite.
func (d *Decrypter12) Suite() string { return d.suite.name }

// Seq returns the sequence number of the next record Open will try.
func (d *Decrypter12) Seq() uint64 { return d.seq }

// Open decrypts one record. header is the 5-byte record header as
// received; body the record's payload. It returns the record's content
// type and its plaintext, in a newly allocated slice. A record that does
// not authenticate wraps ErrAuthFailed; the Decrypter12 is then unchanged.
func (d *Decrypter12) Open(header, body []byte) (contentType uint8, plaintext []byte, err error) {
	if len(header) != recordHeaderLen {
		return 0, nil, fmt.Errorf("decrypt: record header is %d bytes, want %d", len(header), recordHeaderLen)
	}
	if n := int(binary.BigEndian.Uint16(header[3:])); n != len(body) {
		return 0, nil, fmt.Errorf("decrypt: record header gives length %d but the body is %d bytes", n, len(body))
	}
	if d.seq == math.MaxUint64 {
		return 0, nil, fmt.Errorf("decrypt: %s: sequence number exhausted", d.suite.name)
	}
	if d.aead != nil {
		plaintext, err = d.openAEAD(header, body)
	} else {
		plaintext, err = d.openCBC(header, body)
	}
	if err != nil {
		return 0, nil, err
	}
	d.seq++
	return header[0], plaintext, nil
}

// additionalData is RFC 5246 Section 6.2.3.3's seq_num + type + version +
// length, also the start of the CBC MAC input (Section 6.2.3.1).
func (d *Decrypter12) additionalData(header []byte, n int) []byte {
	ad := make([]byte, 13)
	binary.BigEndian.PutUint64(ad, d.seq)
	copy(ad[8:11], header[:3])
	binary.BigEndian.PutUint16(ad[11:], uint16(n))
	return ad
}

func (d *Decrypter12) authFailed(n int) error {
	return fmt.Errorf("decrypt: %s record %d (%d bytes): %w", d.suite.name, d.seq, n, ErrAuthFailed)
}

func (d *Decrypter12) openAEAD(header, body []byte) ([]byte, error) {
	tag := d.aead.Overhead()
	nonce := make([]byte, 12)
	if d.suite.kind == kindChaCha {
		// RFC 7905 Section 2: the sequence number, left-padded, XOR the IV.
		binary.BigEndian.PutUint64(nonce[4:], d.seq)
		for i := range nonce {
			nonce[i] ^= d.iv[i]
		}
	} else {
		// RFC 5288 Section 3: salt || the record's 8-byte explicit nonce.
		if len(body) < 8+tag {
			return nil, fmt.Errorf("decrypt: %s record %d: body of %d bytes is shorter than its nonce and tag", d.suite.name, d.seq, len(body))
		}
		copy(nonce, d.iv[:4])
		copy(nonce[4:], body[:8])
		body = body[8:]
	}
	if len(body) < tag {
		return nil, fmt.Errorf("decrypt: %s record %d: body of %d bytes is shorter than the %d-byte tag", d.suite.name, d.seq, len(body), tag)
	}
	pt, err := d.aead.Open(nil, nonce, body, d.additionalData(header, len(body)-tag))
	if err != nil {
		return nil, d.authFailed(len(body))
	}
	return pt, nil
}

func (d *Decrypter12) openCBC(header, body []byte) ([]byte, error) {
	bs, macLen := d.block.BlockSize(), len(d.macKey)
	explicitIV := d.version >= versionTLS11
	ct, iv := body, d.iv
	var mac []byte
	if d.etm {
		// RFC 7366 Section 3: the MAC covers the IV and ciphertext and
		// follows them.
		if len(body) < macLen {
			return nil, fmt.Errorf("decrypt: %s record %d: body of %d bytes is shorter than its MAC", d.suite.name, d.seq, len(body))
		}
		ct, mac = body[:len(body)-macLen], body[len(body)-macLen:]
		h := hmac.New(d.suite.mac, d.macKey)
		h.Write(d.additionalData(header, len(ct)))
		h.Write(ct)
		if !hmac.Equal(h.Sum(nil), mac) {
			return nil, d.authFailed(len(body))
		}
	}
	if explicitIV {
		if len(ct) < bs {
			return nil, fmt.Errorf("decrypt: %s record %d: body of %d bytes has no IV", d.suite.name, d.seq, len(body))
		}
		iv, ct = ct[:bs], ct[bs:]
	}
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, fmt.Errorf("decrypt: %s record %d: %d bytes of ciphertext are not a whole number of %d-byte blocks",
			d.suite.name, d.seq, len(ct), bs)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(d.block, iv).CryptBlocks(pt, ct)
	// RFC 5246 Section 6.2.3.2: padding_length bytes of value
	// padding_length, then that byte itself.
	pad := int(pt[len(pt)-1])
	if pad+1 > len(pt) {
		return nil, d.authFailed(len(body))
	}
	good := 1
	for _, b := range pt[len(pt)-1-pad:] {
		good &= subtle.ConstantTimeByteEq(b, byte(pad))
	}
	pt = pt[:len(pt)-1-pad]
	if !d.etm {
		if len(pt) < macLen {
			return nil, d.authFailed(len(body))
		}
		pt, mac = pt[:len(pt)-macLen], pt[len(pt)-macLen:]
		h := hmac.New(d.suite.mac, d.macKey)
		h.Write(d.additionalData(header, len(pt)))
		h.Write(pt)
		if !hmac.Equal(h.Sum(nil), mac) || good != 1 {
			return nil, d.authFailed(len(body))
		}
	} else if good != 1 {
		return nil, d.authFailed(len(body))
	}
	if !explicitIV {
		// RFC 2246 Section 6.2.3.2: TLS 1.0 chains the IV across records.
		d.iv = append(d.iv[:0], ct[len(ct)-bs:]...)
	}
	return pt[:len(pt):len(pt)], nil
}

// prf is the TLS PRF of version (RFC 5246 Section 5 for TLS 1.2, with
// SHA-384 when sha384 is set; RFC 2246 Section 5 for TLS 1.0 and 1.1: the
// XOR of P_MD5 over the secret's first half and P_SHA1 over its second).
func prf(version uint16, sha384 bool, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	if version >= versionTLS12 {
		h := sha256.New
		if sha384 {
			h = sha512.New384
		}
		return pHash(h, secret, ls, n)
	}
	half := (len(secret) + 1) / 2
	out := pHash(md5.New, secret[:half], ls, n)
	sha := pHash(sha1.New, secret[len(secret)-half:], ls, n)
	for i := range out {
		out[i] ^= sha[i]
	}
	return out
}

// pHash is P_hash of RFC 5246 Section 5.
func pHash(h func() hash.Hash, secret, seed []byte, n int) []byte {
	out := make([]byte, 0, n)
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = append(out, mac.Sum(nil)...)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}
