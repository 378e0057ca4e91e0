package tlsparse

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/cryptobyte"
)

// CertCompressionAlgorithm is a certificate compression algorithm (RFC
// 8879, Section 7.3).
type CertCompressionAlgorithm uint16

const (
	CertCompressionZlib   CertCompressionAlgorithm = 1
	CertCompressionBrotli CertCompressionAlgorithm = 2
	CertCompressionZstd   CertCompressionAlgorithm = 3
)

func (a CertCompressionAlgorithm) String() string {
	switch a {
	case CertCompressionZlib:
		return "zlib"
	case CertCompressionBrotli:
		return "brotli"
	case CertCompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("0x%04x", uint16(a))
}

// CompressedCertificate is a CompressedCertificate message (RFC 8879,
// Section 4): a TLS 1.3 Certificate message compressed with Algorithm,
// which browsers ask for (brotli above all) and large sites send.
type CompressedCertificate struct {
	Algorithm          CertCompressionAlgorithm
	UncompressedLength int
	Compressed         []byte
}

func (*CompressedCertificate) Type() HandshakeType { return HandshakeTypeCompressedCert }

// ParseCompressedCertificate parses a CompressedCertificate message body.
// The message aliases body.
func ParseCompressedCertificate(body []byte) (*CompressedCertificate, error) {
	const msg = "compressed_certificate"
	s := cryptobyte.String(body)
	var alg uint16
	var n uint32
	var data cryptobyte.String
	if !s.ReadUint16(&alg) || !s.ReadUint24(&n) || !s.ReadUint24LengthPrefixed(&data) {
		return nil, truncated(msg, "compressed_certificate_message")
	}
	if !s.Empty() {
		return nil, invalid(msg, "compressed_certificate_message", fmt.Sprintf("%d bytes after the message", len(s)))
	}
	return &CompressedCertificate{Algorithm: CertCompressionAlgorithm(alg), UncompressedLength: int(n), Compressed: data}, nil
}

// Certificate decompresses the message and parses the Certificate message
// it holds. The uncompressed message is bounded by MaxHandshakeSize, as
// every other handshake message is, and must be as long as the sender
// said (RFC 8879, Section 4).
func (m *CompressedCertificate) Certificate() (*Certificate, error) {
	const msg = "compressed_certificate"
	if m.UncompressedLength > MaxHandshakeSize {
		return nil, invalid(msg, "uncompressed_length", fmt.Sprintf("%d bytes, more than the %d a handshake message may have here", m.UncompressedLength, MaxHandshakeSize))
	}
	var r io.Reader
	switch m.Algorithm {
	case CertCompressionZlib:
		zr, err := zlib.NewReader(bytes.NewReader(m.Compressed))
		if err != nil {
			return nil, invalid(msg, "compressed_certificate_message", "zlib: "+err.Error())
		}
		defer zr.Close()
		r = zr
	case CertCompressionBrotli:
		r = brotli.NewReader(bytes.NewReader(m.Compressed))
	case CertCompressionZstd:
		zr, err := zstd.NewReader(bytes.NewReader(m.Compressed), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxHandshakeSize+1))
		if err != nil {
			return nil, invalid(msg, "compressed_certificate_message", "zstd: "+err.Error())
		}
		defer zr.Close()
		r = zr
	default:
		return nil, invalid(msg, "algorithm", "unknown algorithm "+m.Algorithm.String())
	}
	body := make([]byte, m.UncompressedLength)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, invalid(msg, "compressed_certificate_message", fmt.Sprintf("%s: shorter than its uncompressed_length %d: %v", m.Algorithm, m.UncompressedLength, err))
	}
	var more [1]byte
	if n, _ := io.ReadFull(r, more[:]); n > 0 {
		return nil, invalid(msg, "compressed_certificate_message", fmt.Sprintf("%s: longer than its uncompressed_length %d", m.Algorithm, m.UncompressedLength))
	}
	return ParseCertificate(body, VersionTLS13)
}
