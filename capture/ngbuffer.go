package capture

import (
	"errors"
	"io"
)

// ngBuffer is the buffer between a pcapng file and its ngReader:
// bufio.Reader's Peek, Discard and Read, with one difference that lets
// RunSharded read frames straight into blocks, as pcapFiller does for
// pcap. The buffer can be lent to a block (lend): the frames read then
// are slices of the block's memory, which nothing overwrites, and a Peek
// that would have to move the bytes not yet read to the buffer's start
// fails with errBlockFull instead. The block is full; those bytes move to
// the next block's buffer, lent in turn.
type ngBuffer struct {
	rd   io.Reader
	buf  []byte // len(buf) == cap(buf)
	r, w int    // buf[r:w] is buffered, not yet read
	err  error  // the error that ended reading rd
	// lent is set once buf is a block's: the bytes before r are frames
	// that stay valid until the block is done with.
	lent bool
}

// errBlockFull is the Peek of an ngBuffer lent to a block that would need
// bytes beyond the block's buffer: the block is full. It never leaves the
// package.
var errBlockFull = errors.New("capture: block full")

// newNgBuffer returns a buffer of readBufferSize bytes reading rd, holding
// first the bytes head, which came from rd before.
func newNgBuffer(rd io.Reader, head []byte) *ngBuffer {
	b := &ngBuffer{rd: rd, buf: make([]byte, max(readBufferSize, len(head)))}
	b.w = copy(b.buf, head)
	return b
}

// Size is the largest Peek; ngReader reads larger blocks in parts. It is
// the same whether or not the buffer is lent, so that a file reads alike.
func (b *ngBuffer) Size() int { return readBufferSize }

// Buffered is the number of bytes read from rd and not yet from b.
func (b *ngBuffer) Buffered() int { return b.w - b.r }

// Peek returns the next n bytes (n ≤ Size) without reading them. Fewer
// come back with the error that cut them short, or none with
// errBlockFull.
func (b *ngBuffer) Peek(n int) ([]byte, error) {
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

// makeRoom moves the bytes not yet read to the start of buf, a larger one
// if n of them would not fit (only a block's, whose frames hold on to
// the one they are in).
func (b *ngBuffer) makeRoom(n int) {
	buf := b.buf
	if n > len(buf) {
		buf = make([]byte, n)
	}
	b.w = copy(buf, b.buf[b.r:b.w])
	b.buf, b.r = buf, 0
}

// fill reads once into the free space after w, which there must be.
func (b *ngBuffer) fill() {
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

// Discard skips the next n bytes, reading on past what is buffered as
// needed, without moving it. It returns the number skipped, and the error
// that stopped it short of n.
func (b *ngBuffer) Discard(n int) (int, error) {
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
		if !b.lent {
			b.r, b.w = 0, 0
		}
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

// Read reads what the buffer holds, then straight from rd: ngReader reads
// a block larger than Size through it.
func (b *ngBuffer) Read(p []byte) (int, error) {
	if b.r == b.w {
		if b.err != nil {
			return 0, b.err
		}
		return b.rd.Read(p)
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// lend makes buf, a block's buffer, the buffer, holding first the bytes
// not yet read, and keeps it so: frames read from now on stay valid in
// the block. When those bytes do not fit in buf, a larger buffer takes
// its place: the block's is b.buf once it is full.
func (b *ngBuffer) lend(buf []byte) {
	buf = buf[:cap(buf)]
	if n := b.w - b.r; n > len(buf) {
		buf = make([]byte, max(n, blockSize))
	}
	// The block may be the one lent before: the bytes move down in it.
	b.w = copy(buf, b.buf[b.r:b.w])
	b.buf, b.r, b.lent = buf, 0, true
}
