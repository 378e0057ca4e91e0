package tlsparse

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

func BenchmarkParseClientHello(b *testing.B) {
	b.Run("chrome", func(b *testing.B) {
		items := decode(loadHex(b, "chrome-hello.client"), whole, nil)
		body := []byte(items[0].Body)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseClientHello(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("captures", func(b *testing.B) {
		// Each op parses every ClientHello of the lab and field captures:
		// curl, OpenSSL, GnuTLS, Go, Python, Java, Node.js, browsers.
		bodies := captureHellos(b, HandshakeTypeClientHello)
		size := 0
		for _, body := range bodies {
			size += len(body)
		}
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range bodies {
				if _, err := ParseClientHello(body); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(bodies)), "hellos/op")
	})
}

func BenchmarkParseServerHello(b *testing.B) {
	b.Run("gnutls", func(b *testing.B) {
		items := decode(loadHex(b, "gnutls-tls13.server"), whole, nil)
		body := []byte(items[0].Body)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseServerHello(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("captures", func(b *testing.B) {
		bodies := captureHellos(b, HandshakeTypeServerHello)
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range bodies {
				if _, err := ParseServerHello(body); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(bodies)), "hellos/op")
	})
}

// captureHellos returns the bodies of the hellos of type typ that parse,
// from the lab and field captures of the repository's testdata.
func captureHellos(tb testing.TB, typ HandshakeType) [][]byte {
	tb.Helper()
	var files []string
	for _, pattern := range []string{"../testdata/captures/*.pcap", "../testdata/field/*.pcap", "../testdata/field/*/*.pcap"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	h := &helloCollector{typ: typ}
	for _, f := range files {
		src, err := capture.OpenFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		_, err = capture.Run(context.Background(), src, h, capture.Options{})
		src.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
	}
	if len(h.bodies) < 50 {
		tb.Fatalf("only %d hellos of type %s in %d captures", len(h.bodies), typ, len(files))
	}
	return h.bodies
}

// helloCollector is a capture.Handler that decodes each direction of each
// connection and keeps the hellos of one type that parse.
type helloCollector struct {
	typ    HandshakeType
	bodies [][]byte
}

func (h *helloCollector) Open(capture.Conn) capture.Stream { return &helloStream{h: h} }

type helloStream struct {
	h   *helloCollector
	dec [2]Decoder
}

func (s *helloStream) Data(d capture.Direction, b []byte, _ capture.Frame) {
	s.dec[d].Feed(b)
	for it, ok := s.dec[d].Next(); ok; it, ok = s.dec[d].Next() {
		if it.Kind != KindHandshake || it.HandshakeType != s.h.typ {
			continue
		}
		var err error
		if s.h.typ == HandshakeTypeClientHello {
			_, err = ParseClientHello(it.Body)
		} else {
			_, err = ParseServerHello(it.Body)
		}
		if err == nil {
			s.h.bodies = append(s.h.bodies, bytes.Clone(it.Body))
		}
	}
}

func (s *helloStream) Gap(d capture.Direction, n int, _ capture.Frame) { s.dec[d].Gap(n) }
func (s *helloStream) Event(capture.Event)                             {}
func (s *helloStream) Close(capture.CloseReason, capture.Frame, int64) {}

// BenchmarkDecoderApplicationData feeds 64 KiB segments of a stream of
// full-size application data records, as a TCP reassembler would.
func BenchmarkDecoderApplicationData(b *testing.B) {
	var stream []byte
	for len(stream) < 4<<20 {
		stream = append(stream, appData(16384+17)...)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	records := 0
	var d Decoder
	for b.Loop() {
		d = Decoder{}
		for i := 0; i < len(stream); i += 65536 {
			d.Feed(stream[i:min(i+65536, len(stream))])
			for _, ok := d.Next(); ok; _, ok = d.Next() {
				records++
			}
		}
	}
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}
