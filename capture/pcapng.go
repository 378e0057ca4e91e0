package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// pcapng block types (pcapng specification, Section 11.1).
const (
	ngBlockSection        = 0x0A0D0D0A
	ngBlockInterface      = 0x00000001
	ngBlockPacket         = 0x00000002 // obsolete, still read
	ngBlockSimplePacket   = 0x00000003
	ngBlockStatistics     = 0x00000005
	ngBlockEnhancedPacket = 0x00000006
	ngBlockSecrets        = 0x0000000A
	ngByteOrder           = 0x1A2B3C4D
)

// Bounds on what a pcapng file makes the reader hold, whatever it claims.
const (
	// maxNgInterfaces bounds the interfaces of a section: real files have
	// a few (mergecap of many files, some hundreds).
	maxNgInterfaces = 1 << 16
	// maxNgFilters bounds the distinct capture filters kept (each at most
	// 64 KiB, the largest option).
	maxNgFilters = 64
)

// ngReader reads pcapng files (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/)
// out of its buffer, as pcapReader reads pcap: a frame is a slice of the
// buffer, valid until the next read (or, once the buffer is lent to a
// block, as long as the block). It keeps of each section only
// what reading its frames needs, in bounded memory: each interface's link
// type, snap length, timestamp units and recorded drops, the distinct
// capture filters, and the Decryption Secrets Blocks. Name resolution and
// unknown blocks are skipped unread, and so are sections of a version it
// does not know.
type ngReader struct {
	br        *fileBuffer
	at        func() int64 // the offset in the (decompressed) file of the next byte to read
	bigEndian bool         // the section's byte order
	ifaces    []ngInterface
	filters   []string
	skip      bool   // in a section of an unknown version
	big       []byte // for the rare packet block larger than br's buffer
	// dropped counts the packets the capturing tool recorded as dropped
	// in the sections before this one (Interface Statistics Blocks).
	dropped uint64

	deliver func(DecryptionSecrets)
	pending []DecryptionSecrets
	held    int
	skipped []string // the Decryption Secrets Blocks not kept, and why
}

// ngInterface is what the reader keeps of an Interface Description Block.
type ngInterface struct {
	linkType layers.LinkType
	snapLen  uint32
	units    uint64 // timestamp units per second (if_tsresol)
	offset   int64  // seconds added to timestamps (if_tsoffset)
	dropped  uint64 // isb_ifdrop + isb_osdrop of its last statistics
}

// time converts a timestamp in the interface's units.
func (i *ngInterface) time(ts uint64) time.Time {
	sec, frac := ts/i.units, ts%i.units
	var ns uint64
	switch i.units {
	case 1e6:
		ns = frac * 1e3
	case 1e9:
		ns = frac
	default:
		hi, lo := bits.Mul64(frac, 1e9)
		ns, _ = bits.Div64(hi, lo, i.units) // hi < units, as frac < units
	}
	return time.Unix(int64(sec)+i.offset, int64(ns)).UTC()
}

// newNgReader reads the Section Header Block that opens the file.
func newNgReader(br *fileBuffer, at func() int64) (*ngReader, error) {
	r := &ngReader{br: br, at: at}
	h, _ := br.Peek(12)
	if len(h) < 12 {
		return nil, fmt.Errorf("%w (%d bytes)", errShortHeader, len(h))
	}
	if err := r.section(); err != nil {
		return nil, err
	}
	return r, nil
}

// next returns the next frame and the link type of its interface; data is
// valid until the next call. At the clean end of the file it returns
// io.EOF.
func (r *ngReader) next() (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, err error) {
	for {
		h, err := r.br.Peek(8)
		if len(h) < 8 {
			if len(h) == 0 && err == io.EOF {
				return nil, ci, 0, io.EOF
			}
			if endsEarly(err) {
				return nil, ci, 0, r.cut(len(h))
			}
			return nil, ci, 0, err
		}
		if binary.LittleEndian.Uint32(h) == ngBlockSection { // the same in either byte order
			if err := r.section(); err != nil {
				return nil, ci, 0, err
			}
			continue
		}
		typ, length := r.u32(h), r.u32(h[4:])
		if length < 12 || length%4 != 0 {
			if pcapMagic(h[:4]) { // its version, 2.4, is no block length
				return nil, ci, 0, fmt.Errorf("a pcap file header at offset %d, where a pcapng block should be: %s", r.at(), joinedFormats)
			}
			return nil, ci, 0, fmt.Errorf("block of type 0x%x at offset %d: total length %d is not a multiple of 4 of at least 12", typ, r.at(), length)
		}
		switch {
		case r.skip:
			err = r.discard(length)
		case typ == ngBlockEnhancedPacket || typ == ngBlockPacket || typ == ngBlockSimplePacket:
			return r.packet(typ, length)
		case typ == ngBlockInterface:
			err = r.interfaceBlock(length)
		case typ == ngBlockStatistics:
			err = r.statisticsBlock(length)
		case typ == ngBlockSecrets:
			err = r.secretsBlock(length)
		default:
			err = r.discard(length)
		}
		if err != nil {
			return nil, ci, 0, err
		}
	}
}

// u16, u32 and u64 read numbers in the section's byte order, without a
// call through binary.ByteOrder: they run several times per frame.
func (r *ngReader) u16(b []byte) uint16 {
	if r.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *ngReader) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *ngReader) u64(b []byte) uint64 {
	if r.bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// cut is the error for a block the file ends inside of, have bytes of it
// being left.
func (r *ngReader) cut(have int) error {
	return fmt.Errorf("%w: pcapng block cut short, %d bytes left", ErrTruncatedRecord, have)
}

// block returns the whole block of length bytes at the reader, which the
// caller discards once done with it; it must fit in br's buffer.
func (r *ngReader) block(length uint32) ([]byte, error) {
	b, err := r.br.Peek(int(length))
	if len(b) < int(length) {
		if endsEarly(err) {
			return nil, r.cut(len(b))
		}
		return nil, err
	}
	return b, nil
}

// discard skips a block of length bytes.
func (r *ngReader) discard(length uint32) error {
	n, err := r.br.Discard(int(length))
	if err == io.EOF {
		return r.cut(n)
	}
	return err
}

// section reads a Section Header Block: its byte order and version. A new
// section describes its interfaces anew.
func (r *ngReader) section() error {
	at := r.at()
	h, err := r.br.Peek(28)
	if len(h) < 12 {
		if endsEarly(err) {
			return r.cut(len(h))
		}
		return err
	}
	switch {
	case binary.LittleEndian.Uint32(h[8:]) == ngByteOrder:
		r.bigEndian = false
	case binary.BigEndian.Uint32(h[8:]) == ngByteOrder:
		r.bigEndian = true
	default:
		return fmt.Errorf("section header at offset %d: byte-order magic 0x%08x is neither order's", at, binary.LittleEndian.Uint32(h[8:]))
	}
	length := r.u32(h[4:])
	if length < 28 || length%4 != 0 {
		return fmt.Errorf("section header at offset %d: total length %d is not a multiple of 4 of at least 28", at, length)
	}
	if len(h) < 28 {
		return r.cut(len(h))
	}
	major, minor := r.u16(h[12:]), r.u16(h[14:])
	// Version 1.2 was written by some and means 1.0 (the specification,
	// Section 4.1); a section of another major version cannot be read.
	r.skip = major != 1 || minor != 0 && minor != 2
	r.dropped = r.droppedSoFar()
	r.ifaces = r.ifaces[:0]
	return r.discard(length)
}

// interfaceBlock reads an Interface Description Block.
func (r *ngReader) interfaceBlock(length uint32) error {
	at := r.at()
	if int(length) > r.br.Size() {
		return fmt.Errorf("interface description block at offset %d: %d bytes, over the %d read", at, length, r.br.Size())
	}
	if length < 20 {
		return fmt.Errorf("interface description block at offset %d: total length %d is under 20", at, length)
	}
	if len(r.ifaces) == maxNgInterfaces {
		return fmt.Errorf("interface description block at offset %d: more than %d interfaces in a section", at, maxNgInterfaces)
	}
	b, err := r.block(length)
	if err != nil {
		return err
	}
	intf := ngInterface{linkType: layers.LinkType(r.u16(b[8:])), snapLen: r.u32(b[12:]), units: 1e6}
	for code, value := range r.options(b[16 : length-4]) {
		switch code {
		case 9: // if_tsresol
			if len(value) < 1 {
				continue
			}
			exp := uint(value[0] & 0x7f)
			if value[0]&0x80 != 0 { // a negative power of 2
				if exp > 63 {
					return fmt.Errorf("interface description block at offset %d: timestamp resolution 2^-%d is not supported", at, exp)
				}
				intf.units = 1 << exp
			} else {
				if exp > 19 {
					return fmt.Errorf("interface description block at offset %d: timestamp resolution 10^-%d is not supported", at, exp)
				}
				intf.units = 1
				for range exp {
					intf.units *= 10
				}
			}
		case 11: // if_filter: a type byte, 0 for a libpcap filter string
			if len(value) > 1 && value[0] == 0 {
				if f := string(value[1:]); !slices.Contains(r.filters, f) && len(r.filters) < maxNgFilters {
					r.filters = append(r.filters, f)
				}
			}
		case 14: // if_tsoffset
			if len(value) >= 8 {
				intf.offset = int64(r.u64(value))
			}
		}
	}
	r.ifaces = append(r.ifaces, intf)
	return r.discard(length)
}

// statisticsBlock reads an Interface Statistics Block: of its counters,
// which are totals since the capture began, the packets dropped by the
// interface (isb_ifdrop; dumpcap puts libpcap's kernel drops there) and
// by the operating system (isb_osdrop). A block that does not fit in the
// buffer, or names no interface described, is skipped.
func (r *ngReader) statisticsBlock(length uint32) error {
	if length < 24 || int(length) > r.br.Size() {
		return r.discard(length)
	}
	b, err := r.block(length)
	if err != nil {
		return err
	}
	if id := r.u32(b[8:]); id < uint32(len(r.ifaces)) {
		var dropped uint64
		for code, value := range r.options(b[20 : length-4]) {
			if (code == 5 || code == 7) && len(value) >= 8 {
				dropped += r.u64(value)
			}
		}
		r.ifaces[id].dropped = dropped
	}
	return r.discard(length)
}

// droppedSoFar is the number of packets the capturing tool recorded as
// dropped, in the statistics read so far.
func (r *ngReader) droppedSoFar() uint64 {
	n := r.dropped
	for _, i := range r.ifaces {
		n += i.dropped
	}
	return n
}

// options yields the code and value of each option in b, the options of
// a block, up to opt_endofopt or the first that does not fit.
func (r *ngReader) options(b []byte) func(yield func(uint16, []byte) bool) {
	return func(yield func(uint16, []byte) bool) {
		for len(b) >= 4 {
			code, n := r.u16(b), int(r.u16(b[2:]))
			if code == 0 || 4+n > len(b) {
				return
			}
			if !yield(code, b[4:4+n]) {
				return
			}
			b = b[min(len(b), 4+(n+3)&^3):]
		}
	}
}

// packet reads an Enhanced, Simple or (obsolete) Packet Block. A block
// that fits in the buffer is peeked at once, whole: this runs for every
// frame.
func (r *ngReader) packet(typ, length uint32) (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, err error) {
	fixed := uint32(28) // through the original length
	if typ == ngBlockSimplePacket {
		fixed = 12
	}
	if length < fixed+4 {
		return nil, ci, 0, fmt.Errorf("packet block at offset %d: total length %d is under %d", r.at(), length, fixed+4)
	}
	fits := int(length) <= r.br.Size()
	peek := fixed
	if fits {
		peek = length
	}
	b, err := r.br.Peek(int(peek))
	if len(b) < int(fixed) {
		if endsEarly(err) {
			return nil, ci, 0, r.cut(len(b))
		}
		return nil, ci, 0, err
	}
	var intf *ngInterface
	var captured uint32
	switch typ {
	case ngBlockEnhancedPacket, ngBlockPacket:
		id := r.u32(b[8:])
		if typ == ngBlockPacket {
			id = uint32(r.u16(b[8:]))
		}
		if id >= uint32(len(r.ifaces)) {
			return nil, ci, 0, fmt.Errorf("packet block at offset %d: interface %d is not described (the section has %d)", r.at(), id, len(r.ifaces))
		}
		intf = &r.ifaces[id]
		ci.InterfaceIndex = int(id)
		ci.Timestamp = intf.time(uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:])))
		captured = r.u32(b[20:])
		ci.Length = int(r.u32(b[24:]))
	case ngBlockSimplePacket:
		if len(r.ifaces) == 0 {
			return nil, ci, 0, fmt.Errorf("simple packet block at offset %d: no interface is described", r.at())
		}
		intf = &r.ifaces[0]
		ci.Length = int(r.u32(b[8:]))
		captured = uint32(ci.Length)
		if intf.snapLen != 0 {
			captured = min(captured, intf.snapLen)
		}
	}
	switch {
	case captured > maxRecordLen:
		return nil, ci, 0, fmt.Errorf("the packet block at offset %d claims a capture length of %d, over the largest record read, %d bytes (as libpcap and Wireshark)", r.at(), captured, maxRecordLen)
	case captured > length-fixed-4:
		return nil, ci, 0, fmt.Errorf("the packet block at offset %d claims a capture length of %d, but its %d bytes hold at most %d", r.at(), captured, length, length-fixed-4)
	}
	ci.CaptureLength = int(captured)
	end := fixed + captured
	if fits {
		if len(b) < int(length) {
			if endsEarly(err) {
				return nil, ci, 0, r.cut(len(b))
			}
			return nil, ci, 0, err
		}
		r.br.Discard(int(length))
		return b[fixed:end:end], ci, intf.linkType, nil
	}
	// Larger than the buffer (options beyond the frame): read the frame
	// into a buffer of its own, skip the rest.
	r.br.Discard(int(fixed))
	if cap(r.big) < int(captured) || r.br.lent {
		// A frame read into a block must outlive the next read.
		r.big = make([]byte, captured)
	}
	data = r.big[:captured]
	if n, err := io.ReadFull(r.br, data); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ci, 0, r.cut(int(fixed) + n)
		}
		return nil, ci, 0, err
	}
	if err := r.discard(length - end); err != nil {
		return nil, ci, 0, err
	}
	return data, ci, intf.linkType, nil
}

// secretsBlock reads a Decryption Secrets Block: secrets type, secrets
// length, the secrets, padding, options and the trailing length.
func (r *ngReader) secretsBlock(length uint32) error {
	at := r.at()
	if length > maxSecretsBlock {
		r.skipped = append(r.skipped, fmt.Sprintf("a Decryption Secrets Block of %d bytes at offset %d is over the %d MiB limit, skipped", length, at, maxSecretsBlock>>20))
		return r.discard(length)
	}
	var b []byte
	if int(length) <= r.br.Size() {
		var err error
		if b, err = r.block(length); err != nil {
			return err
		}
		defer r.br.Discard(int(length))
	} else {
		b = make([]byte, length)
		if n, err := io.ReadFull(r.br, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return r.cut(n)
			}
			return err
		}
	}
	if length < 20 {
		r.skipped = append(r.skipped, fmt.Sprintf("a Decryption Secrets Block at offset %d is too short", at))
		return nil
	}
	typ, n := r.u32(b[8:]), r.u32(b[12:])
	if n > length-20 {
		r.skipped = append(r.skipped, fmt.Sprintf("a Decryption Secrets Block at offset %d claims %d bytes of secrets but holds %d", at, n, length-20))
		return nil
	}
	ds := DecryptionSecrets{Type: typ, Data: slices.Clone(b[16 : 16+n]), Offset: at}
	if r.deliver != nil {
		r.deliver(ds)
		return nil
	}
	if r.held+len(ds.Data) > maxPendingSecrets {
		r.skipped = append(r.skipped, fmt.Sprintf("the Decryption Secrets Block at offset %d is beyond the %d MiB held before reading began, skipped", at, maxPendingSecrets>>20))
		return nil
	}
	r.held += len(ds.Data)
	r.pending = append(r.pending, ds)
	return nil
}

// What a capture file says about its interfaces, asked of a File, a Set
// of files, or the source Run reads one through; live captures say
// nothing here.

// severalInterfaces reports whether src is a pcapng file that describes
// more than one interface so far: its frames' interfaces tell copies of a
// packet apart (copies.go).
func severalInterfaces(src any) bool {
	s, ok := src.(interface{ severalInterfaces() bool })
	return ok && s.severalInterfaces()
}

// fileFacts is what the capture files read so far say of themselves,
// for Stats.
type fileFacts struct {
	drops  uint64 // packets the capturing tool dropped (pcapng statistics)
	joined int64  // pcap files joined to their ends (cat a.pcap b.pcap)
}

func (a fileFacts) add(b fileFacts) fileFacts {
	return fileFacts{drops: a.drops + b.drops, joined: a.joined + b.joined}
}

// factsOf returns what src's files say of themselves; nothing for a
// source that is not a file.
func factsOf(src any) fileFacts {
	s, ok := src.(interface{ fileFacts() fileFacts })
	if !ok {
		return fileFacts{}
	}
	return s.fileFacts()
}

// addFileFacts sets the counts of st that src's files give
// (Stats.RecordedDrops, Stats.JoinedFiles).
func (st *Stats) addFileFacts(src any) {
	ff := factsOf(src)
	st.RecordedDrops = int64(min(ff.drops, math.MaxInt64))
	st.JoinedFiles = ff.joined
}

func (f *File) fileFacts() fileFacts {
	var ff fileFacts
	if f.ng != nil {
		ff.drops = f.ng.droppedSoFar()
	}
	if f.pcap != nil {
		ff.joined = int64(f.pcap.joined)
	}
	return ff
}

func (s *Set) fileFacts() fileFacts { return s.done.add(s.cur.fileFacts()) }

func (u *unsplit) fileFacts() fileFacts { return factsOf(u.src) }

func (f *File) severalInterfaces() bool { return f.ng != nil && len(f.ng.ifaces) > 1 }

func (s *Set) severalInterfaces() bool { return s.cur.severalInterfaces() }

func (u *unsplit) severalInterfaces() bool { return severalInterfaces(u.src) }
