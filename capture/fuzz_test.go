package capture

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// FuzzRun feeds arbitrary bytes as a capture file. Properties: no panic,
// every Stream is closed exactly once and told nothing after (the recorder
// checks), and the outcome is deterministic.
func FuzzRun(f *testing.F) {
	var files []string
	// ../testdata/field/icmp: ICMP errors quoting TCP and UDP, over IPv4
	// and IPv6.
	for _, pat := range []string{"testdata/*.pcap", "testdata/*.pcapng", "testdata/*.gz", "testdata/tcpdump/*.pcap", "../testdata/field/icmp/*.pcap"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil || len(b) > 40000 {
			continue
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	// Wi-Fi frames, GTP-U and TZSP, which no capture of testdata holds.
	if b, err := os.ReadFile("testdata/lo-tls12-openssl.pcap"); err == nil {
		for _, k := range []encap.Kind{encap.Radiotap, encap.Dot11, encap.GTP, encap.GTP5G, encap.TZSP, encap.CAPWAP} {
			var out bytes.Buffer
			if err := (&encap.Wrapper{Kind: k}).Capture(bytes.NewReader(b), &out); err == nil {
				f.Add(out.Bytes())
			}
		}
	}
	f.Fuzz(runRunFuzz)
}

func runRunFuzz(t *testing.T, data []byte) {
	run := func() string {
		r, err := NewReader("fuzz", bytes.NewReader(data))
		if err != nil {
			return err.Error()
		}
		rec := newRecorder(t)
		rec.quiet = true
		st, err := Run(context.Background(), r, rec, Options{MaxBufferedBytesPerConn: 4096})
		for _, s := range rec.streams {
			if !s.closed {
				t.Fatal("a stream was not closed")
			}
		}
		out := summary(rec, st)
		if err != nil {
			out += err.Error()
		}
		return out
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("two runs differ:\n%s\n%s", a, b)
	}
}

// FuzzSegments cuts two known byte streams into segments as the fuzzer
// says (any order, overlaps, repeats, a FIN now and then, small buffer
// bounds) and checks what comes out: every delivered byte is the byte at
// that offset of the true stream, deliveries and gaps tile the stream with
// no overlap, nothing is called a conflict, and a stream that was entirely
// sent is entirely delivered when no bound forced a gap.
func FuzzSegments(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 0, 100, 1, 0, 100, 50, 0, 0, 50, 50})
	f.Add([]byte{1, 200, 0, 0, 0, 255, 0, 1, 0, 255, 0, 0, 100, 255, 1, 0, 0, 80})
	f.Add([]byte{2, 3, 2, 0, 200, 60, 0, 0, 0, 200, 0, 0, 150, 100})
	f.Fuzz(runSegFuzz)
}

func runSegFuzz(t *testing.T, data []byte) {
	if len(data) < 2 {
		return
	}
	const size = 1024
	var truth [2][]byte
	for d := range truth {
		truth[d] = make([]byte, size)
		for i := range truth[d] {
			truth[d][i] = byte(i*7 + d*3 + i>>8)
		}
	}
	// ISNs near the wrap, half the time.
	isn := [2]uint32{uint32(data[0]) << 24, 0xffffff00 + uint32(data[0])}
	opt := Options{MaxBufferedBytesPerConn: 64 + int(data[1])*8}
	rec := newRecorder(t)
	a := NewAssembler(rec, opt)
	now := time.Unix(1700000000, 0)
	n := int64(0)
	send := func(d int, s Segment) {
		n++
		now = now.Add(time.Millisecond)
		if d == 1 {
			s.Src, s.Dst = srv, cli
		} else {
			s.Src, s.Dst = cli, srv
		}
		a.Segment(&s, Frame{Number: n, Time: now})
	}
	send(0, Segment{SYN: true, Seq: isn[0], Window: 100})
	send(1, Segment{SYN: true, ACK: true, Seq: isn[1], Ack: isn[0] + 1, Window: 100})
	var sent [2][]bool
	sent[0], sent[1] = make([]bool, size), make([]bool, size)
	for rest := data[2:]; len(rest) >= 4; rest = rest[4:] {
		d := int(rest[0] & 1)
		off := (int(rest[1])<<8 | int(rest[2])) % size
		l := min(int(rest[3]), size-off)
		fin := rest[0]&2 != 0 && off+l == size
		for i := off; i < off+l; i++ {
			sent[d][i] = true
		}
		send(d, Segment{ACK: true, FIN: fin, Seq: isn[d] + 1 + uint32(off), Ack: isn[1-d] + 1, Window: 100,
			Payload: truth[d][off : off+l]})
	}
	st := a.Close()
	s := rec.only()
	if st.Conflicts != 0 {
		t.Fatalf("%d conflicts with identical bytes", st.Conflicts)
	}
	for d := range 2 {
		var off int64
		got := s.data[d].Bytes()
		pos := 0
		for _, c := range s.chunks[d] {
			if c.off != off {
				t.Fatalf("%s: chunk at %d, want %d", Direction(d), c.off, off)
			}
			if !c.gap {
				if !bytes.Equal(got[pos:pos+c.n], truth[d][off:off+int64(c.n)]) {
					t.Fatalf("%s: wrong bytes at %d", Direction(d), off)
				}
				pos += c.n
			}
			off += int64(c.n)
		}
		if off > size {
			t.Fatalf("%s: %d bytes past the end of the stream", Direction(d), off-size)
		}
		all := true
		for _, b := range sent[d] {
			all = all && b
		}
		if all && st.CapGaps == 0 && (off != size || s.gaps(Direction(d)) != "") {
			t.Fatalf("%s: everything sent, %d bytes delivered, gaps [%s]", Direction(d), off, s.gaps(Direction(d)))
		}
	}
}
