package quic

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Header is what a packet's header says before decryption.
type Header struct {
	Type    PacketType
	Version Version // zero for short headers
	// DCID and SCID alias the datagram; SCID is empty for short headers.
	DCID, SCID []byte
	// Token is an Initial's token, or a Retry's.
	Token []byte
	// Versions are the versions a Version Negotiation packet lists.
	Versions []Version
	// pnOffset is where the packet number starts; 0 for packets without.
	pnOffset int
}

// maxCIDLen is the longest connection ID QUIC v1 and v2 allow (RFC 9000,
// Section 17.2).
const maxCIDLen = 20

// Errors of packet decoding; they wrap into errors that say where.
var (
	ErrShort      = errors.New("packet cut short")
	ErrNotQUIC    = errors.New("not a QUIC packet")
	ErrDecryption = errors.New("packet did not decrypt")
)

// ParseHeader reads the header of the packet at the start of b, and
// returns its size: the packet's bytes are b[:size], and a long header
// packet with a Length may be followed by more (coalesced) packets. A
// short header's DCID is shortDCID bytes long, which only the
// connection knows. The header aliases b.
func ParseHeader(b []byte, shortDCID int) (h Header, size int, err error) {
	return parseHeader(b, shortDCID, 0)
}

// parseHeader is ParseHeader reading the long header of a version it
// does not know with the layout of version as, when as is not zero.
func parseHeader(b []byte, shortDCID int, as Version) (h Header, size int, err error) {
	if len(b) == 0 {
		return h, 0, ErrShort
	}
	if b[0]&0x80 == 0 {
		// RFC 9000, Section 17.3: the DCID. The fixed bit is not
		// checked: a peer that allows it greases it (RFC 9287).
		if len(b) < 1+shortDCID {
			return h, 0, ErrNotQUIC
		}
		h.Type, h.DCID, h.pnOffset = Packet1RTT, b[1:1+shortDCID], 1+shortDCID
		return h, len(b), nil
	}
	// RFC 8999, Section 5.1: the version-independent long header.
	if len(b) < 7 {
		return h, 0, ErrShort
	}
	h.Version = Version(binary.BigEndian.Uint32(b[1:5]))
	off := 5
	var ok bool
	if h.DCID, off, ok = readCID(b, off); !ok {
		return h, 0, fmt.Errorf("destination connection ID: %w", ErrShort)
	}
	if h.SCID, off, ok = readCID(b, off); !ok {
		return h, 0, fmt.Errorf("source connection ID: %w", ErrShort)
	}
	if h.Version == 0 {
		// RFC 9000, Section 17.2.1: the rest lists versions.
		h.Type = PacketVersionNegotiation
		rest := b[off:]
		if len(rest)%4 != 0 || len(rest) == 0 {
			return h, 0, fmt.Errorf("version negotiation list of %d bytes: %w", len(rest), ErrNotQUIC)
		}
		for i := 0; i < len(rest); i += 4 {
			h.Versions = append(h.Versions, Version(binary.BigEndian.Uint32(rest[i:])))
		}
		return h, len(b), nil
	}
	p := params(h.Version)
	if p == nil && as != 0 {
		p = params(as)
	}
	if p == nil {
		// A version we cannot read: its packets fill the datagram.
		return h, len(b), nil
	}
	if len(h.DCID) > maxCIDLen || len(h.SCID) > maxCIDLen {
		return h, 0, fmt.Errorf("connection ID longer than %d bytes: %w", maxCIDLen, ErrNotQUIC)
	}
	// The fixed bit may be clear: RFC 9287 lets an endpoint grease it
	// once its peer said it can (ngtcp2 does, even in Initial packets).
	h.Type = p.types[b[0]>>4&3]
	switch h.Type {
	case PacketRetry:
		// RFC 9000, Section 17.2.5: the token, then a 16-byte tag.
		if len(b)-off < 16 {
			return h, 0, fmt.Errorf("retry integrity tag: %w", ErrShort)
		}
		h.Token = b[off : len(b)-16]
		return h, len(b), nil
	case PacketInitial:
		n, m := readVarint(b[off:])
		if m == 0 || uint64(len(b)-off-m) < n {
			return h, 0, fmt.Errorf("initial token: %w", ErrShort)
		}
		off += m
		h.Token = b[off : off+int(n)]
		off += int(n)
	}
	length, m := readVarint(b[off:])
	if m == 0 {
		return h, 0, fmt.Errorf("length: %w", ErrShort)
	}
	off += m
	if uint64(len(b)-off) < length {
		return h, 0, fmt.Errorf("length %d beyond the datagram's %d bytes: %w", length, len(b)-off, ErrShort)
	}
	h.pnOffset = off
	return h, off + int(length), nil
}

func readCID(b []byte, off int) ([]byte, int, bool) {
	if off >= len(b) {
		return nil, off, false
	}
	n := int(b[off])
	off++
	if len(b)-off < n {
		return nil, off, false
	}
	return b[off : off+n], off + n, true
}

// readVarint reads a variable-length integer (RFC 9000, Section 16); m
// is the bytes it took, 0 when b is too short.
func readVarint(b []byte) (v uint64, m int) {
	if len(b) == 0 {
		return 0, 0
	}
	m = 1 << (b[0] >> 6)
	if len(b) < m {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:m] {
		v = v<<8 | uint64(c)
	}
	return v, m
}

// Unprotect removes header protection from pkt (the packet's bytes, which
// it modifies in place), decodes the packet number against the largest
// received in its space so far, and decrypts the payload in place. It
// returns the packet number and the plaintext frames (aliasing pkt).
func Unprotect(pkt []byte, h *Header, k *Keys, largest int64) (pn uint64, payload []byte, err error) {
	off := h.pnOffset
	if off == 0 || len(pkt) < off+4+16 {
		return 0, nil, fmt.Errorf("header protection sample: %w", ErrShort)
	}
	mask := k.hp.mask(pkt[off+4 : off+20])
	if pkt[0]&0x80 != 0 {
		pkt[0] ^= mask[0] & 0x0f
	} else {
		pkt[0] ^= mask[0] & 0x1f
	}
	n := int(pkt[0]&3) + 1
	var truncated uint64
	for i := range n {
		pkt[off+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(pkt[off+i])
	}
	pn = decodePacketNumber(largest, truncated, n*8)
	payload, err = k.open(pkt[:off+n], pkt[off+n:], pn)
	if err != nil {
		return pn, nil, ErrDecryption
	}
	if len(payload) == 0 {
		// RFC 9000, Section 12.4: a packet holds at least one frame.
		return pn, nil, fmt.Errorf("packet without frames: %w", ErrNotQUIC)
	}
	return pn, payload, nil
}

// decodePacketNumber is RFC 9000, Appendix A.3.
func decodePacketNumber(largest int64, truncated uint64, bits int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << bits
	half := win / 2
	mask := win - 1
	candidate := expected&^mask | truncated
	switch {
	case candidate+half <= expected && candidate < 1<<62-win:
		return candidate + win
	case candidate > expected+half && candidate >= win:
		return candidate - win
	}
	return candidate
}
