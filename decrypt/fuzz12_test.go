package decrypt

import (
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"testing"
)

// seal12 protects plaintext as record seq of d's direction would be, the
// inverse of Open: the fuzz target's oracle. It knows the same RFC
// sections Open does, written the other way round.
func seal12(d *Decrypter12, typ uint8, version uint16, plaintext, explicit []byte, pad uint8) (header, body []byte) {
	ad := func(n int) []byte {
		b := make([]byte, 13)
		binary.BigEndian.PutUint64(b, d.seq)
		b[8] = typ
		binary.BigEndian.PutUint16(b[9:], version)
		binary.BigEndian.PutUint16(b[11:], uint16(n))
		return b
	}
	header = []byte{typ, byte(version >> 8), byte(version), 0, 0}
	if d.aead != nil {
		nonce := make([]byte, 12)
		if d.suite.kind == kindChaCha {
			binary.BigEndian.PutUint64(nonce[4:], d.seq)
			for i := range nonce {
				nonce[i] ^= d.iv[i]
			}
		} else {
			copy(nonce, d.iv[:4])
			copy(nonce[4:], explicit)
			body = append(body, nonce[4:]...)
		}
		body = d.aead.Seal(body, nonce, plaintext, ad(len(plaintext)))
	} else {
		bs := d.block.BlockSize()
		mac := func(b []byte) []byte {
			h := hmac.New(d.suite.mac, d.macKey)
			h.Write(ad(len(b)))
			h.Write(b)
			return h.Sum(nil)
		}
		pt := append([]byte(nil), plaintext...)
		if !d.etm {
			pt = append(pt, mac(plaintext)...)
		}
		n := int(pad) % 16 * bs / bs // whole blocks of padding beyond the minimum, kept small
		padLen := (bs - (len(pt)+1)%bs) % bs
		padLen += n * bs
		if padLen > 255 {
			padLen -= (padLen - 255 + bs - 1) / bs * bs
		}
		for range padLen + 1 {
			pt = append(pt, byte(padLen))
		}
		iv := d.iv
		if d.version >= versionTLS11 {
			iv = make([]byte, bs)
			copy(iv, explicit)
			body = append(body, iv...)
		}
		ct := make([]byte, len(pt))
		cipher.NewCBCEncrypter(d.block, iv).CryptBlocks(ct, pt)
		body = append(body, ct...)
		if d.etm {
			body = append(body, mac(body)...)
		}
	}
	binary.BigEndian.PutUint16(header[3:], uint16(len(body)))
	return header, body
}

// FuzzOpenTLS12 checks, for every TLS 1.0–1.2 suite, version and
// encrypt-then-MAC setting, that Open never panics on arbitrary bytes and
// then leaves the sequence number alone; that a record sealed from the
// fuzzer's content opens to exactly that content (TLS 1.0's chained IV
// included, over two records); and that the same record with one bit
// flipped does not open.
func FuzzOpenTLS12(f *testing.F) {
	for i := range suites12 {
		f.Add(uint8(i), uint8(2), true, []byte("master"), []byte{23, 3, 3, 0, 20}, make([]byte, 20), []byte("HTTP/1.1 200 OK\r\n"), uint8(0), uint16(3))
		f.Add(uint8(i), uint8(0), false, []byte{}, []byte{21, 3, 1, 0, 32}, make([]byte, 32), []byte{1, 0}, uint8(7), uint16(200))
	}
	f.Fuzz(func(t *testing.T, suiteIdx, version uint8, etm bool, seed, header, body, content []byte, pad uint8, flip uint16) {
		s := suites12[int(suiteIdx)%len(suites12)]
		v := versionTLS10 + uint16(version%3)
		p := Params12{Version: v, Suite: s.id, MasterSecret: make([]byte, 48), ClientRandom: make([]byte, 32), ServerRandom: make([]byte, 32), EncryptThenMAC: etm}
		copy(p.MasterSecret, seed)
		cl, sv, err := NewTLS12(p)
		if err != nil {
			t.Fatalf("NewTLS12(%s): %v", s.name, err)
		}
		if _, _, err := cl.Open(header, body); err == nil {
			t.Logf("arbitrary bytes opened (%s)", s.name) // possible only by chance
		} else if cl.Seq() != 0 {
			t.Fatalf("a failed Open moved the sequence number to %d", cl.Seq())
		}
		if len(content) > 1<<14 {
			content = content[:1<<14]
		}
		explicit := make([]byte, 16)
		copy(explicit, seed)
		for rec := range 2 {
			typ := uint8(23 - rec)
			h, b := seal12(sv, typ, v, content, explicit, pad)
			if len(b) > 1 {
				bad := append([]byte(nil), b...)
				bad[int(flip)%len(bad)] ^= 1 << (flip % 8)
				if _, _, err := sv.Open(h, bad); err == nil {
					t.Fatalf("%s: record %d opened with a bit flipped", s.name, rec)
				} else if sv.Seq() != uint64(rec) {
					t.Fatalf("a failed Open moved the sequence number to %d", sv.Seq())
				}
			}
			gotType, got, err := sv.Open(h, b)
			if err != nil {
				t.Fatalf("%s %04x etm=%v: record %d sealed from %d bytes did not open: %v", s.name, v, etm, rec, len(content), err)
			}
			if gotType != typ || string(got) != string(content) {
				t.Fatalf("%s: record %d opened to type %d %q, want %d %q", s.name, rec, gotType, got, typ, content)
			}
			if errors.Is(err, ErrAuthFailed) {
				t.Fatal("unreachable")
			}
		}
	})
}
