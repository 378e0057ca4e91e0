package analysis_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestQUICIdleShardsMatchOne checks that QUIC connections ending by their
// idle timeout in the middle of a capture are written in the same order,
// and let go early the same, with any number of Builders: each is closed
// by the frame at which the capture's time passed its deadline, whichever
// shard that frame went to. The capture is quic-go's handshake replayed
// 40 times, a second apart and from other client ports, behind a first
// connection kept open to the end by its server's datagram every 20 s:
// the 40 end a minute after their last datagram, at the first frame
// after that, and wait behind the first, more of them than MaxPending.
func TestQUICIdleShardsMatchOne(t *testing.T) {
	const copies = 40
	pcap := quicReplays(t, "../testdata/quic/quicgo_ok.pcap", copies)
	for _, maxPending := range []int{0, 16} {
		want := shardsMatchOne(t, pcap, maxPending, []int{2, 2, 3, 7})
		if len(want) != copies+1 {
			t.Fatalf("MaxPending %d: %d connections, want %d", maxPending, len(want), copies+1)
		}
		for _, c := range want[1:] {
			if !c.IsQUIC() || c.QUIC.Datagrams[capture.ServerToClient] == 0 {
				t.Fatalf("connection %s → %s: not an answered QUIC connection", c.Client, c.Server)
			}
		}
	}
}

// quicReplays returns a capture of the QUIC handshake of path (Ethernet,
// IPv4) and copies of it: the first kept open by its server's last short
// datagram sent again every 20 s for 200 s, and n copies starting a
// second apart, whose client port is one more each time.
func quicReplays(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	type frame struct {
		data []byte
		ci   gopacket.CaptureInfo
	}
	var frames []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		frames = append(frames, frame{data, ci})
	}
	if len(frames) < 10 || r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("%s: %d frames of link type %v", path, len(frames), r.LinkType())
	}
	start := frames[0].ci.Timestamp
	client := binary.BigEndian.Uint16(frames[0].data[14+20:])
	// keep is the server's last short-header datagram.
	var keep []byte
	for _, fr := range frames {
		udp := fr.data[14+20:]
		if binary.BigEndian.Uint16(udp) != client && udp[8]&0x80 == 0 {
			keep = fr.data
		}
	}
	if keep == nil {
		t.Fatalf("%s: no short-header datagram from the server", path)
	}
	var out []frame
	// withPort returns data with the client's port moved by d and no UDP
	// checksum (allowed over IPv4).
	withPort := func(data []byte, d uint16) []byte {
		b := bytes.Clone(data)
		udp := b[14+20:]
		for _, at := range []int{0, 2} {
			if p := binary.BigEndian.Uint16(udp[at:]); p == client {
				binary.BigEndian.PutUint16(udp[at:], p+d)
			}
		}
		binary.BigEndian.PutUint16(udp[6:], 0)
		return b
	}
	for i := 0; i <= n; i++ {
		at := time.Duration(i) * time.Second
		for _, fr := range frames {
			ci := fr.ci
			ci.Timestamp = start.Add(at + fr.ci.Timestamp.Sub(start))
			out = append(out, frame{withPort(fr.data, uint16(i)), ci})
		}
	}
	for s := 20; s <= 200; s += 20 {
		ts := start.Add(time.Duration(s) * time.Second)
		out = append(out, frame{withPort(keep, 0), gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(keep), Length: len(keep)}})
	}
	// In time order; frames of equal time keep theirs.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ci.Timestamp.Before(out[j-1].ci.Timestamp); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range out {
		if err := w.WritePacket(fr.ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}
