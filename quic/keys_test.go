package quic

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// vectors reads testdata/rfc-vectors.txt: the test vectors of RFC 9001
// and RFC 9369, Appendix A.
func vectors(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/rfc-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, h, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	return out
}

var rfcDCID = hexBytes("8394c8f03e515708")

// hexVector returns one vector of testdata/rfc-vectors.txt, for fuzz seeds.
func hexVector(name string) []byte {
	b, err := os.ReadFile("testdata/rfc-vectors.txt")
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if n, h, ok := strings.Cut(line, " "); ok && n == name {
			v, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
			if err != nil {
				panic(err)
			}
			return v
		}
	}
	panic("no vector " + name)
}

// TestInitialSecrets checks the secrets and keys of RFC 9001, Appendix
// A.1, and RFC 9369, Appendix A.1.
func TestInitialSecrets(t *testing.T) {
	tests := []struct {
		v              Version
		client, server string
		ckey, civ      string
		chp            string
	}{
		{Version1, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
			"3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
			"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{Version2, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
			"0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
			"8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
	}
	for _, tt := range tests {
		t.Run(tt.v.String(), func(t *testing.T) {
			cs, ss, err := InitialSecrets(tt.v, rfcDCID)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(cs) != tt.client || hex.EncodeToString(ss) != tt.server {
				t.Errorf("secrets %x %x, want %s %s", cs, ss, tt.client, tt.server)
			}
			p := params(tt.v)
			if k := hkdfExpandLabel(Suite(SuiteAES128GCM).hash(), cs, p.keyLabel, 16); hex.EncodeToString(k) != tt.ckey {
				t.Errorf("client key %x, want %s", k, tt.ckey)
			}
			if iv := hkdfExpandLabel(Suite(SuiteAES128GCM).hash(), cs, p.ivLabel, 12); hex.EncodeToString(iv) != tt.civ {
				t.Errorf("client iv %x, want %s", iv, tt.civ)
			}
			if hp := hkdfExpandLabel(Suite(SuiteAES128GCM).hash(), cs, p.hpLabel, 16); hex.EncodeToString(hp) != tt.chp {
				t.Errorf("client hp %x, want %s", hp, tt.chp)
			}
		})
	}
}

// TestRFCInitialPackets decrypts the protected Initial packets of the
// appendices and compares the frames with the plaintext given there.
func TestRFCInitialPackets(t *testing.T) {
	vs := vectors(t)
	for _, side := range []string{"client", "server"} {
		for _, v := range []string{"v1", "v2"} {
			name := side + "-initial-" + v
			t.Run(name, func(t *testing.T) {
				pkt, plain := vs[name+"-packet"], vs[name+"-plaintext"]
				if pkt == nil || plain == nil {
					t.Fatalf("vector %s missing", name)
				}
				h, size, err := ParseHeader(pkt, 0)
				if err != nil {
					t.Fatal(err)
				}
				if h.Type != PacketInitial || size != len(pkt) {
					t.Fatalf("type %v size %d of %d", h.Type, size, len(pkt))
				}
				ck, sk, err := InitialKeys(h.Version, rfcDCID)
				if err != nil {
					t.Fatal(err)
				}
				k, wantPN := ck, uint64(2)
				if side == "server" {
					k, wantPN = sk, 1
				}
				pn, payload, err := Unprotect(bytes.Clone(pkt), &h, k, -1)
				if err != nil {
					t.Fatal(err)
				}
				if pn != wantPN {
					t.Errorf("packet number %d, want %d", pn, wantPN)
				}
				// The client's packet is padded to 1200 bytes.
				if !bytes.Equal(bytes.TrimRight(payload, "\x00"), bytes.TrimRight(plain, "\x00")) {
					t.Errorf("payload\n%x\nwant\n%x", payload, plain)
				}
				// The other side's keys must not open it.
				other := sk
				if side == "server" {
					other = ck
				}
				if _, _, err := Unprotect(bytes.Clone(pkt), &h, other, -1); !errors.Is(err, ErrDecryption) {
					t.Errorf("opened with the wrong keys: %v", err)
				}
			})
		}
	}
}

func TestRetryTag(t *testing.T) {
	vs := vectors(t)
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			pkt := vs["retry-"+v]
			h, _, err := ParseHeader(pkt, 0)
			if err != nil {
				t.Fatal(err)
			}
			if h.Type != PacketRetry || string(h.Token) != "token" {
				t.Fatalf("type %v token %q", h.Type, h.Token)
			}
			if !RetryTagValid(h.Version, rfcDCID, pkt) {
				t.Error("valid tag refused")
			}
			bad := bytes.Clone(pkt)
			bad[len(bad)-1] ^= 1
			if RetryTagValid(h.Version, rfcDCID, bad) {
				t.Error("altered tag accepted")
			}
			if RetryTagValid(h.Version, rfcDCID[1:], pkt) {
				t.Error("tag accepted for another connection ID")
			}
		})
	}
}

// TestPacketNumber is RFC 9000, Appendix A.3's example.
func TestPacketNumber(t *testing.T) {
	if got := decodePacketNumber(0xa82f30ea, 0x9b32, 16); got != 0xa82f9b32 {
		t.Errorf("got %x", got)
	}
	if got := decodePacketNumber(-1, 0, 8); got != 0 {
		t.Errorf("first packet: got %d", got)
	}
}
