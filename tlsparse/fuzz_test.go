package tlsparse

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fuzz targets: every entry point must never panic and must be
// deterministic. Seeds are the real handshakes from crypto/tls and the
// openssl/gnutls fixtures.

var (
	seedOnce    sync.Once
	seedStreams [][]byte
	seedMsgs    []item
)

func fuzzSeeds(f testing.TB) ([][]byte, []item) {
	seedOnce.Do(func() {
		p := getPKI(f)
		for _, cfg := range []struct{ c, s *tls.Config }{
			{&tls.Config{ServerName: "example.test", RootCAs: p.pool, NextProtos: []string{"h2"}}, &tls.Config{Certificates: []tls.Certificate{p.ecdsaLeaf}, NextProtos: []string{"h2"}}},
			{&tls.Config{ServerName: "example.test", RootCAs: p.pool, MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p.clientLeaf}},
				&tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, ClientAuth: tls.RequireAnyClientCert}},
			{&tls.Config{ServerName: "example.test", RootCAs: p.pool, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}},
				&tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, CurvePreferences: []tls.CurveID{tls.CurveP256}}},
		} {
			rec := runTLS(f, cfg.c, cfg.s)
			seedStreams = append(seedStreams, rec.client, rec.server)
		}
		files, _ := filepath.Glob("testdata/*.hex")
		for _, file := range files {
			seedStreams = append(seedStreams, loadHex(f, strings.TrimSuffix(filepath.Base(file), ".hex")))
		}
		for _, s := range seedStreams {
			for _, it := range decode(s, whole, nil) {
				if it.Kind == KindHandshake || it.Kind == KindSSLv2ClientHello {
					seedMsgs = append(seedMsgs, it)
				}
			}
		}
	})
	return seedStreams, seedMsgs
}

func seedType(f *testing.F, t HandshakeType, add func(body []byte)) {
	_, msgs := fuzzSeeds(f)
	for _, it := range msgs {
		if it.HandshakeType == t && it.Kind == KindHandshake {
			add([]byte(it.Body))
		}
	}
}

// same fails unless two parse results are identical.
func same[T any](t *testing.T, m1 T, err1 error, m2 T, err2 error) {
	t.Helper()
	if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() || !reflect.DeepEqual(m1, m2) {
		t.Fatalf("not deterministic: %v / %v", err1, err2)
	}
}

func FuzzDecoder(f *testing.F) {
	streams, _ := fuzzSeeds(f)
	for i, s := range streams {
		f.Add(s, int64(i))
	}
	f.Fuzz(func(t *testing.T, stream []byte, seed int64) {
		// A decoder that loops forever on some input would stall the
		// fuzzer without a crasher; fail with the input instead.
		done := make(chan error, 1)
		go func() { done <- checkDecoder(stream, seed) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("decoding %d bytes did not finish in 10 s", len(stream))
		}
	})
}

// checkDecoder decodes stream whole and in random pieces, with resyncs
// and gaps, and says what is wrong: the pieces must give the same items,
// in order and within the stream.
func checkDecoder(stream []byte, seed int64) error {
	want := decode(stream, whole, nil)
	rng := newRand(seed)
	got := decode(stream, func(int) int { return 1 + rng.Intn(64) }, nil)
	if !slices.Equal(got, want) {
		return fmt.Errorf("random feeds give %d items, whole stream %d", len(got), len(want))
	}
	var at int64
	for _, it := range want {
		if it.Start < at-5 || it.End < it.Start || it.End > int64(len(stream)) && it.Kind != KindMalformed {
			return fmt.Errorf("item %v at %d..%d after %d in %d bytes", it.Kind, it.Start, it.End, at, len(stream))
		}
		at = it.End
	}
	// Resync and Gap paths.
	decode(stream, func(int) int { return 1 + rng.Intn(300) }, (*Decoder).Resync)
	var d Decoder
	for len(stream) > 0 {
		n := min(len(stream), 1+rng.Intn(100))
		d.Feed(stream[:n])
		stream = stream[n:]
		for _, ok := d.Next(); ok; _, ok = d.Next() {
		}
		if rng.Intn(4) == 0 {
			d.Gap(1 + rng.Intn(20))
		}
	}
	return nil
}

func FuzzParseClientHello(f *testing.F) {
	seedType(f, HandshakeTypeClientHello, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		m1, err1 := ParseClientHello(body)
		m2, err2 := ParseClientHello(body)
		same(t, m1, err1, m2, err2)
		if err1 == nil {
			m1.OfferedVersions()
			m1.MaxVersion()
		}
		s1, e1 := ParseSSLv2ClientHello(body)
		s2, e2 := ParseSSLv2ClientHello(body)
		same(t, s1, e1, s2, e2)
	})
}

func FuzzParseServerHello(f *testing.F) {
	seedType(f, HandshakeTypeServerHello, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		m1, err1 := ParseServerHello(body)
		m2, err2 := ParseServerHello(body)
		same(t, m1, err1, m2, err2)
	})
}

func FuzzParseCertificate(f *testing.F) {
	seedType(f, HandshakeTypeCertificate, func(b []byte) {
		f.Add(b, uint16(VersionTLS12))
		f.Add(append([]byte{0}, b...), uint16(VersionTLS13))
	})
	f.Fuzz(func(t *testing.T, body []byte, v uint16) {
		m1, err1 := ParseCertificate(body, Version(v))
		m2, err2 := ParseCertificate(body, Version(v))
		same(t, m1, err1, m2, err2)
	})
}

func FuzzParseServerKeyExchange(f *testing.F) {
	seedType(f, HandshakeTypeServerKeyExchange, func(b []byte) {
		for _, cs := range []uint16{0xc02f, 0xc02b, 0x009e, 0x0034, 0xc035, 0x0090, 0x0003} {
			f.Add(b, cs)
		}
	})
	f.Fuzz(func(t *testing.T, body []byte, cs uint16) {
		m1, err1 := ParseServerKeyExchange(body, CipherSuite(cs))
		m2, err2 := ParseServerKeyExchange(body, CipherSuite(cs))
		same(t, m1, err1, m2, err2)
	})
}

func FuzzParseCertificateRequest(f *testing.F) {
	seedType(f, HandshakeTypeCertificateRequest, func(b []byte) {
		f.Add(b, uint16(VersionTLS12))
		f.Add(b, uint16(0))
		f.Add(b, uint16(VersionTLS13))
	})
	f.Fuzz(func(t *testing.T, body []byte, v uint16) {
		m1, err1 := ParseCertificateRequest(body, Version(v))
		m2, err2 := ParseCertificateRequest(body, Version(v))
		same(t, m1, err1, m2, err2)
	})
}

func FuzzParseHandshake(f *testing.F) {
	_, msgs := fuzzSeeds(f)
	for _, it := range msgs {
		for _, v := range []uint16{0, 0x0301, 0x0303, 0x0304} {
			f.Add(uint8(it.HandshakeType), []byte(it.Body), v, uint16(0xc02f))
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, body []byte, v, cs uint16) {
		m1, err1 := ParseHandshake(HandshakeType(typ), body, Version(v), CipherSuite(cs))
		m2, err2 := ParseHandshake(HandshakeType(typ), body, Version(v), CipherSuite(cs))
		same(t, m1, err1, m2, err2)
		if err1 == nil && m1.Type() != HandshakeType(typ) {
			t.Fatalf("Type() = %v, want %v", m1.Type(), HandshakeType(typ))
		}
		if cc, ok := m1.(*CompressedCertificate); ok && err1 == nil {
			if cert, err := cc.Certificate(); err == nil && len(cert.Raw) != cc.UncompressedLength {
				t.Fatalf("decompressed %d bytes, uncompressed_length %d", len(cert.Raw), cc.UncompressedLength)
			}
		}
	})
}
