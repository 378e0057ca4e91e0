package tlsgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"hash/fnv"
	"io"
	"math/rand/v2"
)

// seededReader is a deterministic stream of random bytes for crypto/tls and
// key generation.
//
// Since Go 1.26 crypto ignores a caller's reader unless
// GODEBUG=cryptocustomrand=1, and with it calls randutil.MaybeReadByte,
// which reads one byte from the reader or not, at random, so that nobody
// relies on determinism. One-byte reads therefore return a constant and do
// not advance the stream; no key or nonce is a single byte.
type seededReader struct{ c *rand.ChaCha8 }

func newReader(seed uint64, label string) *seededReader {
	h := fnv.New64a()
	io.WriteString(h, label)
	var s [32]byte
	for i, v := range []uint64{seed, h.Sum64(), seed ^ 0x9e3779b97f4a7c15, h.Sum64() * 31} {
		for j := range 8 {
			s[i*8+j] = byte(v >> (8 * j))
		}
	}
	return &seededReader{c: rand.NewChaCha8(s)}
}

func (r *seededReader) Read(p []byte) (int, error) {
	if len(p) == 1 {
		p[0] = 0x5a
		return 1, nil
	}
	return r.c.Read(p)
}

// ErrNondeterministic means crypto ignored the seeded reader: the program
// lacks GODEBUG=cryptocustomrand=1 (a //go:debug line in package main or in
// a _test.go file).
var ErrNondeterministic = errors.New("tlsgen: crypto ignores custom random sources; build with //go:debug cryptocustomrand=1 (or set GODEBUG=cryptocustomrand=1)")

// checkDeterministic generates the same key twice from the same seed.
func checkDeterministic() error {
	k1, err1 := ecdsa.GenerateKey(elliptic.P256(), newReader(1, "check"))
	k2, err2 := ecdsa.GenerateKey(elliptic.P256(), newReader(1, "check"))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !k1.Equal(k2) {
		return ErrNondeterministic
	}
	return nil
}
