package capture

import (
	"encoding/binary"
	"fmt"
)

// pcapng block types (pcapng specification, Section 11.1).
const (
	ngBlockSection        = 0x0A0D0D0A
	ngBlockInterface      = 0x00000001
	ngBlockPacket         = 0x00000002 // obsolete, still read
	ngBlockSimplePacket   = 0x00000003
	ngBlockEnhancedPacket = 0x00000006
	ngBlockSecrets        = 0x0000000A
	ngByteOrder           = 0x1A2B3C4D
)

// ngScanner follows the pcapng block structure in the bytes that pass
// under the packet reader (gopacket's), from the first, for two things
// that reader does not do: it keeps the Decryption Secrets Blocks, which
// the reader skips after the first packet, and it stops reading at a
// packet block whose captured length is over maxRecordLen, which the
// reader would read into memory whole, however large. Otherwise it only
// reads: a file it cannot follow is the packet reader's to report.
type ngScanner struct {
	order   binary.ByteOrder
	off     int64 // stream offset of the next byte fed
	hdr     [24]byte
	hdrN    int
	blockAt int64
	typ     uint32
	left    int64  // bytes of the current block's body still to come
	body    []byte // the current Decryption Secrets Block's body
	keep    bool   // the current block is a secrets block being kept
	stopped bool   // the bytes are not pcapng as the scanner knows it

	// snap0 is the snap length of the section's first interface, which
	// caps a Simple Packet Block's captured length; interfaces counts the
	// section's Interface Description Blocks.
	snap0      uint32
	interfaces int

	// tooLarge is set at the first packet block over maxRecordLen, which
	// begins at cut: no byte from there on is passed to the reader.
	tooLarge error
	cut      int64

	deliver func(DecryptionSecrets)
	pending []DecryptionSecrets
	held    int
	// Skipped describes the blocks not kept (too large, malformed).
	skipped []string
}

// feed scans p, the next bytes of the stream, and returns how many of
// them the packet reader may have, with the error it gets instead of the
// others: none from the start of a packet block that is too large.
func (s *ngScanner) feed(p []byte) (int, error) {
	start := s.off
	for len(p) > 0 && !s.stopped && s.tooLarge == nil {
		if s.left == 0 {
			n := s.header(p)
			p = p[n:]
			continue
		}
		n := int(min(s.left, int64(len(p))))
		if s.keep {
			s.body = append(s.body, p[:n]...)
		}
		p = p[n:]
		s.off += int64(n)
		s.left -= int64(n)
		if s.left == 0 && s.keep {
			s.secretsBlock()
		}
	}
	s.off += int64(len(p))
	if s.tooLarge != nil {
		return int(max(0, s.cut-start)), s.tooLarge
	}
	return int(s.off - start), nil
}

// headerLen is how many of a block's first bytes the scanner reads before
// it acts on the block: 8 give the type and total length; a Section
// Header Block needs its byte-order magic too; a packet block, its
// captured length (an Enhanced or obsolete Packet Block) or original
// length (a Simple Packet Block); an Interface Description Block, its
// snap length.
func (s *ngScanner) headerLen() int {
	if s.hdrN < 8 {
		return 8
	}
	if binary.LittleEndian.Uint32(s.hdr[:4]) == ngBlockSection {
		return 12
	}
	if s.order == nil {
		return 8
	}
	need := 8
	switch s.order.Uint32(s.hdr[:4]) {
	case ngBlockEnhancedPacket, ngBlockPacket:
		need = 24
	case ngBlockSimplePacket:
		need = 12
	case ngBlockInterface:
		need = 16
	}
	if s.order.Uint32(s.hdr[4:8]) < uint32(need) {
		return 8 // too short to hold the field: the packet reader says so
	}
	return need
}

// header collects the first bytes of a block (headerLen) and returns the
// bytes of p it used.
func (s *ngScanner) header(p []byte) int {
	if s.hdrN == 0 {
		s.blockAt = s.off
	}
	used := 0
	for need := s.headerLen(); s.hdrN < need; need = s.headerLen() {
		if used == len(p) {
			s.off += int64(used)
			return used // more to come
		}
		n := copy(s.hdr[s.hdrN:need], p[used:])
		s.hdrN += n
		used += n
	}
	s.off += int64(used)
	s.block()
	return used
}

// block acts on a complete block header.
func (s *ngScanner) block() {
	hdr := s.hdr[:s.hdrN]
	s.hdrN = 0
	if len(hdr) >= 12 && binary.LittleEndian.Uint32(hdr[:4]) == ngBlockSection {
		switch {
		case binary.LittleEndian.Uint32(hdr[8:]) == ngByteOrder:
			s.order = binary.LittleEndian
		case binary.BigEndian.Uint32(hdr[8:]) == ngByteOrder:
			s.order = binary.BigEndian
		default:
			s.stopped = true
			return
		}
		s.snap0, s.interfaces = 0, 0
	}
	if s.order == nil {
		s.stopped = true // no Section Header first: not pcapng
		return
	}
	s.typ = s.order.Uint32(hdr[:4])
	length := int64(s.order.Uint32(hdr[4:8]))
	if length < 12 || length%4 != 0 {
		s.stopped = true
		return
	}
	s.left = length - int64(len(hdr))
	s.keep = false
	switch {
	case s.typ == ngBlockInterface && len(hdr) == 16:
		if s.interfaces == 0 {
			s.snap0 = s.order.Uint32(hdr[12:])
		}
		s.interfaces++
	case (s.typ == ngBlockEnhancedPacket || s.typ == ngBlockPacket) && len(hdr) == 24:
		s.checkCaptured(s.order.Uint32(hdr[20:]))
	case s.typ == ngBlockSimplePacket && len(hdr) == 12:
		captured := s.order.Uint32(hdr[8:])
		if s.snap0 != 0 {
			captured = min(captured, s.snap0) // as the packet reader reads it
		}
		s.checkCaptured(captured)
	case s.typ == ngBlockSecrets:
		if length > maxSecretsBlock {
			s.skipped = append(s.skipped, fmt.Sprintf("a Decryption Secrets Block of %d bytes at offset %d is over the %d MiB limit, skipped", length, s.blockAt, maxSecretsBlock>>20))
		} else {
			s.keep = true
			s.body = s.body[:0]
		}
	}
}

// checkCaptured stops reading at the current packet block if its captured
// length is over maxRecordLen.
func (s *ngScanner) checkCaptured(captured uint32) {
	if captured > maxRecordLen {
		s.tooLarge = fmt.Errorf("the packet block at offset %d claims a capture length of %d, over the largest record read, %d bytes (as libpcap and Wireshark)", s.blockAt, captured, maxRecordLen)
		s.cut = s.blockAt
	}
}

// secretsBlock reads a complete Decryption Secrets Block body: secrets
// type, secrets length, the secrets, padding, options and the trailing
// length.
func (s *ngScanner) secretsBlock() {
	s.keep = false
	b := s.body
	if len(b) < 8+4 {
		s.skipped = append(s.skipped, fmt.Sprintf("a Decryption Secrets Block at offset %d is too short", s.blockAt))
		return
	}
	typ, n := s.order.Uint32(b), int64(s.order.Uint32(b[4:]))
	if n > int64(len(b)-12) {
		s.skipped = append(s.skipped, fmt.Sprintf("a Decryption Secrets Block at offset %d claims %d bytes of secrets but holds %d", s.blockAt, n, len(b)-12))
		return
	}
	ds := DecryptionSecrets{Type: typ, Data: append([]byte(nil), b[8:8+n]...), Offset: s.blockAt}
	if s.deliver != nil {
		s.deliver(ds)
		return
	}
	if s.held+len(ds.Data) > maxPendingSecrets {
		s.skipped = append(s.skipped, fmt.Sprintf("the Decryption Secrets Block at offset %d is beyond the %d MiB held before reading began, skipped", s.blockAt, maxPendingSecrets>>20))
		return
	}
	s.held += len(ds.Data)
	s.pending = append(s.pending, ds)
}
