package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// tcpdumpIP matches tcpdump's line for an IPv4 packet, with the ports of
// TCP and UDP ("IP 10.0.0.1.4100 > 10.0.0.2.179:", "IP 10.0.0.1 > 10.0.0.2:",
// with -e "ethertype IPv4 (0x0800), 10.0.0.1 > 10.0.0.2:"), and the MPLS
// label in front when there is one.
var tcpdumpIP = regexp.MustCompile(`(?:MPLS \(label (\d+),.*\) )?(?:IP |ethertype IPv4 \(0x0800\), (?:length \d+: )?)(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?:\s+(Flags|UDP|\S)`)

// tcpdumpMACsecEncrypted matches tcpdump's line for a MACsec frame it
// cannot read: encrypted (E) or changed (C).
var tcpdumpMACsecEncrypted = regexp.MustCompile(`802\.1AE MACsec .* flags [A-Z]*[EC]`)

// TestLinkHeadersAsTcpdump decodes captures of tcpdump's test suite whose
// link header or the header after the Ethernet addresses is one tlsdiag
// reads, and compares each frame with tcpdump's reading of it: the TCP
// and UDP packets with their addresses and MPLS label, the other IP
// packets, the frames without IP (SLARP, ARP, LCP), and MACsec frames
// tcpdump cannot read either. The links: PPP (with MPLS and without),
// Cisco HDLC, IP over InfiniBand; after Ethernet addresses, MACsec and
// Arista's timestamp.
func TestLinkHeadersAsTcpdump(t *testing.T) {
	for _, tt := range []struct {
		file, out string
		lt        layers.LinkType
		// inner: tcpdump's reading of each frame is the packet inside a
		// tunnel, on the line after the frame's.
		inner bool
	}{
		{file: "mpls-traceroute", out: "mpls-traceroute", lt: linkTypePPP},
		{file: "lspping-fec-ldp", out: "lspping-fec-ldp", lt: linkTypePPP},
		{file: "HDLC", out: "HDLC", lt: linkTypeCHDLC},
		{file: "ipoib", out: "ipoib", lt: linkTypeIPoIB},
		{file: "arista_ether", out: "arista_ether", lt: layers.LinkTypeEthernet},
		{file: "macsec-integonly", out: "macsec-integonly-e", lt: layers.LinkTypeEthernet},
		{file: "macsec-short-valid", out: "macsec-short-valid-e", lt: layers.LinkTypeEthernet},
		{file: "macsec-encrypted", out: "macsec-encrypted-e", lt: layers.LinkTypeEthernet},
		{file: "macsec-changed", out: "macsec-changed-e", lt: layers.LinkTypeEthernet},
		{file: "vxlan", out: "vxlan-e", lt: layers.LinkTypeEthernet, inner: true},
		{file: "vxlan_port_8472", out: "vxlan_port_8472-e", lt: layers.LinkTypeEthernet, inner: true},
	} {
		t.Run(tt.file, func(t *testing.T) {
			dir := filepath.Join("testdata", "tcpdump")
			out, err := os.ReadFile(filepath.Join(dir, tt.out+".out"))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				if strings.HasPrefix(line, " ") == tt.inner || len(strings.Fields(line)) < 4 {
					continue // a continuation line, or tcpdump's hex dump (or the outer line)
				}
				want = append(want, tcpdumpFrame(line))
			}
			frames, lt := readFrames(t, filepath.Join(dir, tt.file+".pcap"))
			if lt != tt.lt {
				t.Fatalf("link type %v, want %v", lt, tt.lt)
			}
			var st Stats
			d := newDecoder(&st)
			var got []string
			for _, fr := range frames {
				var seg Segment
				kind, err := d.decode(fr.data, fr.ci.Timestamp, lt, &seg)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ourFrame(kind, d, &seg))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("frames:\n%s\ntcpdump reads:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// tcpdumpFrame words what tcpdump's line says of a frame as ourFrame does.
func tcpdumpFrame(line string) string {
	if tcpdumpMACsecEncrypted.MatchString(line) {
		return "encrypted"
	}
	m := tcpdumpIP.FindStringSubmatch(line)
	switch {
	case m == nil:
		return "not IP"
	case m[3] == "" || (m[6] != "Flags" && m[6] != "UDP" && !strings.Contains(line, "LSP-PING")):
		return "IP"
	}
	s := m[2] + ":" + m[3] + " > " + m[4] + ":" + m[5]
	if m[1] != "" {
		s += " label " + m[1]
	}
	return s
}

func ourFrame(kind frameKind, d *decoder, seg *Segment) string {
	switch kind {
	case kindNonIP:
		return "not IP"
	case kindNonTCP, kindICMP:
		return "IP"
	case kindSkipped:
		if d.skip.Reason == SkipEncrypted {
			return "encrypted"
		}
		return "skipped: " + d.skip.What
	case kindTCP, kindUDP:
		s := seg.Src.String() + " > " + seg.Dst.String()
		if seg.Tunnel != nil && seg.Tunnel.Type == TunnelMPLS {
			s += " label " + strconv.FormatUint(uint64(seg.Tunnel.ID), 10)
		}
		return s
	}
	return "kind " + strconv.Itoa(int(kind))
}

// TestPPPFrames decodes the PPP framings a capture may hold: with and
// without the HDLC address and control bytes, a compressed protocol
// field, Cisco HDLC in a PPP_SERIAL capture, and what is not IP or is
// not readable (LCP, Van Jacobson compression, CCP).
func TestPPPFrames(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	ip, want := frames[0].data[14:], frames[0].seg
	cat := func(h ...byte) []byte { return append(h, ip...) }
	checkFrameCases(t, want, []frameCase{
		{"PPP", linkTypePPP, cat(0x00, 0x21), kindTCP, Skip{}},
		{"PPP with address and control", linkTypePPP, cat(0xff, 0x03, 0x00, 0x21), kindTCP, Skip{}},
		{"compressed protocol field", linkTypePPP, cat(0x21), kindTCP, Skip{}},
		{"PPP_SERIAL", linkTypePPPHDLC, cat(0xff, 0x03, 0x00, 0x21), kindTCP, Skip{}},
		{"Cisco HDLC in PPP_SERIAL", linkTypePPPHDLC, cat(0x0f, 0x00, 0x08, 0x00), kindTCP, Skip{}},
		{"Cisco HDLC", linkTypeCHDLC, cat(0x8f, 0x00, 0x08, 0x00), kindTCP, Skip{}},
		{"IPoIB", linkTypeIPoIB, append(append(make([]byte, 40), 0x08, 0x00, 0, 0), ip...), kindTCP, Skip{}},
		{"LCP", linkTypePPP, cat(0xc0, 0x21), kindNonIP, Skip{}},
		{"Van Jacobson", linkTypePPP, cat(0x00, 0x2d), kindSkipped, skipPPPVJ},
		{"CCP datagram", linkTypePPP, cat(0x00, 0xfd), kindSkipped, skipPPPCompressed},
		{"Cisco HDLC of a PPPoE frame cut short", linkTypeCHDLC, []byte{0x0f, 0x00, 0x88, 0x64, 1, 2, 3}, kindSkipped, Skip{SkipEncapsulation, "PPPoE header cut short"}},
		{"Cisco HDLC of another protocol", linkTypeCHDLC, cat(0x0f, 0x00, 0x88, 0x0b), kindNonIP, Skip{}},
		{"empty", linkTypePPP, nil, kindMalformed, Skip{}},
		{"IPoIB cut", linkTypeIPoIB, make([]byte, 43), kindMalformed, Skip{}},
	})
}

// TestCiscoMetaDataInGRE reads tcpdump's various_gre.pcap, a DMVPN link's
// GRE with TrustSec's Cisco MetaData inside, against Wireshark's reading:
// the frames whose MetaData carries IP are IP, and those whose inner IP
// carries GRE of protocol 0 (which neither reads further) are skipped.
func TestCiscoMetaDataInGRE(t *testing.T) {
	path := filepath.Join("testdata", "tcpdump", "various_gre.pcap")
	lines := strings.Split(strings.TrimSpace(tshark(t, path, "-n", "-T", "fields", "-e", "frame.protocols")), "\n")
	frames, _ := readFrames(t, path)
	if len(frames) != len(lines) {
		t.Fatalf("%d frames, tshark reads %d", len(frames), len(lines))
	}
	var st Stats
	d := newDecoder(&st)
	inside := 0
	for i, fr := range frames {
		var seg Segment
		kind, _ := d.decode(fr.data, fr.ci.Timestamp, layers.LinkTypeEthernet, &seg)
		protos := lines[i]
		var want string
		switch {
		case strings.Contains(protos, ":cmd:ip:gre"):
			want = "skipped: GRE carrying protocol 0x0000"
		case strings.Contains(protos, ":cmd:ip"):
			want = "IP"
			inside++
		default:
			continue
		}
		if got := ourFrame(kind, d, &seg); got != want {
			t.Errorf("frame %d (%s): %s, want %s", i+1, protos, got, want)
		}
	}
	if inside < 10 {
		t.Errorf("%d frames with IP behind Cisco MetaData: the sample is not what it was", inside)
	}
}

// frameCase is a frame to decode and what the decoder must make of it.
type frameCase struct {
	name string
	lt   layers.LinkType
	data []byte
	kind frameKind
	skip Skip // for kindSkipped
}

// checkFrameCases decodes the cases in order with one decoder, as the
// frames of one capture (nothing of a frame may stick to the next), and
// checks each kind, the reason of each skip, and that each TCP segment is
// want's.
func checkFrameCases(t *testing.T, want *Segment, cases []frameCase) {
	t.Helper()
	var st Stats
	d := newDecoder(&st)
	for _, tt := range cases {
		var seg Segment
		kind, err := d.decode(tt.data, time.Time{}, tt.lt, &seg)
		if err != nil || kind != tt.kind || (kind == kindSkipped && d.skip != tt.skip) {
			t.Errorf("%s: kind %d skip %v (%v), want %d %v", tt.name, kind, d.skip, err, tt.kind, tt.skip)
			continue
		}
		if kind == kindTCP && (seg.Src != want.Src || seg.Dst != want.Dst || seg.Seq != want.Seq || !bytes.Equal(seg.Payload, want.Payload)) {
			t.Errorf("%s: %v > %v seq %d, want %v > %v seq %d", tt.name, seg.Src, seg.Dst, seg.Seq, want.Src, want.Dst, want.Seq)
		}
	}
}
