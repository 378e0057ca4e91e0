package capture

import "encoding/binary"

// Wi-Fi captured in monitor mode: 802.11 frames (LINKTYPE_IEEE802_11),
// most often behind a radiotap header (LINKTYPE_IEEE802_11_RADIO), as
// Linux, macOS (Wireless Diagnostics, tcpdump -I) and Wireshark write
// them. Only data frames carry IP, behind an LLC/SNAP header; in a
// network with WPA or WEP they are encrypted, which is said, not guessed
// at.

// The radiotap header: version, pad, length, then the present bitmaps
// (bit 31 of one says another follows) and the fields they announce,
// each aligned to its size from the header's start. Only the Flags field
// matters here; it follows the 8-byte TSFT when that is present.
const (
	radiotapMinHeader = 8
	radiotapTSFT      = 1 << 0
	radiotapFlags     = 1 << 1
	radiotapExtended  = 1 << 31

	radiotapFCS     = 0x10 // the frame ends with its 4-byte FCS
	radiotapDataPad = 0x20 // padding after the 802.11 header, to 4 bytes
	radiotapBadFCS  = 0x40 // the frame failed its FCS check
)

// The 802.11 MAC header (IEEE 802.11-2020, 9.2.3): frame control, duration,
// three addresses, sequence control; a fourth address between access
// points (to and from DS); QoS control in QoS data frames, and HT control
// after it when the frame's Order bit is set.
const (
	dot11Header = 24

	dot11TypeData   = 2
	dot11NoData     = 0x4 // subtype bit: Null, QoS Null, CF-Ack and CF-Poll without data
	dot11QoS        = 0x8 // subtype bit: QoS data
	dot11ToFromDS   = 0x03
	dot11MoreFrag   = 0x04
	dot11Retry      = 0x08
	dot11Protected  = 0x40
	dot11Order      = 0x80
	dot11AMSDU      = 0x80 // QoS control: the body is an A-MSDU
	dot11TID        = 0x0f // QoS control: the traffic identifier
	dot11NoTID      = 0xff // not a TID: the sequence numbers of data without QoS
	dot11FragNumber = 0x000f
)

// llcSNAP starts an 802.2 LLC header with a SNAP extension of RFC 1042's
// organisation code; 802.1H's (00 00 f8) is the same for IP.
var llcSNAP = [...]byte{0xaa, 0xaa, 0x03, 0x00, 0x00}

// maxWifiSenders bounds the transmitters and TIDs whose last sequence
// number the decoder keeps to recognise retransmitted frames.
const maxWifiSenders = 4096

// Wi-Fi frames the decoder skips, by what they are.
var (
	skipWifiEncrypted = Skip{Reason: SkipEncrypted, What: "802.11 (WPA or WEP)"}
	skipWifiRepeat    = Skip{Reason: SkipRepeat, What: "802.11 retransmission"}
	skipWifiBadFCS    = Skip{Reason: SkipLinkLayer, What: "802.11 frames received damaged (bad FCS)"}
	skipWifiFragment  = Skip{Reason: SkipLinkLayer, What: "802.11 fragments (not reassembled)"}
	skipWifiAMSDU     = Skip{Reason: SkipLinkLayer, What: "802.11 A-MSDUs of several packets (not split)"}
)

// wifiSource is where an 802.11 frame was captured.
type wifiSource uint8

const (
	wifiMonitor  wifiSource = iota // monitor mode, the frame alone
	wifiRadiotap                   // monitor mode, behind a radiotap header
	// wifiTunnel: tunnelled by an access point to its controller
	// (CAPWAP), which received, reassembled and deduplicated it; Cisco's
	// swap the frame control field's two bytes.
	wifiTunnel
)

// wifiPacket returns the IPv4 or IPv6 packet an 802.11 frame carries, with
// ok true; otherwise the frame's kind, with d.skip set for kindSkipped.
func (d *decoder) wifiPacket(data []byte, from wifiSource) (ip []byte, kind frameKind, ok bool) {
	var flags byte
	if from == wifiRadiotap {
		var good bool
		if data, flags, good = radiotapFrame(data); !good {
			return nil, kindMalformed, false
		}
	}
	if len(data) < 2 {
		return nil, kindMalformed, false
	}
	fc, fcFlags := data[0], data[1]
	if from == wifiTunnel && !isDataFC(fc) && isDataFC(fcFlags) {
		fc, fcFlags = fcFlags, fc // swapped, as Cisco's access points send it (Wireshark's capwap.swap_fc)
	}
	if fc&0x03 != 0 { // protocol version 0 is the only one
		return nil, kindMalformed, false
	}
	subtype := fc >> 4
	if (fc>>2)&0x03 != dot11TypeData || subtype&dot11NoData != 0 {
		return nil, kindNonIP, false // management and control frames are shorter
	}
	if len(data) < dot11Header {
		return nil, kindMalformed, false
	}
	if flags&radiotapBadFCS != 0 {
		d.skip = skipWifiBadFCS
		return nil, kindSkipped, false
	}
	if flags&radiotapFCS != 0 && len(data) >= dot11Header+4 {
		data = data[:len(data)-4]
	}
	n := dot11Header
	if fcFlags&dot11ToFromDS == dot11ToFromDS {
		n += 6
	}
	amsdu, tid := false, byte(dot11NoTID)
	if subtype&dot11QoS != 0 {
		if len(data) < n+2 {
			return nil, kindMalformed, false
		}
		amsdu, tid = data[n]&dot11AMSDU != 0, data[n]&dot11TID
		n += 2
		if fcFlags&dot11Order != 0 {
			n += 4
		}
	}
	if flags&radiotapDataPad != 0 {
		n = (n + 3) &^ 3
	}
	if len(data) < n {
		return nil, kindMalformed, false
	}
	switch {
	case from == wifiTunnel:
		// Received, reassembled and deduplicated by the access point,
		// whose sequence control field need not hold the air's.
	case d.wifiRepeat(data, fcFlags, tid):
		d.skip = skipWifiRepeat
		return nil, kindSkipped, false
	case fcFlags&dot11Protected != 0:
		d.skip = skipWifiEncrypted
		return nil, kindSkipped, false
	case fcFlags&dot11MoreFrag != 0 || binary.LittleEndian.Uint16(data[22:])&dot11FragNumber != 0:
		d.skip = skipWifiFragment
		return nil, kindSkipped, false
	}
	body := data[n:]
	if amsdu {
		// Subframes of destination, source, length and an LLC-headed
		// body, padded to 4 bytes; one alone is read as a plain frame.
		const sub = 14
		if len(body) < sub {
			return nil, kindMalformed, false
		}
		l := int(binary.BigEndian.Uint16(body[12:]))
		if sub+l > len(body) {
			return nil, kindMalformed, false
		}
		if len(body)-(sub+l) > 3 {
			d.skip = skipWifiAMSDU
			return nil, kindSkipped, false
		}
		body = body[sub : sub+l]
	}
	if len(body) < len(llcSNAP)+3 || [5]byte(body) != llcSNAP || (body[5] != 0x00 && body[5] != 0xf8) {
		return nil, kindNonIP, false
	}
	switch binary.BigEndian.Uint16(body[6:]) {
	case etherTypeIPv4, etherTypeIPv6:
		return body[8:], 0, true
	}
	return nil, kindNonIP, false
}

// isDataFC reports whether b is the first byte of a data frame's frame
// control field: protocol version 0, type data.
func isDataFC(b byte) bool { return b&0x03 == 0 && (b>>2)&0x03 == dot11TypeData }

// wifiRepeat reports whether a data frame is a retransmission of the last
// frame captured from its transmitter for the same traffic identifier
// (the same sequence control: QoS data counts per TID), which the
// receiver discards as a duplicate, and remembers the frame's.
func (d *decoder) wifiRepeat(data []byte, fcFlags, tid byte) bool {
	var key wifiSender
	copy(key[:6], data[10:16])
	key[6] = tid
	seq := binary.LittleEndian.Uint16(data[22:])
	last, seen := d.wifiSeq[key]
	if fcFlags&dot11Retry != 0 && seen && last == seq {
		return true
	}
	if d.wifiSeq == nil || len(d.wifiSeq) >= maxWifiSenders {
		d.wifiSeq = make(map[wifiSender]uint16)
	}
	d.wifiSeq[key] = seq
	return false
}

// wifiSender is a transmitter's address and a traffic identifier
// (dot11NoTID for data without QoS).
type wifiSender [7]byte

// radiotapFrame returns the 802.11 frame behind a radiotap header and the
// header's Flags field (0 when absent).
func radiotapFrame(data []byte) (frame []byte, flags byte, ok bool) {
	if len(data) < radiotapMinHeader || data[0] != 0 {
		return nil, 0, false
	}
	n := int(binary.LittleEndian.Uint16(data[2:]))
	if n < radiotapMinHeader || n > len(data) {
		return nil, 0, false
	}
	present := binary.LittleEndian.Uint32(data[4:])
	off := 8
	for p := present; p&radiotapExtended != 0; off += 4 {
		if off+4 > n {
			return nil, 0, false
		}
		p = binary.LittleEndian.Uint32(data[off:])
	}
	if present&radiotapTSFT != 0 {
		off = (off+7)&^7 + 8
	}
	if present&radiotapFlags != 0 {
		if off >= n {
			return nil, 0, false
		}
		flags = data[off]
	}
	return data[n:], flags, true
}
