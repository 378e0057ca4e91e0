package capture

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// Client ISN 1000 (data from 1001), server ISN 5000 (data from 5001).
const ci, si = 1000, 5000

func TestAssembler(t *testing.T) {
	type want struct {
		client, server       string // delivered bytes
		clientGaps           string // "offset+size@frame …"
		clientFrames         string // "offset:size@frame …"
		kinds                string // events in order
		reason               CloseReason
		last                 int64 // frame given to Close
		conns                int   // connections opened (default 1)
		retrans, conflicts   int64
		ooo, keepAlives      int64
		gaps, gapBytes       int64
		capGaps, capGapBytes int64
		afterClose           int64
	}
	tests := []struct {
		name string
		opt  Options
		run  func(f *segFeeder)
		want want
	}{
		{
			name: "in order, FIN both ways, trailing ACK",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello")  // 4
				f.s2c("PA", 5001, 1006, "world!") // 5
				f.c2s("PA", 1006, 5007, " there") // 6
				f.c2s("FA", 1012, 5007, "")       // 7
				f.s2c("FA", 5007, 1013, "")       // 8
				f.c2s("A", 1013, 5008, "")        // 9: the last ACK
				f.s2c("A", 5008, 1013, "")        // 10: a stray one
				f.a.Close()
			},
			want: want{client: "hello there", server: "world!", clientFrames: "0:5@4 5:6@6",
				kinds: "syn/client syn_ack/server fin/client fin/server", reason: ClosedFIN, last: 8, afterClose: 2},
		},
		{
			name: "acknowledged bytes never captured at the end are a gap",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				// The server's answer (5001-5010) is not in the capture;
				// the client acknowledges it, then resets.
				f.c2s("A", 1006, 5011, "")  // 5
				f.c2s("RA", 1006, 5011, "") // 6
				f.a.Close()
			},
			want: want{client: "hello", kinds: "syn/client syn_ack/server rst/client", reason: ClosedRST, last: 6,
				gaps: 1, gapBytes: 10},
		},
		{
			name: "an acknowledged FIN the capture missed is no gap",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("A", 1006, 5002, "")       // 5: acknowledges the server's lost FIN
				f.a.Close()
			},
			want: want{client: "hello", kinds: "syn/client syn_ack/server", reason: ClosedEOF, last: 5},
		},
		{
			name: "out of order",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1006, 5001, " there") // 4
				f.c2s("PA", 1001, 5001, "hello")  // 5
				f.a.Close()
			},
			want: want{client: "hello there", clientFrames: "0:5@5 5:6@5", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 5, ooo: 1},
		},
		{
			name: "several out of order, filled backwards",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1009, 5001, "ghi") // 4
				f.c2s("PA", 1006, 5001, "def") // 5
				f.c2s("PA", 1004, 5001, "bc")  // 6
				f.c2s("PA", 1001, 5001, "xya") // 7
				f.a.Close()
			},
			want: want{client: "xyabcdefghi", clientFrames: "0:3@7 3:2@7 5:3@7 8:3@7", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 7, ooo: 3},
		},
		{
			name: "duplicate",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("PA", 1001, 5001, "hello") // 5
				f.a.Close()
			},
			want: want{client: "hello", clientFrames: "0:5@4", kinds: "syn/client syn_ack/server retransmission/client",
				reason: ClosedEOF, last: 5, retrans: 1},
		},
		{
			name: "partial overlap with delivered bytes",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello")    // 4
				f.c2s("PA", 1004, 5001, "lo world") // 5
				f.a.Close()
			},
			want: want{client: "hello world", clientFrames: "0:5@4 5:6@5", kinds: "syn/client syn_ack/server retransmission/client",
				reason: ClosedEOF, last: 5, retrans: 1},
		},
		{
			name: "partial overlap with buffered bytes: first copy wins",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1007, 5001, "world")     // 4
				f.c2s("PA", 1001, 5001, "hello wor") // 5
				f.a.Close()
			},
			want: want{client: "hello world", clientFrames: "0:6@5 6:5@5", kinds: "syn/client syn_ack/server retransmission/client",
				reason: ClosedEOF, last: 5, retrans: 1, ooo: 1},
		},
		{
			name: "overlap with different content is a conflict, original kept",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1007, 5001, "world")     // 4
				f.c2s("PA", 1001, 5001, "hello WOR") // 5
				f.a.Close()
			},
			want: want{client: "hello world", clientFrames: "0:6@5 6:5@5",
				kinds:  "syn/client syn_ack/server retransmission/client conflict/client",
				reason: ClosedEOF, last: 5, retrans: 1, conflicts: 1, ooo: 1},
		},
		{
			name: "conflict between two out-of-order segments",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1010, 5001, "XYZ")     // 4
				f.c2s("PA", 1008, 5001, "abCDEfg") // 5: [1008,1015) overlaps [1010,1013)
				f.c2s("PA", 1001, 5001, "0123456") // 6
				f.a.Close()
			},
			want: want{client: "0123456abXYZfg", clientFrames: "0:7@6 7:2@6 9:3@6 12:2@6",
				kinds:  "syn/client syn_ack/server retransmission/client conflict/client",
				reason: ClosedEOF, last: 6, retrans: 1, conflicts: 1, ooo: 2},
		},
		{
			name: "sequence numbers wrap",
			run: func(f *segFeeder) {
				f.handshake(0xfffffff0, si)
				f.c2s("PA", 0xfffffff1, 5001, "0123456789abcdef0123") // 4: crosses 2^32
				f.c2s("PA", 0x0000000f, 5001, "KLMNO")                // 5: out of order after the wrap
				f.c2s("PA", 0x00000005, 5001, "ABCDEFGHIJ")           // 6
				f.c2s("FA", 0x00000014, 5001, "")                     // 7
				f.s2c("FA", 5001, 0x00000015, "")                     // 8
				f.a.Close()
			},
			want: want{client: "0123456789abcdef0123ABCDEFGHIJKLMNO", clientFrames: "0:20@4 20:10@6 30:5@6",
				kinds: "syn/client syn_ack/server fin/client fin/server", reason: ClosedFIN, last: 8, ooo: 1},
		},
		{
			name: "RST in the middle: the sender's holes are lost, the other side's bytes in flight still come",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("PA", 1011, 5001, "world") // 5: hole of 5
				f.c2s("RA", 1016, 5001, "")      // 6
				f.s2c("PA", 5001, 1016, "late")  // 7: was in flight
				f.c2s("A", 1016, 5005, "")       // 8: from the side that reset
				f.a.Close()
			},
			want: want{client: "helloworld", server: "late", clientGaps: "5+5@6", clientFrames: "0:5@4 10:5@5",
				kinds: "syn/client syn_ack/server rst/client", reason: ClosedRST, last: 7, ooo: 1, gaps: 1, gapBytes: 5, afterClose: 1},
		},
		{
			name: "RST from both sides closes at once",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("RA", 1001, 5001, "")  // 4
				f.s2c("R", 5001, 0, "")      // 5
				f.s2c("PA", 5001, 1001, "x") // 6: after the close
				f.a.Close()
			},
			want: want{kinds: "syn/client syn_ack/server rst/client rst/server", reason: ClosedRST, last: 5, afterClose: 1},
		},
		{
			name: "RST without ACK answers a SYN",
			run: func(f *segFeeder) {
				f.c2s("S", ci, 0, "")
				f.s2c("R", 0, 0, "")
				f.a.Close()
			},
			want: want{kinds: "syn/client rst/server", reason: ClosedRST, last: 2},
		},
		{
			name: "lone RST",
			run: func(f *segFeeder) {
				f.s2c("R", 77, 0, "")
				f.a.Close()
			},
			// The sender of the first segment is taken as the client.
			want: want{kinds: "rst/client", reason: ClosedRST, last: 1},
		},
		{
			name: "FIN before the data it follows",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("FA", 1006, 5001, "")      // 4: arrives first
				f.c2s("PA", 1001, 5001, "hello") // 5
				f.s2c("FA", 5001, 1007, "")      // 6
				f.a.Close()
			},
			want: want{client: "hello", clientFrames: "0:5@5", kinds: "syn/client syn_ack/server fin/client fin/server",
				reason: ClosedFIN, last: 6},
		},
		{
			name: "FIN with data, half close, then the server sends",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("FPA", 1001, 5001, "bye")  // 4
				f.s2c("PA", 5001, 1005, "still") // 5
				f.s2c("FA", 5006, 1005, "")      // 6
				f.a.Close()
			},
			want: want{client: "bye", server: "still", clientFrames: "0:3@4",
				kinds: "syn/client syn_ack/server fin/client fin/server", reason: ClosedFIN, last: 6},
		},
		{
			name: "one FIN then end of capture",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("FPA", 1001, 5001, "bye") // 4
				f.a.Close()
			},
			want: want{client: "bye", clientFrames: "0:3@4", kinds: "syn/client syn_ack/server fin/client", reason: ClosedFIN, last: 4},
		},
		{
			name: "keep-alives are not data",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("A", 1005, 5001, "o")      // 5: BSD style, one old byte
				f.c2s("A", 1005, 5001, "")       // 6: Linux style, no byte
				f.c2s("PA", 1006, 5001, "!")     // 7
				f.a.Close()
			},
			want: want{client: "hello!", clientFrames: "0:5@4 5:1@7", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 7, keepAlives: 1},
		},
		{
			name: "TCP Fast Open data on the SYN",
			run: func(f *segFeeder) {
				f.c2s("S", ci, 0, "GET ")         // 1
				f.s2c("SA", si, 1005, "")         // 2
				f.c2s("PA", 1005, 5001, "/ HTTP") // 3
				f.a.Close()
			},
			want: want{client: "GET / HTTP", clientFrames: "0:4@1 4:6@3", kinds: "syn/client syn_ack/server", reason: ClosedEOF, last: 3},
		},
		{
			name: "TFO data refused and sent again after the handshake",
			run: func(f *segFeeder) {
				f.c2s("S", ci, 0, "GET ")        // 1
				f.s2c("SA", si, 1001, "")        // 2: acknowledges the SYN only
				f.c2s("PA", 1001, 5001, "GET /") // 3: the data again, and more
				f.a.Close()
			},
			want: want{client: "GET /", clientFrames: "0:4@1 4:1@3", kinds: "syn/client syn_ack/server retransmission/client",
				reason: ClosedEOF, last: 3, retrans: 1},
		},
		{
			name: "SYN retransmitted",
			run: func(f *segFeeder) {
				f.c2s("S", ci, 0, "")
				f.c2s("S", ci, 0, "")
				f.s2c("SA", si, ci+1, "")
				f.a.Close()
			},
			want: want{kinds: "syn/client syn/client syn_ack/server", reason: ClosedEOF, last: 3},
		},
		{
			name: "picked up mid-stream",
			run: func(f *segFeeder) {
				f.c2s("PA", 7000, 9000, "abc") // 1
				f.s2c("PA", 9000, 7003, "xyz") // 2
				f.c2s("PA", 7003, 9003, "def") // 3
				f.a.Close()
			},
			want: want{client: "abcdef", server: "xyz", clientFrames: "0:3@1 3:3@3", reason: ClosedEOF, last: 3},
		},
		{
			name: "gap at end of capture",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("PA", 1011, 5001, "world") // 5
				f.a.Close()
			},
			want: want{client: "helloworld", clientGaps: "5+5@5", clientFrames: "0:5@4 10:5@5", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 5, ooo: 1, gaps: 1, gapBytes: 5},
		},
		{
			name: "a FIN behind a hole is reported at the end",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("FPA", 1011, 5001, "world") // 4
				f.a.Close()
			},
			want: want{client: "world", clientGaps: "0+10@4", clientFrames: "10:5@4", kinds: "syn/client syn_ack/server fin/client",
				reason: ClosedFIN, last: 4, ooo: 1, gaps: 1, gapBytes: 10},
		},
		{
			name: "an ACK past a hole proves it lost",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("PA", 1011, 5001, "world") // 5
				f.s2c("A", 5001, 1016, "")       // 6
				f.c2s("PA", 1016, 5001, "!")     // 7: in order at once
				f.a.Close()
			},
			want: want{client: "helloworld!", clientGaps: "5+5@6", clientFrames: "0:5@4 10:5@5 15:1@7", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 7, ooo: 1, gaps: 1, gapBytes: 5},
		},
		{
			name: "an ACK of the hole only is not proof: the capture may be reordered",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("PA", 1011, 5001, "world") // 5
				f.s2c("A", 5001, 1011, "")       // 6: acknowledges the hole only
				f.c2s("PA", 1006, 5001, " big ") // 7: the hole
				f.a.Close()
			},
			want: want{client: "hello big world", clientFrames: "0:5@4 5:5@7 10:5@7", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 7, ooo: 1},
		},
		{
			name: "bytes cut by the snap length are a gap",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.n++
				f.a.Segment(&Segment{Src: cli, Dst: srv, Seq: 1001, Ack: 5001, ACK: true, Window: 9, Payload: []byte("hel"), Missing: 2},
					Frame{Number: f.n, Time: f.now}) // 4
				f.c2s("PA", 1006, 5001, "world") // 5
				f.a.Close()
			},
			want: want{client: "helworld", clientGaps: "3+2@4", clientFrames: "0:3@4 5:5@5", kinds: "syn/client syn_ack/server",
				reason: ClosedEOF, last: 5, gaps: 1, gapBytes: 2},
		},
		{
			name: "per-connection cap: the hole is given up, nothing dropped",
			opt:  Options{MaxBufferedBytesPerConn: 10},
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1011, 5001, "0123456789") // 4: buffered, 10 bytes
				f.c2s("PA", 1021, 5001, "abcdefghij") // 5: does not fit
				f.c2s("PA", 1001, 5001, "too late!!") // 6: the lost bytes after all
				f.a.Close()
			},
			want: want{client: "0123456789abcdefghij", clientGaps: "0+10@5", clientFrames: "10:10@4 20:10@5",
				kinds:  "syn/client syn_ack/server retransmission/client",
				reason: ClosedEOF, last: 6, ooo: 1, gaps: 1, gapBytes: 10, capGaps: 1, capGapBytes: 10, retrans: 1},
		},
		{
			name: "global cap",
			opt:  Options{MaxBufferedBytes: 4},
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1003, 5001, "cd") // 4: fits
				f.c2s("PA", 1007, 5001, "gh") // 5: fits (4 bytes)
				f.c2s("PA", 1010, 5001, "jk") // 6: the holes before it go
				f.c2s("PA", 1001, 5001, "ab") // 7
				f.a.Close()
			},
			// Frame 6 would hold 6 bytes: the first hole goes, then it fits.
			// Frame 7 comes after its bytes were given up. The other holes
			// are reported at the end, proven by the connection's last frame.
			want: want{client: "cdghjk", clientGaps: "0+2@6 4+2@7 8+1@7", clientFrames: "2:2@4 6:2@5 9:2@6",
				kinds:  "syn/client syn_ack/server retransmission/client",
				reason: ClosedEOF, last: 7, ooo: 3, gaps: 3, gapBytes: 5, capGaps: 1, capGapBytes: 2, retrans: 1},
		},
		{
			name: "port reuse after a closed connection",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("FA", 1001, 5001, "")
				f.s2c("FA", 5001, 1002, "")
				f.c2s("A", 1002, 5002, "")
				f.handshake(90000, 70000) // 8, 9, 10
				f.c2s("PA", 90001, 70001, "again")
				f.a.Close()
			},
			want: want{conns: 2, kinds: "syn/client syn_ack/server fin/client fin/server", reason: ClosedFIN, last: 5, afterClose: 1},
		},
		{
			name: "a SYN with a new ISN on an open 4-tuple",
			run: func(f *segFeeder) {
				f.handshake(ci, si)
				f.c2s("PA", 1001, 5001, "hello") // 4
				f.c2s("S", 424242, 0, "")        // 5
				f.a.Close()
			},
			want: want{conns: 2, client: "hello", clientFrames: "0:5@4", kinds: "syn/client syn_ack/server", reason: ClosedReused, last: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeeder(t, tt.opt)
			tt.run(f)
			w := tt.want
			if w.conns == 0 {
				w.conns = 1
			}
			st := f.a.Stats()
			if len(f.rec.streams) != w.conns {
				t.Fatalf("%d connections, want %d", len(f.rec.streams), w.conns)
			}
			s := f.rec.streams[0]
			for _, o := range f.rec.streams {
				if !o.closed {
					t.Errorf("connection %v not closed", o.conn)
				}
			}
			check := func(what string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("client bytes", s.data[ClientToServer].String(), w.client)
			check("server bytes", s.data[ServerToClient].String(), w.server)
			check("client gaps", s.gaps(ClientToServer), w.clientGaps)
			if w.clientFrames != "" || w.client == "" {
				check("client frames", s.frames(ClientToServer), w.clientFrames)
			}
			check("events", s.kinds(), w.kinds)
			check("close reason", s.reason, w.reason)
			check("close frame", s.last.Number, w.last)
			check("Retransmissions", st.Retransmissions, w.retrans)
			check("Conflicts", st.Conflicts, w.conflicts)
			check("OutOfOrderSegments", st.OutOfOrderSegments, w.ooo)
			check("KeepAlives", st.KeepAlives, w.keepAlives)
			check("Gaps", st.Gaps, w.gaps)
			check("GapBytes", st.GapBytes, w.gapBytes)
			check("CapGaps", st.CapGaps, w.capGaps)
			check("CapGapBytes", st.CapGapBytes, w.capGapBytes)
			check("AfterClose", st.AfterClose, w.afterClose)
			check("ConnsClosed", st.ConnsClosed, int64(w.conns))
			if t.Failed() {
				t.Logf("calls:\n%s", joinLines(s.log))
			}
		})
	}
}

func joinLines(l []string) string {
	out := ""
	for _, s := range l {
		out += "  " + s + "\n"
	}
	return out
}

func TestConnRoles(t *testing.T) {
	tests := []struct {
		name        string
		first       func(f *segFeeder)
		client      netip.AddrPort
		clientKnown bool
	}{
		{"SYN", func(f *segFeeder) { f.c2s("S", ci, 0, "") }, cli, true},
		{"SYN-ACK first", func(f *segFeeder) { f.s2c("SA", si, ci+1, "") }, cli, true},
		{"data from the client first", func(f *segFeeder) { f.c2s("PA", 1001, 5001, "x") }, cli, false},
		// Without a SYN the first sender is taken as the client; the
		// consumer may know better from the content.
		{"data from the server first", func(f *segFeeder) { f.s2c("PA", 5001, 1001, "x") }, srv, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeeder(t, Options{})
			tt.first(f)
			s := f.rec.only()
			if s.conn.Client != tt.client || s.conn.ClientKnown != tt.clientKnown || s.conn.First.Number != 1 {
				t.Errorf("Conn = %+v, want client %v known %v first 1", s.conn, tt.client, tt.clientKnown)
			}
			if want := srv; tt.client == srv {
				if s.conn.Server != cli {
					t.Errorf("server = %v, want %v", s.conn.Server, cli)
				}
			} else if s.conn.Server != want {
				t.Errorf("server = %v, want %v", s.conn.Server, want)
			}
		})
	}
}

func TestSYNACKFirstStartsClientStream(t *testing.T) {
	f := newFeeder(t, Options{})
	f.s2c("SA", si, ci+1, "")
	f.c2s("PA", 1003, 5001, "cd") // out of order: bytes from 1001 expected
	f.c2s("PA", 1001, 5001, "ab")
	f.a.Close()
	s := f.rec.only()
	if got := s.data[ClientToServer].String(); got != "abcd" {
		t.Errorf("client bytes %q, want abcd", got)
	}
	if s.gaps(ClientToServer) != "" {
		t.Errorf("gaps %s", s.gaps(ClientToServer))
	}
}

func TestZeroWindow(t *testing.T) {
	f := newFeeder(t, Options{})
	f.handshake(ci, si)
	f.c2s("PA", 1001, 5001, "hello")
	win := func(w uint16) {
		f.n++
		f.now = f.now.Add(time.Millisecond)
		f.a.Segment(&Segment{Src: srv, Dst: cli, Seq: 5001, Ack: 1006, ACK: true, Window: w}, Frame{Number: f.n, Time: f.now})
	}
	win(0)                        // 5: event
	win(0)                        // 6: still zero, no event
	f.c2s("A", 1005, 5001, "o")   // 7: probe below next: not data
	f.c2s("PA", 1006, 5001, "!")  // 8: Windows-style probe with new data: data
	win(100)                      // 9
	f.c2s("PA", 1006, 5001, "!?") // 10: the probe byte again, and one more
	win(0)                        // 11: event again
	f.a.Close()
	s := f.rec.only()
	if got, want := s.kinds(), "syn/client syn_ack/server zero_window/server retransmission/client zero_window/server"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if got := s.data[ClientToServer].String(); got != "hello!?" {
		t.Errorf("client bytes %q", got)
	}
	if st := f.a.Stats(); st.Conflicts != 0 || st.KeepAlives != 1 {
		t.Errorf("conflicts %d keep-alives %d, want 0 and 1", st.Conflicts, st.KeepAlives)
	}
}

func TestIdleExpiry(t *testing.T) {
	f := newFeeder(t, Options{IdleTimeout: 10 * time.Second})
	other := netip.MustParseAddrPort("10.0.0.3:50000")
	f.handshake(ci, si)                // 1-3
	f.c2s("PA", 1001, 5001, "hello")   // 4
	f.now = f.now.Add(9 * time.Second) // not yet idle
	f.send(other, srv, "S", 1, 0, "")  // 5
	if f.rec.streams[0].closed {
		t.Fatal("closed before the idle timeout")
	}
	f.now = f.now.Add(2 * time.Second) // 11 s after frame 4
	f.send(other, srv, "A", 2, 0, "")  // 6: closes the first by packet time
	s := f.rec.streams[0]
	if !s.closed || s.reason != ClosedIdle || s.last.Number != 4 {
		t.Fatalf("first connection: closed %v reason %s last %d, want idle at 4", s.closed, s.reason, s.last.Number)
	}
	f.c2s("PA", 1006, 5001, "again") // 7: a new connection, picked up mid-stream
	f.a.Close()
	if len(f.rec.streams) != 3 || f.rec.streams[2].conn.ClientKnown {
		t.Fatalf("want a third, mid-stream connection; got %d", len(f.rec.streams))
	}
	if st := f.a.Stats(); st.ConnsIdle != 1 || st.ConnsClosed != 3 {
		t.Errorf("ConnsIdle %d ConnsClosed %d, want 1 and 3", st.ConnsIdle, st.ConnsClosed)
	}
}

func TestResetLinger(t *testing.T) {
	f := newFeeder(t, Options{})
	other := netip.MustParseAddrPort("10.0.0.3:50000")
	f.handshake(ci, si)                  // 1-3
	f.c2s("RA", 1001, 5001, "")          // 4
	f.s2c("PA", 5001, 1001, "in flight") // 5
	s := f.rec.streams[0]
	if s.closed {
		t.Fatal("closed at the RST: the bytes in flight would be lost")
	}
	f.now = f.now.Add(resetLinger)
	f.send(other, srv, "S", 1, 0, "") // 6: closes the first by packet time
	if !s.closed || s.reason != ClosedRST || s.last.Number != 5 {
		t.Fatalf("closed %v reason %s last %d, want rst at 5", s.closed, s.reason, s.last.Number)
	}
	f.s2c("PA", 5010, 1001, "x") // 7: a tombstone absorbs it
	f.c2s("S", 7777, 0, "")      // 8: a new connection
	f.a.Close()
	if len(f.rec.streams) != 3 || f.a.Stats().AfterClose != 1 {
		t.Errorf("%d connections, %d after close; want 3 and 1", len(f.rec.streams), f.a.Stats().AfterClose)
	}
	if got := s.data[ServerToClient].String(); got != "in flight" {
		t.Errorf("server bytes %q", got)
	}
}

// TestResetLingerFrames checks the linger's bound in frames: a busy link
// moves on by thousands of frames well within 3 s.
func TestResetLingerFrames(t *testing.T) {
	f := newFeeder(t, Options{})
	other := netip.MustParseAddrPort("10.0.0.3:50000")
	f.handshake(ci, si)         // 1-3
	f.c2s("RA", 1001, 5001, "") // 4
	s := f.rec.streams[0]
	f.n += resetLingerFrames - 1 // frames of other traffic, within a millisecond
	f.send(other, srv, "S", 1, 0, "")
	if s.closed {
		t.Fatalf("closed %d frames after the RST, want %d", resetLingerFrames, resetLingerFrames+1)
	}
	f.send(other, srv, "S", 1, 0, "")
	if !s.closed || s.reason != ClosedRST || s.last.Number != 4 {
		t.Fatalf("closed %v reason %s last %d, want rst at 4", s.closed, s.reason, s.last.Number)
	}
	f.a.Close()
}

func TestSYNAfterReset(t *testing.T) {
	f := newFeeder(t, Options{})
	f.handshake(ci, si)
	f.c2s("RA", 1001, 5001, "") // 4
	f.c2s("S", 1000, 0, "")     // 5: same ISN even: a new connection
	f.a.Close()
	if len(f.rec.streams) != 2 || f.rec.streams[0].reason != ClosedRST || f.rec.streams[0].last.Number != 4 {
		t.Fatalf("%d connections, first closed %s at %d", len(f.rec.streams), f.rec.streams[0].reason, f.rec.streams[0].last.Number)
	}
}

func TestIdleFlushesBufferedBytes(t *testing.T) {
	f := newFeeder(t, Options{IdleTimeout: time.Second})
	f.handshake(ci, si)
	f.c2s("PA", 1006, 5001, "world") // 4: hole before it
	f.now = f.now.Add(2 * time.Second)
	f.send(netip.MustParseAddrPort("10.0.0.3:50000"), srv, "S", 1, 0, "")
	s := f.rec.streams[0]
	if !s.closed || s.reason != ClosedIdle || s.data[ClientToServer].String() != "world" || s.gaps(ClientToServer) != "0+5@4" {
		t.Errorf("closed %v %s, bytes %q gaps %s", s.closed, s.reason, s.data[ClientToServer].String(), s.gaps(ClientToServer))
	}
	f.a.Close()
}

func TestMaxConnectionsEvictsOldest(t *testing.T) {
	f := newFeeder(t, Options{MaxConnections: 2})
	for i := range 3 {
		src := netip.AddrPortFrom(cli.Addr(), uint16(30000+i))
		f.send(src, srv, "S", 1, 0, "")
	}
	f.send(netip.AddrPortFrom(cli.Addr(), 30001), srv, "PA", 2, 0, "x") // touches the second
	f.send(netip.AddrPortFrom(cli.Addr(), 30003), srv, "S", 1, 0, "")   // evicts the third
	st := f.a.Stats()
	if st.ConnsEvicted != 2 {
		t.Errorf("ConnsEvicted %d, want 2", st.ConnsEvicted)
	}
	r := f.rec.streams
	if r[0].reason != ClosedEvicted || r[2].reason != ClosedEvicted || r[1].closed {
		t.Errorf("reasons %s %s %s, want evicted, open, evicted", r[0].reason, r[1].reason, r[2].reason)
	}
	f.a.Close()
}

func TestTombstonesAreBounded(t *testing.T) {
	f := newFeeder(t, Options{MaxConnections: 1000})
	maxTombs := tombstonesPerConnection * 1000
	for i := range maxTombs + 10 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 1234)
		f.send(src, srv, "S", 1, 0, "")
		f.send(srv, src, "RA", 0, 2, "")
		f.send(src, srv, "R", 2, 0, "")
	}
	ring := 0
	for _, c := range f.a.tombRing {
		ring += len(c)
	}
	if len(f.a.tombs) > maxTombs || ring > maxTombs {
		t.Errorf("%d tombstones, %d in the ring, want at most %d", len(f.a.tombs), ring, maxTombs)
	}
	if f.a.Open() != 0 {
		t.Errorf("%d connections open", f.a.Open())
	}
}

func TestMaxConnectionsClosesResetFirst(t *testing.T) {
	f := newFeeder(t, Options{MaxConnections: 2})
	a := netip.MustParseAddrPort("10.0.0.5:1000")
	b := netip.MustParseAddrPort("10.0.0.6:1000")
	f.send(a, srv, "S", 1, 0, "")
	f.send(a, srv, "R", 2, 0, "") // lingers
	f.send(b, srv, "S", 1, 0, "")
	f.c2s("S", ci, 0, "") // needs room: the reset one goes, as reset
	st := f.a.Stats()
	r := f.rec.streams
	if st.ConnsEvicted != 0 || !r[0].closed || r[0].reason != ClosedRST || r[1].closed {
		t.Errorf("evicted %d; first closed %v (%s), second closed %v", st.ConnsEvicted, r[0].closed, r[0].reason, r[1].closed)
	}
	f.a.Close()
}

// TestLookupAsMakeKey checks that the shortcut to the last connection
// finds what makeKey and the map would, in both directions, also for
// ends that differ as values but not in the key: an IPv4 address and its
// IPv4-mapped IPv6 form (a key of its own each way), or a zone.
func TestLookupAsMakeKey(t *testing.T) {
	pairs := [][2]string{
		{"10.0.0.1:40000", "10.0.0.2:443"},
		{"10.0.0.2:443", "10.0.0.1:40000"},
		{"[2001:db8::1]:443", "[2001:db8::2]:443"},
		{"192.0.2.1:443", "[::ffff:192.0.2.1]:443"},
		{"[fe80::1%eth0]:443", "[fe80::1]:443"},
		{"10.0.0.1:80", "10.0.0.1:80"},
	}
	for _, p := range pairs {
		a, b := netip.MustParseAddrPort(p[0]), netip.MustParseAddrPort(p[1])
		f := newFeeder(t, Options{})
		f.send(a, b, "S", 1, 0, "")
		for _, s := range []Segment{{Src: b, Dst: a}, {Src: a, Dst: b}, {Src: b, Dst: a}} {
			var key connKey
			c, srcLow := f.a.lookup(&s, &key)
			if c != nil {
				key = c.key
			}
			wantKey, wantLow := makeKey(s.Src, s.Dst)
			if c != f.a.conns[wantKey] || key != wantKey || srcLow != wantLow {
				t.Errorf("%v to %v: lookup found %p (src low %v), want %p (src low %v)", s.Src, s.Dst, c, srcLow, f.a.conns[wantKey], wantLow)
			}
		}
	}
}

// TestMakeKeyAsBytes checks makeKey, which compares addresses as numbers,
// against the key built from the addresses' bytes: the order of both ends
// and the layout, for IPv4, IPv6, mixed and equal ends.
func TestMakeKeyAsBytes(t *testing.T) {
	byBytes := func(src, dst netip.AddrPort) (k connKey, srcLow bool) {
		sa, da := src.Addr().As16(), dst.Addr().As16()
		sp, dp := src.Port(), dst.Port()
		c := bytes.Compare(sa[:], da[:])
		if c == 0 {
			c = cmp.Compare(sp, dp)
		}
		srcLow = c <= 0
		if !srcLow {
			sa, da, sp, dp = da, sa, dp, sp
		}
		copy(k[0:16], sa[:])
		copy(k[16:32], da[:])
		k[32], k[33] = byte(sp>>8), byte(sp)
		k[34], k[35] = byte(dp>>8), byte(dp)
		k[36] = 6
		if src.Addr().Is4() {
			k[36] = 4
		}
		return k, srcLow
	}
	ends := []string{"10.0.0.1:40000", "10.0.0.2:443", "10.0.0.1:443", "192.0.2.200:1", "255.255.255.255:65535",
		"0.0.0.0:0", "[::ffff:10.0.0.1]:443", "[2001:db8::1]:443", "[2001:db8::1:0:0:1]:443", "[fe80::1%eth0]:443",
		"[ff02::1]:0", "[::]:80", "[8000::]:80", "[::1]:65535"}
	for _, x := range ends {
		for _, y := range ends {
			a, b := netip.MustParseAddrPort(x), netip.MustParseAddrPort(y)
			k, low := makeKey(a, b)
			wk, wlow := byBytes(a, b)
			if k != wk || low != wlow {
				t.Errorf("%v to %v: key %x (src low %v), want %x (%v)", a, b, k, low, wk, wlow)
			}
		}
	}
}

// TestLookupRecentSharedSlot checks lookup against the map for
// connections whose ports share a slot of the recent connections, taking
// turns, and after one of them closed and another took its ports.
func TestLookupRecentSharedSlot(t *testing.T) {
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	clients := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:40000"),
		netip.MustParseAddrPort("10.0.0.3:40000"),                    // same ports
		netip.MustParseAddrPort("[2001:db8::1]:40000"),               // same ports, IPv6 client
		netip.MustParseAddrPort("10.0.0.1:" + fmt.Sprint(40000^257)), // another pair of ports, same slot
	}
	if recentSlot(40000, 443) != recentSlot(40000^257, 443) {
		t.Fatal("the test's ports do not share a slot")
	}
	f := newFeeder(t, Options{})
	check := func(src, dst netip.AddrPort) {
		t.Helper()
		var key connKey
		c, srcLow := f.a.lookup(&Segment{Src: src, Dst: dst}, &key)
		wantKey, wantLow := makeKey(src, dst)
		if want := f.a.conns[wantKey]; c != want || c == nil && key != wantKey || srcLow != wantLow {
			t.Errorf("%v to %v: lookup found %p (src low %v), want %p (src low %v)", src, dst, c, srcLow, want, wantLow)
		}
	}
	for i, c := range clients {
		f.send(c, srv, "S", uint32(i)*1000, 0, "")
	}
	for range 2 {
		for _, c := range clients {
			check(c, srv)
			check(srv, c)
			check(srv, c)
		}
	}
	// The first connection ends; a lookup of its ports finds nothing
	// until a new one opens on them.
	f.send(clients[0], srv, "R", 1, 0, "")
	f.send(srv, clients[0], "R", 1, 0, "")
	check(clients[0], srv)
	check(srv, clients[0])
	f.send(clients[0], srv, "S", 5000, 0, "")
	check(srv, clients[0])
	check(clients[1], srv)
	check(clients[0], srv)
	f.a.Close()
}
