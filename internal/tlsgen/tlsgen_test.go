//go:debug cryptocustomrand=1

package tlsgen

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

func gen(t *testing.T, cfg Config) ([]byte, *Truth) {
	t.Helper()
	var b bytes.Buffer
	truth, err := Generate(&b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if int64(b.Len()) != truth.Bytes {
		t.Errorf("wrote %d bytes, truth says %d", b.Len(), truth.Bytes)
	}
	return b.Bytes(), truth
}

// TestDeterministic checks that a seed gives the same capture every time
// (real handshakes included) and another seed another capture.
func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 5, Size: 1e6, MaxBulk: 128 << 10}
	a, ta := gen(t, cfg)
	b, _ := gen(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatalf("two captures of seed 5 differ (%d and %d bytes)", len(a), len(b))
	}
	cfg.Seed = 6
	c, _ := gen(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 5 and 6 gave the same capture")
	}
	if ta.Bytes < cfg.Size || ta.Bytes > cfg.Size*3/2 {
		t.Errorf("asked for %d bytes, got %d", cfg.Size, ta.Bytes)
	}
}

// TestTshark reads a generated capture with tshark, an independent
// dissector: every checksum must be right, every connection a TCP stream
// of its own, every ClientHello where the truth says, with its SNI, and the
// only missing segments those of connections whose start is not captured.
func TestTshark(t *testing.T) {
	tsharktest.Path(t, "it checks the generated captures")
	data, truth := gen(t, Config{Seed: 9, Size: 3e6, MaxBulk: 256 << 10})
	path := filepath.Join(t.TempDir(), "gen.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := tsharktest.Output(t, "-r", path, "-n",
		"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-o", "tcp.reassemble_out_of_order:TRUE",
		"-T", "fields", "-E", "separator=/t",
		"-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
		"-e", "ip.checksum.status", "-e", "tcp.checksum.status",
		"-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name",
		"-e", "tcp.analysis.lost_segment")
	streams := map[string]bool{}
	hellos := map[string]string{} // client address → SNI of its ClientHello
	lost := 0
	frames := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 9 {
			t.Fatalf("short tshark line %q", sc.Text())
		}
		frames++
		streams[f[0]] = true
		if f[4] == "0" || f[5] == "0" {
			t.Errorf("frame %d: bad checksum (ip %s, tcp %s)", frames, f[4], f[5])
		}
		src := f[1] + ":" + f[3]
		if f[2] != "" {
			src = "[" + f[2] + "]:" + f[3]
		}
		if strings.Split(f[6], ",")[0] == "1" {
			hellos[src] = f[7]
		}
		if f[8] != "" {
			lost++
		}
	}
	if int64(frames) != truth.Frames {
		t.Errorf("tshark read %d frames, truth says %d", frames, truth.Frames)
	}
	if len(streams) != len(truth.Connections) {
		t.Errorf("tshark sees %d TCP streams, truth has %d connections", len(streams), len(truth.Connections))
	}
	partial := 0
	for _, c := range truth.Connections {
		if c.Partial {
			partial++
		}
		sni, ok := hellos[c.Client]
		switch {
		case c.SNI != "" && !ok:
			t.Errorf("%s (%s): tshark sees no ClientHello", c.Client, c.Scenario)
		case c.SNI != "" && sni != c.SNI:
			t.Errorf("%s (%s): tshark sees SNI %q, truth %q", c.Client, c.Scenario, sni, c.SNI)
		}
	}
	if lost > partial {
		t.Errorf("tshark sees %d lost segments, but only %d connections start uncaptured", lost, partial)
	}
	t.Logf("%d frames, %d connections, %d ClientHellos, %d partial", frames, len(streams), len(hellos), partial)
}

// TestPair pairs a report's connections with the truth by their ends:
// in any order, each truth connection once, the ends of a connection whose
// roles cannot be known either way round, and nothing for ends the truth
// does not have.
func TestPair(t *testing.T) {
	want := []Conn{
		{Client: "10.0.0.1:1000", Server: "10.0.0.9:443"},
		{Client: "10.0.0.2:1000", Server: "10.0.0.9:443"},
		{Client: "10.0.0.3:1000", Server: "10.0.0.9:443", RolesUnknown: true},
		{Client: "10.0.0.1:1000", Server: "10.0.0.9:443"}, // the port used again
	}
	got := [][2]string{
		{"10.0.0.2:1000", "10.0.0.9:443"},
		{"10.0.0.1:1000", "10.0.0.9:443"},
		{"10.0.0.9:443", "10.0.0.3:1000"},
		{"10.0.0.1:1000", "10.0.0.9:443"},
		{"10.0.0.4:1000", "10.0.0.9:443"},
		{"10.0.0.9:443", "10.0.0.2:1000"}, // roles known: not this way round
	}
	pair := Pair(want, len(got), func(i int) (string, string) { return got[i][0], got[i][1] })
	var idx []int
	for _, w := range pair {
		i := -1
		for j := range want {
			if w == &want[j] {
				i = j
			}
		}
		idx = append(idx, i)
	}
	if w := []int{1, 0, 2, 3, -1, -1}; !slices.Equal(idx, w) {
		t.Errorf("Pair gave connections %v of the truth, want %v", idx, w)
	}
}
