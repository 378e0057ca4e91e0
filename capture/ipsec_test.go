package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// tcpdumpFrameLine is the first line tcpdump -# writes of a frame: its
// number, then the rest.
var tcpdumpFrameLine = regexp.MustCompile(`(?m)^ +(\d+)  (.*)$`)

// TestIPsecAsTcpdump checks, on tcpdump's IPsec samples, that the frames
// skipped as encrypted by IPsec ESP are those tcpdump reads as ESP: ESP
// over IP, and ESP in UDP through NAT (port 4500) beside IKE on the same
// port and NAT keepalives. OSPFv3 signed with AH is not skipped: it is
// not traffic to read.
func TestIPsecAsTcpdump(t *testing.T) {
	for _, tt := range []struct{ file, out string }{
		{"02-sunrise-sunset-esp", "esp0"},
		{"espudp1", "espudp1"},
		{"isakmp4500", "isakmp4"},
		{"OSPFv3_with_AH", "ospf3_ah-vv"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			dir := filepath.Join("testdata", "tcpdump")
			out, err := os.ReadFile(filepath.Join(dir, tt.out+".out"))
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			lines := tcpdumpFrameLine.FindAllSubmatch(out, -1)
			for _, m := range lines {
				if bytes.Contains(m[2], []byte(" ESP(spi=")) {
					n, _ := strconv.Atoi(string(m[1]))
					want = append(want, n)
				}
			}
			frames, lt := readFrames(t, filepath.Join(dir, tt.file+".pcap"))
			if len(frames) != len(lines) {
				t.Fatalf("%d frames, tcpdump reads %d", len(frames), len(lines))
			}
			var st Stats
			d := newDecoder(&st)
			var got []int
			for i, fr := range frames {
				var seg Segment
				kind, err := d.decode(fr.data, fr.ci.Timestamp, lt, &seg)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case kind == kindSkipped && d.skip == skipIPsecESP:
					got = append(got, i+1)
				case kind == kindSkipped:
					t.Errorf("frame %d skipped: %v", i+1, d.skip)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("frames skipped as ESP %v, tcpdump's ESP frames %v", got, want)
			}
		})
	}
}

// TestAHFrames decodes frames signed with IPsec AH: in tunnel mode the
// packet inside is read; in transport mode, over TCP, the segment is not
// decoded and the frame is skipped by name, as is an AH header cut short.
func TestAHFrames(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	plain, want := frames[0].data, frames[0].seg
	// An outer IPv4 header (protocol 4), turned into AH (51) carrying
	// IPv4: next header 4, length 4 (24 bytes), SPI 0x100, sequence 1,
	// a 12-byte ICV.
	ipip, err := (&encap.Wrapper{Kind: encap.IPinIP}).Wrap(plain)
	if err != nil {
		t.Fatal(err)
	}
	const outer = 14 // the outer IPv4 header's offset
	ah := []byte{4, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	tunnel := slices.Concat(ipip[:outer+20], ah, ipip[outer+20:])
	tunnel[outer+9] = 51
	setIPv4Length(tunnel[outer:], len(tunnel)-outer)
	// Transport mode: AH between the frame's own IPv4 header and TCP.
	transport := slices.Concat(plain[:outer+20], ah, plain[outer+20:])
	transport[outer+20] = 6 // AH's next header: TCP
	transport[outer+9] = 51
	setIPv4Length(transport[outer:], len(transport)-outer)
	eth := layers.LinkTypeEthernet
	checkFrameCases(t, want, []frameCase{
		{"tunnel mode", eth, tunnel, kindTCP, Skip{}},
		{"transport mode", eth, transport, kindSkipped, Skip{SkipEncapsulation, "IPsec AH in transport mode"}},
		{"cut short", eth, tunnel[:outer+20+10], kindSkipped, Skip{SkipEncapsulation, "IPsec AH cut short"}},
		{"tunnel mode again", eth, tunnel, kindTCP, Skip{}},
	})
}

// setIPv4Length sets an IPv4 header's total length and checksum.
func setIPv4Length(ip []byte, n int) {
	ip[2], ip[3] = byte(n>>8), byte(n)
	ip[10], ip[11] = 0, 0
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(ip[i])<<8 | uint32(ip[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	ip[10], ip[11] = byte(^sum>>8), byte(^sum)
}
