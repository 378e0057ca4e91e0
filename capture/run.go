package capture

import (
	"context"
	"math"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Packet feeds the next frame of the capture: it is numbered (1-based,
// every frame counts, as Wireshark's frame.number), decoded and, if it
// carries TCP, assembled. data is not kept after the call. The only error
// is an unsupported link type; malformed, truncated, non-IP and non-TCP
// frames are counted in Stats.
func (a *Assembler) Packet(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) error {
	return a.packet(a.frames+1, data, ci, lt)
}

// packet feeds frame number n: the next of the capture (Packet), or the
// next this Assembler gets of a capture it shares (RunFanout).
func (a *Assembler) packet(n int64, data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) error {
	a.frames = n
	st := &a.stats
	st.Frames++
	st.Bytes += int64(len(data))
	f := Frame{Number: n, Time: ci.Timestamp}
	if st.Frames == 1 {
		st.Start = ci.Timestamp
	}
	st.clock(n, ci.Timestamp, &a.prevTime)
	kind, err := a.dec.decode(data, ci.Timestamp, lt, &a.seg)
	if ci.CaptureLength < ci.Length || a.dec.truncated {
		st.Truncated++
	}
	if err != nil {
		return err
	}
	if kind == kindTCP {
		if a.seg.Missing > 0 {
			a.seg.Snap = ci.CaptureLength
		}
		a.seg.Interface = frameInterface(data, ci.InterfaceIndex, lt, a.several)
		if a.nat.wants(&a.seg) && a.nat.see(&a.seg, ci.Timestamp.UnixNano()) {
			st.interfaceCopy(&a.seg)
			a.seg.Payload = nil
			a.advance(ci.Timestamp.UnixNano())
			return nil
		}
		a.Segment(&a.seg, f)
		a.seg.Payload = nil
		return nil
	}
	st.countOther(kind, a.dec)
	switch kind {
	case kindUDP:
		a.datagram(&a.seg, f)
		a.seg.Payload = nil
	case kindICMP:
		a.icmp(&a.seg, f)
		a.seg.ICMP = nil
	}
	a.advance(ci.Timestamp.UnixNano())
	return nil
}

// Frames returns the number of frames fed so far: the number of the last.
func (a *Assembler) Frames() int64 { return a.frames }

// ctxCheckEvery is how many frames Run reads between looks at ctx.
const ctxCheckEvery = 64

// Run reads every frame of src into a new Assembler driving h, then closes
// every connection still open (ClosedEOF, or ClosedFIN after a FIN). Frame
// numbers start at 1 for each Run: run one per file and keep the results
// of each file apart.
//
// When reading fails part way, the connections are closed just the same,
// so that what was found before is reported, and the error is returned (a
// *ReadError from a File names the file, frame and byte offset). When ctx
// is cancelled, Run stops, closes the connections and returns ctx.Err().
func Run(ctx context.Context, src Source, h Handler, opt Options) (Stats, error) {
	a := NewAssembler(h, opt)
	a.progress, _ = h.(Progresser)
	err := a.readAll(ctx, src)
	st := a.Close()
	st.addFileFacts(src)
	if a.progress != nil {
		a.progress.Progress(math.MaxInt64)
	}
	return st, err
}

// readAll reads src, the whole capture, as the only source of one that
// is not split.
func (a *Assembler) readAll(ctx context.Context, src Source) error {
	return a.readSplit(ctx, Unsplit(src), nil, nil)
}

func sourceName(src any) string {
	if n, ok := src.(interface{ Name() string }); ok && n.Name() != "" {
		return n.Name() + ": "
	}
	return ""
}
