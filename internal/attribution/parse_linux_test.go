package attribution

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// packet serialises the headers of a first packet as the kernel logs it
// (from the network header on).
func packet(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseFlow(t *testing.T) {
	v4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	syn := &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, Window: 1024}
	syn.SetNetworkLayerForChecksum(v4)
	v4opts := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 3},
		Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 443}
	udp.SetNetworkLayerForChecksum(v4opts)
	src6, dst6 := net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: src6, DstIP: dst6}
	hop := &layers.IPv6HopByHop{}
	hop.NextHeader = layers.IPProtocolTCP
	hop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionData: []byte{0, 0, 0, 0}}}
	syn6 := &layers.TCP{SrcPort: 40001, DstPort: 8443, SYN: true, Window: 1024}
	syn6.SetNetworkLayerForChecksum(v6)
	frag := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}, FragOffset: 100}
	for _, tt := range []struct {
		name string
		pkt  []byte
		want Flow
		ok   bool
	}{
		{"ipv4 syn", packet(t, v4, syn), Flow{TCP, netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")}, true},
		{"ipv4 options udp", packet(t, v4opts, udp, gopacket.Payload("q")), Flow{UDP, netip.MustParseAddrPort("10.0.0.1:5353"), netip.MustParseAddrPort("10.0.0.3:443")}, true},
		{"ipv6 hop-by-hop syn", packet(t, v6, hop, syn6), Flow{TCP, netip.MustParseAddrPort("[2001:db8::1]:40001"), netip.MustParseAddrPort("[2001:db8::2]:8443")}, true},
		{"later fragment", packet(t, frag, gopacket.Payload("12345678")), Flow{}, false},
		{"truncated", packet(t, v4, syn)[:22], Flow{}, false},
		{"empty", nil, Flow{}, false},
		{"not ip", []byte{0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}, Flow{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseFlow(tt.pkt)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("parseFlow = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
			for i := range tt.pkt {
				parseFlow(tt.pkt[:i]) // no prefix panics
			}
		})
	}
}

func TestNflogAttrs(t *testing.T) {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{127, 0, 0, 1}, DstIP: net.IP{127, 0, 0, 1}}
	tcp := &layers.TCP{SrcPort: 1, DstPort: 2, SYN: true}
	tcp.SetNetworkLayerForChecksum(ip)
	payload := packet(t, ip, tcp)
	b := append(nlAttr(1, []byte{8, 0, 3, 0}), nlAttr(nfulaPrefix, []byte("TLSDIAG-EXEC-1-1\x00"))...)
	b = append(b, nlAttr(nfulaPayload, payload)...)
	prefix, got := nflogAttrs(b)
	if prefix != "TLSDIAG-EXEC-1-1" || string(got) != string(payload) {
		t.Errorf("prefix %q, payload %x", prefix, got)
	}
	for i := range b {
		nflogAttrs(b[:i]) // no prefix panics
	}
}
