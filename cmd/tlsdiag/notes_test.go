package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// TestSequenceNotes checks that the sequencer's facts are worded with the
// flag that changes them (the names come from the table that defines the
// flags).
func TestSequenceNotes(t *testing.T) {
	notes := sequenceNotes("a.pcap: ", analysis.SequenceStats{
		IgnoredBeforeTLS: []analysis.PortCount{{Port: 4454, Count: 1}},
		Late:             2,
	})
	if len(notes) != 2 ||
		notes[0] != "a.pcap: 1 connection without TLS to port 4454 ended before TLS was first seen on that port and is not listed (--tls-port 4454 lists them)" ||
		!strings.HasSuffix(notes[1], "finished (--max-pending)") {
		t.Errorf("notes %q", notes)
	}
}

// TestInterfaceCopiesNote: a bridge captured with tcpdump -i any holds
// every packet twice; the report counts the client's SYNs once each and
// says how many copies it dropped.
func TestInterfaceCopiesNote(t *testing.T) {
	var out, errOut bytes.Buffer
	run([]string{"read", "--tls-port", "8445", "../../capture/testdata/copies/bridge-any.pcap"}, &out, &errOut)
	for _, want := range []string{
		"note: 31 frames repeated a packet just captured on another interface",
		"10.77.0.1:8445 never answered: 4 SYNs over 3.1 s",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

// TestRecordedDropsNote: a pcapng whose interface statistics record
// dropped packets says so, with what it may explain.
func TestRecordedDropsNote(t *testing.T) {
	var out, errOut bytes.Buffer
	run([]string{"read", "../../capture/testdata/drops/dumpcap-drops.pcapng"}, &out, &errOut)
	if want := "note: the capturing tool dropped 32292 packets, as the file's interface statistics record"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in:\n%s", want, out.String())
	}
}

// TestJoinedFilesNote reads two captures joined with cat: the report says
// so, and has the connections of both.
func TestJoinedFilesNote(t *testing.T) {
	var joined []byte
	for _, p := range []string{"../../testdata/demo.pcap", "../../capture/testdata/lo-tls12-openssl.pcap"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, b...)
	}
	path := filepath.Join(t.TempDir(), "joined.pcap")
	if err := os.WriteFile(path, joined, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	status := run([]string{"read", path}, &out, &errOut)
	if want := "note: the file is 2 pcap files joined end to end (as cat joins them), read as one capture"; !strings.Contains(out.String(), want) || status == 2 {
		t.Errorf("status %d, no %q in:\n%s%s", status, want, out.String(), errOut.String())
	}
	if want := "Summary: 7 connections"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in:\n%s", want, out.String())
	}
}

// TestSkippedLinkTypeNote: frames of a link type tlsdiag does not decode,
// on one interface of a pcapng, are counted in a note that names the link
// type, and the other interface's connections are reported.
func TestSkippedLinkTypeNote(t *testing.T) {
	f, err := os.Open("../../testdata/derived/ethernet_and_nflog.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	// The NFLOG interface's frames are written on an interface of link
	// type USBPCAP.
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	usb, err := w.AddInterface(pcapgo.NgInterface{LinkType: 249, SnapLength: 262144})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if intf, err := r.Interface(ci.InterfaceIndex); err != nil || intf.LinkType != layers.LinkTypeEthernet {
			ci.InterfaceIndex = usb
			skipped++
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "usb.pcapng")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	status := run([]string{"read", path}, &out, &errOut)
	want := fmt.Sprintf("note: %d frames of link type USBPCAP (249) skipped: not decoded", skipped)
	if skipped == 0 || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "Summary: 2 connections") || status != 0 {
		t.Errorf("status %d, want 0, %q and 2 connections in:\n%s%s", status, want, out.String(), errOut.String())
	}
}

// TestSnapCutQUICNote: a QUIC connection captured with a snap length of
// 256 bytes cannot be read (its Initial packets are encrypted whole); the
// report says so instead of only "no TCP connection".
func TestSnapCutQUICNote(t *testing.T) {
	f, err := os.Open("../../testdata/quic/quicgo_ok.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(256, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	cut, cutBytes := 0, 0
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 256 {
			cut++
			cutBytes += len(data) - 256
			data = data[:256]
			ci.CaptureLength = 256
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "snap256.pcap")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	run([]string{"read", path}, &out, &errOut)
	want := fmt.Sprintf("note: %d frames cut short by the snap length (%d bytes of UDP payload cut in %d datagrams: a QUIC packet cut short cannot be decrypted",
		cut, cutBytes, cut)
	if cut == 0 || !strings.Contains(out.String(), want) {
		t.Errorf("no %q in:\n%s%s", want, out.String(), errOut.String())
	}
}

// TestSnapLengthNote: the snap-length note says what was cut: TCP
// payload, UDP payload (and what that costs QUIC), or neither.
func TestSnapLengthNote(t *testing.T) {
	for _, tt := range []struct {
		st   capture.Stats
		want string
	}{
		{capture.Stats{Truncated: 3, SnapGapBytes: 1200}, "3 frames cut short by the snap length (1200 bytes of TCP payload cut); capture with -s 0"},
		{capture.Stats{Truncated: 1, UDPCut: 1, UDPCutBytes: 996}, "1 frame cut short by the snap length (996 bytes of UDP payload cut in 1 datagram: a QUIC packet cut short cannot be decrypted"},
		{capture.Stats{Truncated: 4, SnapGapBytes: 10, UDPCut: 2, UDPCutBytes: 20}, "(10 bytes of TCP payload cut; 20 bytes of UDP payload cut in 2 datagrams:"},
		{capture.Stats{Truncated: 2}, "2 frames cut short by the snap length (no TCP or UDP payload among the bytes cut); capture with -s 0"},
	} {
		notes := strings.Join(capNotes("", tt.st), "\n")
		if !strings.Contains(notes, tt.want) {
			t.Errorf("%+v: no %q in:\n%s", tt.st, tt.want, notes)
		}
	}
}

// TestLinkLayerNotes reads real handshakes as a tap on a protected link
// shows them. Wi-Fi in monitor mode: with every data frame encrypted
// (WPA) the report says why there is nothing to read and how to capture
// instead; with every frame sent twice (the 802.11 Retry bit) the copies
// are dropped and said, and the verdicts are the Ethernet capture's.
// MACsec: integrity-protected, the connections are the plain capture's;
// encrypted, the report says so and where to capture instead.
func TestLinkLayerNotes(t *testing.T) {
	// The offset of the byte each edit sets bits in: the 802.11 flags
	// after the radiotap header (24 bytes, as encap writes it), or the
	// MACsec TCI.
	const wifiFlags, macsecTCI = 24 + 1, 14
	// rewrite returns ok.pcap wrapped as kind, each frame replaced by
	// what edit makes of it, and the number of frames.
	rewrite := func(t *testing.T, kind encap.Kind, edit func(b []byte) [][]byte) ([]byte, int) {
		f, err := os.Open("../../testdata/captures/ok.pcap")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var wrapped, out bytes.Buffer
		if err := (&encap.Wrapper{Kind: kind}).Capture(f, &wrapped); err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(&wrapped)
		if err != nil {
			t.Fatal(err)
		}
		w := pcapgo.NewWriterNanos(&out)
		if err := w.WriteFileHeader(262144, kind.LinkType()); err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return out.Bytes(), n
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, b := range edit(data) {
				ci.CaptureLength, ci.Length = len(b), len(b)
				if err := w.WritePacket(ci, b); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	setBits := func(at int, bits byte) func(b []byte) [][]byte {
		return func(b []byte) [][]byte {
			c := bytes.Clone(b)
			c[at] |= bits
			return [][]byte{c}
		}
	}
	twice := func(b []byte) [][]byte { return append([][]byte{b}, setBits(wifiFlags, 0x08)(b)...) }
	unchanged := func(b []byte) [][]byte { return [][]byte{b} }
	// withBeacon puts a beacon (a management frame, not IP) before each
	// frame edit makes.
	withBeacon := func(edit func(b []byte) [][]byte) func(b []byte) [][]byte {
		return func(b []byte) [][]byte {
			beacon := append(bytes.Clone(b[:24]), 0x80, 0, 0, 0)
			beacon = append(beacon, make([]byte, 32)...)
			return append([][]byte{beacon}, edit(b)...)
		}
	}
	for _, tt := range []struct {
		name  string
		kind  encap.Kind
		edit  func(b []byte) [][]byte
		wants []string // %d is the number of frames
	}{
		{"wpa", encap.Radiotap, setBits(wifiFlags, 0x40), []string{"Summary: 0 connections",
			"note: %d frames encrypted by 802.11 (WPA or WEP) skipped: tlsdiag does not decrypt the link layer; a Wi-Fi capture in monitor mode sees only that; capture on the client or server itself",
			"note: all %d frames were skipped, as noted above: no connection could be read"}},
		{"wpa, beacons in the clear", encap.Radiotap, withBeacon(setBits(wifiFlags, 0x40)), []string{"Summary: 0 connections",
			"note: %[1]d frames encrypted by 802.11 (WPA or WEP) skipped",
			"frames: no TCP connection among the %[1]d read (%[1]d skipped, as noted above)"}},
		{"wifi retries", encap.Radiotap, twice, []string{"Summary: 2 connections, 0 failed",
			"note: %d 802.11 retransmissions dropped: each repeated a frame already read"}},
		{"macsec integrity", encap.MACsec, unchanged, []string{"Summary: 2 connections, 0 failed"}},
		{"macsec encrypted", encap.MACsec, setBits(macsecTCI, 0x0c), []string{"Summary: 0 connections",
			"note: %d frames encrypted by MACsec (802.1AE) skipped: tlsdiag does not decrypt the link layer; capture where the packets are not encrypted yet"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, n := rewrite(t, tt.kind, tt.edit)
			path := filepath.Join(t.TempDir(), "link.pcap")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if status := run([]string{"read", path}, &out, &errOut); status != 0 {
				t.Errorf("status %d, want 0\n%s", status, errOut.String())
			}
			for _, want := range tt.wants {
				if strings.Contains(want, "%") {
					want = fmt.Sprintf(want, n)
				}
				if !strings.Contains(out.String(), want) {
					t.Errorf("no %q in:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestUnseenNotesSkipped: a capture without connections whose frames were
// skipped unread does not claim there was no TCP connection.
func TestUnseenNotesSkipped(t *testing.T) {
	enc := capture.Skip{Reason: capture.SkipEncrypted, What: "MACsec (802.1AE)"}
	for _, tt := range []struct {
		frames, skipped int64
		want            string
	}{
		{5, 0, "a.pcap: 5 frames: no TCP connection"},
		{5, 2, "a.pcap: 5 frames: no TCP connection among the 3 read (2 skipped, as noted above)"},
		{5, 5, "a.pcap: all 5 frames were skipped, as noted above: no connection could be read"},
		{1, 1, "a.pcap: the only frame was skipped, as noted above: no connection could be read"},
	} {
		st := analysis.Stats{Stats: capture.Stats{Frames: tt.frames}}
		if tt.skipped > 0 {
			st.Skipped = map[capture.Skip]int64{enc: tt.skipped}
		}
		if got := unseenNotes("a.pcap: ", st); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%d frames, %d skipped: %q, want %q", tt.frames, tt.skipped, got, tt.want)
		}
	}
}

// TestDTLSNote: a capture of DTLS (Zeek's dtls13-cid.pcap: wolfSSL, five
// handshakes) says what it held and that it was not analysed, in the text
// report and in JSON's notes, instead of only "no TCP connection".
func TestDTLSNote(t *testing.T) {
	const want = "43 UDP datagrams on 5 address pairs carried DTLS (the first handshake: frame 1, 10.168.36.147:52232 → 10.168.36.144:11111), which tlsdiag does not analyse: it reads TLS over TCP and QUIC; Wireshark reads DTLS (tshark -Y dtls.handshake)"
	path := "../../testdata/public/zeek/dtls13-cid.pcap"
	var out, errOut bytes.Buffer
	if status := run([]string{"read", path}, &out, &errOut); status != 0 {
		t.Fatalf("status %d: %s", status, errOut.String())
	}
	if !strings.Contains(out.String(), "note: "+want+"\n") {
		t.Errorf("no DTLS note in:\n%s", out.String())
	}
	out.Reset()
	if status := run([]string{"read", "--format", "json", path}, &out, &errOut); status != 0 {
		t.Fatalf("status %d: %s", status, errOut.String())
	}
	var doc struct {
		Summary struct{ Notes []string }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(doc.Summary.Notes, want) {
		t.Errorf("JSON notes %q lack the DTLS note", doc.Summary.Notes)
	}
	capped := sequenceNotes("", analysis.SequenceStats{DTLS: analysis.DTLSStats{Flows: 4096, FlowsCapped: true, Datagrams: 9000,
		First: capture.Frame{Number: 2}, Client: netip.MustParseAddrPort("[2001:db8::1]:5000"), Server: netip.MustParseAddrPort("[2001:db8::2]:443")}})
	if len(capped) != 1 || !strings.HasPrefix(capped[0], "at least 9000 UDP datagrams on more than 4096 address pairs carried DTLS (the first handshake: frame 2, [2001:db8::1]:5000 → [2001:db8::2]:443)") {
		t.Errorf("capped: %q", capped)
	}
}

// TestIPsecNote: a capture of an IPsec VPN's outside (tcpdump's
// isakmp4500.pcap: IKE, then ESP in UDP through NAT) says that the ESP
// frames hide what is inside the tunnel and where to capture instead.
func TestIPsecNote(t *testing.T) {
	var out, errOut bytes.Buffer
	if status := run([]string{"read", "../../capture/testdata/tcpdump/isakmp4500.pcap"}, &out, &errOut); status != 0 {
		t.Fatalf("status %d: %s", status, errOut.String())
	}
	for _, want := range []string{
		"note: 8 frames encrypted by IPsec ESP skipped: tlsdiag does not decrypt IPsec; a connection inside the VPN tunnel is hidden: capture inside it, on the client or server itself or on the VPN gateway's inside interface",
		"note: 35 frames: no TCP connection among the 27 read (8 skipped, as noted above)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

// TestClockStepNote: a capture whose time steps back an hour half-way
// says so, where and by how much, in the table and in the json format's
// notes; a capture of a bridge's ports, whose interfaces were written up
// to 101 ms out of order, and one whose time goes forward get no note.
func TestClockStepNote(t *testing.T) {
	const want = "capture time goes back in frame 77, by 60 minutes"
	for _, format := range []string{"table", "json"} {
		var out, errOut bytes.Buffer
		run([]string{"read", "--format", format, "../../testdata/derived/clients_node_java_back.pcap"}, &out, &errOut)
		if !strings.Contains(out.String(), want) {
			t.Errorf("%s: no %q in:\n%s", format, want, out.String())
		}
	}
	for _, path := range []string{"../../testdata/field/clients_node_java.pcap", "../../capture/testdata/copies/bridge-ports.pcapng"} {
		for _, format := range []string{"table", "json"} {
			var out, errOut bytes.Buffer
			run([]string{"read", "--format", format, path}, &out, &errOut)
			if strings.Contains(out.String(), "capture time goes back") {
				t.Errorf("%s, %s: a note that capture time goes back, for steps that change nothing:\n%s", path, format, out.String())
			}
		}
	}
}

// TestClockStepNoteThreshold: steps back of less than a second (frames of
// interfaces or NIC queues written out of order) are not noted; a step of
// a second or more is, and the note names the frame of the largest step,
// not the first small one.
func TestClockStepNoteThreshold(t *testing.T) {
	for _, tt := range []struct {
		st   capture.Stats
		want string // "" for no note
	}{
		{capture.Stats{ClockSteps: 2, ClockStepMax: 4 * time.Microsecond, ClockStepMaxFrame: 95}, ""},
		{capture.Stats{ClockSteps: 4, ClockStepMax: 101 * time.Millisecond, ClockStepMaxFrame: 31}, ""},
		{capture.Stats{ClockSteps: 1, ClockStepMax: time.Second - time.Microsecond, ClockStepMaxFrame: 3}, ""},
		{capture.Stats{ClockSteps: 1, ClockStepMax: time.Second, ClockStepMaxFrame: 3}, "capture time goes back in frame 3, by 1.0 s:"},
		{capture.Stats{ClockSteps: 5, ClockStepMax: time.Hour, ClockStepMaxFrame: 40}, "capture time goes back in 5 frames, by up to 60 minutes (in frame 40):"},
	} {
		notes := strings.Join(capNotes("", tt.st), "\n")
		if got := strings.Contains(notes, "capture time goes back"); got != (tt.want != "") || !strings.Contains(notes, tt.want) {
			t.Errorf("%d steps, up to %v in frame %d: notes %q, want %q", tt.st.ClockSteps, tt.st.ClockStepMax, tt.st.ClockStepMaxFrame, notes, tt.want)
		}
	}
}

// TestECHKeyLogNote reads a Go client's accepted Encrypted Client Hello
// with the key log it wrote (testdata/field/ech_accepted_go.pcap): its
// secrets are under the inner ClientHello's random, which the capture
// hides, so the connection stays sealed, and the note says why instead of
// calling the key log another capture's.
func TestECHKeyLogNote(t *testing.T) {
	const want = "1 connection without a key offered Encrypted Client Hello: where the server accepted it, the key log's secrets are under the inner ClientHello's random"
	for _, format := range []string{"table", "json"} {
		var out, errOut bytes.Buffer
		run([]string{"read", "--format", format, "--keylog", "../../testdata/field/ech_accepted_go.keylog", "../../testdata/field/ech_accepted_go.pcap"}, &out, &errOut)
		if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "belongs to other connections") {
			t.Errorf("%s: want %q and no claim that the key log is another capture's:\n%s", format, want, out.String())
		}
	}
}
