package capture

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// FlowDecoder tells which transport flow a frame belongs to, decoding it
// exactly as the assembler does (every link type, VLAN tags, tunnels), for
// a caller that picks one connection's frames out of a capture. Frames
// must be given in capture order: an IPv4 datagram cut in fragments is
// named at its last fragment, the earlier ones at none.
type FlowDecoder struct {
	d   *decoder
	seg Segment
}

// NewFlowDecoder returns a FlowDecoder.
func NewFlowDecoder() *FlowDecoder { return &FlowDecoder{d: newDecoder(new(Stats))} }

// FrameFlow is what a frame says about the flow it belongs to.
type FrameFlow struct {
	Src, Dst netip.AddrPort
	UDP      bool
	// Open is set for a TCP SYN without ACK: a connection begins.
	Open bool
	// FIN and RST are set for a TCP segment with that flag: the sender
	// closes its side, or the connection.
	FIN, RST bool
}

// Flow returns the flow of the TCP segment or UDP datagram a frame
// carries (the innermost, in a tunnel); ok is false for a frame that
// carries neither.
func (f *FlowDecoder) Flow(data []byte, ts time.Time, lt layers.LinkType) (fl FrameFlow, ok bool) {
	f.seg = Segment{}
	kind, err := f.d.decode(data, ts, lt, &f.seg)
	if err != nil || kind != kindTCP && kind != kindUDP {
		return FrameFlow{}, false
	}
	tcp := kind == kindTCP
	return FrameFlow{Src: f.seg.Src, Dst: f.seg.Dst, UDP: !tcp, Open: tcp && f.seg.SYN && !f.seg.ACK,
		FIN: tcp && f.seg.FIN, RST: tcp && f.seg.RST}, true
}
