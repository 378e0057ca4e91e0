package tlsparse

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestIsGREASE(t *testing.T) {
	want := map[uint16]bool{}
	for i := 0; i < 16; i++ {
		b := uint16(i)<<4 | 0x0a // RFC 8701, Section 2: {0x?A, 0x?A}
		want[b<<8|b] = true
	}
	n := 0
	for v := 0; v <= 0xffff; v++ {
		if got := IsGREASE(uint16(v)); got != want[uint16(v)] {
			t.Errorf("IsGREASE(0x%04x) = %v", v, got)
		}
		if IsGREASE(uint16(v)) {
			n++
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{ContentTypeHandshake.String(), "handshake"},
		{ContentType(99).String(), "content_type(99)"},
		{VersionSSL30.String(), "SSL 3.0"},
		{VersionTLS10.String(), "TLS 1.0"},
		{VersionTLS13.String(), "TLS 1.3"},
		{Version(0x7f17).String(), "TLS 1.3 draft 23"},
		{Version(0x0a0a).String(), "GREASE 0x0a0a"},
		{Version(0xfefd).String(), "0xFEFD"},
		{CipherSuite(0xc030).String(), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
		{CipherSuite(0x1301).String(), "TLS_AES_128_GCM_SHA256"},
		{CipherSuite(0x5600).String(), "TLS_FALLBACK_SCSV"},
		{CipherSuite(0xc100).String(), "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"},
		{CipherSuite(0x2a2a).String(), "GREASE 0x2a2a"},
		{CipherSuite(0x1399).String(), "0x1399"},
		{NamedGroup(0x11ec).String(), "X25519MLKEM768"},
		{NamedGroup(0x11eb).String(), "SecP256r1MLKEM768"},
		{NamedGroup(0x11ed).String(), "SecP384r1MLKEM1024"},
		{NamedGroup(0x6399).String(), "X25519Kyber768Draft00"},
		{NamedGroup(29).String(), "x25519"},
		{NamedGroup(0xfafa).String(), "GREASE 0xfafa"},
		{SignatureScheme(0x0804).String(), "rsa_pss_rsae_sha256"},
		{SignatureScheme(0x0403).String(), "ecdsa_secp256r1_sha256"},
		{SignatureScheme(0x0905).String(), "mldsa65"},
		{SignatureScheme(0x0202).String(), "0x0202"},
		{ExtServerName.String(), "server_name"},
		{ExtSupportedVersions.String(), "supported_versions"},
		{ExtSupportedGroups.String(), "supported_groups"},
		{ExtSessionTicket.String(), "session_ticket"},
		{ExtensionType(53).String(), "connection_id_deprecated"},
		{ExtECH.String(), "encrypted_client_hello"},
		{ExtensionType(17613).String(), "application_settings"},
		{ExtRenegotiationInfo.String(), "renegotiation_info"},
		{ExtensionType(0x1a1a).String(), "GREASE 0x1a1a"},
		{ExtensionType(0xabcd).String(), "0xABCD"},
		{HandshakeTypeClientHello.String(), "client_hello"},
		{HandshakeTypeServerHelloDone.Title(), "Server Hello Done"},
		{HandshakeTypeCertificateStatus.Title(), "Certificate Status"},
		{HandshakeType(200).String(), "handshake_type(200)"},
		{AlertLevelFatal.String(), "fatal"},
		{AlertCertificateExpired.String(), "certificate_expired"},
		{AlertCertificateExpired.Title(), "Certificate Expired"},
		{AlertUnknownCA.Title(), "Unknown CA"},
		{AlertNoApplicationProtocol.String(), "no_application_protocol"},
		{AlertDescription(200).String(), "alert(200)"},
		{Alert{AlertLevelFatal, AlertHandshakeFailure}.String(), "fatal handshake_failure"},
		{KindSSLv2ClientHello.String(), "sslv2_client_hello"},
		{CipherSuite(0xc02f).KeyExchange().String(), "ECDHE"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// The generated table agrees with crypto/tls on every suite it knows.
func TestCipherSuiteNamesMatchCryptoTLS(t *testing.T) {
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := CipherSuite(cs.ID).String(); got != cs.Name {
			t.Errorf("0x%04x: %q, crypto/tls says %q", cs.ID, got, cs.Name)
		}
	}
}

func TestKeyExchange(t *testing.T) {
	tests := []struct {
		cs   CipherSuite
		want KeyExchange
	}{
		{0xc02f, KeyExchangeECDHE}, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		{0xc02b, KeyExchangeECDHE}, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		{0xc018, KeyExchangeECDHE}, // TLS_ECDH_anon_WITH_AES_128_CBC_SHA
		{0x009e, KeyExchangeDHE},   // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
		{0x0034, KeyExchangeDHE},   // TLS_DH_anon_WITH_AES_128_CBC_SHA
		{0x002f, KeyExchangeRSA},   // TLS_RSA_WITH_AES_128_CBC_SHA
		{0x0003, KeyExchangeRSA},   // TLS_RSA_EXPORT_WITH_RC4_40_MD5
		{0xc004, KeyExchangeECDH},  // TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA
		{0x0030, KeyExchangeDH},    // TLS_DH_DSS_WITH_AES_128_CBC_SHA
		{0x008c, KeyExchangePSK},   // TLS_PSK_WITH_AES_128_CBC_SHA
		{0x0090, KeyExchangeDHEPSK},
		{0xc035, KeyExchangeECDHEPSK},
		{0x1301, KeyExchangeTLS13},
		{0x1303, KeyExchangeTLS13},
		{0xc01d, KeyExchangeOther}, // SRP
		{0x00ff, KeyExchangeOther}, // renegotiation SCSV
		{0x0a0a, KeyExchangeUnknown},
	}
	for _, tt := range tests {
		if got := tt.cs.KeyExchange(); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.cs, got, tt.want)
		}
	}
}

func TestIsTLS13(t *testing.T) {
	for _, tt := range []struct {
		v     Version
		tls13 bool
		draft int
	}{
		{VersionTLS13, true, 0},
		{0x7f12, true, 18},
		{0x7f17, true, 23},
		{0xfb1a, true, 26}, // Facebook's variant of draft 26 (Fizz)
		{0xfb1c, true, 28},
		{0xfa1a, false, 0},
		{VersionGoogleExperiment1, true, 0},
		{VersionGoogleExperiment2, true, 0},
		{0x7e03, false, 0},
		{VersionTLS12, false, 0},
		{VersionSSL30, false, 0},
		{0x7a7a, false, 0}, // GREASE
	} {
		if got := tt.v.IsTLS13(); got != tt.tls13 {
			t.Errorf("%v.IsTLS13() = %v, want %v", tt.v, got, tt.tls13)
		}
		n, ok := tt.v.TLS13Draft()
		if n != tt.draft || ok != (tt.draft != 0) {
			t.Errorf("%v.TLS13Draft() = %d, %v, want %d", tt.v, n, ok, tt.draft)
		}
	}
	for v, want := range map[Version]string{0x7f17: "TLS 1.3 draft 23", 0xfb1a: "TLS 1.3 draft 26 (Facebook)", 0xfa1a: "0xFA1A"} {
		if got := v.String(); got != want {
			t.Errorf("%04x: %q, want %q", uint16(v), got, want)
		}
	}
}

func TestSCSV(t *testing.T) {
	for _, c := range []CipherSuite{SuiteEmptyRenegotiationInfoSCSV, SuiteFallbackSCSV} {
		if !c.IsSCSV() || !strings.HasSuffix(c.String(), "_SCSV") {
			t.Errorf("%v: IsSCSV() = %v", c, c.IsSCSV())
		}
	}
	if CipherSuite(0x1301).IsSCSV() {
		t.Error("TLS_AES_128_GCM_SHA256 is an SCSV")
	}
}
