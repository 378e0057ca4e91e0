package tlsparse

import "testing"

// TestDraftServerHello parses a TLS 1.3 draft-18 ServerHello (from Arkime's
// tls13.pcap, a curl/OpenSSL capture of that era): before draft 22 the
// message had the version in place of legacy_version and no session ID or
// compression method, and the key share used extension number 40.
func TestDraftServerHello(t *testing.T) {
	var d Decoder
	d.Feed(loadHex(t, "draft18-server-hello.server"))
	it, ok := d.Next()
	if !ok || it.Kind != KindHandshake || it.HandshakeType != HandshakeTypeServerHello {
		t.Fatalf("first item %+v, want a server_hello", it)
	}
	sh, err := ParseServerHello(it.Body)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Version != 0x7f12 || sh.NegotiatedVersion() != 0x7f12 || sh.CipherSuite != 0x1301 || len(sh.SessionID) != 0 {
		t.Errorf("version %v, negotiated %v, suite %v, session ID %x; want draft 18, TLS_AES_128_GCM_SHA256, none",
			sh.Version, sh.NegotiatedVersion(), sh.CipherSuite, sh.SessionID)
	}
	if sh.KeyShare != GroupX25519 {
		t.Errorf("key share %v, want x25519 (draft extension 40)", sh.KeyShare)
	}
	if len(sh.Anomalies) != 0 {
		t.Errorf("anomalies %v", sh.Anomalies)
	}
}
