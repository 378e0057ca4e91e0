package fingerprint_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func md5Of(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestJA3 checks JA3 and JA3S strings on small hellos, empty lists
// included.
func TestJA3(t *testing.T) {
	ext := func(types ...uint16) []tlsparse.Extension {
		var es []tlsparse.Extension
		for _, e := range types {
			es = append(es, tlsparse.Extension{Type: tlsparse.ExtensionType(e)})
		}
		return es
	}
	clients := []struct {
		name string
		ch   *tlsparse.ClientHello
		want string
	}{
		{"no extensions", &tlsparse.ClientHello{Version: 0x0300, CipherSuites: []tlsparse.CipherSuite{0x0039, 0x00ff}}, "768,57-255,,,"},
		{"no ciphers", &tlsparse.ClientHello{Version: 0x0303, Extensions: ext(0xff01)}, "771,,65281,,"},
		{
			"every list, legacy version even with supported_versions",
			&tlsparse.ClientHello{
				Version: 0x0303, CipherSuites: []tlsparse.CipherSuite{0x1301, 0xc02b},
				Extensions: ext(0x0000, 0x000a, 0x000b, 0x002b), SupportedGroups: []tlsparse.NamedGroup{0x001d, 0x11ec},
				ECPointFormats: []uint8{0, 1, 2}, SupportedVersions: []tlsparse.Version{0x0304},
			},
			"771,4865-49195,0-10-11-43,29-4588,0-1-2",
		},
	}
	for _, tt := range clients {
		full, hash := fingerprint.JA3(tt.ch)
		if full != tt.want || hash != md5Of(tt.want) {
			t.Errorf("JA3 %s: got %s %s, want %s %s", tt.name, hash, full, md5Of(tt.want), tt.want)
		}
	}
	servers := []struct {
		name string
		sh   *tlsparse.ServerHello
		want string
	}{
		{"no extensions", &tlsparse.ServerHello{Version: 0x0302, CipherSuite: 0x0035}, "770,53,"},
		{"TLS 1.3 keeps the legacy version", &tlsparse.ServerHello{Version: 0x0303, CipherSuite: 0x1301, Extensions: ext(0x0033, 0x002b), SupportedVersion: 0x0304}, "771,4865,51-43"},
		{"GREASE left out", &tlsparse.ServerHello{Version: 0x0303, CipherSuite: 0xc02f, Extensions: ext(0xff01, 0x1a1a, 0x0000)}, "771,49199,65281-0"},
	}
	for _, tt := range servers {
		full, hash := fingerprint.JA3S(tt.sh)
		if full != tt.want || hash != md5Of(tt.want) {
			t.Errorf("JA3S %s: got %s %s, want %s %s", tt.name, hash, full, md5Of(tt.want), tt.want)
		}
	}
}
