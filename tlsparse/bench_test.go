package tlsparse

import (
	"testing"
)

func BenchmarkParseClientHello(b *testing.B) {
	items := decode(loadHex(b, "chrome-hello.client"), whole, nil)
	body := []byte(items[0].Body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientHello(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseServerHello(b *testing.B) {
	items := decode(loadHex(b, "gnutls-tls13.server"), whole, nil)
	body := []byte(items[0].Body)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseServerHello(body); err != nil {
			b.Fatal(err)
		}
	}
}

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
