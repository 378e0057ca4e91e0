package decrypt

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// seq returns the bytes from, from+1, ..., to (the pattern of the vectors).
func seq(from, to int) []byte {
	var b []byte
	for i := from; i <= to; i++ {
		b = append(b, byte(i))
	}
	return b
}

// TestCCMVectors checks CCM against the examples of NIST SP 800-38C
// Appendix C and the first packet vectors of RFC 3610 Section 8.
func TestCCMVectors(t *testing.T) {
	nistKey := "404142434445464748494a4b4c4d4e4f"
	rfcKey := "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	// SP 800-38C C.4: 2^16 bytes of additional data, the pattern 00..ff
	// repeated, exercising the 6-byte length encoding.
	var bigAD []byte
	for range 256 {
		bigAD = append(bigAD, seq(0, 255)...)
	}
	tests := []struct {
		name      string
		key       string
		nonce     string
		ad        []byte
		plaintext []byte
		tagSize   int
		sealed    string // ciphertext || tag
	}{
		{"SP800-38C C.1", nistKey, "10111213141516", seq(0, 7), seq(0x20, 0x23), 4,
			"7162015b4dac255d"},
		{"SP800-38C C.2", nistKey, "1011121314151617", seq(0, 15), seq(0x20, 0x2f), 6,
			"d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd"},
		// 12-byte nonce and 8-byte tag: the shape of TLS_AES_128_CCM_8_SHA256.
		{"SP800-38C C.3", nistKey, "101112131415161718191a1b", seq(0, 19), seq(0x20, 0x37), 8,
			"e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951"},
		{"SP800-38C C.4", nistKey, "101112131415161718191a1b1c", bigAD, seq(0x20, 0x3f), 14,
			"69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b"},
		{"RFC3610 packet 1", rfcKey, "00000003020100a0a1a2a3a4a5", seq(0, 7), seq(8, 0x1e), 8,
			"588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0"},
		{"RFC3610 packet 2", rfcKey, "00000004030201a0a1a2a3a4a5", seq(0, 7), seq(8, 0x1f), 8,
			"72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3ba091d56e10400916"},
		{"RFC3610 packet 3", rfcKey, "00000005040302a0a1a2a3a4a5", seq(0, 7), seq(8, 0x20), 8,
			"51b1e5f44a197d1da46b0f8e2d282ae871e838bb64da8596574adaa76fbd9fb0c5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block, err := aes.NewCipher(unhex(t, tt.key))
			if err != nil {
				t.Fatal(err)
			}
			nonce := unhex(t, tt.nonce)
			aead, err := newCCM(block, len(nonce), tt.tagSize)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, tt.sealed)
			if got := aead.Seal(nil, nonce, tt.plaintext, tt.ad); !bytes.Equal(got, want) {
				t.Errorf("Seal = %x, want %x", got, want)
			}
			got, err := aead.Open(nil, nonce, want, tt.ad)
			if err != nil || !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %x, %v; want %x", got, err, tt.plaintext)
			}
			// Any flipped bit, in ciphertext, tag or additional data,
			// must fail authentication.
			for _, i := range []int{0, len(want) - tt.tagSize, len(want) - 1} {
				bad := bytes.Clone(want)
				bad[i] ^= 0x01
				if _, err := aead.Open(nil, nonce, bad, tt.ad); err == nil {
					t.Errorf("Open accepted a record with byte %d flipped", i)
				}
			}
			badAD := bytes.Clone(tt.ad)
			badAD[len(badAD)-1] ^= 0x80
			if _, err := aead.Open(nil, nonce, want, badAD); err == nil {
				t.Error("Open accepted changed additional data")
			}
		})
	}
}

// TestCCMRoundTrip covers the lengths around block boundaries, with and
// without additional data, in place and appending, for both TLS tag sizes.
func TestCCMRoundTrip(t *testing.T) {
	block, err := aes.NewCipher(seq(1, 16))
	if err != nil {
		t.Fatal(err)
	}
	nonce := seq(0x60, 0x6b)
	for _, tagSize := range []int{8, 16} {
		aead, err := newCCM(block, 12, tagSize)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 50; n++ {
			for _, ad := range [][]byte{nil, seq(0, 4), seq(0, 16)} {
				pt := seq(0x80, 0x80+n-1)
				sealed := aead.Seal([]byte("prefix"), nonce, pt, ad)
				if !bytes.HasPrefix(sealed, []byte("prefix")) || len(sealed) != 6+n+tagSize {
					t.Fatalf("tag %d len %d: Seal returned %d bytes", tagSize, n, len(sealed))
				}
				ct := sealed[6:]
				// In place: dst aliases the ciphertext exactly.
				got, err := aead.Open(ct[:0], nonce, bytes.Clone(ct), ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("tag %d len %d ad %d: Open = %x, %v; want %x", tagSize, n, len(ad), got, err, pt)
				}
			}
		}
	}
}

func TestNewCCMRejectsBadSizes(t *testing.T) {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ nonce, tag int }{{6, 16}, {14, 16}, {12, 3}, {12, 5}, {12, 18}} {
		if _, err := newCCM(block, tt.nonce, tt.tag); err == nil {
			t.Errorf("newCCM(nonce %d, tag %d) succeeded", tt.nonce, tt.tag)
		}
	}
	aead, err := newCCM(block, 12, 16)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aead.Open(nil, make([]byte, 11), make([]byte, 32), nil); err == nil {
		t.Error("Open accepted an 11-byte nonce")
	}
	if _, err := aead.Open(nil, make([]byte, 12), make([]byte, 15), nil); err == nil {
		t.Error("Open accepted a ciphertext shorter than the tag")
	}
}
