package tlsparse

import (
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// loadHex reads testdata/NAME.hex (written by testdata/make-fixtures.sh).
func loadHex(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

func mustClientHello(t *testing.T, items []item) *ClientHello {
	t.Helper()
	ch, err := ParseClientHello(findHandshake(items, HandshakeTypeClientHello, 0))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func mustServerHello(t *testing.T, items []item) *ServerHello {
	t.Helper()
	sh, err := ParseServerHello(findHandshake(items, HandshakeTypeServerHello, 0))
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestFixtures checks streams captured from openssl, gnutls and public
// traces (see testdata/make-fixtures.sh).
func TestFixtures(t *testing.T) {
	t.Run("openssl tls1.0", func(t *testing.T) {
		c := checkSplits(t, "client", loadHex(t, "openssl-tls10.client"))
		s := checkSplits(t, "server", loadHex(t, "openssl-tls10.server"))
		want := []string{"server_hello", "certificate", "server_key_exchange", "server_hello_done", "new_session_ticket", "change_cipher_spec", "encrypted_handshake", "application_data", "alert"}
		if got := compact(kinds(s)); !slices.Equal(got, want) {
			t.Errorf("server items %q, want %q", got, want)
		}
		ch, sh := mustClientHello(t, c), mustServerHello(t, s)
		if ch.MaxVersion() != VersionTLS10 || sh.NegotiatedVersion() != VersionTLS10 || s[0].Record.Version != VersionTLS10 {
			t.Errorf("versions: client %v server %v record %v", ch.MaxVersion(), sh.NegotiatedVersion(), s[0].Record.Version)
		}
		if ch.ServerName != "example.test" || !slices.Contains(ch.CipherSuites, sh.CipherSuite) {
			t.Errorf("SNI %q, chosen suite %v not offered", ch.ServerName, sh.CipherSuite)
		}
		// TLS 1.0 ServerKeyExchange signatures carry no scheme.
		ske, err := ParseHandshake(HandshakeTypeServerKeyExchange, findHandshake(s, HandshakeTypeServerKeyExchange, 0), VersionTLS10, sh.CipherSuite)
		if err != nil {
			t.Fatal(err)
		}
		if k := ske.(*ServerKeyExchange); k.SignatureScheme != 0 || len(k.Signature) != 256 || k.Group == 0 {
			t.Errorf("ServerKeyExchange %+v", k)
		}
		if guessed, err := ParseServerKeyExchange(findHandshake(s, HandshakeTypeServerKeyExchange, 0), sh.CipherSuite); err != nil || guessed.SignatureScheme != 0 {
			t.Errorf("version guess: %+v, %v", guessed, err)
		}
		if last := s[len(s)-1]; last.Kind != KindAlert || !last.Encrypted {
			t.Errorf("last item %+v, want an encrypted alert", last)
		}
	})
	t.Run("openssl certificate across records", func(t *testing.T) {
		s := checkSplits(t, "server", loadHex(t, "openssl-fragmented.server"))
		checkSplits(t, "client", loadHex(t, "openssl-fragmented.client"))
		var cert item
		for _, it := range s {
			if it.HandshakeType == HandshakeTypeCertificate {
				cert = it
			}
		}
		if cert.End-cert.Start <= 512+5 || cert.Record.Length > 512 {
			t.Errorf("Certificate at %d..%d in a %d-byte record: not spanning records", cert.Start, cert.End, cert.Record.Length)
		}
		c, err := ParseCertificate([]byte(cert.Body), VersionTLS12)
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(c.Certificates[0])
		if err != nil || x.Subject.CommonName != "example.test" {
			t.Errorf("leaf: %v, %v", x, err)
		}
	})
	t.Run("openssl ClientHello across records", func(t *testing.T) {
		c := checkSplits(t, "client", loadHex(t, "openssl-fragmented-hello.client"))
		if c[0].End-c[0].Start < 1024 || c[0].Record.Length > 512 {
			t.Errorf("ClientHello %d..%d not split over 512-byte records", c[0].Start, c[0].End)
		}
		ch := mustClientHello(t, c)
		if !slices.Equal(ch.KeyShares, []NamedGroup{260}) || ch.KeyShares[0].String() != "ffdhe8192" || ch.ServerName != "example.test" {
			t.Errorf("KeyShares %v, SNI %q", ch.KeyShares, ch.ServerName)
		}
		sh := mustServerHello(t, checkSplits(t, "server", loadHex(t, "openssl-fragmented-hello.server")))
		if sh.NegotiatedVersion() != VersionTLS13 || sh.KeyShare != 260 {
			t.Errorf("ServerHello %v %v", sh.NegotiatedVersion(), sh.KeyShare)
		}
	})
	t.Run("openssl protocol_version alert", func(t *testing.T) {
		s := checkSplits(t, "server", loadHex(t, "openssl-alert.server"))
		want := item{Kind: KindAlert, Start: 0, End: 7, Record: RecordHeader{ContentTypeAlert, VersionTLS12, 2},
			Alert: Alert{AlertLevelFatal, AlertProtocolVersion}}
		if len(s) != 1 || s[0] != want {
			t.Errorf("items %+v, want %+v", s, want)
		}
		if s[0].Alert.Description.Title() != "Protocol Version" {
			t.Errorf("Title %q", s[0].Alert.Description.Title())
		}
		ch := mustClientHello(t, checkSplits(t, "client", loadHex(t, "openssl-alert.client")))
		if ch.MaxVersion() != VersionTLS12 {
			t.Errorf("client offered %v", ch.OfferedVersions())
		}
	})
	t.Run("gnutls tls1.3", func(t *testing.T) {
		c := checkSplits(t, "client", loadHex(t, "gnutls-tls13.client"))
		s := checkSplits(t, "server", loadHex(t, "gnutls-tls13.server"))
		ch, sh := mustClientHello(t, c), mustServerHello(t, s)
		if sh.NegotiatedVersion() != VersionTLS13 || sh.Version != VersionTLS12 || !slices.Contains(ch.KeyShares, sh.KeyShare) {
			t.Errorf("ServerHello %v/%v share %v, client shares %v", sh.Version, sh.NegotiatedVersion(), sh.KeyShare, ch.KeyShares)
		}
		if ch.ServerName != "example.test" || len(ch.Anomalies) != 0 {
			t.Errorf("SNI %q anomalies %q", ch.ServerName, ch.Anomalies)
		}
	})
	t.Run("sslv2 compatible hello", func(t *testing.T) {
		stream := loadHex(t, "sslv2-hello.client")
		items := sameUnderSplits(t, "client", stream)
		if len(items) < 2 || items[0].Kind != KindSSLv2ClientHello || items[0].Start != 0 {
			t.Fatalf("items %+v", items)
		}
		// The SSLv2 records after the hello are reported one by one, the
		// first being the plaintext CLIENT-MASTER-KEY.
		end := items[0].End
		for i, it := range items[1:] {
			if it.Kind != KindSSLv2Record || it.Start != end {
				t.Errorf("item %d: %+v after one ending at %d", i+1, it, end)
			}
			hdr := int64(3) // the header's length: 2 bytes with the high bit set
			if stream[it.Start]&0x80 != 0 {
				hdr = 2
			}
			end = it.Start + hdr + int64(it.Record.Length)
		}
		if _, ok := SSLv2ClientMasterKeyCipher([]byte(items[1].Body)); !ok {
			t.Errorf("first record after the hello is not a CLIENT-MASTER-KEY: % x", items[1].Body)
		}
		ch, err := ParseSSLv2ClientHello([]byte(items[0].Body))
		if err != nil {
			t.Fatal(err)
		}
		if !ch.SSLv2 || ch.Version != VersionSSL20 || len(ch.CipherSuites)+len(ch.SSLv2Ciphers) == 0 || len(ch.Random) < 16 {
			t.Errorf("hello %+v", ch)
		}
		// 0x010080 is SSL_CK_RC4_128_WITH_MD5.
		if !slices.Contains(ch.SSLv2Ciphers, 0x010080) {
			t.Errorf("SSLv2 ciphers %06x", ch.SSLv2Ciphers)
		}
	})
	t.Run("smtp starttls", func(t *testing.T) {
		c := sameUnderSplits(t, "client", loadHex(t, "smtp-starttls.client"))
		s := sameUnderSplits(t, "server", loadHex(t, "smtp-starttls.server"))
		if c[0].Kind != KindNonTLS || c[0].NonTLS != "STARTTLS-protocol command (EHLO openssl.client.net)" || c[1].HandshakeType != HandshakeTypeClientHello {
			t.Errorf("client items %+v", c[:2])
		}
		if s[0].Kind != KindNonTLS || !strings.HasPrefix(s[0].NonTLS, "SMTP/FTP banner (220 mx.google.com ESMTP") || s[1].HandshakeType != HandshakeTypeServerHello {
			t.Errorf("server items %+v", s[:2])
		}
		if n := strings.Count(s[0].NonTLS, ""); n > 62 {
			t.Errorf("description has %d characters", n)
		}
		var d Decoder
		d.Feed(loadHex(t, "smtp-starttls.server"))
		for _, ok := d.Next(); ok; _, ok = d.Next() {
		}
		if d.Skipped() != s[1].Start-5 {
			t.Errorf("Skipped = %d, want the %d prelude bytes", d.Skipped(), s[1].Start-5)
		}
	})
	t.Run("chrome hello", func(t *testing.T) {
		ch := mustClientHello(t, checkSplits(t, "client", loadHex(t, "chrome-hello.client")))
		if len(ch.Extensions) < 15 || !IsGREASE(uint16(ch.CipherSuites[0])) || !IsGREASE(uint16(ch.Extensions[0].Type)) {
			t.Errorf("%d extensions, first suite %v", len(ch.Extensions), ch.CipherSuites[0])
		}
		if !slices.Contains(ch.KeyShares, 0x6399) || !slices.Contains(ch.OfferedVersions(), VersionTLS13) || slices.ContainsFunc(ch.OfferedVersions(), func(v Version) bool { return IsGREASE(uint16(v)) }) {
			t.Errorf("KeyShares %v versions %v", ch.KeyShares, ch.OfferedVersions())
		}
		if len(ch.Anomalies) != 0 || ch.ServerName == "" || len(ch.ALPN) == 0 {
			t.Errorf("anomalies %q SNI %q ALPN %q", ch.Anomalies, ch.ServerName, ch.ALPN)
		}
	})
}

func TestDHEServerKeyExchange(t *testing.T) {
	s := checkSplits(t, "server", loadHex(t, "dhe.server"))
	sh := mustServerHello(t, s)
	if sh.CipherSuite.KeyExchange() != KeyExchangeDHE {
		t.Fatalf("suite %v", sh.CipherSuite)
	}
	ske, err := ParseServerKeyExchange(findHandshake(s, HandshakeTypeServerKeyExchange, 0), sh.CipherSuite)
	if err != nil {
		t.Fatal(err)
	}
	if ske.DHPrimeBits != 1024 && ske.DHPrimeBits != 2048 || len(ske.PublicKey) == 0 || len(ske.Signature) == 0 {
		t.Errorf("DHE params: prime %d bits, Ys %d bytes, signature %d bytes", ske.DHPrimeBits, len(ske.PublicKey), len(ske.Signature))
	}
	t.Logf("%v: %d-bit prime, scheme %v", sh.CipherSuite, ske.DHPrimeBits, ske.SignatureScheme)
}
