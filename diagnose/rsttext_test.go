package diagnose

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// f5Text is the payload of the RST in tcpdump's tcp_rst_data.pcap, an F5
// BIG-IP's (capture/testdata/tcpdump).
const f5Text = "BIG-IP: [0x11c5672:3045] {peer} TCP RST from remote system"

// withRSTPayload copies the lab's connection_reset.pcap with text added
// to the payload of its RST (frame 6), its IPv4 total length and header
// checksum made to match.
func withRSTPayload(t *testing.T, text string) string {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join(capturesDir, "connection_reset.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 6 {
			if ihl := int(data[14]&0x0f) * 4; data[14+ihl+13]&0x04 == 0 {
				t.Fatal("frame 6 is not the RST")
			}
			data = append(bytes.Clone(data), text...)
			ip := data[14:]
			binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
			binary.BigEndian.PutUint16(ip[10:], 0)
			var sum uint32
			for i := 0; i < int(ip[0]&0x0f)*4; i += 2 {
				sum += uint32(binary.BigEndian.Uint16(ip[i:]))
			}
			for sum > 0xffff {
				sum = sum>>16 + sum&0xffff
			}
			binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
			ci.CaptureLength, ci.Length = len(data), len(data)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "reset.pcap")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A server's RST that carries an F5 BIG-IP's reason: the verdict cites it,
// as tshark reads it from the RST's payload.
func TestRSTTextCapture(t *testing.T) {
	path := withRSTPayload(t, f5Text)
	// Wireshark reads such a payload as the RST's "Reset cause".
	out := tsharktest.Output(t, "-n", "-r", path, "-Y", "tcp.flags.reset == 1", "-T", "fields", "-e", "frame.number", "-e", "tcp.reset_cause")
	if got := strings.TrimSpace(string(out)); got != "6\t"+f5Text {
		t.Fatalf("tshark reads %q, want frame 6 with %q", got, f5Text)
	}
	conns := analyseCapture(t, path, nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	want := `; the RST (frame 6) carries the reason of the F5 BIG-IP that sent it: "` + f5Text + `"`
	if v.Category != ConnectionReset || !strings.HasSuffix(v.Summary, want) {
		t.Errorf("%s: %s\nwant connection_reset ending %s", v.Category, v.Summary, want)
	}
}

// A RST's payload is text when it is printable; data that is not (a RST
// repeating binary data) is no reason, and other text is its sender's.
func TestRSTTextKinds(t *testing.T) {
	for _, tt := range []struct {
		payload string
		want    string // "" for none
	}{
		{"No server selected\r\n\x00\x00", `carries its sender's reason: "No server selected"`},
		{"\x16\x03\x01\x00\x05hello", ""},
		{"ok", ""},
	} {
		conns := analyseCapture(t, withRSTPayload(t, tt.payload), nil)
		v := Diagnose(conns[0], Config{})
		if got := strings.Contains(v.Summary, "the RST (frame 6) carries"); got != (tt.want != "") || !strings.Contains(v.Summary, tt.want) {
			t.Errorf("%q: %s", tt.payload, v.Summary)
		}
	}
}
