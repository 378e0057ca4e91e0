package capture

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// TestWCCPRedirect reads tcpdump's wccp_redirect_gre.pcap, a segment a
// router redirected to a web cache in GRE with a WCCP version 2 redirect
// header, and finds the redirected TCP segment that tshark finds inside,
// with its addresses and the GRE tunnel's.
func TestWCCPRedirect(t *testing.T) {
	path := filepath.Join("testdata", "tcpdump", "wccp_redirect_gre.pcap")
	fields := strings.Fields(tshark(t, path, "-n", "-Y", "tcp", "-T", "fields", "-E", "separator=/s", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport"))
	if len(fields) != 4 {
		t.Fatalf("tshark reads %q, want one TCP segment in the tunnel", fields)
	}
	src, dst := strings.Split(fields[0], ","), strings.Split(fields[1], ",")
	if len(src) != 2 || len(dst) != 2 {
		t.Fatalf("tshark reads addresses %q and %q, want the tunnel's and the packet's", src, dst)
	}
	frames, lt := readFrames(t, path)
	if len(frames) != 1 {
		t.Fatalf("%d frames, want 1", len(frames))
	}
	var st Stats
	d := newDecoder(&st)
	var seg Segment
	kind, err := d.decode(frames[0].data, frames[0].ci.Timestamp, lt, &seg)
	if err != nil || kind != kindTCP {
		t.Fatalf("kind %d skip %v (%v), want a TCP segment", kind, d.skip, err)
	}
	if got, want := seg.Src.String()+" > "+seg.Dst.String(), src[1]+":"+fields[2]+" > "+dst[1]+":"+fields[3]; got != want {
		t.Errorf("segment %s, want %s", got, want)
	}
	if seg.Tunnel == nil {
		t.Fatal("no tunnel, want gre")
	}
	if seg.Tunnel.Type != TunnelGRE || seg.Tunnel.Src.String() != src[0] || seg.Tunnel.Dst.String() != dst[0] {
		t.Errorf("tunnel %v %s → %s, want gre %s → %s", seg.Tunnel.Type, seg.Tunnel.Src, seg.Tunnel.Dst, src[0], dst[0])
	}
}

// TestWCCPFrames: a handshake's segment redirected with a WCCP version 2
// redirect header or none (version 1, IPv4 straight after GRE), and what
// is not readable.
func TestWCCPFrames(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	plain, want := frames[0].data, frames[0].seg
	v2, err := (&encap.Wrapper{Kind: encap.WCCP}).Wrap(plain)
	if err != nil {
		t.Fatal(err)
	}
	gre := 14 + 20 // the GRE header, after Ethernet and the outer IPv4 header
	v1 := append(append([]byte(nil), v2[:gre+4]...), v2[gre+8:]...)
	eth := layers.LinkTypeEthernet
	checkFrameCases(t, want, []frameCase{
		{"WCCP version 2", eth, v2, kindTCP, Skip{}},
		{"WCCP version 1", eth, v1, kindTCP, Skip{}},
		{"redirect header cut short", eth, v2[:gre+6], kindSkipped, Skip{SkipEncapsulation, "WCCP redirect header cut short"}},
		{"no IP packet", eth, append(append([]byte(nil), v2[:gre+8]...), 0x00, 0x01), kindSkipped, Skip{SkipEncapsulation, "WCCP redirect carrying no IP packet"}},
	})
}
