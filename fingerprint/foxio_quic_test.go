package fingerprint_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// rustStream is one stream of FoxIO's Rust ja4 tool's snapshot
// (expected-rust/NAME.snap): only the fields compared here.
type rustStream struct {
	transport, src, dst, srcPort, dstPort, ja4 string
}

// readSnap reads the streams of a snapshot: a YAML list of flat maps
// ("- stream: 0", then "  key: value" lines; nested lists skipped).
func readSnap(t *testing.T, path string) []rustStream {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rustStream
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "- stream:") {
			out = append(out, rustStream{})
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok || len(out) == 0 || !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "  -") {
			continue
		}
		s := &out[len(out)-1]
		switch k {
		case "transport":
			s.transport = v
		case "src":
			s.src = v
		case "dst":
			s.dst = v
		case "src_port":
			s.srcPort = v
		case "dst_port":
			s.dstPort = v
		case "ja4":
			s.ja4 = v
		}
	}
	return out
}

// TestQUICJA4AgreesWithFoxIO checks the JA4 of every QUIC stream in the
// Rust tool's snapshots (transport udp, a "q" fingerprint) against the
// QUIC connection tlsdiag finds at the same addresses.
func TestQUICJA4AgreesWithFoxIO(t *testing.T) {
	snaps, err := filepath.Glob(publicFile("ja4", "expected-rust", "*.snap"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no snapshots: %v", err)
	}
	matched := 0
	for _, snap := range snaps {
		capName := strings.TrimSuffix(filepath.Base(snap), ".snap")
		var quic []rustStream
		for _, s := range readSnap(t, snap) {
			if s.transport == "udp" && strings.HasPrefix(s.ja4, "q") {
				quic = append(quic, s)
			}
		}
		if len(quic) == 0 {
			continue
		}
		t.Run(capName, func(t *testing.T) {
			conns := analyse(t, publicFile("ja4", capName))
			for _, s := range quic {
				c := findConn(t, conns, foxioStream{Src: s.src, Dst: s.dst, SrcPort: s.srcPort, DstPort: s.dstPort})
				if c == nil || !c.IsQUIC() {
					t.Errorf("%s:%s → %s:%s: no QUIC connection with a ClientHello", s.src, s.srcPort, s.dst, s.dstPort)
					continue
				}
				if got := fingerprint.JA4(c.ClientHello, fingerprint.QUIC).JA4; got != s.ja4 {
					t.Errorf("%s:%s: JA4 %s, FoxIO %s", s.src, s.srcPort, got, s.ja4)
					continue
				}
				if c.Fingerprints().JA4 != s.ja4 {
					t.Errorf("%s:%s: the record's JA4 %s, FoxIO %s", s.src, s.srcPort, c.Fingerprints().JA4, s.ja4)
					continue
				}
				matched++
			}
		})
	}
	if matched < 3 {
		t.Errorf("only %d QUIC streams compared", matched)
	}
	t.Logf("%d QUIC streams match FoxIO's JA4", matched)
}
