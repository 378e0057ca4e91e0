package capture

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestForeignFormats opens the first bytes of a real capture converted to
// formats tlsdiag does not read (testdata/foreign, made by editcap, zip, tar
// and tcpdump) and wants each named, with the way to convert or extract it.
func TestForeignFormats(t *testing.T) {
	head := func(name string) []byte {
		b, err := os.ReadFile("testdata/foreign/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The signature record that opens a NetScaler trace's first page
	// (Wireshark's wiretap/netscaler.c); no trace is at hand to cut one from.
	netscaler := append([]byte{0x01, 0x01, 0x30, 0x00}, "NetScaler V20 Performance Data"...)
	netscaler = append(netscaler, make([]byte, 100)...)
	tests := []struct {
		name string // the file's name, which only the ETL case looks at
		data []byte
		want string
	}{
		{"trace.snoop", head("snoop.head"), "Sun snoop capture: not read; convert it first (editcap -F pcapng trace.snoop trace.pcapng)"},
		{"trace.cap", head("netmon2.head"), "Microsoft Network Monitor capture: not read; convert it first (editcap -F pcapng trace.cap trace.pcapng)"},
		{"trace.cap", head("netmon1.head"), "Microsoft Network Monitor capture"},
		{"trace.enc", head("ngsniffer.head"), "Sniffer (NetXray) capture"},
		{"trace.caz", head("ngwsniffer_2_0.head"), "Sniffer (NetXray) capture"},
		{"trace.bfr", head("observer.head"), "Viavi Observer capture"},
		{"nstrace1.cap", netscaler, "NetScaler (Citrix ADC) trace: not read; convert it first (editcap -F pcapng nstrace1.cap nstrace1.pcapng)"},
		{"capture.zip", head("zip.head"), "a zip archive: not read; unzip it"},
		{"capture.tar", head("tar.head"), "a tar archive: not read; extract it (tar xf)"},
		{"capture.tgz", gz(head("tar.head")), "a tar archive"},
		// 7-Zip's and RAR 5's signatures (no archiver here to make them)
		{"capture.7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), "a 7-Zip archive: not read; extract it (7z x)"},
		{"capture.rar", []byte("Rar!\x1a\x07\x01\x00"), "a RAR archive: not read; extract it"},
		{"PktMon.etl", make([]byte, 512), "a Windows ETL trace (pktmon, netsh trace): not read; convert it on Windows first (pktmon etl2pcap"},
		{"capture.txt", head("tcpdump-text.head"), "text, not a capture: save packets, not printed output (tcpdump -w FILE"},
		{"-", head("netmon2.head"), "convert it first (editcap -F pcapng IN OUT.pcapng)"},
		{"x.bz2", []byte("BZh91AY&SY\x00\x00"), "bzip2-compressed: not read; decompress it first (bunzip2 -k, or bzcat x.bz2 | tlsdiag read -)"},
		{"x.pcap", []byte("\x34\xcd\xb2\xa1\x02\x00\x04\x00"), "modified (Kuznetzov) pcap: not read; convert it first (editcap -F pcapng x.pcap x.pcapng)"},
		{"x.etl.pcap", make([]byte, 512), "not a pcap or pcapng file (magic 0x00000000)"},
		{"my trace's.cap", head("netmon2.head"), `(editcap -F pcapng 'my trace'\''s.cap' 'my trace'\''s.pcapng')`},
	}
	for _, tt := range tests {
		_, err := NewReader(tt.name, bytes.NewReader(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "capture: "+tt.name+": ") {
			t.Errorf("%s (%d bytes): error %v, want %q", tt.name, len(tt.data), err, tt.want)
		}
	}
}

// TestPrintable: text is valid UTF-8 without control characters, and may
// end cut inside a character.
func TestPrintable(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"12:00:00.000000 IP 10.0.0.1.443 > 10.0.0.2.5000: Flags [S]\r\n\tx", true},
		{"café", true},
		{"caf\xc3", true}, // cut inside é
		{"caf\xc3x", false},
		{"a\x00b", false},
		{"a\x1bb", false},
		{"a\x7fb", false},
		{"", false},
	} {
		if got := printable([]byte(tt.in)); got != tt.want {
			t.Errorf("printable(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
