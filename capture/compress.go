package capture

import (
	"bytes"
	"compress/gzip"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Magic numbers of the compressed formats read, as Wireshark reads them.
var (
	magicGzip = []byte{0x1f, 0x8b}             // RFC 1952
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd} // RFC 8878, Section 3.1.1
	magicLZ4  = []byte{0x04, 0x22, 0x4d, 0x18} // the LZ4 frame format
)

// zstdMaxWindow bounds the memory of the zstd decoder: a frame that asks
// for a larger window is an error, not an allocation.
const zstdMaxWindow = 64 << 20

// compressionOf names the compression whose magic starts b, or "".
func compressionOf(b []byte) string {
	switch {
	case bytes.HasPrefix(b, magicGzip):
		return "gzip"
	case bytes.HasPrefix(b, magicZstd):
		return "zstd"
	case bytes.HasPrefix(b, magicLZ4):
		return "lz4"
	}
	return ""
}

// decompressor returns a reader of r decompressed, and what to close when
// done (or nil).
func decompressor(c string, r io.Reader) (io.Reader, io.Closer, error) {
	switch c {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr, nil
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return zr, closerFunc(zr.Close), nil
	}
	return lz4.NewReader(r), nil, nil
}

type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }
