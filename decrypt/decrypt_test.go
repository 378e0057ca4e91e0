package decrypt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// TestExpandLabelRFC8448 checks the traffic key and IV derivation against
// the simple 1-RTT handshake of RFC 8448 Section 3 (TLS_AES_128_GCM_SHA256).
func TestExpandLabelRFC8448(t *testing.T) {
	tests := []struct {
		name, secret, key, iv string
	}{
		{"server handshake",
			"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
			"3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
		{"client handshake",
			"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
			"dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},
		{"server application",
			"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
			"9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
	}
	s, _ := suiteByID(0x1301)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := unhex(t, tt.secret)
			key, err := expandLabel(s.hash, secret, "key", 16)
			if err != nil || !bytes.Equal(key, unhex(t, tt.key)) {
				t.Errorf("key = %x, %v; want %s", key, err, tt.key)
			}
			iv, err := expandLabel(s.hash, secret, "iv", 12)
			if err != nil || !bytes.Equal(iv, unhex(t, tt.iv)) {
				t.Errorf("iv = %x, %v; want %s", iv, err, tt.iv)
			}
			d, err := NewTLS13(0x1301, secret)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.iv[:], unhex(t, tt.iv)) {
				t.Errorf("Decrypter iv = %x, want %s", d.iv, tt.iv)
			}
		})
	}
}

// seal protects one TLSInnerPlaintext as the peer would with the
// Decrypter's key at sequence number seq, and returns header and body.
func seal(t testing.TB, d *Decrypter, seq uint64, content []byte, inner uint8, padding int) (header, body []byte) {
	t.Helper()
	pt := append(bytes.Clone(content), inner)
	pt = append(pt, make([]byte, padding)...)
	n := len(pt) + d.aead.Overhead()
	header = []byte{contentApplicationData, 3, 3, byte(n >> 8), byte(n)}
	var nonce [12]byte
	binary.BigEndian.PutUint64(nonce[4:], seq)
	for i := range nonce {
		nonce[i] ^= d.iv[i]
	}
	return header, d.aead.Seal(nil, nonce[:], pt, header)
}

func secretFor(id uint16) []byte {
	s, _ := suiteByID(id)
	return bytes.Repeat([]byte{0x5a}, s.hash().Size())
}

func TestOpenRoundTripAllSuites(t *testing.T) {
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			d, err := NewTLS13(s.id, secretFor(s.id))
			if err != nil {
				t.Fatal(err)
			}
			peer, _ := NewTLS13(s.id, secretFor(s.id))
			for i, tc := range []struct {
				content []byte
				inner   uint8
				padding int
			}{
				{[]byte("\x08\x00\x00\x02\x00\x00"), 22, 0},
				{[]byte("GET / HTTP/1.1\r\n\r\n"), 23, 17},
				{[]byte{2, 42}, 21, 1},
				{nil, 23, 5}, // an empty application data record, padded
			} {
				h, b := seal(t, peer, uint64(i), tc.content, tc.inner, tc.padding)
				inner, pt, err := d.Open(h, b)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if inner != tc.inner || !bytes.Equal(pt, tc.content) {
					t.Errorf("record %d: got type %d %q, want %d %q", i, inner, pt, tc.inner, tc.content)
				}
				if d.Seq() != uint64(i+1) {
					t.Errorf("record %d: Seq = %d, want %d", i, d.Seq(), i+1)
				}
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	d, err := NewTLS13(0x1301, secretFor(0x1301))
	if err != nil {
		t.Fatal(err)
	}
	h, b := seal(t, d, 0, []byte("hello"), 23, 0)
	_, b1 := seal(t, d, 1, []byte("hello"), 23, 0)
	flipped := bytes.Clone(b)
	flipped[3] ^= 0x10
	badVersion := bytes.Clone(h)
	badVersion[2] = 1
	tests := []struct {
		name         string
		header, body []byte
		want         string
		auth         bool // the error wraps ErrAuthFailed
	}{
		{"short header", h[:4], b, "header is 4 bytes", false},
		{"long header", append(bytes.Clone(h), 0), b, "header is 6 bytes", false},
		{"plaintext handshake", []byte{22, 3, 3, h[3], h[4]}, b, "outer content type 22", false},
		{"length mismatch", h, b[:len(b)-1], "gives length 22 but the body is 21", false},
		{"shorter than tag", []byte{23, 3, 3, 0, 15}, b[:15], "shorter than the 16-byte tag", false},
		{"flipped ciphertext", h, flipped, "record 0", true},
		// The header is the additional data: a changed version field
		// must not authenticate.
		{"changed header", badVersion, b, "record 0", true},
		{"wrong sequence number", h, b1, "record 0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := d.Open(tt.header, tt.body)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v, want it to mention %q", err, tt.want)
			}
			if errors.Is(err, ErrAuthFailed) != tt.auth {
				t.Errorf("errors.Is(%v, ErrAuthFailed) = %v, want %v", err, !tt.auth, tt.auth)
			}
			if d.Seq() != 0 {
				t.Errorf("a failed Open advanced Seq to %d", d.Seq())
			}
		})
	}
	// After all the failures the right record still opens at sequence 0.
	if _, pt, err := d.Open(h, b); err != nil || string(pt) != "hello" {
		t.Fatalf("Open after failures = %q, %v", pt, err)
	}
}

// TestOpenAllZeroPlaintext: a record that authenticates but carries no
// content type is an error, yet consumes its sequence number.
func TestOpenAllZeroPlaintext(t *testing.T) {
	d, err := NewTLS13(0x1303, secretFor(0x1303))
	if err != nil {
		t.Fatal(err)
	}
	h, b := seal(t, d, 0, nil, 0, 7)
	if _, _, err := d.Open(h, b); err == nil || !strings.Contains(err.Error(), "no content type") {
		t.Fatalf("Open = %v, want a no-content-type error", err)
	}
	if d.Seq() != 1 {
		t.Errorf("Seq = %d, want 1", d.Seq())
	}
}

func TestNewTLS13Rejects(t *testing.T) {
	tests := []struct {
		name   string
		suite  uint16
		secret []byte
		want   string
	}{
		{"TLS 1.2 suite", 0xc02f, make([]byte, 32), "0xC02F"},
		{"unassigned", 0x1306, make([]byte, 32), "0x1306"},
		{"SHA-384 secret for SHA-256 suite", 0x1301, make([]byte, 48), "48 bytes, want 32"},
		{"SHA-256 secret for SHA-384 suite", 0x1302, make([]byte, 32), "32 bytes, want 48"},
		{"empty secret", 0x1303, nil, "0 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTLS13(tt.suite, tt.secret)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewTLS13 error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := NewTLS13(0x1306, nil); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("unassigned suite: %v does not wrap ErrUnsupportedSuite", err)
	}
}
