package fingerprint_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// foxioStream is one stream of FoxIO's ja4 tool output (ja4 -J -r -o).
type foxioStream struct {
	Stream  int    `json:"stream"`
	Src     string `json:"src"`
	Dst     string `json:"dst"`
	SrcPort string `json:"srcport"`
	DstPort string `json:"dstport"`
	JA4     string `json:"JA4.1"`
	JA4R    string `json:"JA4_r.1"`
	JA4O    string `json:"JA4_o.1"`
	JA4RO   string `json:"JA4_ro.1"`
	// The second ClientHello of the stream: the one sent after a
	// HelloRetryRequest.
	JA4Retry   string `json:"JA4.2"`
	JA4RRetry  string `json:"JA4_r.2"`
	JA4ORetry  string `json:"JA4_o.2"`
	JA4RORetry string `json:"JA4_ro.2"`
}

// foxioDifferences lists the streams ("file/stream") where this package
// deliberately differs from FoxIO's expected output, with the reason and
// the value each rendering must have here instead. The test fails if the
// reference stops differing, so the list cannot go stale.
var foxioDifferences = map[string]struct {
	why  string
	want fingerprint.JA4Result
}{
	"tls-non-ascii-alpn.pcapng/0": {
		why: "the first ALPN protocol is the bytes 0xba 0xad. The JA4 specification " +
			"(technical_details/JA4.md, ALPN Extension Value) says a non-alphanumeric first or " +
			"last byte is written as the first and last hex digits of the value: \"bd\". FoxIO's " +
			"tools replace each non-ASCII character with '9' instead (\"99\"); FoxIO confirmed the " +
			"specification is the correct method (FoxIO-LLC/ja4 issue #178; issue #326 tracks " +
			"fixing the Python tool). Only the ALPN characters differ; every list and hash matches.",
		want: fingerprint.JA4Result{
			JA4:   "t13d1516bd_8daaf6152771_e5627efa2ab1",
			JA4R:  "t13d1516bd_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
			JA4O:  "t13d1516bd_acb858a92679_8fc3c02244b2",
			JA4RO: "t13d1516bd_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_ff01,0033,002d,0005,4469,000d,0010,0023,001b,002b,0000,0012,000a,0017,000b,0015_0403,0804,0401,0503,0805,0501,0806,0601",
		},
	},
}

// TestJA4AgreesWithFoxIO checks every TLS stream of FoxIO's captures
// against the JA4, JA4_r, JA4_o and JA4_ro that FoxIO's reference tool
// computed for its first ClientHello.
func TestJA4AgreesWithFoxIO(t *testing.T) {
	dir := publicFile("ja4")
	files, err := filepath.Glob(filepath.Join(dir, "expected", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no expected output in %s: %v", dir, err)
	}
	matched, differ, retries := 0, 0, 0
	for _, f := range files {
		capName := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(capName, func(t *testing.T) {
			var streams []foxioStream
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &streams); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			conns := analyse(t, filepath.Join(dir, capName))
			for _, s := range streams {
				if s.JA4 == "" {
					continue // no ClientHello: HTTP, SSH, or a stream seen twice
				}
				key := capName + "/" + strconv.Itoa(s.Stream)
				if s.JA4[0] != fingerprint.TCP {
					// The Python tool's files have no QUIC ('q') stream; the
					// Rust tool's snapshots do (TestQUICJA4AgreesWithFoxIO).
					// DTLS ('d') is not read.
					t.Logf("stream %s skipped: transport %q is not TCP", key, s.JA4[0])
					continue
				}
				c := findConn(t, conns, s)
				if c == nil {
					t.Errorf("stream %s (%s:%s → %s:%s): no connection with a ClientHello", key, s.Src, s.SrcPort, s.Dst, s.DstPort)
					continue
				}
				got := fingerprint.JA4(c.ClientHello, fingerprint.TCP)
				want := fingerprint.JA4Result{JA4: s.JA4, JA4R: s.JA4R, JA4O: s.JA4O, JA4RO: s.JA4RO}
				if d, ok := foxioDifferences[key]; ok {
					if got == want {
						t.Errorf("stream %s: now agrees with FoxIO; remove it from foxioDifferences", key)
					}
					if got != d.want {
						t.Errorf("stream %s:\n got %+v\nwant %+v (documented difference)", key, got, d.want)
					}
					t.Logf("stream %s differs from FoxIO by design: %s", key, d.why)
					differ++
					continue
				}
				if got != want {
					t.Errorf("stream %s:\n got %+v\nwant %+v", key, got, want)
					continue
				}
				matched++
				if s.JA4Retry == "" {
					continue
				}
				want = fingerprint.JA4Result{JA4: s.JA4Retry, JA4R: s.JA4RRetry, JA4O: s.JA4ORetry, JA4RO: s.JA4RORetry}
				switch {
				case c.HelloRetry == nil:
					// tls-sni.pcapng holds only the client's packets: without the
					// HelloRetryRequest, tlsdiag does not take the second
					// ClientHello for a retry (analysis keeps it only after one).
					t.Logf("stream %s: second ClientHello not checked, the capture lacks the HelloRetryRequest", key)
				case c.RetryClientHello == nil:
					t.Errorf("stream %s: FoxIO saw a second ClientHello, tlsdiag no RetryClientHello", key)
				case fingerprint.JA4(c.RetryClientHello, fingerprint.TCP) != want:
					t.Errorf("stream %s, second ClientHello:\n got %+v\nwant %+v", key, fingerprint.JA4(c.RetryClientHello, fingerprint.TCP), want)
				default:
					retries++
				}
			}
		})
	}
	t.Logf("%d streams match FoxIO's JA4, JA4_r, JA4_o and JA4_ro (and %d of them in the ClientHello after a HelloRetryRequest too); %d differ as documented",
		matched, retries, differ)
}

// findConn returns the connection of a FoxIO stream, by its addresses and
// ports. FoxIO names the stream by its first packet, which may come from
// either side.
func findConn(t *testing.T, conns []*analysis.Connection, s foxioStream) *analysis.Connection {
	t.Helper()
	src, err1 := addrPort(s.Src, s.SrcPort)
	dst, err2 := addrPort(s.Dst, s.DstPort)
	if err1 != nil || err2 != nil {
		t.Fatalf("stream %d: bad address: %v %v", s.Stream, err1, err2)
	}
	for _, c := range conns {
		if c.ClientHello == nil {
			continue
		}
		if c.Client == src && c.Server == dst || c.Client == dst && c.Server == src {
			return c
		}
	}
	return nil
}

func addrPort(ip, port string) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}
