package capture

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

var update = flag.Bool("update", false, "update .golden files")

// testCaptures are the real captures made by testdata/make-captures.sh.
func testCaptures(t *testing.T) []string {
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz"} {
		m, err := filepath.Glob(filepath.Join("testdata", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 8 {
		t.Fatalf("found %d captures in testdata; run testdata/make-captures.sh", len(files))
	}
	slices.Sort(files)
	return files
}

// runFile runs one capture file through the assembler into a recorder.
func runFile(t testing.TB, path string) (*recorder, Stats) {
	t.Helper()
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := newRecorder(t)
	st, err := Run(context.Background(), f, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rec, st
}

func runBytes(t testing.TB, name string, b []byte) (*recorder, Stats) {
	t.Helper()
	f, err := NewReader(name, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t)
	st, err := Run(context.Background(), f, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rec, st
}

// summary is a deterministic text digest of what the assembler reported.
func summary(rec *recorder, st Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "frames %d segments %d non-ip %d non-tcp %d truncated %d malformed %d\n",
		st.Frames, st.Segments, st.NonIP, st.NonTCP, st.Truncated, st.Malformed)
	fmt.Fprintf(&b, "connections %d payload %d delivered %d gaps %d/%d retransmissions %d ooo %d conflicts %d after-close %d\n",
		st.ConnsOpened, st.PayloadBytes, st.DeliveredBytes, st.Gaps, st.GapBytes, st.Retransmissions, st.OutOfOrderSegments, st.Conflicts, st.AfterClose)
	for i, s := range rec.streams {
		fmt.Fprintf(&b, "conn %d %s -> %s known=%v first=#%d close=%s last=#%d\n",
			i+1, s.conn.Client, s.conn.Server, s.conn.ClientKnown, s.conn.First.Number, s.reason, s.last.Number)
		for d := range 2 {
			dir := Direction(d)
			sum := sha256.Sum256(s.data[dir].Bytes())
			fmt.Fprintf(&b, "  %s %d bytes in %d calls sha256:%x gaps [%s]\n", dir, s.data[dir].Len(), len(s.chunks[dir]), sum[:8], s.gaps(dir))
		}
		var evs []string
		for _, e := range s.events {
			evs = append(evs, fmt.Sprintf("%s/%s@%d", e.Kind, e.Dir, e.Frame.Number))
		}
		fmt.Fprintf(&b, "  events %s\n", strings.Join(evs, " "))
	}
	return b.String()
}

func TestRealCapturesGolden(t *testing.T) {
	for _, path := range testCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			rec, st := runFile(t, path)
			got := summary(rec, st)
			golden := strings.TrimSuffix(path, ".gz") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("summary differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestRealCaptureFacts checks what the captures were made to show, so that
// a regenerated golden file cannot quietly lose it.
func TestRealCaptureFacts(t *testing.T) {
	t.Run("ClientHello spans segments at MTU 576", func(t *testing.T) {
		rec, _ := runFile(t, "testdata/veth576-tls13-go.pcap")
		s := rec.only()
		c := s.data[ClientToServer].Bytes()
		if len(c) < 5 || c[0] != 0x16 {
			t.Fatalf("client stream does not start with a TLS handshake record: % x", c[:min(len(c), 5)])
		}
		recLen := 5 + int(c[3])<<8 + int(c[4])
		n := 0
		for _, ch := range s.chunks[ClientToServer] {
			if ch.off < int64(recLen) {
				n++
			}
		}
		if n < 2 || !s.conn.ClientKnown || s.conn.Client.Port() == 44304 {
			t.Errorf("ClientHello record of %d bytes in %d frames (known %v client %v), want ≥2 frames and a known client", recLen, n, s.conn.ClientKnown, s.conn.Client)
		}
	})
	t.Run("mid-stream capture", func(t *testing.T) {
		rec, _ := runFile(t, "testdata/midstream.pcap")
		s := rec.only()
		if s.conn.ClientKnown || len(s.events) == 0 || s.events[0].Kind == EventSYN || s.conn.Server.Port() != 44304 {
			t.Errorf("conn %+v events %s: want an unknown client (the first sender), no SYN", s.conn, s.kinds())
		}
		full, _ := runFile(t, "testdata/veth576-tls13-go.pcap")
		if !bytes.Equal(s.data[ServerToClient].Bytes(), full.only().data[ServerToClient].Bytes()) {
			t.Error("server stream differs from the full capture's")
		}
	})
	t.Run("two interfaces, two link types", func(t *testing.T) {
		rec, st := runFile(t, "testdata/two-interfaces.pcapng")
		a, sa := runFile(t, "testdata/lo-tls12-openssl.pcap")
		b, sb := runFile(t, "testdata/any-sll2-tls13-go.pcap")
		if len(rec.streams) != 2 || st.Frames != sa.Frames+sb.Frames {
			t.Fatalf("%d connections, %d frames", len(rec.streams), st.Frames)
		}
		for i, want := range []*recStream{a.only(), b.only()} {
			got := rec.streams[i]
			for d := range 2 {
				if !bytes.Equal(got.data[d].Bytes(), want.data[d].Bytes()) {
					t.Errorf("connection %d %s differs from the single-interface capture", i, Direction(d))
				}
			}
		}
	})
	t.Run("gzip is transparent", func(t *testing.T) {
		a, sa := runFile(t, "testdata/veth576-tls12-openssl.pcap")
		b, sb := runFile(t, "testdata/veth576-tls12-openssl.pcap.gz")
		if summary(a, sa) != summary(b, sb) {
			t.Error("gzip and plain differ")
		}
	})
}

// tshark runs tshark on a capture, skipping the test when tshark is not
// installed. Its answers are cached under the user cache directory, keyed
// by tshark's version, the arguments and the capture's contents: tshark
// spends a quarter of a second starting, and there are a hundred shared
// captures. The cache holds only the reference's answers, never ours.
func tshark(t testing.TB, path string, args ...string) string {
	t.Helper()
	bin := tsharktest.Path(t, "the comparison with Wireshark needs it")
	tsharkVersionOnce.Do(func() {
		out, err := exec.Command(bin, "--version").Output()
		if err == nil {
			tsharkVersion, _, _ = strings.Cut(string(out), "\n")
		}
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%q\n", tsharkVersion, args)
	h.Write(data)
	var cached string
	if dir, err := os.UserCacheDir(); err == nil && tsharkVersion != "" {
		cached = filepath.Join(dir, "tlsdiag-test", "tshark", hex.EncodeToString(h.Sum(nil)))
		if out, err := os.ReadFile(cached); err == nil {
			return string(out)
		}
	}
	cmd := exec.Command(bin, append([]string{"-r", path}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s %s: %v\n%s", path, strings.Join(args, " "), err, stderr.String())
	}
	if cached != "" && os.MkdirAll(filepath.Dir(cached), 0o755) == nil {
		tmp := cached + ".tmp" + strconv.Itoa(os.Getpid())
		if os.WriteFile(tmp, out, 0o644) == nil {
			os.Rename(tmp, cached)
		}
	}
	return string(out)
}

var (
	tsharkVersionOnce sync.Once
	tsharkVersion     string
)

// endpointPair is a 4-tuple in a fixed order (lower endpoint first).
type endpointPair [2]netip.AddrPort

func pairOf(a, b netip.AddrPort) (endpointPair, bool) {
	if a.Compare(b) <= 0 {
		return endpointPair{a, b}, false
	}
	return endpointPair{b, a}, true
}

// wiresharkView is what tshark says of a capture: its frame count and, per
// 4-tuple, the bytes each endpoint sent (all of its streams in order).
type wiresharkView struct {
	frames int
	bytes  map[endpointPair]*[2][]byte
}

// tsharkView runs tshark once: the tcp.stream field of every frame, then
// Follow TCP Stream (raw) for streams 0…n-1. n is a guess from our own
// connection count; tshark runs again if it numbered more streams.
func tsharkView(t testing.TB, path string, n int) wiresharkView {
	for {
		args := []string{"-n", "-T", "fields", "-e", "tcp.stream"}
		for i := range n {
			args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", i))
		}
		v, streams := parseTshark(t, tshark(t, path, args...))
		if streams <= n {
			return v
		}
		n = streams
	}
}

// parseTshark parses tsharkView's output and returns the number of streams
// tshark numbered.
func parseTshark(t testing.TB, out string) (wiresharkView, int) {
	v := wiresharkView{bytes: make(map[endpointPair]*[2][]byte)}
	streams := 0
	var nodes [2]netip.AddrPort
	inFollow := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if !inFollow && strings.HasPrefix(line, "===") && v.frames > 0 {
			v.frames-- // the blank line tshark prints before the first section
		}
		if !inFollow && !strings.HasPrefix(line, "===") {
			v.frames++
			if f := strings.TrimSpace(line); f != "" {
				// A frame can show several values (ICMP quoting TCP).
				n, err := strconv.Atoi(strings.Split(f, ",")[0])
				if err != nil {
					t.Fatalf("tcp.stream %q", f)
				}
				streams = max(streams, n+1)
			}
			continue
		}
		inFollow = true
		switch {
		case strings.HasPrefix(line, "Node 0: "), strings.HasPrefix(line, "Node 1: "):
			nodes[line[5]-'0'] = netip.AddrPort{}
			if a := line[len("Node 0: "):]; a != ":0" { // a stream number with no TCP
				ap, err := netip.ParseAddrPort(a)
				if err != nil {
					t.Fatalf("tshark node %q: %v", line, err)
				}
				nodes[line[5]-'0'] = ap
			}
		case line == "" || strings.HasPrefix(line, "===") || strings.HasPrefix(line, "Follow:") || strings.HasPrefix(line, "Filter:"):
		default:
			from := 0
			if strings.HasPrefix(line, "\t") {
				from = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil || !nodes[0].IsValid() {
				t.Fatalf("tshark follow line %q (nodes %v): %v", line, nodes, err)
			}
			p, swapped := pairOf(nodes[0], nodes[1])
			if v.bytes[p] == nil {
				v.bytes[p] = new([2][]byte)
			}
			if swapped {
				from = 1 - from
			}
			v.bytes[p][from] = append(v.bytes[p][from], b...)
		}
	}
	return v, streams
}

// ourView is the same digest from the assembler's output: per 4-tuple, the
// bytes each endpoint sent, and the gap bytes.
func ourView(rec *recorder) (map[endpointPair]*[2][]byte, map[endpointPair]*[2]int) {
	bs := make(map[endpointPair]*[2][]byte)
	gaps := make(map[endpointPair]*[2]int)
	for _, s := range rec.streams {
		p, swapped := pairOf(s.conn.Client, s.conn.Server)
		if bs[p] == nil {
			bs[p], gaps[p] = new([2][]byte), new([2]int)
		}
		for d := range 2 {
			i := d
			if swapped {
				i = 1 - d
			}
			bs[p][i] = append(bs[p][i], s.data[d].Bytes()...)
			for _, c := range s.chunks[d] {
				if c.gap {
					gaps[p][i] += c.n
				}
			}
		}
	}
	return bs, gaps
}

// compareWithWireshark checks frame numbering and, for every 4-tuple, that
// the bytes delivered are the bytes Wireshark's Follow TCP Stream shows.
// Where the assembler reported gaps, Wireshark shows the bytes that came
// after a hole in its own way; only the lengths are compared then: ours
// plus the gap bytes must cover Wireshark's.
func compareWithWireshark(t *testing.T, path string, rec *recorder, st Stats) {
	t.Helper()
	ws := tsharkView(t, path, int(st.ConnsOpened)+4)
	if int64(ws.frames) != st.Frames {
		t.Errorf("%d frames, tshark counts %d", st.Frames, ws.frames)
	}
	ours, gaps := ourView(rec)
	var keys []endpointPair
	for p := range ws.bytes {
		keys = append(keys, p)
	}
	for p := range ours {
		if _, ok := ws.bytes[p]; !ok {
			keys = append(keys, p)
		}
	}
	slices.SortFunc(keys, func(a, b endpointPair) int {
		if c := a[0].Compare(b[0]); c != 0 {
			return c
		}
		return a[1].Compare(b[1])
	})
	for _, p := range keys {
		w, o, g := ws.bytes[p], ours[p], gaps[p]
		if w == nil {
			w = new([2][]byte)
		}
		if o == nil {
			o, g = new([2][]byte), new([2]int)
		}
		for d := range 2 {
			if g[d] == 0 {
				if !bytes.Equal(o[d], w[d]) {
					t.Errorf("%v→%v: %d bytes, Wireshark follows %d; first difference at %d", p[d], p[1-d], len(o[d]), len(w[d]), firstDiff(o[d], w[d]))
				}
				continue
			}
			t.Logf("%v→%v: %d bytes + %d gap bytes, Wireshark follows %d: compared by length", p[d], p[1-d], len(o[d]), g[d], len(w[d]))
			if len(o[d]) > len(w[d]) || len(o[d])+g[d] < len(w[d]) {
				t.Errorf("%v→%v: %d bytes + %d gap bytes, Wireshark follows %d", p[d], p[1-d], len(o[d]), g[d], len(w[d]))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRealCapturesMatchWireshark(t *testing.T) {
	for _, path := range testCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			rec, st := runFile(t, path)
			compareWithWireshark(t, path, rec, st)
		})
	}
}

// publicPcaps is the directory of public captures (from Zeek, FoxIO's JA4,
// ssldump and Arkime) used for conformance tests; its README.md says where
// each comes from.
var publicPcaps = filepath.Join("..", "testdata", "public")

// publicCaptures lists the capture files under publicPcaps.
func publicCaptures(t testing.TB) []string {
	t.Helper()
	dir := publicPcaps
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := d.Name()
		if !d.IsDir() && (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") || strings.HasSuffix(n, ".pcap.gz")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no captures under %s", dir)
	}
	return files
}

func TestPublicCaptures(t *testing.T) {
	for _, path := range publicCaptures(t) {
		name := strings.TrimPrefix(path, publicPcaps+string(filepath.Separator))
		t.Run(name, func(t *testing.T) {
			t.Parallel() // tshark takes a quarter of a second a file
			rec, st := runFile(t, path)
			if st.Frames == 0 {
				t.Error("no frames")
			}
			compareWithWireshark(t, path, rec, st)
		})
	}
}

// frameRec is one frame of a capture kept in memory for rewriting.
type frameRec struct {
	ci   gopacket.CaptureInfo
	data []byte
	seg  *Segment // nil unless a TCP segment
}

func readFrames(t testing.TB, path string) ([]frameRec, layers.LinkType) {
	t.Helper()
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st Stats
	dec := newDecoder(&st)
	var out []frameRec
	for {
		data, ci, err := f.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fr := frameRec{ci: ci, data: bytes.Clone(data)}
		var seg Segment
		if k, _ := dec.decode(fr.data, ci.Timestamp, f.LinkType(), &seg); k == kindTCP {
			if seg.Tunnel != nil {
				tun := *seg.Tunnel // the decoder's, which the next frame overwrites
				seg.Tunnel = &tun
			}
			fr.seg = &seg
		}
		out = append(out, fr)
	}
	return out, f.LinkType()
}

func writeFrames(t testing.TB, lt layers.LinkType, frames []frameRec) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(262144, lt); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WritePacket(fr.ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// serverData returns the indexes of frames carrying server payload.
func serverData(frames []frameRec, server netip.AddrPort) []int {
	var idx []int
	for i, fr := range frames {
		if fr.seg != nil && fr.seg.Src == server && len(fr.seg.Payload) > 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// TestImpairedCaptures rewrites real captures the way networks and capture
// points mangle them and checks that the delivered streams do not change:
// reordered and duplicated segments, and a lost segment sent again later.
// A lost segment that never comes back must leave a gap of its size at its
// offset, and nothing else missing.
func TestImpairedCaptures(t *testing.T) {
	for _, path := range []string{"testdata/veth576-tls13-go.pcap", "testdata/veth576-tls12-openssl.pcap"} {
		frames, lt := readFrames(t, path)
		base, _ := runBytes(t, "base", writeFrames(t, lt, frames))
		want := base.only()
		server := want.conn.Server
		data := serverData(frames, server)
		if len(data) < 6 {
			t.Fatalf("%s: only %d server data segments", path, len(data))
		}
		mid := data[len(data)/2]
		move := func(fs []frameRec, from, to int) []frameRec {
			fr := fs[from]
			fs = slices.Delete(slices.Clone(fs), from, from+1)
			return slices.Insert(fs, to, fr)
		}
		type impairment struct {
			name    string
			frames  []frameRec
			dropped int // index of a frame removed for good, or -1
			retrans bool
		}
		tests := []impairment{
			// Two server segments trade places (with any client ACK
			// between them staying where it was).
			{"swap adjacent segments", func() []frameRec {
				fs := slices.Clone(frames)
				i, j := data[2], data[3]
				fs[i], fs[j] = fs[j], fs[i]
				return fs
			}(), -1, false},
			{"duplicate", slices.Insert(slices.Clone(frames), mid+1, frames[mid]), -1, true},
			{"duplicate every server segment", func() []frameRec {
				var out []frameRec
				for _, fr := range frames {
					out = append(out, fr)
					if fr.seg != nil && fr.seg.Src == server && len(fr.seg.Payload) > 0 {
						out = append(out, fr)
					}
				}
				return out
			}(), -1, true},
			{"lost", slices.Delete(slices.Clone(frames), mid, mid+1), mid, false},
		}
		// Where the server sent three segments without a client frame in
		// between, one of them can come later (a reordering or a loss
		// repaired before the client could acknowledge anything past it).
		for k := 1; k+2 < len(data); k++ {
			if i := data[k]; data[k+1] == i+1 && data[k+2] == i+2 {
				late := slices.Clone(frames)
				late[i].ci.Timestamp = late[i+2].ci.Timestamp
				tests = append(tests,
					impairment{"reorder by two", move(frames, i, i+2), -1, false},
					impairment{"lost then retransmitted", move(late, i, i+2), -1, false})
				break
			}
		}
		for _, tt := range tests {
			t.Run(filepath.Base(path)+"/"+tt.name, func(t *testing.T) {
				rec, st := runBytes(t, tt.name, writeFrames(t, lt, tt.frames))
				got := rec.only()
				if !bytes.Equal(got.data[ClientToServer].Bytes(), want.data[ClientToServer].Bytes()) {
					t.Error("client stream changed")
				}
				if tt.retrans && st.Retransmissions == 0 {
					t.Error("no retransmission counted")
				}
				if st.Conflicts != 0 {
					t.Errorf("%d conflicts", st.Conflicts)
				}
				w := want.data[ServerToClient].Bytes()
				if tt.dropped < 0 {
					if !bytes.Equal(got.data[ServerToClient].Bytes(), w) || got.gaps(ServerToClient) != "" {
						t.Errorf("server stream changed: %d bytes, gaps [%s]", got.data[ServerToClient].Len(), got.gaps(ServerToClient))
					}
					return
				}
				// The lost segment's place in the stream.
				lost := frames[tt.dropped]
				var off int64 = -1
				for _, c := range want.chunks[ServerToClient] {
					if c.frame == int64(tt.dropped+1) {
						off = c.off
					}
				}
				n := len(lost.seg.Payload)
				if off < 0 {
					t.Fatal("lost frame delivered nothing in the full capture")
				}
				var gap chunk
				for _, c := range got.chunks[ServerToClient] {
					if c.gap {
						gap = c
					}
				}
				if !gap.gap || gap.off != off || gap.n != n || st.Gaps != 1 {
					t.Errorf("gaps [%s], want one of %d bytes at %d", got.gaps(ServerToClient), n, off)
				}
				rest := append(slices.Clone(w[:off]), w[off+int64(n):]...)
				if !bytes.Equal(got.data[ServerToClient].Bytes(), rest) {
					t.Error("bytes around the gap differ")
				}
			})
		}
	}
}
