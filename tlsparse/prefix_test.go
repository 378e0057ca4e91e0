package tlsparse

import (
	"slices"
	"testing"
)

// checkPrefix fails unless the prefix parse of body[:cut] agrees with the
// whole parse of body on everything before the cut.
func checkPrefix(t *testing.T, whole *ClientHello, body []byte, cut int) {
	t.Helper()
	p, err := ParseClientHelloPrefix(body[:cut])
	if cut < 2 {
		if err == nil {
			t.Fatalf("cut %d: no error for a prefix without the version", cut)
		}
		return
	}
	if err != nil {
		t.Fatalf("cut %d of %d: %v", cut, len(body), err)
	}
	if !p.Truncated {
		t.Fatalf("cut %d: not marked Truncated", cut)
	}
	if p.Version != whole.Version {
		t.Fatalf("cut %d: version %v, whole %v", cut, p.Version, whole.Version)
	}
	if len(p.CipherSuites) > len(whole.CipherSuites) || !slices.Equal(p.CipherSuites, whole.CipherSuites[:len(p.CipherSuites)]) {
		t.Fatalf("cut %d: suites %v are no prefix of %v", cut, p.CipherSuites, whole.CipherSuites)
	}
	if len(p.Extensions) > len(whole.Extensions) {
		t.Fatalf("cut %d: %d extensions, whole has %d", cut, len(p.Extensions), len(whole.Extensions))
	}
	for i, e := range p.Extensions {
		if w := whole.Extensions[i]; e.Type != w.Type || string(e.Data) != string(w.Data) {
			t.Fatalf("cut %d: extension %d is %v, whole %v", cut, i, e.Type, w.Type)
		}
	}
	if p.ServerName != "" && p.ServerName != whole.ServerName {
		t.Fatalf("cut %d: SNI %q, whole %q", cut, p.ServerName, whole.ServerName)
	}
	if vs := p.OfferedVersions(); vs != nil && !slices.Equal(vs, whole.OfferedVersions()) {
		t.Fatalf("cut %d: offered %v, whole %v", cut, vs, whole.OfferedVersions())
	}
	for _, a := range p.Anomalies {
		if !slices.Contains(whole.Anomalies, a) {
			t.Fatalf("cut %d: anomaly %s that the whole hello does not have", cut, a)
		}
	}
}

// TestClientHelloPrefix cuts every real ClientHello (crypto/tls, openssl,
// gnutls, Chrome) at every length and checks that what the prefix parse
// reads is what the whole message says, and that the SNI is read as soon
// as its extension is whole.
func TestClientHelloPrefix(t *testing.T) {
	_, msgs := fuzzSeeds(t)
	n := 0
	for _, it := range msgs {
		if it.Kind != KindHandshake || it.HandshakeType != HandshakeTypeClientHello {
			continue
		}
		body := []byte(it.Body)
		whole, err := ParseClientHello(body)
		if err != nil {
			t.Fatal(err)
		}
		n++
		sniAt := -1 // the length from which the SNI extension is whole
		for cut := range len(body) + 1 {
			checkPrefix(t, whole, body, cut)
			if p, err := ParseClientHelloPrefix(body[:cut]); err == nil && p.ServerName != "" && sniAt < 0 {
				sniAt = cut
			}
		}
		if whole.ServerName != "" && sniAt < 0 {
			t.Errorf("SNI %q never read from a prefix", whole.ServerName)
		}
	}
	if n < 5 {
		t.Fatalf("only %d ClientHellos among the seeds", n)
	}
}

// TestDecoderKeepsCutClientHello feeds a real ClientHello up to a point
// inside it, declares the rest lost and expects the start back from Next.
func TestDecoderKeepsCutClientHello(t *testing.T) {
	streams, _ := fuzzSeeds(t)
	stream := streams[0] // crypto/tls's client side
	hello := []byte(findHandshake(decode(stream, whole, nil), HandshakeTypeClientHello, 0))
	for _, cut := range []int{5 + 4 + 10, 5 + 4 + 100, 5 + 4 + len(hello) - 1} {
		var d Decoder
		d.Feed(stream[:cut])
		for {
			if _, ok := d.Next(); !ok {
				break
			}
		}
		d.Gap(len(stream) - cut)
		it, ok := d.Next()
		if !ok || it.Missing != 5+4+len(hello)-cut || string(it.Body) != string(hello[:cut-9]) {
			t.Fatalf("cut at %d: got ok=%v missing=%d body %d bytes, want %d missing", cut, ok, it.Missing, len(it.Body), 5+4+len(hello)-cut)
		}
		if it.End != int64(cut) || it.HandshakeType != HandshakeTypeClientHello {
			t.Fatalf("cut at %d: item ends at %d, type %v", cut, it.End, it.HandshakeType)
		}
		if _, ok := d.Next(); ok {
			t.Fatalf("cut at %d: a second item after the cut one", cut)
		}
	}
}

func FuzzParseClientHelloPrefix(f *testing.F) {
	seedType(f, HandshakeTypeClientHello, func(b []byte) { f.Add(b, uint16(len(b)/2)) })
	f.Fuzz(func(t *testing.T, body []byte, cut uint16) {
		m1, err1 := ParseClientHelloPrefix(body)
		m2, err2 := ParseClientHelloPrefix(body)
		same(t, m1, err1, m2, err2)
		if err1 == nil {
			m1.OfferedVersions()
			m1.MaxVersion()
		}
		if whole, err := ParseClientHello(body); err == nil {
			checkPrefix(t, whole, body, int(cut)%(len(body)+1))
		}
	})
}
