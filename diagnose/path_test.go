package diagnose

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func TestDiagnosePath(t *testing.T) { runDiagnoseCases(t, pathCases(t)) }

// pathConn is a connection whose ClientHello (frame 4, 517 bytes) got no
// answer, with the header facts of its SYN (TTL 64) and SYN-ACK (TTL 52:
// 12 hops).
func pathConn() *analysis.Connection {
	c := hello(tcpConn(), &tlsparse.ClientHello{ServerName: "blocked.example", KeyShares: []tlsparse.NamedGroup{tlsparse.GroupX25519MLKEM768, 29}})
	c.Path = &analysis.PathFacts{
		SYN:        analysis.Packet{Frame: fr(1), IP: capture.IPHeader{TTL: 64, DF: true}},
		SYNACK:     analysis.Packet{Frame: fr(2), IP: capture.IPHeader{TTL: 52, DF: true}},
		Acked:      [2]int64{0, 0},
		AckedFrame: [2]capture.Frame{fr(2), fr(3)},
		HelloStart: 0, HelloEnd: 517, HelloFirst: fr(4),
	}
	return c
}

// resetWithTTL adds a RST from the server in frame 5 with the given TTL.
func resetWithTTL(ttl uint8) *analysis.Connection {
	c := rst(pathConn(), fr(5), server)
	c.Path.RST = analysis.Packet{Frame: fr(5), IP: capture.IPHeader{TTL: ttl, DF: true}}
	return c
}

// resent adds n retransmissions of the client's bytes from off, frames
// 10, 11, ….
func resent(c *analysis.Connection, off int64, n int) *analysis.Connection {
	c.Path.Resent[client] = append(c.Path.Resent[client], analysis.Resend{Offset: off, Len: int(c.Path.HelloEnd - off), DF: true,
		First: frAt(10, 200*time.Millisecond), Last: frAt(int64(9+n), 3*time.Second), Count: n})
	c.TCP.Retransmissions += n
	return fin(c, frAt(20, 3*time.Second), client)
}

// quickReset is a connection whose SYN-ACK came 50 ms after the SYN and
// whose RST, in the server's name and at the server's TTL, came soon
// after the ClientHello.
func quickReset(soon time.Duration) *analysis.Connection {
	c := resetWithTTL(52)
	c.TCP.SYN, c.TCP.SYNACK = frAt(1, 0), frAt(2, 50*time.Millisecond)
	c.Path.SYN.Frame, c.Path.SYNACK.Frame = c.TCP.SYN, c.TCP.SYNACK
	c.ClientHelloFrame = frAt(4, 60*time.Millisecond)
	c.Path.HelloFirst = c.ClientHelloFrame
	return rst(c, frAt(5, 60*time.Millisecond+soon), server)
}

func pathCases(t *testing.T) []diagnoseCase {
	return []diagnoseCase{
		{name: "RST sooner than the server's round trip, at the server's TTL", cat: MiddleboxReset,
			conn: func(*pki) *analysis.Connection { return quickReset(200 * time.Microsecond) },
			summary: []string{"not the server", "came 200 µs after the ClientHello for 'blocked.example' (frame 4)", "less than a third of the 50 ms the server took to answer the SYN (frame 1, SYN-ACK frame 2)",
				"its TTL fits the server's (TTL 52", "likely", "less likely, a SYN-ACK delayed"},
			evidence: []int64{1, 2, 4, 5}, fix: []string{"SNI filtering"}},
		{name: "RST sooner than the round trip and from another distance: both facts", cat: MiddleboxReset,
			conn: func(*pki) *analysis.Connection {
				c := quickReset(time.Millisecond)
				c.Path.RST.IP.TTL = 64
				return c
			},
			summary:  []string{"12 hops closer to the capture than the server", "; and that is less than a third of the 50 ms", "two independent facts agree"},
			evidence: []int64{1, 2, 4, 5}},
		{name: "RST a round trip after the hello, at the server's TTL: the server's", cat: ConnectionReset,
			conn:     func(*pki) *analysis.Connection { return quickReset(30 * time.Millisecond) },
			evidence: []int64{4, 5}},
		{name: "a round trip too short to judge (a LAN)", cat: ConnectionReset,
			conn: func(*pki) *analysis.Connection {
				c := quickReset(10 * time.Microsecond)
				c.TCP.SYNACK = frAt(2, 8*time.Millisecond)
				return c
			},
			evidence: []int64{4, 5}},
		{name: "a SYN sent twice: its SYN-ACK's delay is no round trip", cat: ConnectionReset,
			conn: func(*pki) *analysis.Connection {
				c := quickReset(200 * time.Microsecond)
				c.TCP.SYNCount = 2
				return c
			},
			evidence: []int64{4, 5}},
		{name: "RST 6 hops closer than the server", cat: MiddleboxReset,
			conn: func(*pki) *analysis.Connection { return resetWithTTL(58) },
			summary: []string{"a device on the path reset the connection, not the server", "TTL 58 (6 hops", "SYN-ACK (frame 2) has TTL 52 (12 hops",
				"6 hops closer to the capture than the server", "ClientHello for 'blocked.example'", "likely", "less likely"},
			evidence: []int64{2, 4, 5}, fix: []string{"'blocked.example'", "SNI filtering", "nothing changes on the server"}},
		{name: "RST from a device starting at 255", cat: MiddleboxReset,
			conn:     func(*pki) *analysis.Connection { return resetWithTTL(250) },
			summary:  []string{"TTL 250 (5 hops from a stack starting at 255)", "7 hops closer"},
			evidence: []int64{2, 4, 5}},
		{name: "RST in the client's name, farther than the client", cat: MiddleboxReset,
			conn: func(*pki) *analysis.Connection {
				c := rst(pathConn(), fr(5), client)
				c.Path.RST = analysis.Packet{Frame: fr(5), IP: capture.IPHeader{TTL: 60}}
				return c
			},
			summary: []string{"not the client", "client's SYN (frame 1) has TTL 64", "4 hops farther from the capture than the client"}, evidence: []int64{1, 4, 5}},
		{name: "RST at the server's distance stays the server's", cat: ConnectionReset,
			conn:     func(*pki) *analysis.Connection { return resetWithTTL(52) },
			summary:  []string{"the server reset the connection (frame 5)"},
			evidence: []int64{4, 5}},
		{name: "RST over IPv6 against a SYN-ACK over IPv4 (cannot compare)", cat: ConnectionReset,
			conn: func(*pki) *analysis.Connection {
				c := resetWithTTL(58)
				c.Path.RST.IP.V6 = true
				return c
			},
			evidence: []int64{4, 5}},
		{name: "RST without header facts", cat: ConnectionReset,
			conn: func(*pki) *analysis.Connection {
				c := resetWithTTL(58)
				c.Path.RST = analysis.Packet{}
				return c
			},
			evidence: []int64{4, 5}},
		{name: "an alert before the foreign RST: the alert is the cause", cat: NoSharedCipher,
			conn: func(*pki) *analysis.Connection {
				c := resetWithTTL(58)
				c.Alerts = []analysis.Alert{{Frame: fr(5), Sender: server, Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertHandshakeFailure}}
				return c
			},
			evidence: []int64{4, 5}, nWarn: -1},
		{name: "hello never acknowledged", cat: MiddleboxDrop,
			conn: func(*pki) *analysis.Connection { return resent(pathConn(), 0, 4) },
			summary: []string{"ClientHello for 'blocked.example' (517 bytes, frame 4) never reached the server", "SYN-ACK, frame 2",
				"4 times more (frame 10 to frame 13)", "likely", "less likely"},
			evidence: []int64{2, 4, 10, 13}, fix: []string{"silently drops this ClientHello", "another name"}},
		{name: "hello never acknowledged, other names to the host completed", cat: MiddleboxDrop,
			conn: func(*pki) *analysis.Connection {
				c := resent(pathConn(), 0, 4)
				c.OtherNames = []analysis.OtherName{
					{Name: "open.example", Server: c.Server, First: fr(40)},
					{Name: "also.example", Server: netip.AddrPortFrom(c.Server.Addr(), 8443), First: fr(50)},
				}
				return c
			},
			summary:  []string{"never reached the server", "other connections to the same server host under other names completed their handshakes — 'open.example' (frame 40), 'also.example' on port 8443 (frame 50) — so the path lets the host through and singles out this name"},
			evidence: []int64{2, 4, 10, 13, 40, 50}, fix: []string{"silently drops ClientHellos for 'blocked.example' while it lets other names to the same host through", "allow 'blocked.example'"}},
		{name: "foreign RST, another name to the host completed", cat: MiddleboxReset,
			conn: func(*pki) *analysis.Connection {
				c := resetWithTTL(58)
				c.OtherNames = []analysis.OtherName{{Name: "open.example", Server: c.Server, First: fr(40)}}
				return c
			},
			summary: []string{"6 hops closer", "'open.example' (frame 40)"}, evidence: []int64{2, 4, 5, 40}},
		{name: "hello acknowledged although retransmitted: a slow server", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				c := resent(pathConn(), 0, 1)
				c.Path.Acked[client], c.Path.HelloAcked = 517, fr(5)
				return c
			},
			summary:  []string{"the server's host acknowledged the hello (frame 5), so it arrived"},
			fix:      []string{"Likely: that program is hung or overloaded", "check that port 443 is the TLS port"},
			evidence: []int64{4, 5, 20}},
		{name: "split hello: the first segment acknowledged, the rest never", cat: ClientHelloSplitDropped,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.Path.HelloEnd = 1501
				c.Path.Acked[client], c.Path.AckedFrame[client] = 1448, fr(5)
				return resent(c, 1448, 5)
			},
			summary: []string{"(1501 bytes) spans more than one segment", "acknowledged its first 1448 bytes (frame 4, acknowledged in frame 5)",
				"5 times more", "X25519MLKEM768 (1216 bytes)"},
			evidence: []int64{4, 5, 10, 14}, fix: []string{"reassembles ClientHellos", "GODEBUG=tlsmlkem=0", "PostQuantumKeyAgreementEnabled"}},
		{name: "split hello without a post-quantum share", cat: ClientHelloSplitDropped,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.ClientHello.KeyShares = []tlsparse.NamedGroup{29}
				c.Path.HelloEnd = 1501
				c.Path.Acked[client] = 1448
				return resent(c, 1448, 2)
			},
			evidence: []int64{2, 4, 10, 11}, fix: []string{"make the client's hello smaller"}},
		{name: "the server's full-size segment resent and never acknowledged", cat: PathMTUBlackhole,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.Path.Acked[client] = 517
				c.ServerHello, c.ServerHelloFrame = &tlsparse.ServerHello{Version: v12, CipherSuite: 0xc02f}, fr(6)
				c.ServerHelloDoneFrame = fr(7)
				c.Path.Resent[server] = []analysis.Resend{{Offset: 0, Len: 1448, DF: true, First: fr(9), Last: frAt(13, 3*time.Second), Count: 5}}
				return fin(c, frAt(14, 4*time.Second), client)
			},
			summary:  []string{"server's full-size segment (1448 bytes at stream offset 0, don't-fragment set)", "5 times (frame 9 to frame 13", "path MTU black hole", "less likely"},
			evidence: []int64{3, 4, 7, 9, 13}, fix: []string{"clamp the TCP MSS", "fragmentation needed", "tcp_mtu_probing"}},
		{name: "a full-size segment resent without DF: routers fragment it, no black hole", cat: HandshakeFailure,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.Path.Acked[client] = 517
				c.ServerHello, c.ServerHelloFrame = &tlsparse.ServerHello{Version: v12, CipherSuite: 0xc02f}, fr(6)
				c.ServerHelloDoneFrame = fr(7)
				c.Path.Resent[server] = []analysis.Resend{{Offset: 0, Len: 1448, First: fr(9), Last: frAt(13, 3*time.Second), Count: 5}}
				return fin(c, frAt(14, 4*time.Second), client)
			},
			evidence: []int64{4, 7, 14}, nWarn: -1},
		{name: "a hole the client never acknowledged, then a smaller segment", cat: PathMTUBlackhole,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.Path.Acked[client] = 517
				c.TCP.Gaps = []analysis.Gap{{Dir: server, Offset: 0, Size: 1448, Frame: fr(9)}}
				c.ServerSide.Bytes = 533
				c.Path.AfterGap[server] = fr(6)
				return fin(c, frAt(8, 4*time.Second), client)
			},
			summary:  []string{"server's first 1448 bytes after the ClientHello (frame 4) never arrived", "smaller segment did (frame 6)", "client never acknowledged past the hole"},
			evidence: []int64{4, 6, 8}, fix: []string{"clamp the TCP MSS"}},
		{name: "a hole the client acknowledged: the capture lost it", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.Path.Acked[client], c.Path.Acked[server] = 517, 1981
				c.TCP.Gaps = []analysis.Gap{{Dir: server, Offset: 0, Size: 1448, Frame: fr(9)}}
				c.ServerSide.Bytes = 533
				c.Path.AfterGap[server] = fr(6)
				return fin(c, frAt(8, 4*time.Second), client)
			},
			evidence: []int64{4, 9}},
		{name: "split hello whose continuation was not resent: no proof it was lost", cat: ServerNoResponse,
			conn: func(*pki) *analysis.Connection {
				c := pathConn()
				c.Path.HelloEnd = 1501
				c.Path.Acked[client] = 1448
				return fin(c, frAt(20, 3*time.Second), client)
			},
			evidence: []int64{4, 20}},
	}
}

// TestPathCaptures checks the lab's path captures beyond their category:
// the frames each verdict rests on, and the words of its summary and fix.
func TestPathCaptures(t *testing.T) {
	for _, tt := range []struct {
		file     string
		cat      Category
		evidence []int64
		summary  []string
		fix      []string
	}{
		{"middlebox_reset.pcap", MiddleboxReset, []int64{2, 4, 5},
			[]string{"TTL 64 (0 hops", "SYN-ACK (frame 2) has TTL 63 (1 hop", "1 hop closer", "ClientHello for 'good.test'"},
			[]string{"SNI filtering", "'good.test'"}},
		{"middlebox_drop.pcap", MiddleboxDrop, nil,
			[]string{"ClientHello for 'good.test'", "never reached the server", "SYN-ACK, frame 2"},
			[]string{"silently drops this ClientHello"}},
		{"clienthello_split_dropped.pcap", ClientHelloSplitDropped, nil,
			[]string{"spans more than one segment", "acknowledged its first 1448 bytes (frame 4, acknowledged in frame 5)", "X25519MLKEM768 (1216 bytes)"},
			[]string{"reassembles ClientHellos", "GODEBUG=tlsmlkem=0"}},
		{"path_mtu_blackhole.pcap", PathMTUBlackhole, nil,
			[]string{"server's full-size segment (1448 bytes", "never acknowledged"}, []string{"clamp the TCP MSS"}},
		{"path_mtu_blackhole_client.pcap", PathMTUBlackhole, nil,
			[]string{"server's first 1448 bytes", "never acknowledged past the hole"}, []string{"clamp the TCP MSS"}},
		{"client_clock_skew.pcap", ClientClockSkew, nil,
			[]string{"alert certificate_expired", "every certificate of the chain was valid at the capture's time", "client's clock is wrong"}, []string{"clock right"}},
		// A RST from the real server (on loopback: the same TTL as its
		// SYN-ACK) stays the server's.
		{"connection_reset.pcap", ConnectionReset, nil, nil, nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			conns := analyseCapture(t, filepath.Join(capturesDir, tt.file), nil)
			if len(conns) != 1 {
				t.Fatalf("%d connections, want 1", len(conns))
			}
			c := conns[0]
			if tt.cat != ClientClockSkew && (c.Path == nil || c.Path.SYNACK.IP.TTL == 0) {
				t.Fatalf("no header facts of the SYN-ACK: %+v", c.Path)
			}
			v := Diagnose(c, Config{})
			if v.Category != tt.cat {
				t.Fatalf("%s, want %s: %s", v.Category, tt.cat, v.Summary)
			}
			if tt.evidence != nil && !slices.Equal(v.Evidence, tt.evidence) {
				t.Errorf("evidence %v, want %v", v.Evidence, tt.evidence)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary lacks %q: %s", s, v.Summary)
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(v.Fix, s) {
					t.Errorf("fix lacks %q: %s", s, v.Fix)
				}
			}
			for _, n := range v.Evidence {
				if n < c.First.Number || n > c.Last.Number {
					t.Errorf("evidence frame %d outside the connection (%d–%d)", n, c.First.Number, c.Last.Number)
				}
			}
		})
	}
}

func TestHopsAway(t *testing.T) {
	for _, tt := range []struct {
		ttl           uint8
		initial, hops int
	}{{64, 64, 0}, {63, 64, 1}, {1, 64, 63}, {65, 128, 63}, {128, 128, 0}, {117, 128, 11}, {129, 255, 126}, {255, 255, 0}, {243, 255, 12}} {
		if i, h := hopsAway(tt.ttl); i != tt.initial || h != tt.hops {
			t.Errorf("hopsAway(%d) = %d, %d; want %d, %d", tt.ttl, i, h, tt.initial, tt.hops)
		}
	}
}
