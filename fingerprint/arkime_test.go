package fingerprint_test

import (
	"encoding/json"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// arkimeSession is the part of Arkime's expected session document that
// names the connection and holds its fingerprints.
type arkimeSession struct {
	Body struct {
		Source struct {
			IP   string `json:"ip"`
			Port uint16 `json:"port"`
		} `json:"source"`
		Destination struct {
			IP   string `json:"ip"`
			Port uint16 `json:"port"`
		} `json:"destination"`
		TLS struct {
			JA3        []string `json:"ja3"`
			JA3String  []string `json:"ja3string"`
			JA3S       []string `json:"ja3s"`
			JA3SString []string `json:"ja3sstring"`
			JA4        []string `json:"ja4"`
			JA4R       []string `json:"ja4_r"`
		} `json:"tls"`
	} `json:"body"`
}

// arkimeDifferences lists the fingerprints ("capture fingerprint") that
// tlsdiag does not reproduce, with the reason. The test fails when one
// starts to agree, so that the entry is removed.
var arkimeDifferences = map[string]string{}

// TestFingerprintsAgreeWithArkime checks JA3, JA3S, JA4 and JA4_r against
// Arkime's expected sessions for its captures.
func TestFingerprintsAgreeWithArkime(t *testing.T) {
	dir := publicFile("arkime")
	files, err := filepath.Glob(filepath.Join(dir, "expected", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no expected sessions in %s: %v", dir, err)
	}
	var ja3s, ja3ss, ja4s int
	for _, f := range files {
		capName := strings.TrimSuffix(filepath.Base(f), ".json") + ".pcap"
		t.Run(capName, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Sessions []arkimeSession `json:"sessions3"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			conns := analyse(t, filepath.Join(dir, capName))
			for _, s := range doc.Sessions {
				b := s.Body
				tls := b.TLS
				if len(tls.JA3)+len(tls.JA3S)+len(tls.JA4) == 0 {
					continue // not TLS to Arkime (DNS, or TLS it did not find)
				}
				client := netip.AddrPortFrom(netip.MustParseAddr(b.Source.IP), b.Source.Port)
				server := netip.AddrPortFrom(netip.MustParseAddr(b.Destination.IP), b.Destination.Port)
				var found bool
				for _, c := range conns {
					if c.Client != client || c.Server != server {
						continue
					}
					found = true
					if len(tls.JA3) > 0 {
						full, hash := fingerprint.JA3(c.ClientHello)
						if full != tls.JA3String[0] || hash != tls.JA3[0] {
							t.Errorf("%v: JA3\n got %s %s\nwant %s %s", client, hash, full, tls.JA3[0], tls.JA3String[0])
						} else {
							ja3s++
						}
					}
					if len(tls.JA3S) > 0 {
						full, hash := fingerprint.JA3S(c.ServerHello)
						if why, ok := arkimeDifferences[capName+" JA3S"]; ok {
							if full == tls.JA3SString[0] {
								t.Errorf("%v: JA3S now agrees with Arkime; remove it from arkimeDifferences", client)
							}
							t.Logf("%v: JA3S differs from Arkime: %s", client, why)
						} else if full != tls.JA3SString[0] || hash != tls.JA3S[0] {
							t.Errorf("%v: JA3S\n got %s %s\nwant %s %s", client, hash, full, tls.JA3S[0], tls.JA3SString[0])
						} else {
							ja3ss++
						}
					}
					if len(tls.JA4) > 0 {
						got := fingerprint.JA4(c.ClientHello, fingerprint.TCP)
						if got.JA4 != tls.JA4[0] || got.JA4R != tls.JA4R[0] {
							t.Errorf("%v: JA4\n got %s %s\nwant %s %s", client, got.JA4, got.JA4R, tls.JA4[0], tls.JA4R[0])
						} else {
							ja4s++
						}
					}
				}
				if !found {
					t.Errorf("no connection %v → %v", client, server)
				}
			}
		})
	}
	t.Logf("agree with Arkime: %d JA3, %d JA3S, %d JA4 (with JA4_r)", ja3s, ja3ss, ja4s)
}
