package decrypt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzDecrypter makes a Decrypter for one of the five suites from
// arbitrary bytes.
func fuzzDecrypter(t *testing.T, suiteIdx uint8, seed []byte) *Decrypter {
	s := suites[int(suiteIdx)%len(suites)]
	secret := make([]byte, s.hash().Size())
	copy(secret, seed)
	d, err := NewTLS13(s.id, secret)
	if err != nil {
		t.Fatalf("NewTLS13(%s): %v", s.name, err)
	}
	return d
}

// FuzzOpen checks that Open never panics on arbitrary header and body
// bytes, that a failed Open leaves the sequence number alone, and that a
// record sealed from the fuzzer's content opens to exactly that content,
// while the same record with one bit flipped does not open.
func FuzzOpen(f *testing.F) {
	for i := range suites {
		f.Add(uint8(i), []byte("secret"), []byte{23, 3, 3, 0, 20}, bytes.Repeat([]byte{1}, 20), uint8(23), uint8(0), uint64(0), uint16(0))
		f.Add(uint8(i), []byte{}, []byte{23, 3, 3, 0, 0}, []byte{}, uint8(22), uint8(3), uint64(7), uint16(9))
	}
	f.Add(uint8(0), []byte("x"), []byte{22, 3, 1, 0, 1}, []byte{0}, uint8(0), uint8(0), uint64(1<<63), uint16(1000))
	f.Add(uint8(2), []byte("x"), []byte{23, 3, 3}, []byte{}, uint8(21), uint8(255), uint64(1), uint16(1))
	f.Fuzz(func(t *testing.T, suiteIdx uint8, seed, header, body []byte, inner, padding uint8, seq uint64, flip uint16) {
		d := fuzzDecrypter(t, suiteIdx, seed)

		// Arbitrary bytes: no panic; random bytes essentially never
		// authenticate, and a failure must not move the sequence number.
		typ, pt, err := d.Open(header, body)
		if err == nil {
			if typ == 0 || len(pt) >= len(body) {
				t.Fatalf("Open of arbitrary bytes returned type %d and %d of %d bytes", typ, len(pt), len(body))
			}
		} else if d.Seq() != 0 {
			t.Fatalf("failed Open moved Seq to %d", d.Seq())
		}

		// A record sealed with the same keys at sequence number seq.
		d = fuzzDecrypter(t, suiteIdx, seed)
		d.seq = seq
		if inner == 0 || seq == ^uint64(0) {
			return // not a valid TLSInnerPlaintext / no number left
		}
		content := body
		if max := 1<<16 - 1 - 1 - int(padding) - d.aead.Overhead(); len(content) > max {
			content = content[:max]
		}
		pt = append(bytes.Clone(content), inner)
		pt = append(pt, make([]byte, padding)...)
		n := len(pt) + d.aead.Overhead()
		hdr := []byte{contentApplicationData, 3, 3, byte(n >> 8), byte(n)}
		var nonce [12]byte
		binary.BigEndian.PutUint64(nonce[4:], seq)
		for i := range nonce {
			nonce[i] ^= d.iv[i]
		}
		sealed := d.aead.Seal(nil, nonce[:], pt, hdr)

		bad := bytes.Clone(sealed)
		bad[int(flip)%len(bad)] ^= 1 << (flip % 8)
		if _, _, err := d.Open(hdr, bad); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("record with a flipped bit: Open = %v, want ErrAuthFailed", err)
		}
		typ, got, err := d.Open(hdr, sealed)
		if err != nil {
			t.Fatalf("Open of a sealed record: %v", err)
		}
		if typ != inner || !bytes.Equal(got, content) || d.Seq() != seq+1 {
			t.Fatalf("Open = type %d, %d bytes, Seq %d; want type %d, %d bytes, Seq %d",
				typ, len(got), d.Seq(), inner, len(content), seq+1)
		}
	})
}

// FuzzParseKeyLog checks that ParseKeyLog never panics, always returns a
// KeyLog, is deterministic, never holds more entries than lines, and that
// every line it accepts can be looked up.
func FuzzParseKeyLog(f *testing.F) {
	f.Add([]byte("# comment\n\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32 + "\r\n"))
	f.Add([]byte("CLIENT_RANDOM " + cr2 + " " + s48))
	f.Add([]byte("CLIENT_TRAFFIC_SECRET_0 " + cr1 + "\nRSA 0102 03\n\x00\xff"))
	f.Add([]byte("EXPORTER_SECRET " + cr1 + " " + s32 + "zz\n" + strings.Repeat("#", 2000)))
	b, err := os.ReadFile(filepath.Join(ssldumpDir, "keylog.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeyLog(bytes.NewReader(data))
		if k == nil {
			t.Fatal("nil KeyLog")
		}
		k2, err2 := ParseKeyLog(bytes.NewReader(data))
		if k.Len() != k2.Len() || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("not deterministic: %d, %v then %d, %v", k.Len(), err, k2.Len(), err2)
		}
		if lines := bytes.Count(data, []byte("\n")) + 1; k.Len() > lines {
			t.Fatalf("%d entries from %d lines", k.Len(), lines)
		}
		// Each well-formed line, taken on its own, must be found (lines
		// past the length bound are rejected by design).
		for _, line := range bytes.Split(data, []byte("\n")) {
			var one KeyLog
			if len(line) >= maxLineLen {
				continue
			}
			if err := one.addLine(line); err != nil || one.Len() == 0 {
				continue
			}
			for key := range one.entries {
				if _, ok := k.Lookup(key.clientRandom[:], labels[key.label]); !ok {
					t.Fatalf("line %q accepted alone but not found after parsing the whole input", line)
				}
			}
		}
	})
}
