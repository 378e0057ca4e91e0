package capture

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// tcpdumpAddrs matches the addresses tcpdump prints for a UDP or TCP
// packet: "10.32.4.27.63538 > 10.32.100.15.53:".
var tcpdumpAddrs = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+):`)

// TestTcpdumpLinkTypeSamples decodes the PKTAP and NFLOG captures of
// tcpdump's test suite (one written on a Mac, one on Linux) and compares
// each frame's addresses with tcpdump's reading of it.
func TestTcpdumpLinkTypeSamples(t *testing.T) {
	dir := filepath.Join("testdata", "tcpdump")
	for _, tt := range []struct{ file, out string }{
		{"LINKTYPE_PKTAP.pcap", "LINKTYPE_PKTAP-e.out"},
		{"LINKTYPE_USER2_PKTAP.pcap", "LINKTYPE_PKTAP-e.out"},
		{"nflog.pcap", "nflog-e.out"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join(dir, tt.out))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				m := tcpdumpAddrs.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("%s: no addresses in %q", tt.out, line)
				}
				want = append(want, m[1]+":"+m[2]+" > "+m[3]+":"+m[4])
			}
			f, err := OpenFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var st Stats
			d := newDecoder(&st)
			var got []string
			for {
				data, ci, err := f.ReadPacketData()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var seg Segment
				if kind, _ := d.decode(data, ci.Timestamp, f.LinkType(), &seg); kind != kindUDP {
					t.Fatalf("frame %d: kind %d, want UDP", len(got)+1, kind)
				}
				got = append(got, seg.Src.String()+" > "+seg.Dst.String())
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("frames:\n%s\ntcpdump reads:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// pktapHeader is the PKTAP header macOS puts in front of a frame of link
// type dlt seen on interface ifname.
func pktapHeader(dlt uint32, ifname string) []byte {
	h := make([]byte, pktapMinHeader)
	le := binary.LittleEndian
	le.PutUint32(h, pktapMinHeader)
	le.PutUint32(h[4:], pktapTypePacket)
	le.PutUint32(h[8:], dlt)
	copy(h[12:36], ifname)
	copy(h[60:80], "curl") // the process' name
	return h
}

// asPKTAP rewrites a capture of Ethernet frames as macOS tcpdump -i pktap
// writes it: each frame behind a PKTAP header, either as it is (en0) or,
// with dlt 0, with its Ethernet header replaced by BSD loopback's address
// family (lo0; AF_INET6 is 30 on macOS).
func asPKTAP(t *testing.T, frames []frameRec, dlt uint32) []frameRec {
	t.Helper()
	out := make([]frameRec, len(frames))
	for i, fr := range frames {
		frame, ifname := fr.data, "en0"
		if dlt == 0 {
			family := uint32(2)
			if binary.BigEndian.Uint16(fr.data[12:]) == 0x86dd {
				family = 30
			}
			frame = binary.LittleEndian.AppendUint32(nil, family)
			frame = append(frame, fr.data[14:]...)
			ifname = "lo0"
		}
		data := append(pktapHeader(dlt, ifname), frame...)
		ci := fr.ci
		ci.CaptureLength, ci.Length = len(data), len(data)
		out[i] = frameRec{ci: ci, data: data}
	}
	return out
}

// Real TLS captures rewritten as PKTAP, with Ethernet and with loopback
// frames inside, give the same connections and bytes as the originals,
// and the bytes Wireshark's reading of the PKTAP file follows.
func TestPKTAPCaptures(t *testing.T) {
	for _, name := range []string{"lo-tls12-openssl.pcap", "lo6-tls13-go.pcap"} {
		path := filepath.Join("testdata", name)
		frames, lt := readFrames(t, path)
		if lt != layers.LinkTypeEthernet {
			t.Fatalf("%s: link type %v, want Ethernet", name, lt)
		}
		want := summary(runFile(t, path))
		for _, dlt := range []uint32{1, 0} {
			t.Run(name+"/"+map[uint32]string{0: "lo0", 1: "en0"}[dlt], func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "pktap.pcap")
				if err := os.WriteFile(file, writeFrames(t, linkTypePKTAP, asPKTAP(t, frames, dlt)), 0o644); err != nil {
					t.Fatal(err)
				}
				rec, st := runFile(t, file)
				if got := summary(rec, st); got != want {
					t.Errorf("summary differs from the original's:\n--- got\n%s--- want\n%s", got, want)
				}
				compareWithWireshark(t, file, rec, st)
			})
		}
	}
}

// Frames that are not what PKTAP promises are skipped or malformed, and
// named: a frame of a link type tlsdiag does not read, a USER2 frame
// without a PKTAP header, a header longer than the frame.
func TestPKTAPOddFrames(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	frame := frames[0].data
	short := pktapHeader(1, "en0")
	binary.LittleEndian.PutUint32(short, uint32(len(short)+len(frame)+1))
	// A later header may be longer: the frame starts where its length says.
	long := append(pktapHeader(1, "en0"), make([]byte, 12)...)
	binary.LittleEndian.PutUint32(long, uint32(len(long)))
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		kind frameKind
		skip string
	}{
		{"PPP inside", linkTypePKTAP, append(pktapHeader(9, "ppp0"), frame...), kindSkipped, "PKTAP carrying DLT 9"},
		{"USER2, not PKTAP", linkTypeUser2, frame, kindSkipped, "USER2 (149)"},
		{"header past the frame", linkTypePKTAP, append(short, frame...), kindMalformed, ""},
		{"header only", linkTypePKTAP, pktapHeader(1, "en0")[:60], kindMalformed, ""},
		{"Ethernet inside", linkTypePKTAP, append(pktapHeader(1, "en0"), frame...), kindTCP, ""},
		{"longer header", linkTypePKTAP, append(long, frame...), kindTCP, ""},
	}
	for _, tt := range tests {
		var st Stats
		var seg Segment
		d := newDecoder(&st)
		kind, err := d.decode(tt.data, time.Time{}, tt.lt, &seg)
		if err != nil || kind != tt.kind || (kind == kindSkipped && d.skip.What != tt.skip) {
			t.Errorf("%s: kind %d skip %q (%v), want %d %q", tt.name, kind, d.skip.What, err, tt.kind, tt.skip)
		}
		if kind == kindTCP && seg.Src != frames[0].seg.Src {
			t.Errorf("%s: source %v, want %v", tt.name, seg.Src, frames[0].seg.Src)
		}
	}
}
