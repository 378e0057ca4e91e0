package capture

import (
	"errors"
	"io"
)

// fileBuffer is the buffer between a capture file and its reader (pcap or
// pcapng): bufio.Reader's Peek, Discard and Read, with one difference
// that lets RunSharded read frames straight into blocks. The buffer can
// be lent to a block (lend): the frames read then are slices of the
// block's memory, which nothing overwrites, and a Peek that would have to
// move the bytes not yet read to the buffer's start fails with
// errBlockFull instead. The block is full; those bytes move to the next
// block's buffer, lent in turn. The kernel copies each byte of the file
// once, into the block that holds its frame, and no one copies it again.
type fileBuffer struct {
	rd   io.Reader
	buf  []byte // len(buf) == cap(buf)
	r, w int    // buf[r:w] is buffered, not yet read
	err  error  // the error that ended reading rd
	// lent is set once buf is a block's: the bytes before r are frames
	// that stay valid until the block is done with.
	lent  bool
	carry []byte // between two blocks, the bytes not yet read
}

// errBlockFull is the Peek of a fileBuffer lent to a block that would need
// bytes beyond the block's buffer: the block is full. It never leaves the
// package.
var errBlockFull = errors.New("capture: block full")

// firstBufferSize is the size of a fileBuffer until its first bytes were
// read: the headers and the first frames, which RunSharded then finds in
// it when it lends it to a block, fit in the block. It grows to
// readBufferSize when read through.
const firstBufferSize = 64 << 10

// newFileBuffer returns a buffer reading rd.
func newFileBuffer(rd io.Reader) *fileBuffer {
	return &fileBuffer{rd: rd, buf: make([]byte, firstBufferSize)}
}

// Size is the largest Peek; ngReader reads larger blocks in parts. It is
// the same whether or not the buffer is lent, so that a file reads alike.
func (b *fileBuffer) Size() int { return readBufferSize }

// Buffered is the number of bytes read from rd and not yet from b.
func (b *fileBuffer) Buffered() int { return b.w - b.r }

// buffered returns the bytes read from rd and not yet from b, to read
// what they hold without a call per field; advance reads n of them.
func (b *fileBuffer) buffered() []byte { return b.buf[b.r:b.w] }
func (b *fileBuffer) advance(n int)    { b.r += n }

// Peek returns the next n bytes (n ≤ Size) without reading them. Fewer
// come back with the error that cut them short, or none with
// errBlockFull.
func (b *fileBuffer) Peek(n int) ([]byte, error) {
	for b.w-b.r < n && b.err == nil {
		if b.r+n > len(b.buf) {
			if b.lent && b.r > 0 {
				return nil, errBlockFull
			}
			b.makeRoom(n)
		}
		b.fill()
	}
	if b.w-b.r < n {
		return b.buf[b.r:b.w], b.err
	}
	return b.buf[b.r : b.r+n], nil
}

// makeRoom moves the bytes not yet read to the start of buf, or of a
// larger buffer if n bytes would not fit in it (a block's buffer smaller
// than the pcapng block to read).
func (b *fileBuffer) makeRoom(n int) {
	buf := b.buf
	switch {
	case !b.lent && len(buf) < readBufferSize:
		buf = make([]byte, max(n, readBufferSize))
	case n > len(buf):
		buf = make([]byte, n)
	}
	b.w = copy(buf, b.buf[b.r:b.w])
	b.buf, b.r = buf, 0
}

// fill reads once into the free space after w, which there must be.
func (b *fileBuffer) fill() {
	for range 100 { // as bufio: a reader that returns nothing gets 100 tries
		n, err := b.rd.Read(b.buf[b.w:])
		b.w += n
		if err != nil {
			b.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	b.err = io.ErrNoProgress
}

// empty makes a buffer that holds nothing read on from its start (a
// block's, after its frames), the first one grown to readBufferSize.
func (b *fileBuffer) empty() {
	if b.lent {
		return
	}
	if len(b.buf) < readBufferSize {
		b.buf = make([]byte, readBufferSize)
	}
	b.r, b.w = 0, 0
}

// Discard skips the next n bytes, reading on past what is buffered as
// needed, without moving it. It returns the number skipped, and the error
// that stopped it short of n.
func (b *fileBuffer) Discard(n int) (int, error) {
	done := 0
	for {
		k := min(n-done, b.w-b.r)
		b.r += k
		done += k
		if done == n {
			return n, nil
		}
		if b.err != nil {
			return done, b.err
		}
		// Nothing is buffered: read on into the free space, which in a
		// block is after its frames.
		b.empty()
		if b.w == len(b.buf) {
			m, err := io.CopyN(io.Discard, b.rd, int64(n-done))
			if err != nil {
				b.err = err
			}
			return done + int(m), err
		}
		b.fill()
	}
}

// Read reads what the buffer holds, filling it first when it is empty
// (a decompressor reads a compressed file through it a few KiB at a
// time), or straight from rd into a p at least as large as the free space
// (ngReader reads a block larger than Size so).
func (b *fileBuffer) Read(p []byte) (int, error) {
	if b.r == b.w {
		if b.err != nil {
			return 0, b.err
		}
		b.empty()
		if len(p) >= len(b.buf)-b.w {
			return b.rd.Read(p)
		}
		b.fill()
		if b.r == b.w {
			return 0, b.err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// lend makes buf, a block's buffer, the buffer, holding first the bytes
// not yet read, and keeps it so: frames read from now on stay valid in
// the block. When those bytes do not fit in buf, the buffer they are in
// is lent instead, for this block only: the block keeps buf, the size
// that keeps the blocks in flight within the caches.
func (b *fileBuffer) lend(buf []byte) {
	b.lent = true
	if b.w-b.r > cap(buf) {
		// They would not fit: the block takes the buffer they are in
		// instead, which is then no longer b's to reuse.
		b.carry = nil
		return
	}
	buf = buf[:cap(buf)]
	b.w = copy(buf, b.buf[b.r:b.w])
	b.buf, b.r = buf, 0
}

// reclaim takes the buffer back from the block it was lent to, before the
// block is handed on: the bytes not yet read move to memory of b's own,
// so that no one but those the block is handed to reads it any more.
func (b *fileBuffer) reclaim() {
	n := b.w - b.r
	if cap(b.carry) < n {
		b.carry = make([]byte, n)
	}
	copy(b.carry, b.buf[b.r:b.w])
	b.buf, b.r, b.w = b.carry[:n:n], 0, n
}
