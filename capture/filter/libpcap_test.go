//go:build cgo && libpcap

package filter

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"

	"github.com/tlsdiag/tlsdiag/capture"
)

// packet is one frame of a real capture, or a variant of one.
type packet struct {
	name string
	data []byte
}

// realPackets reads every Ethernet frame of the repository's captures,
// and adds variants the captures lack: the same frames as later IPv4
// fragments, as ARP, and cut short (a program must not accept what it
// cannot read).
func realPackets(t *testing.T) []packet {
	t.Helper()
	files := testdataCaptures()
	sort.Strings(files)
	var pkts []packet
	for _, name := range files {
		f, err := capture.OpenFile(name)
		if err != nil {
			continue // not every file in testdata is a valid capture
		}
		for i := 1; ; i++ {
			data, _, err := f.ReadPacketData()
			if err != nil {
				if err != io.EOF {
					t.Logf("%s: %v", name, err)
				}
				break
			}
			if f.LinkType() != layers.LinkTypeEthernet {
				continue // per-packet link types in pcapng: Ethernet only
			}
			pkts = append(pkts, packet{fmt.Sprintf("%s#%d", name, i), append([]byte(nil), data...)})
		}
		f.Close()
	}
	if len(pkts) < 1000 {
		t.Fatalf("only %d Ethernet frames in testdata", len(pkts))
	}
	n := len(pkts)
	for i := 0; i < n; i += 7 {
		p := pkts[i]
		if len(p.data) > 34 && binary.BigEndian.Uint16(p.data[12:]) == etIPv4 {
			frag := append([]byte(nil), p.data...)
			frag[20] |= 0x01 // fragment offset 256 bytes: no ports
			pkts = append(pkts, packet{p.name + "/fragment", frag})
			arp := append([]byte(nil), p.data...)
			binary.BigEndian.PutUint16(arp[12:], etARP)
			pkts = append(pkts, packet{p.name + "/as-arp", arp})
		}
		for _, cut := range []int{13, 20, 30, 40, 54, 60} {
			if cut < len(p.data) {
				pkts = append(pkts, packet{fmt.Sprintf("%s/cut%d", p.name, cut), p.data[:cut]})
			}
		}
	}
	return pkts
}

// addressesAndPorts are the most common IPv4, IPv6 addresses and TCP/UDP
// ports of the packets, so that the expressions match some of them.
func addressesAndPorts(pkts []packet) (v4, v6 []string, ports []uint16) {
	c4, c6, cp := map[string]int{}, map[string]int{}, map[uint16]int{}
	for _, p := range pkts {
		pk := gopacket.NewPacket(p.data, layers.LayerTypeEthernet, gopacket.NoCopy)
		if ip, ok := pk.NetworkLayer().(*layers.IPv4); ok && ip.SrcIP != nil && ip.DstIP != nil {
			c4[ip.SrcIP.String()]++
			c4[ip.DstIP.String()]++
		}
		if ip, ok := pk.NetworkLayer().(*layers.IPv6); ok && ip.SrcIP != nil {
			c6[ip.SrcIP.String()]++
		}
		if tcp, ok := pk.TransportLayer().(*layers.TCP); ok {
			cp[uint16(tcp.SrcPort)]++
			cp[uint16(tcp.DstPort)]++
		}
		if udp, ok := pk.TransportLayer().(*layers.UDP); ok {
			cp[uint16(udp.DstPort)]++
		}
	}
	top := func(m map[string]int, n int) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] || m[ks[i]] == m[ks[j]] && ks[i] < ks[j] })
		return ks[:min(n, len(ks))]
	}
	v4, v6 = top(c4, 4), top(c6, 2)
	var pk []uint16
	for k := range cp {
		pk = append(pk, k)
	}
	sort.Slice(pk, func(i, j int) bool { return cp[pk[i]] > cp[pk[j]] || cp[pk[i]] == cp[pk[j]] && pk[i] < pk[j] })
	return v4, v6, pk[:min(4, len(pk))]
}

// TestAgainstLibpcap compiles each expression with this package and with
// libpcap, runs this package's program in golang.org/x/net/bpf's VM and
// libpcap's in libpcap's own interpreter (pcap_offline_filter) over every
// packet, and wants the same answer for each.
func TestAgainstLibpcap(t *testing.T) {
	pkts := realPackets(t)
	v4, v6, ports := addressesAndPorts(pkts)
	t.Logf("%d packets; addresses %v %v; ports %v (libpcap %s)", len(pkts), v4, v6, ports, pcap.Version())
	exprs := []string{
		"tcp", "udp", "ip", "ip6", "icmp", "icmp6", "arp", "sctp", "rarp",
		"tcp port 443", "port 443", "udp port 53", "port 53", "tcp port https",
		"portrange 1-1024", "tcp portrange 4430-4499", "udp portrange 1000-65535",
		"port 443 or port 8443", "port 443 or 8443", "tcp port 443 and not port 22",
		"not tcp", "!udp && !tcp", "tcp || udp", "not (tcp port 443 or udp port 53)",
		"ip and tcp port 443", "ip6 and tcp", "net 127.0.0.0/8", "net 10.0.0.0 mask 255.0.0.0",
		"net 127", "net 192.168", "dst net 127.0.0.0/24", "net ::1/128", "net fe80::/10", "ip6 net 2001:db8::/32",
		"tcp or udp and port 53", "port 443 and host 127.0.0.1 or port 53", "not port 443 and not port 22 or icmp",
		"src or dst port 443", "src and dst net 127.0.0.0/8", "ip src 127.0.0.1", "arp host 127.0.0.1",
		"host ::1", "ip6 dst host ::1", "ip host 127.0.0.1 and not arp",
	}
	for _, a := range v4 {
		p24, p16 := netip.MustParsePrefix(a+"/24").Masked(), netip.MustParsePrefix(a+"/16").Masked()
		exprs = append(exprs, "host "+a, "src host "+a, "dst "+a, "ip host "+a, "host "+a+" and tcp port 443",
			"net "+p24.String(), "src net "+p16.String()+" or dst port 80", "src and dst host "+a)
	}
	for _, a := range v6 {
		exprs = append(exprs, "host "+a, "ip6 src host "+a, "not host "+a, "net "+a+"/128 and port 443")
	}
	for _, p := range ports {
		exprs = append(exprs, fmt.Sprintf("port %d", p), fmt.Sprintf("tcp src port %d", p), fmt.Sprintf("udp dst port %d", p),
			fmt.Sprintf("portrange %d-%d", p, p+10), fmt.Sprintf("tcp port %d or %d", p, p+1), fmt.Sprintf("not port %d", p))
	}
	if len(v4) >= 2 && len(ports) >= 2 {
		exprs = append(exprs, fmt.Sprintf("(host %s or %s) and (port %d or %d)", v4[0], v4[1], ports[0], ports[1]),
			fmt.Sprintf("host %s and not (tcp src port %d or udp)", v4[1], ports[1]))
	}
	const snaplen = 262144
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			ours, err := Compile(expr, Ethernet, snaplen)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(ours)
			if err != nil {
				t.Fatalf("the VM refuses the program: %v", err)
			}
			theirs, err := pcap.NewBPF(layers.LinkTypeEthernet, snaplen, expr)
			if err != nil {
				t.Fatalf("libpcap: %v", err)
			}
			matched, diffs := 0, 0
			for _, p := range pkts {
				n, err := vm.Run(p.data)
				if err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				ci := gopacket.CaptureInfo{CaptureLength: len(p.data), Length: len(p.data)}
				want := theirs.Matches(ci, p.data)
				if (n > 0) != want {
					if diffs++; diffs <= 5 {
						t.Errorf("%s (%d bytes): ours %v, libpcap %v", p.name, len(p.data), n > 0, want)
					}
				}
				if want {
					matched++
				}
			}
			if diffs > 5 {
				t.Errorf("... %d packets differ in all", diffs)
			}
			t.Logf("%d of %d packets match", matched, len(pkts))
		})
	}
}

// TestLibpcapRefuses: expressions libpcap refuses, this package refuses too.
func TestLibpcapRefuses(t *testing.T) {
	for _, expr := range []string{"tcp port", "port 70000", "host", "net 10.0.0.1/8", "port 443 or", "(tcp", "tcp)", "and tcp", "ip6 host 10.0.0.1", "ip host ::1"} {
		_, err := Compile(expr, Ethernet, 0)
		_, perr := pcap.CompileBPFFilter(layers.LinkTypeEthernet, 262144, expr)
		if perr == nil {
			t.Errorf("libpcap compiles %q", expr)
		}
		if err == nil {
			t.Errorf("%q compiles, libpcap says %v", expr, perr)
		}
	}
}
