package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	v4a = netip.MustParseAddrPort("192.0.2.1:51000")
	v4b = netip.MustParseAddrPort("192.0.2.2:443")
	v6a = netip.MustParseAddrPort("[2001:db8::1]:51000")
	v6b = netip.MustParseAddrPort("[2001:db8::2]:443")
)

func TestDecode(t *testing.T) {
	payload := []byte("\x16\x03\x01\x00\x05hello")
	seg4 := tcpSeg{src: v4a, dst: v4b, seq: 1234, ack: 99, psh: true, payload: payload}
	seg6 := tcpSeg{src: v6a, dst: v6b, seq: 1234, ack: 99, psh: true, payload: payload}
	ip4 := tcpIP(t, seg4)
	ip6 := tcpIP(t, seg6)
	udp := func() []byte {
		p := bytes.Clone(ip4)
		p[9] = byte(layers.IPProtocolUDP)
		return p
	}()
	arp := func() []byte {
		f := ethernet(t, ip4)
		f[12], f[13] = 0x08, 0x06
		return f
	}()
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		kind frameKind
		src  netip.AddrPort
	}{
		{"ethernet ipv4", layers.LinkTypeEthernet, ethernet(t, ip4), kindTCP, v4a},
		{"ethernet ipv6", layers.LinkTypeEthernet, ethernet(t, ip6), kindTCP, v6a},
		{"vlan", layers.LinkTypeEthernet, ethernet(t, ip4, 100), kindTCP, v4a},
		{"qinq", layers.LinkTypeEthernet, ethernet(t, ip6, 100, 200), kindTCP, v6a},
		{"linux sll", layers.LinkTypeLinuxSLL, sll(ip4), kindTCP, v4a},
		{"linux sll2", layers.LinkTypeLinuxSLL2, sll2(ip6), kindTCP, v6a},
		{"bsd loopback ipv4", layers.LinkTypeNull, loopback(ip4), kindTCP, v4a},
		{"bsd loopback ipv6", layers.LinkTypeNull, loopback(ip6), kindTCP, v6a},
		{"raw ipv4", layers.LinkTypeRaw, ip4, kindTCP, v4a},
		{"raw ipv6", layers.LinkTypeRaw, ip6, kindTCP, v6a},
		{"linktype ipv4", layers.LinkTypeIPv4, ip4, kindTCP, v4a},
		{"linktype ipv6", layers.LinkTypeIPv6, ip6, kindTCP, v6a},
		{"ipv6 extension headers", layers.LinkTypeEthernet, ethernet(t, withIPv6Extensions(ip6)), kindTCP, v6a},
		{"ethernet padding is not payload", layers.LinkTypeEthernet, append(ethernet(t, ip4), 0, 0, 0, 0), kindTCP, v4a},
		{"arp", layers.LinkTypeEthernet, arp, kindNonIP, netip.AddrPort{}},
		{"udp", layers.LinkTypeEthernet, ethernet(t, udp), kindNonTCP, netip.AddrPort{}},
		{"raw garbage", layers.LinkTypeRaw, []byte{0x12, 0x34}, kindNonIP, netip.AddrPort{}},
		{"empty", layers.LinkTypeEthernet, nil, kindMalformed, netip.AddrPort{}},
		{"ipv4 header cut", layers.LinkTypeRaw, ip4[:15], kindMalformed, netip.AddrPort{}},
		{"tcp header cut", layers.LinkTypeRaw, ip4[:30], kindMalformed, netip.AddrPort{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st Stats
			d := newDecoder(&st)
			var seg Segment
			kind, err := d.decode(tt.data, time.Time{}, tt.lt, &seg)
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.kind {
				t.Fatalf("kind %d, want %d", kind, tt.kind)
			}
			if kind != kindTCP {
				return
			}
			if seg.Src != tt.src || seg.Seq != 1234 || seg.Ack != 99 || !seg.ACK || seg.SYN || seg.FIN || seg.RST {
				t.Errorf("segment %+v", seg)
			}
			if !bytes.Equal(seg.Payload, payload) || seg.Missing != 0 {
				t.Errorf("payload %q missing %d, want %q and 0", seg.Payload, seg.Missing, payload)
			}
		})
	}
}

func TestDecodeTruncated(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1000)
	for _, src := range []netip.AddrPort{v4a, v6a} {
		dst := v4b
		if src.Addr().Is6() {
			dst = v6b
		}
		p := tcpIP(t, tcpSeg{src: src, dst: dst, seq: 1, payload: payload})
		f := ethernet(t, withExt(p))
		var st Stats
		d := newDecoder(&st)
		var seg Segment
		kind, _ := d.decode(f[:len(f)-700], time.Time{}, layers.LinkTypeEthernet, &seg)
		if kind != kindTCP || len(seg.Payload) != 300 || seg.Missing != 700 || !d.truncated {
			t.Errorf("%v: kind %d payload %d missing %d truncated %v, want TCP 300 700 true", src, kind, len(seg.Payload), seg.Missing, d.truncated)
		}
	}
}

// withExt adds IPv6 extension headers to IPv6 packets and leaves IPv4 alone.
func withExt(p []byte) []byte {
	if p[0]>>4 == 6 {
		return withIPv6Extensions(p)
	}
	return p
}

// A frame of a link type the decoder does not know is skipped and
// counted by link type; the frames after it are still analysed.
func TestUnsupportedLinkType(t *testing.T) {
	r := newRecorder(t)
	a := NewAssembler(r, Options{})
	for _, lt := range []layers.LinkType{layers.LinkTypeLinuxUSB, 249, 249} {
		if err := a.Packet([]byte{1, 2, 3}, gopacket.CaptureInfo{CaptureLength: 3, Length: 3}, lt); err != nil {
			t.Fatalf("link type %d: %v", lt, err)
		}
	}
	seg := tcpSeg{src: v4a, dst: v4b, seq: 1, syn: true}
	if err := a.Packet(ethernet(t, tcpIP(t, seg)), gopacket.CaptureInfo{CaptureLength: 100, Length: 100}, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	st := a.Close()
	want := map[Skip]int64{{SkipLinkType, "USB (220)"}: 1, {SkipLinkType, "USBPCAP (249)"}: 2}
	if !maps.Equal(st.Skipped, want) {
		t.Errorf("skipped %v, want %v", st.Skipped, want)
	}
	if st.Segments != 1 || len(r.streams) != 1 {
		t.Errorf("%d segments, %d connections after the skipped frames, want 1 and 1", st.Segments, len(r.streams))
	}
}

func TestIPv4Fragments(t *testing.T) {
	rec := newRecorder(t)
	a := NewAssembler(rec, Options{})
	ts := time.Unix(1700000000, 0)
	feed := func(p []byte) {
		t.Helper()
		ts = ts.Add(time.Millisecond)
		if err := a.Packet(p, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(p), Length: len(p)}, layers.LinkTypeRaw); err != nil {
			t.Fatal(err)
		}
	}
	feed(tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 100, syn: true, noACK: true}))
	big := bytes.Repeat([]byte("0123456789"), 300)
	p := tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 101, payload: big})
	p[6] = 0 // clear DF
	frags := fragmentIPv4(p, 1200)
	if len(frags) != 3 {
		t.Fatalf("%d fragments", len(frags))
	}
	// Out of order, and a duplicate.
	feed(frags[2])
	feed(frags[0])
	feed(frags[0])
	feed(frags[1])
	a.Close()
	s := rec.only()
	if !bytes.Equal(s.data[ClientToServer].Bytes(), big) {
		t.Errorf("delivered %d bytes, want the %d sent", s.data[ClientToServer].Len(), len(big))
	}
	if got := s.frames(ClientToServer); got != "0:3000@5" {
		t.Errorf("frames %s, want all bytes from the completing fragment 5", got)
	}
	st := a.Stats()
	if st.IPv4Fragments != 4 || st.IPv4Reassembled != 1 || st.Frames != 5 {
		t.Errorf("fragments %d reassembled %d frames %d, want 4 1 5", st.IPv4Fragments, st.IPv4Reassembled, st.Frames)
	}
}

// TestInOrderPathAllocs guards the zero-allocation promise: decoding and
// delivering an in-order segment allocates nothing.
func TestInOrderPathAllocs(t *testing.T) {
	a := NewAssembler(discardHandler{}, Options{})
	ts := time.Unix(1700000000, 0)
	mk := func(seq uint32) []byte {
		return ethernet(t, tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: seq, payload: bytes.Repeat([]byte("a"), 1000)}))
	}
	a.Packet(ethernet(t, tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 0, syn: true, noACK: true})), gopacket.CaptureInfo{Timestamp: ts}, layers.LinkTypeEthernet)
	frames := make([][]byte, 100)
	for i := range frames {
		frames[i] = mk(1 + uint32(i)*1000)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(frames)-1, func() {
		ts = ts.Add(time.Millisecond)
		f := frames[i]
		i++
		a.Packet(f, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f), Length: len(f)}, layers.LinkTypeEthernet)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per in-order packet, want 0", allocs)
	}
	if st := a.Stats(); st.DeliveredBytes != int64(len(frames)*1000) {
		t.Errorf("delivered %d bytes", st.DeliveredBytes)
	}
}

type discardHandler struct{}

func (discardHandler) Open(Conn) Stream { return discard{} }

// An encapsulation whose payload is not decoded is skipped and counted by
// what it carried.
func TestUndecodedEncapsulationSkipped(t *testing.T) {
	seg := tcpSeg{src: v4a, dst: v4b, seq: 1, syn: true}
	ip := tcpIP(t, seg)
	// GRE carrying PPP (0x880b).
	gre := append([]byte{0, 0, 0x88, 0x0b}, ip...)
	outer := ethernet(t, ipv4Over(47, gre))
	a := NewAssembler(newRecorder(t), Options{})
	if err := a.Packet(outer, gopacket.CaptureInfo{CaptureLength: len(outer), Length: len(outer)}, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	st := a.Close()
	want := map[Skip]int64{{SkipEncapsulation, "GRE carrying protocol 0x880b"}: 1}
	if !maps.Equal(st.Skipped, want) || st.Segments != 0 {
		t.Errorf("skipped %v, %d segments; want %v and none", st.Skipped, st.Segments, want)
	}
}

// ipv4Over wraps payload in an IPv4 header of protocol proto.
func ipv4Over(proto byte, payload []byte) []byte {
	n := 20 + len(payload)
	h := []byte{0x45, 0, byte(n >> 8), byte(n), 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	return append(h, payload...)
}

// TestLinkTypeNamesAsTcpdump: the names tlsdiag gives link types it does
// not decode are libpcap's, as tcpdump -r prints them for a file of that
// link type.
func TestLinkTypeNamesAsTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump is not installed; CI installs it: ", err)
	}
	dir := t.TempDir()
	for lt, name := range pcapLinkTypeNames {
		path := filepath.Join(dir, fmt.Sprint(int(lt))+".pcap")
		var hdr [24]byte
		binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], 65535)
		binary.LittleEndian.PutUint32(hdr[20:], uint32(lt))
		if err := os.WriteFile(path, hdr[:], 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(tcpdump, "-r", path).CombinedOutput()
		if want := "link-type " + name + " ("; !strings.Contains(string(out), want) {
			t.Errorf("link type %d: tlsdiag names it %s, tcpdump says: %s", lt, name, out)
		}
		if got := linkTypeName(lt); got != fmt.Sprintf("%s (%d)", name, lt) {
			t.Errorf("linkTypeName(%d) = %q", lt, got)
		}
	}
}
