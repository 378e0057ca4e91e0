package quic

import (
	"fmt"
	"strconv"
)

// FrameType is a QUIC frame type (RFC 9000, Section 19).
type FrameType uint64

// The frame types a handshake shows; the others are skipped by their
// layout.
const (
	FramePadding            FrameType = 0x00
	FramePing               FrameType = 0x01
	FrameACK                FrameType = 0x02
	FrameACKECN             FrameType = 0x03
	FrameCrypto             FrameType = 0x06
	FrameNewToken           FrameType = 0x07
	FrameNewConnectionID    FrameType = 0x18
	FrameConnectionClose    FrameType = 0x1c
	FrameConnectionCloseApp FrameType = 0x1d
	FrameHandshakeDone      FrameType = 0x1e
	frameStreamFirst        FrameType = 0x08
	frameStreamLast         FrameType = 0x0f
	frameDatagram           FrameType = 0x30
	frameDatagramLen        FrameType = 0x31
)

// Frame is one decoded frame. Data aliases the packet.
type Frame struct {
	Type FrameType
	// Offset and Data are a CRYPTO frame's.
	Offset uint64
	Data   []byte
	// StreamID is a STREAM frame's.
	StreamID uint64
	// ErrorCode, ErrorFrame and Reason are a CONNECTION_CLOSE's
	// (ErrorFrame only for 0x1c: the frame type that caused the error).
	ErrorCode  uint64
	ErrorFrame uint64
	Reason     []byte
}

// frameNames are the names Wireshark's QUIC Info column gives frames
// (packet-quic.c), by type.
var frameNames = map[FrameType]string{
	FramePadding: "PADDING", FramePing: "PING", FrameACK: "ACK", FrameACKECN: "ACK_ECN",
	0x04: "RS", 0x05: "SS", FrameCrypto: "CRYPTO", FrameNewToken: "NT",
	0x10: "MD", 0x11: "MSD", 0x12: "MS", 0x13: "MS", 0x14: "DB", 0x15: "SDB", 0x16: "SB", 0x17: "SB",
	FrameNewConnectionID: "NCI", 0x19: "RC", 0x1a: "PC", 0x1b: "PR",
	FrameConnectionClose: "CC", FrameConnectionCloseApp: "CC", FrameHandshakeDone: "DONE",
	frameDatagram: "DG", frameDatagramLen: "DG",
}

// Name is the frame's name as Wireshark's QUIC Info column shows it.
func (f *Frame) Name() string {
	if f.Type >= frameStreamFirst && f.Type <= frameStreamLast {
		return "STREAM(" + strconv.FormatUint(f.StreamID, 10) + ")"
	}
	if n, ok := frameNames[f.Type]; ok {
		return n
	}
	return "frame(0x" + strconv.FormatUint(uint64(f.Type), 16) + ")"
}

// reader reads varints and byte strings off a payload.
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) varint() uint64 {
	v, m := readVarint(r.b)
	if m == 0 {
		r.ok = false
		r.b = nil
		return 0
	}
	r.b = r.b[m:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.ok = false
		r.b = nil
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// ParseFrames calls fn with every frame of a decrypted payload, in order,
// a run of PADDING as one frame. It stops at the first frame it cannot
// read and says which.
func ParseFrames(payload []byte, fn func(*Frame)) error {
	r := reader{b: payload, ok: true}
	for len(r.b) > 0 {
		start := len(payload) - len(r.b)
		var f Frame
		f.Type = FrameType(r.varint())
		switch t := f.Type; {
		case t == FramePadding:
			for len(r.b) > 0 && r.b[0] == 0 {
				r.b = r.b[1:]
			}
		case t == FramePing, t == FrameHandshakeDone:
		case t == FrameACK, t == FrameACKECN:
			r.varint() // largest acknowledged
			r.varint() // delay
			n := r.varint()
			r.varint() // first range
			for i := uint64(0); i < n && r.ok; i++ {
				r.varint()
				r.varint()
			}
			if t == FrameACKECN {
				r.varint()
				r.varint()
				r.varint()
			}
		case t == 0x04: // RESET_STREAM
			r.varint()
			r.varint()
			r.varint()
		case t == 0x05, t == 0x11, t == 0x15: // STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED
			r.varint()
			r.varint()
		case t == FrameCrypto:
			f.Offset = r.varint()
			f.Data = r.bytes(r.varint())
		case t == FrameNewToken:
			r.bytes(r.varint())
		case t >= frameStreamFirst && t <= frameStreamLast:
			f.StreamID = r.varint()
			if t&0x04 != 0 {
				r.varint()
			}
			if t&0x02 != 0 {
				r.bytes(r.varint())
			} else {
				r.b = r.b[len(r.b):]
			}
		case t == 0x10, t == 0x12, t == 0x13, t == 0x14, t == 0x16, t == 0x17, t == 0x19:
			r.varint()
		case t == FrameNewConnectionID:
			r.varint()
			r.varint()
			if n := r.bytes(1); r.ok {
				r.bytes(uint64(n[0]) + 16)
			}
		case t == 0x1a, t == 0x1b: // PATH_CHALLENGE, PATH_RESPONSE
			r.bytes(8)
		case t == FrameConnectionClose:
			f.ErrorCode = r.varint()
			f.ErrorFrame = r.varint()
			f.Reason = r.bytes(r.varint())
		case t == FrameConnectionCloseApp:
			f.ErrorCode = r.varint()
			f.Reason = r.bytes(r.varint())
		case t == frameDatagram:
			r.b = r.b[len(r.b):]
		case t == frameDatagramLen:
			r.bytes(r.varint())
		default:
			return fmt.Errorf("frame type 0x%x at payload offset %d: unknown", uint64(t), start)
		}
		if !r.ok {
			return fmt.Errorf("%s frame at payload offset %d: %w", f.Name(), start, ErrShort)
		}
		fn(&f)
	}
	return nil
}
