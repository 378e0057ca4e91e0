package capture

import (
	"context"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// icmpLog is a recorder that also takes datagrams and the ICMP errors
// about them.
type icmpLog struct {
	*recorder
	datagramErrors map[int64]ICMPError
}

func (l *icmpLog) Datagram(netip.AddrPort, netip.AddrPort, []byte, Frame) {}
func (l *icmpLog) EndDatagrams()                                          {}
func (l *icmpLog) DatagramError(_, _ netip.AddrPort, e ICMPError, f Frame) {
	l.datagramErrors[f.Number] = e
}

// TestICMPErrorsAsTshark reads the ICMP errors of real captures (a
// firewall's REJECT over IPv4 and IPv6, routers' unreachable, a routing
// loop, "fragmentation needed", a resolver's port unreachable): each
// error tshark shows must reach the connection it quotes as an EventICMP
// from the quoted packet's sender (or, for a datagram, the handler's
// DatagramError), named as tshark names it, or be counted as about no
// connection the capture holds open.
func TestICMPErrorsAsTshark(t *testing.T) {
	tsharktest.Path(t, "the ICMP errors are checked against it")
	files, err := filepath.Glob("../testdata/field/icmp/*.pcap")
	if err != nil || len(files) < 8 {
		t.Fatalf("%d captures in testdata/field/icmp (%v)", len(files), err)
	}
	total := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out := tsharktest.Output(t, "-n", "-r", file, "-Y", "icmp.type == 3 or icmp.type == 11 or icmpv6.type <= 3",
				"-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info", "-e", "ip.src", "-e", "ipv6.src")
			want := map[int64]string{}
			quotedSrc := map[int64]netip.Addr{} // the quoted packet's sender: the last source tshark lists
			for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				fields := strings.Split(line, "\t")
				if len(fields) < 4 {
					continue
				}
				num, err := strconv.ParseInt(fields[0], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				want[num] = fields[1]
				srcs := strings.Split(fields[2]+fields[3], ",")
				quotedSrc[num], err = netip.ParseAddr(srcs[len(srcs)-1])
				if err != nil {
					t.Fatalf("frame %d: %v", num, err)
				}
			}
			f, err := OpenFile(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h := &icmpLog{recorder: newRecorder(t), datagramErrors: map[int64]ICMPError{}}
			h.quiet = true
			st, err := Run(context.Background(), f, h, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]ICMPError{}
			for _, s := range h.streams {
				for _, ev := range s.events {
					if ev.Kind != EventICMP {
						continue
					}
					if ev.ICMP == nil {
						t.Fatalf("frame %d: EventICMP without its error", ev.Frame.Number)
					}
					sender := s.conn.Client.Addr()
					if ev.Dir == ServerToClient {
						sender = s.conn.Server.Addr()
					}
					if sender != quotedSrc[ev.Frame.Number] {
						t.Errorf("frame %d: about the %s's packet (%s), tshark reads the quoted packet as %s's", ev.Frame.Number, ev.Dir, sender, quotedSrc[ev.Frame.Number])
					}
					got[ev.Frame.Number] = *ev.ICMP
				}
			}
			for n, e := range h.datagramErrors {
				got[n] = e
			}
			if st.ICMPErrors != int64(len(want)) {
				t.Errorf("%d ICMP errors counted, tshark shows %d", st.ICMPErrors, len(want))
			}
			if delivered := int64(len(got)) + st.ICMPUnmatched; delivered != st.ICMPErrors {
				t.Errorf("%d delivered and %d unmatched of %d", len(got), st.ICMPUnmatched, st.ICMPErrors)
			}
			for n, e := range got {
				info, ok := want[n]
				switch {
				case !ok:
					t.Errorf("frame %d: %s, tshark shows no ICMP error", n, e)
				case !strings.HasPrefix(info, e.String()):
					t.Errorf("frame %d: %q, tshark %q", n, e.String(), info)
				}
				total++
			}
		})
	}
	if total < 15 {
		t.Errorf("only %d ICMP errors delivered: the test proves little", total)
	}
}

// TestQuotedPacketCutOrOdd: an ICMP error whose quoted packet is cut
// before its ports, is a fragment after the first, or is no IP packet is
// not read as being about a connection.
func TestQuotedPacketCutOrOdd(t *testing.T) {
	ip4 := []byte{0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	ports := []byte{0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1}
	whole := append(append([]byte{}, ip4...), ports...)
	if proto, src, dst, rest, ok := quotedPacket(whole, false); !ok || proto != 6 || src.String() != "10.0.0.1" || dst.String() != "10.0.0.2" || len(rest) != 8 {
		t.Fatalf("whole packet: %v %v %v %v %v", proto, src, dst, rest, ok)
	}
	fragment := append([]byte{}, whole...)
	fragment[7] = 8 // offset 64 bytes: no transport header here
	v6 := append([]byte{}, whole...)
	v6[0] = 0x65
	longIHL := append([]byte{}, whole...)
	longIHL[0] = 0x4f // 60-byte header, longer than what is quoted
	for name, b := range map[string][]byte{
		"cut in the IP header": whole[:12], "a later fragment": fragment, "version 6 as ICMPv4": v6, "header longer than the quote": longIHL[:30],
	} {
		if _, _, _, rest, ok := quotedPacket(b, false); ok && len(rest) >= quotedMin {
			t.Errorf("%s: read as about a connection", name)
		}
	}
	if _, _, _, _, ok := quotedPacket(make([]byte, 39), true); ok {
		t.Error("an IPv6 header cut short: read")
	}
}
