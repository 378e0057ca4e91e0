package filter

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestNeedsLibpcap: what the built-in compiler does not know is refused
// with ErrUnsupported, so that a caller can turn to libpcap.
func TestNeedsLibpcap(t *testing.T) {
	for _, expr := range []string{"vlan", "vlan 100 and tcp port 443", "ether host 00:11:22:33:44:55", "tcp[13] & 2 != 0",
		"tcp[tcpflags] & tcp-syn != 0", "greater 100", "ip proto 6", "gateway foo", "tcp port 443 and broadcast",
		"inbound", "ip multicast", "net 10.0.0.0 mask 255.0.255.0", "udp host 10.0.0.1", "ip port 443", "len <= 100"} {
		_, err := Compile(expr, Ethernet, 0)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", expr, err)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"tcp port", "port needs a value"},
		{"port 70000", "larger than 65535"},
		{"port foo", "not a number or a known service name"},
		{"(tcp", "missing )"},
		{"tcp or", "ends too early"},
		{"443", "needs a keyword"},
		{"net 10.0.0.1/8", "bits set beyond its mask"},
		{"ip6 host 10.0.0.1", "not an IPv6 address"},
		{"host 10.0.0.0/8", "needs net"},
		{strings.Repeat("port 1 or ", 40) + "port 2", "too long for the built-in compiler"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr, Ethernet, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrUnsupported) {
			t.Errorf("%.40q: %v, want an error containing %q", tt.expr, err, tt.want)
		}
	}
}

// TestSameAs: expressions that libpcap's grammar makes equal accept the
// same packets of the repository's captures: and/or bind equally from the
// left, a bare value keeps the keyword, names resolve.
func TestSameAs(t *testing.T) {
	pkts := ethernetFrames(t)
	resolve := func(name string) ([]netip.Addr, error) {
		if name == "lab.test" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
		}
		return nil, errors.New("no such host")
	}
	pairs := [][2]string{
		{"tcp or udp and port 53", "(tcp or udp) and port 53"},
		{"port 443 or 8443", "port 443 or port 8443"},
		{"host 127.0.0.1 or ::1 and tcp", "(host 127.0.0.1 or host ::1) and tcp"},
		{"not port 443 and not 22", "not port 443 and not port 22"},
		{"host lab.test", "host 127.0.0.1 or host ::1"},
		{"tcp port https", "tcp port 443"},
		{"src or dst port 443", "port 443"},
		{"! tcp && ! udp", "not (tcp or udp)"},
		{"portrange 443-443", "port 443"},
		{"net 127", "net 127.0.0.0/8"},
	}
	for _, p := range pairs {
		a, err := CompileWith(p[0], Ethernet, 0, resolve)
		if err != nil {
			t.Fatal(err)
		}
		b, err := CompileWith(p[1], Ethernet, 0, resolve)
		if err != nil {
			t.Fatal(err)
		}
		va, err1 := bpf.NewVM(a)
		vb, err2 := bpf.NewVM(b)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		matched := 0
		for i, pkt := range pkts {
			x, _ := va.Run(pkt)
			y, _ := vb.Run(pkt)
			if x != y {
				t.Errorf("%q and %q differ on frame %d", p[0], p[1], i)
				break
			}
			if x > 0 {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%q matches none of %d frames: the comparison says nothing", p[0], len(pkts))
		}
	}
	// And what differs is told apart.
	a, _ := Compile("tcp or udp and port 53", Ethernet, 0)
	b, _ := Compile("tcp or (udp and port 53)", Ethernet, 0)
	va, _ := bpf.NewVM(a)
	vb, _ := bpf.NewVM(b)
	differ := false
	for _, pkt := range pkts {
		x, _ := va.Run(pkt)
		y, _ := vb.Run(pkt)
		differ = differ || x != y
	}
	if !differ {
		t.Error("grouping from the left makes no difference on these packets")
	}
}

// testdataCaptures lists the capture files of the repository's testdata
// and capture's, not the generated ones make bench leaves in
// testdata/bench (a gigabyte, not part of the tests).
func testdataCaptures() []string {
	var files []string
	for _, root := range []string{"../../testdata", "../testdata"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
			case d.IsDir() && d.Name() == "bench":
				return filepath.SkipDir
			case !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")):
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

func ethernetFrames(t *testing.T) [][]byte {
	files := testdataCaptures()
	var out [][]byte
	for _, name := range files {
		f, err := capture.OpenFile(name)
		if err != nil {
			continue // not every file in testdata is a valid capture
		}
		for f.LinkType() == layers.LinkTypeEthernet {
			data, _, err := f.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, append([]byte(nil), data...))
		}
		f.Close()
	}
	if len(out) < 500 {
		t.Fatalf("%d frames", len(out))
	}
	return out
}
