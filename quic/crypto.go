package quic

import (
	"encoding/binary"
	"slices"

	"github.com/tlsdiag/tlsdiag/capture"
)

// Bounds on one CRYPTO stream (one direction at one encryption level).
// A handshake is a few kilobytes; a long certificate chain tens.
const (
	// MaxCryptoStream is the most bytes of a CRYPTO stream read; bytes
	// at higher offsets are cut.
	MaxCryptoStream = 256 << 10
	// MaxCryptoPending is the most out-of-order bytes held waiting for a
	// hole to fill.
	MaxCryptoPending = 64 << 10
)

// Message is one TLS handshake message read from a CRYPTO stream: its
// type and body exactly as sent, and the frame whose datagram completed it.
type Message struct {
	Type  uint8
	Body  []byte
	Frame capture.Frame
}

type cryptoChunk struct {
	off  uint64
	data []byte
}

// cryptoStream reassembles one CRYPTO stream: frames may repeat, overlap
// and arrive out of order (RFC 9000, Section 19.6), and messages span
// frames and packets.
type cryptoStream struct {
	next    uint64 // offset of the first byte not yet contiguous
	pending []cryptoChunk
	held    int // bytes in pending
	buf     []byte
	// Cut counts the bytes not read because of the bounds; broken is set
	// when the stream can no longer be read in order.
	Cut    int64
	broken bool
}

// add takes a CRYPTO frame's data at off, arriving in frame f, and
// returns the messages it completed.
func (s *cryptoStream) add(off uint64, data []byte, f capture.Frame, out []Message) []Message {
	if s.broken {
		s.Cut += int64(len(data))
		return out
	}
	end := off + uint64(len(data))
	if end > MaxCryptoStream {
		keep := uint64(0)
		if off < MaxCryptoStream {
			keep = MaxCryptoStream - off
		}
		s.Cut += int64(uint64(len(data)) - keep)
		data = data[:keep]
		end = off + keep
	}
	if end <= s.next {
		return out // a retransmission of bytes already read
	}
	if off > s.next {
		if s.held+len(data) > MaxCryptoPending {
			s.Cut += int64(len(data))
			return out
		}
		s.pending = append(s.pending, cryptoChunk{off, append([]byte(nil), data...)})
		s.held += len(data)
		return out
	}
	s.append(data[s.next-off:])
	// Bytes that waited for this hole.
	slices.SortFunc(s.pending, func(a, b cryptoChunk) int { return cmpU64(a.off, b.off) })
	for len(s.pending) > 0 && s.pending[0].off <= s.next {
		c := s.pending[0]
		s.pending = s.pending[1:]
		s.held -= len(c.data)
		if e := c.off + uint64(len(c.data)); e > s.next {
			s.append(c.data[s.next-c.off:])
		}
	}
	return s.messages(f, out)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *cryptoStream) append(b []byte) {
	s.buf = append(s.buf, b...)
	s.next += uint64(len(b))
}

// messages splits the contiguous bytes into handshake messages (RFC 8446,
// Section 4: type, uint24 length, body).
func (s *cryptoStream) messages(f capture.Frame, out []Message) []Message {
	for len(s.buf) >= 4 {
		n := int(binary.BigEndian.Uint32(s.buf) & 0xffffff)
		if n > MaxCryptoStream {
			// No message this long fits the stream's bound.
			s.Cut += int64(len(s.buf))
			s.buf, s.broken = nil, true
			return out
		}
		if len(s.buf) < 4+n {
			break
		}
		out = append(out, Message{Type: s.buf[0], Body: append([]byte(nil), s.buf[4:4+n]...), Frame: f})
		s.buf = s.buf[4+n:]
	}
	if len(s.buf) == 0 {
		s.buf = nil // let the backing array go
	}
	return out
}

// Unfinished is the number of bytes of an incomplete message at the end
// of the stream, and whether bytes past a hole wait.
func (s *cryptoStream) Unfinished() (tail int, holes bool) {
	return len(s.buf), len(s.pending) > 0
}
