package fingerprint_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// tsharkDifferences lists, per capture ("dir/file"), why tlsdiag's JA3 or
// JA3S differs from tshark's there. The test fails when a listed capture
// agrees, so that its entry is removed.
var tsharkDifferences = map[string]string{
	"ja4/tls-sni.pcapng": "the capture holds only the client's packets; five connections send a " +
		"second ClientHello (frames 60, 63, 65, 68, 70), in answer to a HelloRetryRequest that is " +
		"not in the capture, and analysis keeps a second ClientHello only after it has seen the " +
		"HelloRetryRequest. Every first ClientHello agrees.",
}

// tsharkDecodeAs gives tshark the dissector for TLS on ports it does not
// take for TLS by itself, so that those captures are compared too.
var tsharkDecodeAs = map[string]string{
	"zeek/https-to-http.pcap":      "tcp.port==80,tls",   // TLS to port 80
	"zeek/ssl-to-http-server.pcap": "tcp.port==80,tls",   // TLS to port 80
	"zeek/irc-starttls.pcap":       "tcp.port==6667,tls", // tshark has no IRC STARTTLS
}

// helloPrint is one hello's fingerprint as tshark or this package writes
// it: the kind ("ja3" or "ja3s"), the full string and the MD5.
type helloPrint struct{ kind, full, hash string }

func (h helloPrint) String() string { return h.kind + " " + h.hash + " " + h.full }

// TestJA3AgreesWithTshark checks, on every public capture, that the JA3 of
// every ClientHello and the JA3S of every ServerHello (HelloRetryRequests
// included) are the ones tshark computes (tls.handshake.ja3, ja3_full,
// ja3s, ja3s_full) in the same frame. The connection record says in which
// frame each hello ended, as tshark does; analysis's own tests check that
// those frames are tshark's.
func TestJA3AgreesWithTshark(t *testing.T) {
	tsharktest.Path(t, "the JA3 of every hello is compared with its")
	dir := publicPcaps
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.pcap*"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	var ja3, ja3s atomic.Int64
	t.Cleanup(func() { t.Logf("agree with tshark: %d JA3, %d JA3S", ja3.Load(), ja3s.Load()) })
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			t.Parallel() // tshark takes a quarter of a second per file
			want := tsharkJA3(t, f, tsharkDecodeAs[name])
			got := ourJA3(analyse(t, f))
			diff, same := comparePrints(want, got)
			ja3.Add(int64(same["ja3"]))
			ja3s.Add(int64(same["ja3s"]))
			if why, ok := tsharkDifferences[name]; ok {
				if len(diff) == 0 {
					t.Errorf("now agrees with tshark; remove it from tsharkDifferences")
				}
				t.Logf("differs from tshark (%s):\n%s", why, strings.Join(diff, "\n"))
				return
			}
			if len(diff) > 0 {
				t.Errorf("JA3/JA3S differ from tshark:\n%s", strings.Join(diff, "\n"))
			}
		})
	}
}

// tsharkJA3 returns, per frame number, the JA3 and JA3S tshark computed
// over TCP.
func tsharkJA3(t *testing.T, path, decodeAs string) map[int64][]helloPrint {
	t.Helper()
	args := []string{"-n", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE",
		"-Y", "tls.handshake.ja3 || tls.handshake.ja3s",
		"-T", "fields", "-E", "aggregator=;", "-e", "frame.number",
		"-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3",
		"-e", "tls.handshake.ja3s_full", "-e", "tls.handshake.ja3s"}
	if decodeAs != "" {
		args = append(args, "-d", decodeAs)
	}
	out := tsharktest.Output(t, args...)
	m := map[int64][]helloPrint{}
	for line := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			if line != "" {
				t.Fatalf("tshark line %q: %d fields, want 5", line, len(f))
			}
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark line %q: %v", line, err)
		}
		for i, kind := range []string{"ja3", "ja3s"} {
			fulls, hashes := split(f[1+2*i]), split(f[2+2*i])
			if len(fulls) != len(hashes) {
				t.Fatalf("tshark line %q: %d %s strings, %d hashes", line, len(fulls), kind, len(hashes))
			}
			for j := range fulls {
				m[n] = append(m[n], helloPrint{kind, fulls[j], hashes[j]})
			}
		}
	}
	return m
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// ourJA3 returns, per frame number, the JA3 and JA3S of every hello in the
// connection records.
func ourJA3(conns []*analysis.Connection) map[int64][]helloPrint {
	m := map[int64][]helloPrint{}
	add := func(frame int64, kind, full, hash string) {
		if full != "" {
			m[frame] = append(m[frame], helloPrint{kind, full, hash})
		}
	}
	for _, c := range conns {
		full, hash := fingerprint.JA3(c.ClientHello)
		add(c.ClientHelloFrame.Number, "ja3", full, hash)
		full, hash = fingerprint.JA3(c.RetryClientHello)
		add(c.RetryClientHelloFrame.Number, "ja3", full, hash)
		full, hash = fingerprint.JA3S(c.HelloRetry)
		add(c.HelloRetryFrame.Number, "ja3s", full, hash)
		if c.ServerHelloSSLv2 == nil { // an SSLv2 SERVER-HELLO has no JA3S
			full, hash = fingerprint.JA3S(c.ServerHello)
			add(c.ServerHelloFrame.Number, "ja3s", full, hash)
		}
	}
	return m
}

// comparePrints lists the frames where want and got differ, and counts by
// kind the fingerprints of the frames where they agree.
func comparePrints(want, got map[int64][]helloPrint) (diff []string, same map[string]int) {
	frames := tsharktest.Frames(want, got)
	cmp := func(a, b helloPrint) int { return strings.Compare(a.String(), b.String()) }
	same = map[string]int{}
	for _, n := range frames {
		w, g := slices.Clone(want[n]), slices.Clone(got[n])
		slices.SortFunc(w, cmp)
		slices.SortFunc(g, cmp)
		if !slices.Equal(w, g) {
			diff = append(diff, fmt.Sprintf("frame %d:\n  tshark  %v\n  tlsdiag %v", n, w, g))
			continue
		}
		for _, p := range g {
			same[p.kind]++
		}
	}
	return diff, same
}
