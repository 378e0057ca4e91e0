package capture

import (
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Source yields link-layer frames in capture order. A *File and a live
// capture handle are Sources; so is a gopacket pcap.Handle.
type Source interface {
	// ReadPacketData returns the next frame. data is only valid until the
	// next call. At the end of the capture it returns io.EOF.
	ReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error)
	// LinkType returns the link type of the frame most recently returned
	// (a pcapng file may mix interfaces of different link types).
	LinkType() layers.LinkType
}

// ReadError says where a capture file is broken.
type ReadError struct {
	File   string // the name given to OpenFile or NewReader ("-" for stdin)
	Frame  int64  // the 1-based number of the frame that could not be read
	Offset int64  // the byte offset of its record (of the decompressed stream for gzip files)
	Err    error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("capture: %s: frame %d at offset %d: %v", e.File, e.Frame, e.Offset, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Errors a File wraps in a ReadError.
var (
	ErrTruncatedRecord = errors.New("truncated record")
)

// readBufferSize is the size of the buffer between the file and the pcap
// and pcapng readers, which read frames out of it (fileBuffer): zero-copy
// reads through a 1 MiB buffer measured ~5× faster than libpcap's own
// file reader on the same file.
const readBufferSize = 1 << 20

const (
	pcapHeaderLen  = 24
	pcapRecordLen  = 16
	magicPcapMicro = 0xa1b2c3d4
	magicPcapNano  = 0xa1b23c4d
)

// Format is the container format of a capture file.
type Format uint8

const (
	FormatPcap Format = iota + 1
	FormatPcapng
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapng:
		return "pcapng"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// File reads a pcap or pcapng capture, plain or gzip-compressed, from a
// file or a stream. The format is recognised by its magic number, never by
// the file name.
type File struct {
	name    string
	closers []io.Closer
	cr      *countingReader
	raw     *countingReader // the file's own bytes (compressed, for gzip)
	buf     *fileBuffer
	pcap    *pcapReader
	ng      *ngReader
	format  Format
	// compression is "gzip", "zstd" or "lz4" for a compressed file.
	compression string

	linkType layers.LinkType
	frames   int64     // frames returned so far
	start    time.Time // timestamp of the first
	offset   int64     // offset of the next record (pcap) or end of the last packet block (pcapng)
	err      error     // sticky error: reading stops at the first problem
}

// OpenFile opens a capture file. The path "-" means standard input, which
// need not be seekable (tcpdump -w - | tlsdiag read -).
func OpenFile(path string) (*File, error) {
	if path == "-" {
		return NewReader("-", os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	file, err := NewReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	file.closers = append(file.closers, f)
	return file, nil
}

// ClassicPcap reports whether the file at path begins as an uncompressed
// classic pcap file: one that records no capture filters, which a caller
// need not open a second time to look for them (NewReader reads the first
// 64 KiB at once).
func ClassicPcap(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return pcapMagic(magic[:])
}

// pcapMagic reports whether magic, a file's first four bytes, is a classic
// pcap file's, in either byte order, with micro- or nanosecond times.
func pcapMagic(magic []byte) bool {
	le, be := binary.LittleEndian.Uint32(magic), binary.BigEndian.Uint32(magic)
	return le == magicPcapMicro || be == magicPcapMicro || le == magicPcapNano || be == magicPcapNano
}

// NewReader reads a capture from r. name only labels errors. Closing the
// File does not close r.
func NewReader(name string, r io.Reader) (*File, error) {
	f := &File{name: name}
	f.cr = &countingReader{r: r}
	f.raw = f.cr
	f.buf = newFileBuffer(f.cr)
	magic, err := f.buf.Peek(6)
	if c := compressionOf(magic); c != "" {
		zr, closer, zerr := decompressor(c, f.buf)
		if zerr != nil {
			return nil, fmt.Errorf("capture: %s: %s: %w", name, c, zerr)
		}
		f.compression = c
		if closer != nil {
			f.closers = append(f.closers, closer)
		}
		// Count decompressed bytes: offsets in errors are offsets in the
		// pcap inside the compressed stream, as `zcat F | xxd` shows them.
		f.cr = &countingReader{r: zr}
		f.buf = newFileBuffer(f.cr)
		magic, err = f.buf.Peek(4)
	}
	if len(magic) > 4 {
		magic = magic[:4]
	}
	if len(magic) < 4 {
		switch {
		case f.compression != "" && (err == io.EOF || err == io.ErrUnexpectedEOF):
			// A decompressor that gives nothing of a stream cut short
			// (zstd decodes whole blocks) says EOF.
			return nil, fmt.Errorf("capture: %s: %s-compressed, but only %d bytes decompress: empty, or cut short", name, f.compression, len(magic))
		case len(magic) == 0 && err == io.EOF:
			return nil, fmt.Errorf("capture: %s: empty file", name)
		case err == nil || err == io.EOF:
			return nil, fmt.Errorf("capture: %s: not a pcap or pcapng file (only %d bytes)", name, len(magic))
		}
		return nil, fmt.Errorf("capture: %s: %w", name, f.gzipHint(err))
	}
	le, be := binary.LittleEndian.Uint32(magic), binary.BigEndian.Uint32(magic)
	switch {
	case pcapMagic(magic):
		f.format = FormatPcap
		if f.pcap, err = newPcapReader(f.buf); err != nil {
			return nil, fmt.Errorf("capture: %s: %s header: %w", f.name, f.format, err)
		}
		f.linkType = f.pcap.linkType
		f.offset = pcapHeaderLen
		if !linkTypeSupported(f.linkType) {
			return nil, fmt.Errorf("capture: %s: %w", name, unsupportedLinkType(f.linkType))
		}
	case le == ngBlockSection: // a pcapng file opens with a Section Header Block
		f.format = FormatPcapng
		if f.ng, err = newNgReader(f.buf, f.consumed); err != nil {
			return nil, f.openError(err)
		}
		f.offset = f.consumed()
	default:
		head, _ := f.buf.Peek(foreignPeek)
		if what := foreignFormat(name, head); what != "" {
			return nil, fmt.Errorf("capture: %s: %s", name, what)
		}
		return nil, fmt.Errorf("capture: %s: not a pcap or pcapng file (magic 0x%08x)", name, be)
	}
	return f, nil
}

func (f *File) openError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("truncated file header (%d bytes)", f.consumed())
	}
	return fmt.Errorf("capture: %s: %s header: %w", f.name, f.format, err)
}

// consumed is the number of (decompressed) bytes the readers have used.
func (f *File) consumed() int64 { return f.cr.n - int64(f.buf.Buffered()) }

// Name returns the name the File was opened with.
func (f *File) Name() string { return f.name }

// Format returns the container format.
func (f *File) Format() Format { return f.format }

// Gzipped reports whether the file was gzip-compressed.
func (f *File) Gzipped() bool { return f.compression == "gzip" }

// Compression returns "gzip", "zstd" or "lz4" for a compressed file, ""
// for a plain one.
func (f *File) Compression() string { return f.compression }

// LinkType returns the link type of the frame most recently returned (of
// the first interface before any frame was read).
func (f *File) LinkType() layers.LinkType { return f.linkType }

// Filters returns the capture filters a pcapng file records for its
// interfaces (the if_filter option, as dumpcap writes it), for the
// interfaces described so far (a pcapng reader learns an interface with
// its first frame); none for a pcap file.
func (f *File) Filters() []string {
	if f.ng == nil {
		return nil
	}
	return slices.Clone(f.ng.filters)
}

// Start returns the timestamp of the first frame, once it was read.
func (f *File) Start() time.Time { return f.start }

// Frames returns the number of frames read so far.
func (f *File) Frames() int64 { return f.frames }

// ReadPacketData returns the next frame; data is valid until the next call.
// Problems in the file come back as a *ReadError naming the frame and the
// byte offset. After an error, every later call returns io.EOF.
func (f *File) ReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error) {
	if f.err != nil {
		return nil, ci, io.EOF
	}
	if f.format == FormatPcap {
		data, ci, err = f.pcap.next()
		switch {
		case err == errBlockFull: // to fileFiller, which lends the next block
			return nil, ci, err
		case err != nil:
			return nil, ci, f.fail(f.pcapError(err))
		}
		f.linkType = f.pcap.linkType // (a joined file's may differ)
		f.offset = f.consumed()
	} else {
		var lt layers.LinkType
		data, ci, lt, err = f.ng.next()
		switch {
		case err == errBlockFull:
			return nil, ci, err
		case err != nil:
			return nil, ci, f.fail(f.ngError(err))
		}
		f.linkType = lt
		f.offset = f.consumed()
	}
	f.frames++ // (both readers give times in UTC, which keep no *Location: cheaper to copy and compare)
	if f.frames == 1 {
		f.start = ci.Timestamp
	}
	return data, ci, nil
}

// wholeRecords is ReadPacketData, into frames up to max of them, for the
// pcap records that follow in the buffer whole, without a problem; it
// stops at anything else, which ReadPacketData then reads. RunSharded's
// reader reads most pcap records so, in place, at a fraction of the cost.
func (f *File) wholeRecords(frames []blockFrame, max int) []blockFrame {
	if f.pcap == nil || f.err != nil {
		return frames
	}
	k := len(frames)
	frames, n := f.pcap.wholeRecords(frames, max)
	f.offset += int64(n)
	if f.frames == 0 && len(frames) > k {
		f.start = frames[k].ts
	}
	f.frames += int64(len(frames) - k)
	return frames
}

func (f *File) fail(err error) error {
	if err == io.EOF {
		f.err = io.EOF
		return io.EOF
	}
	f.err = err
	return err
}

func (f *File) readError(err error) *ReadError {
	return &ReadError{File: f.name, Frame: f.frames + 1, Offset: f.offset, Err: err}
}

// pcapError turns what the pcap reader returned into an error naming the
// record.
func (f *File) pcapError(err error) error {
	if err == io.EOF {
		return io.EOF // the file ends cleanly after the last record
	}
	return f.readError(f.gzipHint(err))
}

func (f *File) ngError(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	if errors.Is(err, ErrTruncatedRecord) {
		return f.readError(f.gzipHint(err))
	}
	return f.readError(fmt.Errorf("pcapng: %w", f.gzipHint(err)))
}

// gzipHint names the compression in an error of the decompressor, and in
// a record cut short because the decompressor found its stream cut short
// (io.ErrUnexpectedEOF), maybe after the last whole record.
func (f *File) gzipHint(err error) error {
	switch {
	case f.compression != "" && f.buf.err == io.ErrUnexpectedEOF && errors.Is(err, ErrTruncatedRecord):
		return fmt.Errorf("%s stream cut short: %w", f.compression, err)
	case f.compression == "gzip" && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, new(flate.CorruptInputError))),
		f.compression == "zstd" && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF),
		f.compression == "lz4" && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return fmt.Errorf("%s: %w", f.compression, err)
	}
	return err
}

// Close releases the file (not a reader given to NewReader).
func (f *File) Close() error {
	var first error
	for i := len(f.closers) - 1; i >= 0; i-- {
		if err := f.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	f.closers = nil
	return first
}

// countingReader counts the bytes read through it, so that the offset of a
// problem can be told without trusting lengths from the file.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil {
		c.progress(c.n)
	}
	return n, err
}

// Progress makes the File call fn, on the goroutine reading it, with the
// number of bytes of the file read so far (of the compressed file, when it
// is gzipped) whenever it reads more: about once per MiB, not per frame.
func (f *File) Progress(fn func(read int64)) { f.raw.progress = fn }
