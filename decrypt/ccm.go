package decrypt

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// ccm is Counter with CBC-MAC (NIST SP 800-38C, RFC 3610) over a 128-bit
// block cipher. Go's standard library has no CCM, and TLS 1.3 defines two
// suites on it (RFC 8446 Appendix B.4: TLS_AES_128_CCM_SHA256 with a 16-byte
// tag and TLS_AES_128_CCM_8_SHA256 with an 8-byte tag, both with the 12-byte
// TLS nonce, so L = 3). It is kept general in nonce and tag size so it can be
// checked against the published vectors, which use other sizes.
//
// This is a decryption aid, not a hardened implementation: it makes no claim
// of constant time beyond the tag comparison.
type ccm struct {
	block     cipher.Block
	nonceSize int // 7..13 bytes; the length field takes the other 15-n
	tagSize   int // 4, 6, ..., 16 bytes
}

const ccmBlockSize = 16

var errCCMOpen = errors.New("ccm: message authentication failed")

// newCCM returns CCM over block with the given nonce and tag sizes.
func newCCM(block cipher.Block, nonceSize, tagSize int) (cipher.AEAD, error) {
	if block.BlockSize() != ccmBlockSize {
		return nil, fmt.Errorf("ccm: block size %d, want %d", block.BlockSize(), ccmBlockSize)
	}
	if nonceSize < 7 || nonceSize > 13 {
		return nil, fmt.Errorf("ccm: nonce size %d outside 7..13", nonceSize)
	}
	if tagSize < 4 || tagSize > 16 || tagSize%2 != 0 {
		return nil, fmt.Errorf("ccm: tag size %d is not one of 4, 6, ..., 16", tagSize)
	}
	return &ccm{block: block, nonceSize: nonceSize, tagSize: tagSize}, nil
}

func (c *ccm) NonceSize() int { return c.nonceSize }
func (c *ccm) Overhead() int  { return c.tagSize }

// lengthSize is q (RFC 3610 calls it L): the bytes that encode the message
// length in B_0 and the counter in each counter block.
func (c *ccm) lengthSize() int { return 15 - c.nonceSize }

// maxLength is the longest message q length bytes can describe, capped so
// the arithmetic stays in int on 32-bit platforms.
func (c *ccm) maxLength() uint64 {
	q := c.lengthSize()
	if q >= 4 {
		return 1<<31 - 1
	}
	return 1<<(8*q) - 1
}

// counterBlock returns Ctr_i: flags (q-1) || nonce || i in q bytes
// (SP 800-38C A.3).
func (c *ccm) counterBlock(nonce []byte, i uint64) [ccmBlockSize]byte {
	var b [ccmBlockSize]byte
	b[0] = byte(c.lengthSize() - 1)
	copy(b[1:], nonce)
	putUintN(b[1+c.nonceSize:], i)
	return b
}

// putUintN writes v big-endian into all of dst, dropping high bytes.
func putUintN(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte(v)
		v >>= 8
	}
}

// cbcMAC computes the unencrypted tag T over B_0, the encoded additional
// data and the plaintext (SP 800-38C A.2, 6.1 steps 1-4).
func (c *ccm) cbcMAC(nonce, plaintext, additionalData []byte) [ccmBlockSize]byte {
	var y [ccmBlockSize]byte
	// B_0: flags || nonce || Q.
	if len(additionalData) > 0 {
		y[0] = 1 << 6
	}
	y[0] |= byte((c.tagSize-2)/2) << 3
	y[0] |= byte(c.lengthSize() - 1)
	copy(y[1:], nonce)
	putUintN(y[1+c.nonceSize:], uint64(len(plaintext)))
	c.block.Encrypt(y[:], y[:])

	m := macState{c: c, y: &y}
	if len(additionalData) > 0 {
		// The length of the additional data is encoded in 2, 6 or 10
		// bytes (SP 800-38C A.2.2).
		var enc [10]byte
		a := uint64(len(additionalData))
		switch {
		case a < 1<<16-1<<8:
			binary.BigEndian.PutUint16(enc[:], uint16(a))
			m.write(enc[:2])
		case a <= 1<<32-1:
			enc[0], enc[1] = 0xff, 0xfe
			binary.BigEndian.PutUint32(enc[2:], uint32(a))
			m.write(enc[:6])
		default:
			enc[0], enc[1] = 0xff, 0xff
			binary.BigEndian.PutUint64(enc[2:], a)
			m.write(enc[:10])
		}
		m.write(additionalData)
		m.pad()
	}
	m.write(plaintext)
	m.pad()
	return y
}

// macState runs CBC-MAC over a byte stream that is zero-padded to the block
// size at the points where CCM formats its input.
type macState struct {
	c   *ccm
	y   *[ccmBlockSize]byte
	off int // bytes XORed into y since the last encryption
}

func (m *macState) write(p []byte) {
	for len(p) > 0 {
		n := subtle.XORBytes(m.y[m.off:], m.y[m.off:], p)
		m.off += n
		p = p[n:]
		if m.off == ccmBlockSize {
			m.c.block.Encrypt(m.y[:], m.y[:])
			m.off = 0
		}
	}
}

// pad ends the current segment: zero bytes leave y unchanged, so padding is
// just encrypting a partly filled block.
func (m *macState) pad() {
	if m.off != 0 {
		m.c.block.Encrypt(m.y[:], m.y[:])
		m.off = 0
	}
}

// ctr XORs src with the keystream S_1, S_2, ... into dst (SP 800-38C 6.1
// steps 5-7). dst and src may overlap exactly.
func (c *ccm) ctr(dst, src, nonce []byte) {
	var ks [ccmBlockSize]byte
	for i := uint64(1); len(src) > 0; i++ {
		ctr := c.counterBlock(nonce, i)
		c.block.Encrypt(ks[:], ctr[:])
		n := subtle.XORBytes(dst, src, ks[:])
		dst, src = dst[n:], src[n:]
	}
}

// tagMask returns S_0, the keystream block that encrypts the tag.
func (c *ccm) tagMask(nonce []byte) [ccmBlockSize]byte {
	s0 := c.counterBlock(nonce, 0)
	c.block.Encrypt(s0[:], s0[:])
	return s0
}

func (c *ccm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != c.nonceSize {
		panic("ccm: incorrect nonce length given to Seal")
	}
	if uint64(len(plaintext)) > c.maxLength() {
		panic("ccm: message too large for the nonce size")
	}
	t := c.cbcMAC(nonce, plaintext, additionalData)
	s0 := c.tagMask(nonce)
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagSize)
	c.ctr(out, plaintext, nonce)
	subtle.XORBytes(out[len(plaintext):], t[:c.tagSize], s0[:c.tagSize])
	return ret
}

func (c *ccm) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != c.nonceSize {
		return nil, fmt.Errorf("ccm: nonce is %d bytes, want %d", len(nonce), c.nonceSize)
	}
	if len(ciphertext) < c.tagSize {
		return nil, errCCMOpen
	}
	n := len(ciphertext) - c.tagSize
	if uint64(n) > c.maxLength() {
		return nil, errCCMOpen
	}
	var tag [ccmBlockSize]byte
	copy(tag[:], ciphertext[n:])
	s0 := c.tagMask(nonce)
	subtle.XORBytes(tag[:c.tagSize], tag[:c.tagSize], s0[:c.tagSize])

	ret, out := sliceForAppend(dst, n)
	c.ctr(out, ciphertext[:n], nonce)
	t := c.cbcMAC(nonce, out, additionalData)
	if subtle.ConstantTimeCompare(t[:c.tagSize], tag[:c.tagSize]) != 1 {
		clear(out)
		return nil, errCCMOpen
	}
	return ret, nil
}

// sliceForAppend extends in by n bytes, reallocating if needed, and returns
// the whole slice and the new tail.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	total := len(in) + n
	if cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	return head, head[len(in):]
}
