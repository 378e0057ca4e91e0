package capture

import (
	"net/netip"

	"github.com/gopacket/gopacket"
)

// portCAPWAPData is the UDP port of CAPWAP's data channel (RFC 5415,
// Section 15.7), in which a wireless LAN controller and its access points
// (Cisco's, Fortinet's, OpenWrt's) tunnel the clients' frames: a
// capture at the controller, or a SPAN of its uplink, holds the clients'
// connections inside it.
const portCAPWAPData = 5247

// capwapBindingIEEE80211 is the wireless binding ID of IEEE 802.11 (RFC
// 5415, Section 4.3).
const capwapBindingIEEE80211 = 1

// capwap decodes a CAPWAP data channel header (RFC 5415, Section 4.3):
// preamble (version 0, type 0), HLEN in 4-byte words, RID, WBID, the T, F,
// L, W, M and K flags, fragment ID and offset, then the optional radio
// MAC address and wireless information, all within HLEN. The payload is
// an 802.3 (Ethernet) frame, or with T an 802.11 frame (WBID 1), whose
// packet is read through its LLC/SNAP header. DTLS-protected data, keep-
// alives (K) and fragments are left as UDP or skipped and counted.
func (d *decoder) capwap(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 8 || b[0]>>4 != 0 {
		return nil, nil, false
	}
	if b[0]&0x0f != 0 {
		return d.unsupported("CAPWAP data protected by DTLS")
	}
	// Bits 8-12 HLEN, 13-17 RID, 18-22 WBID, 23 T, 24 F, 25 L, 26 W,
	// 27 M, 28 K, 29-31 flags.
	hlen := int(b[1]>>3) * 4
	wbid := (b[2] >> 1) & 0x1f
	native := b[2]&0x01 != 0
	fragment := b[3]&0x80 != 0
	keepAlive := b[3]&0x08 != 0
	switch {
	case hlen < 8 || hlen > len(b):
		return d.unsupported("CAPWAP header cut short")
	case keepAlive:
		return nil, nil, false // the data channel's own keep-alive
	}
	d.enter(Tunnel{Type: TunnelCAPWAP, Src: src, Dst: dst})
	if fragment {
		return d.unsupported("CAPWAP fragments (not reassembled)")
	}
	payload := b[hlen:]
	if !native {
		return d.ethP, payload, true
	}
	if wbid != capwapBindingIEEE80211 {
		return d.unsupported("CAPWAP carrying frames of wireless binding %d", wbid)
	}
	ip, kind, ok := d.wifiPacket(payload, wifiTunnel)
	switch {
	case ok:
		if p := d.byIPVersion(ip); p != nil {
			return p, ip, true
		}
		return d.unsupported("CAPWAP carrying an 802.11 frame of IP version %d", ip[0]>>4)
	case kind == kindSkipped:
		return nil, nil, false
	case kind == kindMalformed:
		return d.unsupported("CAPWAP carrying a malformed 802.11 frame")
	}
	return nil, nil, false // an 802.11 frame without IP
}
