package tlsparse

import (
	"slices"
	"testing"
)

// TestSetEncryptedAfterServerHello checks that declaring the stream
// encrypted right after a TLS 1.3 ServerHello item changes nothing for the
// record that carried it: no phantom encrypted-handshake item appears for
// its already-parsed bytes, and the items that follow are the same.
func TestSetEncryptedAfterServerHello(t *testing.T) {
	stream := loadHex(t, "gnutls-tls13.server")
	kinds := func(setEncrypted bool) []ItemKind {
		var d Decoder
		d.Feed(stream)
		var out []ItemKind
		for {
			it, ok := d.Next()
			if !ok {
				return out
			}
			out = append(out, it.Kind)
			if setEncrypted && it.Kind == KindHandshake && it.HandshakeType == HandshakeTypeServerHello {
				d.SetEncrypted()
			}
		}
	}
	plain, switched := kinds(false), kinds(true)
	if len(plain) < 3 || plain[0] != KindHandshake {
		t.Fatalf("fixture decodes to %v, want a ServerHello and encrypted records", plain)
	}
	if !slices.Equal(plain, switched) {
		t.Errorf("SetEncrypted after the ServerHello changed the items:\n without %v\n with    %v", plain, switched)
	}
}
