package fingerprint_test

import (
	"crypto/tls"
	"testing"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// benchHellos returns real ClientHellos to measure with: crypto/tls's, and
// Chrome's (with GREASE) from a public capture.
func benchHellos(b *testing.B) map[string]*tlsparse.ClientHello {
	_, body := goClientHello(b, &tls.Config{ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}})
	ch, err := tlsparse.ParseClientHello(body)
	if err != nil {
		b.Fatal(err)
	}
	hellos := map[string]*tlsparse.ClientHello{"crypto-tls": ch}
	for _, c := range analyse(b, publicFile("ja4", "tls-handshake.pcapng")) {
		if c.ClientHello != nil {
			hellos["chrome"] = c.ClientHello
			break
		}
	}
	return hellos
}

func BenchmarkJA4(b *testing.B) {
	for name, ch := range benchHellos(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fingerprint.JA4(ch, fingerprint.TCP)
			}
		})
	}
}

func BenchmarkJA3(b *testing.B) {
	for name, ch := range benchHellos(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fingerprint.JA3(ch)
			}
		})
	}
}
