package capture

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// wifiFrames returns the first TCP frame of a real capture wrapped as kind
// (radiotap or dot11), and the segment it carries.
func wifiFrames(t *testing.T, kind encap.Kind) (wrapped []byte, want *Segment) {
	t.Helper()
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	w := &encap.Wrapper{Kind: kind}
	data, err := w.Wrap(frames[0].data)
	if err != nil {
		t.Fatal(err)
	}
	return data, frames[0].seg
}

// radiotapLen is the length of the radiotap header encap writes.
func radiotapLen(frame []byte) int { return int(binary.LittleEndian.Uint16(frame[2:])) }

// TestWifiFrames decodes 802.11 frames of each kind a monitor-mode
// capture holds: data carries IP behind LLC/SNAP, management and null
// frames do not, and what the link layer hides or repeats is skipped and
// named.
func TestWifiFrames(t *testing.T) {
	rt, seg := wifiFrames(t, encap.Radiotap)
	h := radiotapLen(rt)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(rt)) }
	setFC := func(b0, b1 byte) []byte {
		return edit(func(b []byte) []byte { b[h], b[h+1] = b0, b1; return b })
	}
	beacon := append(bytes.Clone(rt[:h]), 0x80, 0, 0, 0)
	beacon = append(beacon, make([]byte, 32)...)
	// The same frame as one A-MSDU subframe, and with a second one.
	body := rt[h+28 : len(rt)-4] // past the padded header, before the FCS
	sub := append(append(bytes.Clone(rt[h+4:h+16]), byte(len(body)>>8), byte(len(body))), body...)
	amsdu := func(subs ...[]byte) []byte {
		b := bytes.Clone(rt[:h+28])
		b[h+24] |= 0x80
		for i, s := range subs {
			if i > 0 {
				b = append(b, make([]byte, (4-len(sub)%4)%4)...)
			}
			b = append(b, s...)
		}
		return append(b, 1, 2, 3, 4) // the FCS
	}
	// A QoS data frame with HT control: 4 more bytes of header, then
	// the padding to 32.
	htc := append(bytes.Clone(rt[:h+26]), 0, 0, 0, 0, 0, 0)
	htc[h+1] |= dot11Order
	htc = append(htc, rt[h+28:]...)
	// A radiotap header with a second present bitmap: the Flags field
	// moves 8 bytes on: 4 of the bitmap, 4 to align the TSFT to 8.
	extended := append([]byte{0, 0, 0, 0, 0x03, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}, rt[8:h]...)
	binary.LittleEndian.PutUint16(extended[2:], uint16(len(extended)))
	extended = append(extended, rt[h:]...)
	dot11, _ := wifiFrames(t, encap.Dot11)

	checkFrameCases(t, seg, []frameCase{
		{"radiotap QoS data", layers.LinkTypeIEEE80211Radio, rt, kindTCP, Skip{}},
		{"802.11 data", layers.LinkTypeIEEE802_11, dot11, kindTCP, Skip{}},
		{"extended present bitmap", layers.LinkTypeIEEE80211Radio, extended, kindTCP, Skip{}},
		{"HT control", layers.LinkTypeIEEE80211Radio, htc, kindTCP, Skip{}},
		{"one A-MSDU subframe", layers.LinkTypeIEEE80211Radio, amsdu(sub), kindTCP, Skip{}},
		{"two A-MSDU subframes", layers.LinkTypeIEEE80211Radio, amsdu(sub, sub), kindSkipped, skipWifiAMSDU},
		{"beacon", layers.LinkTypeIEEE80211Radio, beacon, kindNonIP, Skip{}},
		{"ACK", layers.LinkTypeIEEE80211Radio, append(bytes.Clone(rt[:h]), 0xd4, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 2, 3, 4), kindNonIP, Skip{}},
		{"QoS null", layers.LinkTypeIEEE80211Radio, setFC(0xc8, 0x01), kindNonIP, Skip{}},
		{"protected", layers.LinkTypeIEEE80211Radio, setFC(0x88, 0x41), kindSkipped, skipWifiEncrypted},
		{"more fragments", layers.LinkTypeIEEE80211Radio, setFC(0x88, 0x05), kindSkipped, skipWifiFragment},
		{"bad FCS", layers.LinkTypeIEEE80211Radio, edit(func(b []byte) []byte { b[16] |= radiotapBadFCS; return b }), kindSkipped, skipWifiBadFCS},
		{"EAPOL", layers.LinkTypeIEEE80211Radio, edit(func(b []byte) []byte { b[h+34], b[h+35] = 0x88, 0x8e; return b }), kindNonIP, Skip{}},
		{"protocol version 1", layers.LinkTypeIEEE80211Radio, setFC(0x89, 0x01), kindMalformed, Skip{}},
		{"radiotap longer than the frame", layers.LinkTypeIEEE80211Radio, rt[:h-1], kindMalformed, Skip{}},
		{"header cut", layers.LinkTypeIEEE80211Radio, rt[:h+20], kindMalformed, Skip{}},
		{"radiotap version 1", layers.LinkTypeIEEE80211Radio, edit(func(b []byte) []byte { b[0] = 1; return b }), kindMalformed, Skip{}},
		{"in PKTAP", linkTypePKTAP, append(pktapHeader(127, "en0"), rt...), kindTCP, Skip{}},
	})
}

// TestWifiRetries: a frame sent again with the Retry bit and the same
// sequence number repeats one already read and is dropped, as the
// receiver drops it; a retry of a frame that was not captured (another
// sender, another TID), or the next frame, is read.
func TestWifiRetries(t *testing.T) {
	rt, _ := wifiFrames(t, encap.Radiotap)
	h := radiotapLen(rt)
	retry := bytes.Clone(rt)
	retry[h+1] |= dot11Retry
	next := bytes.Clone(retry)
	next[h+22] += 0x10 // the next sequence number
	otherSender := bytes.Clone(retry)
	otherSender[h+15] ^= 0xff
	// The same sequence number on another TID is another frame: QoS
	// data counts sequence numbers per TID.
	otherTID := bytes.Clone(retry)
	otherTID[h+24] |= 5
	var st Stats
	d := newDecoder(&st)
	for i, step := range []struct {
		data []byte
		kind frameKind
	}{
		{rt, kindTCP},
		{retry, kindSkipped},
		{otherTID, kindTCP},
		{retry, kindSkipped},
		{next, kindTCP},
		{otherSender, kindTCP},
	} {
		var seg Segment
		kind, _ := d.decode(step.data, time.Time{}, layers.LinkTypeIEEE80211Radio, &seg)
		if kind != step.kind || (kind == kindSkipped && d.skip != skipWifiRepeat) {
			t.Errorf("frame %d: kind %d skip %v, want %d", i+1, kind, d.skip, step.kind)
		}
	}
}
