package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// pcapReader reads classic pcap records (the format of
// https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/) straight out
// of the File's buffer: a frame is a slice of the buffer, valid until the
// next read (or, once the buffer is lent to a block, as long as the
// block), so the bytes are copied once, by the kernel. pcapgo's reader
// copies every frame twice more (through a bufio.Reader of its own, then
// into its packet buffer), which cost a quarter of the time of reading a
// capture of bulk data.
type pcapReader struct {
	br       *fileBuffer
	order    binary.ByteOrder
	nanos    bool
	linkType layers.LinkType
	// joined counts the file headers read after the first: pcap files
	// joined end to end (cat a.pcap b.pcap > c.pcap), whose records are
	// read on as one capture, each file with its own header's format.
	joined int
}

// Errors pcapReader returns, as pcapgo words them.
var errShortHeader = errors.New("truncated file header")

// newPcapReader reads the 24-byte file header.
func newPcapReader(br *fileBuffer) (*pcapReader, error) {
	h, err := br.Peek(pcapHeaderLen)
	if err != nil {
		if err == io.EOF || len(h) < pcapHeaderLen {
			return nil, fmt.Errorf("%w (%d bytes)", errShortHeader, len(h))
		}
		return nil, err
	}
	r := &pcapReader{br: br}
	if err := r.fileHeader(h); err != nil {
		return nil, err
	}
	br.Discard(pcapHeaderLen)
	return r, nil
}

// fileHeader reads a file header's byte order, timestamp resolution and
// link type.
func (r *pcapReader) fileHeader(h []byte) error {
	switch magic := binary.LittleEndian.Uint32(h); {
	case magic == magicPcapMicro:
		r.order, r.nanos = binary.LittleEndian, false
	case magic == magicPcapNano:
		r.order, r.nanos = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h) == magicPcapMicro:
		r.order, r.nanos = binary.BigEndian, false
	case binary.BigEndian.Uint32(h) == magicPcapNano:
		r.order, r.nanos = binary.BigEndian, true
	default:
		return fmt.Errorf("unknown magic %x", magic)
	}
	if v := r.order.Uint16(h[4:]); v != 2 {
		return fmt.Errorf("unknown major version %d", v)
	}
	if v := r.order.Uint16(h[6:]); v != 4 {
		return fmt.Errorf("unknown minor version %d", v)
	}
	r.linkType = layers.LinkType(r.order.Uint32(h[20:]))
	return nil
}

// joinedHeader reads the file header of a pcap file joined to the end of
// the one being read, if the record header h begins one: its magic and
// version, which no record begins with that is not a problem or empty
// (the record's lengths would be the header's time zone and
// significant figures, 0 as libpcap writes them). It returns
// errBlockFull when the block being filled ends before the header does.
func (r *pcapReader) joinedHeader(h []byte) (bool, error) {
	if !pcapMagic(h[:4]) {
		return false, nil
	}
	fh, err := r.br.Peek(pcapHeaderLen)
	if err == errBlockFull {
		return false, err
	}
	next := *r
	if len(fh) < pcapHeaderLen || next.fileHeader(fh) != nil {
		return false, nil
	}
	*r = next
	r.joined++
	r.br.Discard(pcapHeaderLen)
	return true, nil
}

// joinedFormats explains a pcap and a pcapng file joined end to end,
// which tlsdiag reads up to the second.
const joinedFormats = "a pcap and a pcapng file joined end to end (as cat joins them)? Read them as two files, or join them with mergecap -w joined.pcapng FILE..."

// maxRecordLen bounds a record's captured length, whatever snap length
// the file header claims: a record is read into memory whole, so a header
// that claimed 4 GB let a 230-byte file allocate 3.8 GB. It is libpcap's
// MAXIMUM_SNAPLEN and Wireshark's bound for the link types tlsdiag
// decodes, and tcpdump -s 0 captures no more.
const maxRecordLen = 262144

// truncatedError says how much of a record the file still held.
type truncatedError struct {
	header     bool // the record header itself was cut
	have, want int
}

func (e *truncatedError) Error() string {
	if e.header {
		return fmt.Sprintf("%v: %d of %d header bytes", ErrTruncatedRecord, e.have, e.want)
	}
	return fmt.Sprintf("%v: caplen %d, %d bytes left", ErrTruncatedRecord, e.want, e.have)
}

func (e *truncatedError) Unwrap() error { return ErrTruncatedRecord }

// endsEarly reports whether err, returned with fewer bytes than asked
// for, says that the file ends there: io.EOF, or the io.ErrUnexpectedEOF
// of a decompressor, for a compressed file cut short.
func endsEarly(err error) bool { return err == nil || err == io.EOF || err == io.ErrUnexpectedEOF }

// next returns the next record; data is valid until the next call. At the
// clean end of the file it returns io.EOF.
func (r *pcapReader) next() (data []byte, ci gopacket.CaptureInfo, err error) {
	for {
		var one [1]blockFrame
		if fr, _ := r.wholeRecords(one[:0], 1); len(fr) == 1 {
			return fr[0].data, fr[0].captureInfo(), nil
		}
		h, err := r.br.Peek(pcapRecordLen)
		if len(h) < pcapRecordLen {
			if len(h) == 0 && err == io.EOF {
				return nil, ci, io.EOF
			}
			if endsEarly(err) {
				return nil, ci, &truncatedError{header: true, have: len(h), want: pcapRecordLen}
			}
			return nil, ci, err
		}
		ci, err = r.header(h)
		if err != nil || ci.CaptureLength == 0 {
			joined, jerr := r.joinedHeader(h)
			if jerr != nil {
				return nil, ci, jerr
			}
			if joined {
				continue
			}
		}
		if err != nil && binary.LittleEndian.Uint32(h) == ngBlockSection {
			return nil, ci, fmt.Errorf("a pcapng section header where a record should be: %s", joinedFormats)
		}
		if err != nil {
			return nil, ci, err
		}
		n := pcapRecordLen + ci.CaptureLength // at most maxRecordLen + 16: it fits in the buffer
		rec, err := r.br.Peek(n)
		if len(rec) < n {
			if endsEarly(err) {
				return nil, ci, &truncatedError{have: len(rec) - pcapRecordLen, want: ci.CaptureLength}
			}
			return nil, ci, err
		}
		r.br.Discard(n)
		return rec[pcapRecordLen:n:n], ci, nil
	}
}

// wholeRecords appends to frames the records that follow in the buffer,
// until frames holds max or a record is not all in the buffer or its
// header is not good: most records, read out of the buffer at once, in a
// loop that costs a fraction of a call for each. The others next reads.
// It returns frames and the number of bytes read.
func (r *pcapReader) wholeRecords(frames []blockFrame, max int) ([]blockFrame, int) {
	b := r.br.buffered()
	off := 0
	for len(frames) < max && len(b)-off >= pcapRecordLen {
		ts, capLen, origLen := r.record(b[off:])
		end := off + pcapRecordLen + int(capLen)
		if capLen == 0 || capLen > maxRecordLen || end > len(b) { // (an empty record may be a joined file's header)
			break
		}
		frames = append(frames, blockFrame{data: b[off+pcapRecordLen : end : end], ts: ts, capLen: capLen, origLen: origLen, lt: r.linkType})
		off = end
	}
	r.br.advance(off)
	return frames, off
}

// record reads a record header's timestamp and lengths.
func (r *pcapReader) record(h []byte) (ts time.Time, capLen, origLen uint32) {
	h = h[:pcapRecordLen]
	var sec, frac uint32
	if r.order == binary.LittleEndian { // no calls through the interface: this runs for every frame
		sec, frac = binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[4:])
		capLen, origLen = binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:])
	} else {
		sec, frac = binary.BigEndian.Uint32(h), binary.BigEndian.Uint32(h[4:])
		capLen, origLen = binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	}
	if !r.nanos {
		frac *= 1000
	}
	return time.Unix(int64(sec), int64(frac)).UTC(), capLen, origLen
}

// header reads and checks a record header.
func (r *pcapReader) header(h []byte) (ci gopacket.CaptureInfo, err error) {
	ts, capLen, origLen := r.record(h)
	ci = gopacket.CaptureInfo{Timestamp: ts, CaptureLength: int(capLen), Length: int(origLen)}
	// A capture length over the original length (such as an original
	// length of 0) is a writer's mistake: the frame is read whole, as
	// libpcap, Wireshark and the pcapng reader read it, rather than
	// ending the read.
	if ci.CaptureLength > maxRecordLen {
		return ci, fmt.Errorf("capture length %d is over the largest record read, %d bytes (as libpcap and Wireshark)", ci.CaptureLength, maxRecordLen)
	}
	return ci, nil
}
