package quic

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

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// Keys protect the packets of one direction at one encryption level: the
// AEAD with its IV, and the header protection.
type Keys struct {
	aead cipher.AEAD
	iv   []byte
	hp   headerProtector
}

type headerProtector interface {
	// mask returns the 5-byte mask of RFC 9001, Section 5.4.1.
	mask(sample []byte) [5]byte
}

type aesHP struct{ b cipher.Block }

func (h aesHP) mask(sample []byte) (m [5]byte) {
	var out [16]byte
	h.b.Encrypt(out[:], sample[:16])
	copy(m[:], out[:5])
	return m
}

type chachaHP struct{ key []byte }

// mask follows RFC 9001, Section 5.4.4: the sample is the block counter
// (little endian) and the nonce.
func (h chachaHP) mask(sample []byte) (m [5]byte) {
	c, err := chacha20.NewUnauthenticatedCipher(h.key, sample[4:16])
	if err != nil {
		return m
	}
	c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
	c.XORKeyStream(m[:], m[:])
	return m
}

// Suite is the TLS 1.3 cipher suite that protects Handshake and 1-RTT
// packets (Initial packets always use AES-128-GCM with SHA-256).
type Suite uint16

const (
	SuiteAES128GCM        Suite = 0x1301
	SuiteAES256GCM        Suite = 0x1302
	SuiteChaCha20Poly1305 Suite = 0x1303
)

func (s Suite) hash() func() hash.Hash {
	if s == SuiteAES256GCM {
		return sha512.New384
	}
	return sha256.New
}

func (s Suite) keyLen() int {
	if s == SuiteAES128GCM {
		return 16
	}
	return 32
}

// hkdfExpandLabel is TLS 1.3's HKDF-Expand-Label (RFC 8446, Section 7.1)
// with an empty context, as QUIC uses it.
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		// Only for n beyond 255 hash lengths, which no caller asks.
		panic("quic: " + err.Error())
	}
	return out
}

// InitialSecrets derives the client's and the server's Initial secrets
// from the Destination Connection ID of the client's first Initial
// (RFC 9001, Section 5.2).
func InitialSecrets(v Version, dcid []byte) (client, server []byte, err error) {
	p := params(v)
	if p == nil {
		return nil, nil, fmt.Errorf("quic: no Initial keys for version %s", v)
	}
	initial, err := hkdf.Extract(sha256.New, dcid, p.salt)
	if err != nil {
		return nil, nil, fmt.Errorf("quic: initial secret: %w", err)
	}
	client = hkdfExpandLabel(sha256.New, initial, "client in", 32)
	server = hkdfExpandLabel(sha256.New, initial, "server in", 32)
	return client, server, nil
}

// InitialKeys returns the Initial packet keys of the client and the server.
func InitialKeys(v Version, dcid []byte) (client, server *Keys, err error) {
	cs, ss, err := InitialSecrets(v, dcid)
	if err != nil {
		return nil, nil, err
	}
	if client, err = NewKeys(v, SuiteAES128GCM, cs); err != nil {
		return nil, nil, err
	}
	if server, err = NewKeys(v, SuiteAES128GCM, ss); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// errSuite is returned for a cipher suite QUIC cannot use.
var errSuite = errors.New("cipher suite not usable with QUIC")

// NewKeys derives the packet protection keys from a traffic secret
// (RFC 9001, Section 5.1; RFC 9369, Section 3.3.2 for v2's labels).
func NewKeys(v Version, s Suite, secret []byte) (*Keys, error) {
	p := params(v)
	if p == nil {
		return nil, fmt.Errorf("quic: no packet protection for version %s", v)
	}
	h := s.hash()
	key := hkdfExpandLabel(h, secret, p.keyLabel, s.keyLen())
	iv := hkdfExpandLabel(h, secret, p.ivLabel, 12)
	hpKey := hkdfExpandLabel(h, secret, p.hpLabel, s.keyLen())
	k := &Keys{iv: iv}
	switch s {
	case SuiteAES128GCM, SuiteAES256GCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("quic: packet key: %w", err)
		}
		if k.aead, err = cipher.NewGCM(b); err != nil {
			return nil, fmt.Errorf("quic: packet key: %w", err)
		}
		hb, err := aes.NewCipher(hpKey)
		if err != nil {
			return nil, fmt.Errorf("quic: header protection key: %w", err)
		}
		k.hp = aesHP{hb}
	case SuiteChaCha20Poly1305:
		a, err := chacha20poly1305.New(key)
		if err != nil {
			return nil, fmt.Errorf("quic: packet key: %w", err)
		}
		k.aead, k.hp = a, chachaHP{hpKey}
	default:
		return nil, fmt.Errorf("quic: suite 0x%04x: %w", uint16(s), errSuite)
	}
	return k, nil
}

// open decrypts payload in place with packet number pn and the header as
// additional data (RFC 9001, Section 5.3).
func (k *Keys) open(header, payload []byte, pn uint64) ([]byte, error) {
	var nonce [12]byte
	copy(nonce[:], k.iv)
	for i := range 8 {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	return k.aead.Open(payload[:0], nonce[:], payload, header)
}

// RetryTagValid checks a Retry packet's integrity tag (RFC 9001, Section
// 5.8): the tag is AES-128-GCM over the Original Destination Connection
// ID and the packet, with a key and nonce fixed by the version.
func RetryTagValid(v Version, odcid, packet []byte) bool {
	p := params(v)
	if p == nil || len(packet) < 16 || len(odcid) > 255 {
		return false
	}
	b, err := aes.NewCipher(p.retryKey)
	if err != nil {
		return false
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return false
	}
	body, tag := packet[:len(packet)-16], packet[len(packet)-16:]
	pseudo := make([]byte, 0, 1+len(odcid)+len(body))
	pseudo = append(pseudo, byte(len(odcid)))
	pseudo = append(pseudo, odcid...)
	pseudo = append(pseudo, body...)
	_, err = g.Open(nil, p.retryNonce, tag, pseudo)
	return err == nil
}
