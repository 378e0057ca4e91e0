package tlsparse

import (
	"bytes"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// realMessages returns the plaintext handshake messages of TLS 1.2
// handshakes (server and client certificates) produced by crypto/tls,
// with the version and suite needed to parse them.
func realMessages(t testing.TB) (msgs []item, cs CipherSuite) {
	p := getPKI(t)
	rec := runTLS(t,
		&tls.Config{ServerName: "example.test", RootCAs: p.pool, MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p.clientLeaf},
			ClientSessionCache: tls.NewLRUClientSessionCache(1)},
		&tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, ClientAuth: tls.RequireAnyClientCert})
	for _, it := range append(decode(rec.client, whole, nil), decode(rec.server, whole, nil)...) {
		if it.Kind == KindHandshake {
			msgs = append(msgs, it)
		}
	}
	return msgs, CipherSuite(rec.state.CipherSuite)
}

// Like crypto/tls's handshake_messages_test: no strict prefix of a valid
// message parses. Hellos are the exception at exactly one point: a hello
// cut right after its compression methods is a valid extension-less hello.
func TestNoPrefixParses(t *testing.T) {
	msgs, cs := realMessages(t)
	seen := map[HandshakeType]bool{}
	for _, it := range msgs {
		body := []byte(it.Body)
		if _, err := ParseHandshake(it.HandshakeType, body, VersionTLS12, cs); err != nil {
			t.Fatalf("%v: whole message fails: %v", it.HandshakeType, err)
		}
		switch it.HandshakeType {
		case HandshakeTypeClientKeyExchange, HandshakeTypeFinished:
			continue // kept raw: every non-empty prefix is "valid"
		}
		seen[it.HandshakeType] = true
		for i := 0; i < len(body); i++ {
			m, err := ParseHandshake(it.HandshakeType, body[:i], VersionTLS12, cs)
			if err != nil {
				continue
			}
			switch h := m.(type) {
			case *ClientHello:
				if h.Extensions == nil && i == extensionFreeEnd(body, true) {
					continue
				}
			case *ServerHello:
				if h.Extensions == nil && i == extensionFreeEnd(body, false) {
					continue
				}
			}
			t.Errorf("%v: prefix of %d/%d bytes parsed", it.HandshakeType, i, len(body))
		}
	}
	for _, typ := range []HandshakeType{HandshakeTypeClientHello, HandshakeTypeServerHello, HandshakeTypeCertificate,
		HandshakeTypeServerKeyExchange, HandshakeTypeCertificateRequest, HandshakeTypeCertificateVerify, HandshakeTypeNewSessionTicket} {
		if !seen[typ] {
			t.Errorf("no %v in the recorded handshake", typ)
		}
	}
}

// Parsed messages do not alias the caller's buffer (ParseHandshake copies
// it for ParseCertificate, which aliases it).
func TestParsersCopy(t *testing.T) {
	msgs, cs := realMessages(t)
	for _, it := range msgs {
		body := []byte(it.Body)
		m1, _ := ParseHandshake(it.HandshakeType, body, VersionTLS12, cs)
		for i := range body {
			body[i] ^= 0xff
		}
		m2, _ := ParseHandshake(it.HandshakeType, []byte(it.Body), VersionTLS12, cs)
		if s1, s2 := dumpMessage(m1), dumpMessage(m2); s1 != s2 {
			t.Errorf("%v changed after the input was overwritten", it.HandshakeType)
		}
	}
}

func dumpMessage(m Message) string {
	var b strings.Builder
	switch h := m.(type) {
	case *ClientHello:
		b.WriteString(h.ServerName)
		b.Write(h.Random)
		for _, e := range h.Extensions {
			b.Write(e.Data)
		}
	case *ServerHello:
		b.Write(h.Random)
	case *Certificate:
		b.Write(slices.Concat(h.Certificates...))
	case *ServerKeyExchange:
		b.Write(h.PublicKey)
		b.Write(h.Signature)
	case *CertificateRequest:
		b.Write(slices.Concat(h.CANames...))
	case *CertificateVerify:
		b.Write(h.Signature)
	case *ClientKeyExchange:
		b.Write(h.Raw)
	case *NewSessionTicket:
		b.Write(h.Ticket)
	}
	return b.String()
}

// hello builds a ClientHello body with the given extensions (test input for
// anomalies that no real implementation sends on purpose).
func hello(exts ...Extension) []byte {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(make([]byte, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x1301); b.AddUint16(0xc02f) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, e := range exts {
			b.AddUint16(uint16(e.Type))
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
		}
	})
	return b.BytesOrPanic()
}

func sni(name string) Extension {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
	})
	return Extension{ExtServerName, b.BytesOrPanic()}
}

func TestClientHelloAnomalies(t *testing.T) {
	groups := Extension{ExtSupportedGroups, []byte{0, 2, 0, 29}}
	tests := []struct {
		name      string
		body      []byte
		anomalies []Anomaly
		check     func(*ClientHello) bool
	}{
		{"clean", hello(sni("example.test"), groups), nil, func(m *ClientHello) bool {
			return m.ServerName == "example.test" && slices.Equal(m.SupportedGroups, []NamedGroup{GroupX25519})
		}},
		{"duplicate extension keeps the first", hello(sni("a.test"), sni("b.test")), []Anomaly{"duplicate_extension"}, func(m *ClientHello) bool { return m.ServerName == "a.test" && len(m.Extensions) == 2 }},
		{"duplicate unknown extension", hello(Extension{0x4444, nil}, Extension{0x4444, nil}), []Anomaly{"duplicate_extension"}, nil},
		{"empty sni", hello(sni("")), []Anomaly{"empty_sni"}, nil},
		{"trailing dot", hello(sni("example.test.")), []Anomaly{"sni_trailing_dot"}, func(m *ClientHello) bool { return m.ServerName == "example.test." }},
		{"trailing bytes in supported_groups", hello(Extension{ExtSupportedGroups, []byte{0, 2, 0, 29, 0}}), []Anomaly{"trailing_bytes_in_supported_groups"}, nil},
		{"malformed alpn", hello(Extension{ExtALPN, []byte{0, 5, 2, 'h'}}), []Anomaly{"malformed_application_layer_protocol_negotiation"}, func(m *ClientHello) bool { return m.ALPN == nil }},
		{"psk not last", hello(Extension{ExtPreSharedKey, []byte{0, 0, 0, 0}}, groups), []Anomaly{"pre_shared_key_not_last"}, func(m *ClientHello) bool { return m.PreSharedKey }},
		{"nonzero padding", hello(Extension{ExtPadding, []byte{0, 1}}), []Anomaly{"nonzero_padding"}, func(m *ClientHello) bool { return m.Padding == 2 }},
		{"grease and ech", hello(Extension{0x3a3a, nil}, Extension{ExtECH, []byte{0}}), nil, func(m *ClientHello) bool { return m.ECH }},
		{"no extensions", hello()[:2+32+1+6+2], nil, func(m *ClientHello) bool { return m.Extensions == nil && m.MaxVersion() == VersionTLS12 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseClientHello(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.Anomalies, tt.anomalies) {
				t.Errorf("Anomalies = %q, want %q", m.Anomalies, tt.anomalies)
			}
			if tt.check != nil && !tt.check(m) {
				t.Errorf("unexpected fields: %+v", m)
			}
		})
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	h := hello(sni("example.test"))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"cipher suites cut", func() error { _, err := ParseClientHello(h[:2+32+1+3]); return err }(), "tlsparse: client hello: cipher_suites: truncated"},
		{"odd cipher suites", func() error {
			b := slices.Clone(h)
			b[2+32+1+1] = 3
			_, err := ParseClientHello(b)
			return err
		}(), "tlsparse: client hello: cipher_suites: odd length 3"},
		{"extension cut", func() error { _, err := ParseClientHello(h[:len(h)-1]); return err }(), "tlsparse: client hello: extensions: truncated"},
		{"random", func() error { _, err := ParseServerHello(make([]byte, 10)); return err }(), "tlsparse: server hello: random: truncated"},
		{"certificate entry", func() error { _, err := ParseCertificate([]byte{0, 0, 4, 0, 0, 9, 1}, VersionTLS12); return err }(), "tlsparse: certificate: certificate_list[0]: truncated"},
		{"key update", func() error { _, err := ParseKeyUpdate([]byte{7}); return err }(), "tlsparse: key update: request_update: value 7"},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, tt.err, tt.want)
		}
		var pe *parseErr
		if tt.err != nil && !errors.As(tt.err, &pe) {
			t.Errorf("%s: %T is not a *parseErr", tt.name, tt.err)
		}
	}
}

func TestServerHelloRetryRequest(t *testing.T) {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(helloRetryRequestRandom)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16(0x1301)
	b.AddUint8(0)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(ExtSupportedVersions))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x0304) })
		b.AddUint16(uint16(ExtKeyShare))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(uint16(GroupX25519MLKEM768)) })
	})
	m, err := ParseServerHello(b.BytesOrPanic())
	if err != nil {
		t.Fatal(err)
	}
	if !m.HelloRetryRequest || m.KeyShare != GroupX25519MLKEM768 || m.NegotiatedVersion() != VersionTLS13 || len(m.Anomalies) != 0 {
		t.Errorf("%+v", m)
	}
	// The same bytes with another random are a ServerHello whose key_share
	// lacks its key: malformed.
	raw := slices.Clone(m.Raw)
	raw[2] ^= 1
	m, _ = ParseServerHello(raw)
	if m.HelloRetryRequest || !slices.Equal(m.Anomalies, []Anomaly{"malformed_key_share"}) {
		t.Errorf("%+v", m)
	}
}

func TestUnknownAndEmptyMessages(t *testing.T) {
	m, err := ParseHandshake(HandshakeType(99), []byte{1, 2, 3}, VersionTLS12, 0)
	if u, ok := m.(*UnknownMessage); err != nil || !ok || u.Typ != 99 || !bytes.Equal(u.Raw, []byte{1, 2, 3}) {
		t.Errorf("%#v, %v", m, err)
	}
	if m, err := ParseHandshake(HandshakeTypeServerHelloDone, nil, VersionTLS12, 0); err != nil || m.Type() != HandshakeTypeServerHelloDone {
		t.Errorf("%#v, %v", m, err)
	}
	if _, err := ParseHandshake(HandshakeTypeServerHelloDone, []byte{0}, VersionTLS12, 0); err == nil {
		t.Error("ServerHelloDone with a body parsed")
	}
}

// extensionFreeEnd is where a hello body ends if its extensions are cut off:
// after the compression method(s).
func extensionFreeEnd(body []byte, client bool) int {
	s := cryptobyte.String(body)
	var v uint16
	var random, sid, suites, comp cryptobyte.String
	s.ReadUint16(&v)
	s.ReadBytes((*[]byte)(&random), 32)
	s.ReadUint8LengthPrefixed(&sid)
	if !client {
		return 2 + 32 + 1 + len(sid) + 2 + 1
	}
	s.ReadUint16LengthPrefixed(&suites)
	s.ReadUint8LengthPrefixed(&comp)
	return len(body) - len(s)
}
