package probe

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Every hand-written hello reads back, with tlsparse, as what it offers.
func TestBeyondHellosParse(t *testing.T) {
	for _, b := range beyondHellos("good.test") {
		rec, err := b.hello.marshal()
		if err != nil {
			t.Fatalf("%s: %v", b.offer, err)
		}
		h, err := tlsparse.ParseRecordHeader(rec)
		if err != nil || h.Type != tlsparse.ContentTypeHandshake || h.Length != len(rec)-5 {
			t.Fatalf("%s: record header %+v, %v", b.offer, h, err)
		}
		if rec[5] != byte(tlsparse.HandshakeTypeClientHello) {
			t.Fatalf("%s: handshake type %d", b.offer, rec[5])
		}
		ch, err := tlsparse.ParseClientHello(rec[9:])
		if err != nil {
			t.Fatalf("%s: %v", b.offer, err)
		}
		if len(ch.Anomalies) > 0 {
			t.Errorf("%s: anomalies %v", b.offer, ch.Anomalies)
		}
		if ch.ServerName != "good.test" {
			t.Errorf("%s: SNI %q", b.offer, ch.ServerName)
		}
		if got := ch.OfferedVersions(); !slices.Equal(got, []tlsparse.Version{tlsparse.Version(b.version)}) {
			t.Errorf("%s: versions %v, want %v", b.offer, got, tlsparse.Version(b.version))
		}
		for i, s := range b.hello.suites {
			if i >= len(ch.CipherSuites) || uint16(ch.CipherSuites[i]) != s {
				t.Fatalf("%s: suites %v, want %v", b.offer, ch.CipherSuites, b.hello.suites)
			}
		}
		for i, g := range b.hello.groups {
			if i >= len(ch.SupportedGroups) || uint16(ch.SupportedGroups[i]) != uint16(g) {
				t.Fatalf("%s: groups %v, want %v", b.offer, ch.SupportedGroups, b.hello.groups)
			}
		}
		for i, s := range b.hello.sigalgs {
			if i >= len(ch.SignatureSchemes) || uint16(ch.SignatureSchemes[i]) != uint16(s) {
				t.Fatalf("%s: signature algorithms %v, want %v", b.offer, ch.SignatureSchemes, b.hello.sigalgs)
			}
		}
		wantShares := 0
		if b.hello.x25519Share {
			wantShares = 1
		}
		if len(ch.KeyShares) != wantShares {
			t.Errorf("%s: key shares %v", b.offer, ch.KeyShares)
		}
	}
	// An IP address is no SNI.
	rec, err := (&rawHello{serverName: "127.0.0.1", suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}).marshal()
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := tlsparse.ParseClientHello(rec[9:]); err != nil || ch.ServerName != "" {
		t.Errorf("hello to an address: SNI %q, %v", ch.ServerName, err)
	}
}

// exchange reads a crypto/tls server's ServerHello for a hello it can
// answer, and says what else came back when it cannot.
func TestExchange(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	go func() {
		c, err := plain.Accept()
		if err == nil {
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	ask := func(addr string, h *rawHello) rawAnswer {
		rec, err := h.marshal()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return exchange(ctx, conn, rec)
	}
	ecdhe := []tls.CurveID{tls.X25519, tls.CurveP256}
	// crypto/tls answers TLS 1.3 with X25519.
	a := ask(ln.Addr().String(), &rawHello{serverName: "good.test", tls13: true, suites: []uint16{tls.TLS_AES_128_GCM_SHA256},
		groups: ecdhe, sigalgs: goSignatureSchemes, x25519Share: true})
	if a.hello == nil || a.hello.NegotiatedVersion() != tlsparse.VersionTLS13 || a.hello.KeyShare != tlsparse.NamedGroup(tls.X25519) {
		t.Errorf("TLS 1.3 with an X25519 share: %+v", a)
	}
	// Without the share, it asks for one.
	a = ask(ln.Addr().String(), &rawHello{serverName: "good.test", tls13: true, suites: []uint16{tls.TLS_AES_128_GCM_SHA256},
		groups: []tls.CurveID{tls.CurveP256}, sigalgs: goSignatureSchemes})
	if a.hello == nil || !a.hello.HelloRetryRequest || a.hello.KeyShare != tlsparse.NamedGroup(tls.CurveP256) {
		t.Errorf("TLS 1.3 without a share: %+v", a)
	}
	// DHE alone: crypto/tls has none, and says handshake_failure.
	a = ask(ln.Addr().String(), &rawHello{serverName: "good.test", suites: []uint16{0x009E}, groups: ecdhe, sigalgs: goSignatureSchemes})
	if a.hello != nil || a.err != nil || a.alert != tlsparse.AlertHandshakeFailure {
		t.Errorf("DHE alone: %+v", a)
	}
	// Not a TLS server.
	a = ask(plain.Addr().String(), &rawHello{serverName: "good.test", suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, groups: ecdhe, sigalgs: goSignatureSchemes})
	if a.err == nil {
		t.Errorf("plain HTTP server: %+v", a)
	}
}
