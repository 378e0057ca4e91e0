package tlsparse

import (
	"bytes"
	"compress/zlib"
	"encoding/pem"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/cryptobyte"
)

// certificateBody is a TLS 1.3 Certificate message body carrying the
// lab's root and intermediate, as a server sends its chain.
func certificateBody(t *testing.T) ([]byte, [][]byte) {
	t.Helper()
	var ders [][]byte
	for _, f := range []string{"../testdata/certs/intermediate.pem", "../testdata/certs/ca.pem"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(data)
		if b == nil {
			t.Fatalf("%s: no PEM block", f)
		}
		ders = append(ders, b.Bytes)
	}
	var bb cryptobyte.Builder
	bb.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	bb.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, der := range ders {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(der) })
			b.AddUint16(0) // no extensions
		}
	})
	return bb.BytesOrPanic(), ders
}

func compressWith(t *testing.T, alg CertCompressionAlgorithm, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch alg {
	case CertCompressionZlib:
		w = zlib.NewWriter(&buf)
	case CertCompressionBrotli:
		w = brotli.NewWriter(&buf)
	case CertCompressionZstd:
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compressedMessage builds a CompressedCertificate body (RFC 8879,
// Section 4).
func compressedMessage(alg CertCompressionAlgorithm, length int, data []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint16(uint16(alg))
	b.AddUint24(uint32(length))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(data) })
	return b.BytesOrPanic()
}

// TestCompressedCertificate decompresses a chain with each algorithm of
// RFC 8879 and refuses what does not match the sender's length, an
// unknown algorithm and a length past MaxHandshakeSize.
func TestCompressedCertificate(t *testing.T) {
	body, ders := certificateBody(t)
	for _, alg := range []CertCompressionAlgorithm{CertCompressionZlib, CertCompressionBrotli, CertCompressionZstd} {
		t.Run(alg.String(), func(t *testing.T) {
			z := compressWith(t, alg, body)
			m, err := ParseHandshake(HandshakeTypeCompressedCert, compressedMessage(alg, len(body), z), VersionTLS13, 0)
			if err != nil {
				t.Fatal(err)
			}
			cc := m.(*CompressedCertificate)
			cert, err := cc.Certificate()
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.Certificates) != len(ders) || !bytes.Equal(cert.Certificates[0], ders[0]) || !bytes.Equal(cert.Certificates[1], ders[1]) {
				t.Errorf("%d certificates, want the chain of %d", len(cert.Certificates), len(ders))
			}
			for _, bad := range []struct {
				length int
				want   string
			}{
				{len(body) + 1, "shorter than its uncompressed_length"},
				{len(body) - 1, "longer than its uncompressed_length"},
				{MaxHandshakeSize + 1, "more than the"},
			} {
				cc, err := ParseCompressedCertificate(compressedMessage(alg, bad.length, z))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cc.Certificate(); err == nil || !strings.Contains(err.Error(), bad.want) {
					t.Errorf("uncompressed_length %d: error %v, want %q", bad.length, err, bad.want)
				}
			}
			corrupt := bytes.Clone(z)
			corrupt[len(corrupt)/2] ^= 0xff
			corrupt = corrupt[:len(corrupt)-4]
			cc, err = ParseCompressedCertificate(compressedMessage(alg, len(body), corrupt))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cc.Certificate(); err == nil {
				t.Error("corrupt data decompressed")
			}
		})
	}
	cc, err := ParseCompressedCertificate(compressedMessage(9, len(body), body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Certificate(); err == nil || !strings.Contains(err.Error(), "unknown algorithm 0x0009") {
		t.Errorf("algorithm 9: error %v, want an unknown algorithm", err)
	}
	if _, err := ParseCompressedCertificate(compressedMessage(CertCompressionZlib, 10, []byte("abc"))[:6]); err == nil {
		t.Error("a truncated message parsed")
	}
}
