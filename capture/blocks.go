package capture

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// block is a run of whole frames in memory of its own, which stays valid
// until every shard is done with it: RunSharded's shards assemble frames
// long after the next ones were read.
type block struct {
	buf    []byte
	frames []blockFrame
	// segs are the segments of the frames, in frame order, and
	// shardSegs the indexes in segs of each shard's, or with one shard
	// nothing: it takes every segment. Decoding writes a
	// segment once, where it stays: one list per shard, appended to, was
	// a copy of every segment and lists grown for the busiest shard.
	segs      []shardSeg
	shardSegs [][]int32
	// tunnels holds the Tunnels of segs, which the decoder's next frame
	// would overwrite. Its capacity is the block's frames once it holds
	// one, so that it never moves while segs point into it.
	tunnels []Tunnel
	// now is the capture clock after the block's last frame, and last
	// that frame's number.
	now  int64
	last int64
	// clocks is the capture clock after each frame of frames, the first
	// of which is frame number first.
	clocks []int64
	first  int64
	refs   atomic.Int32 // shards still working on the block
}

// blockFrame is a frame of a block: its bytes and what decoding needs of
// its gopacket.CaptureInfo, in 64 bytes where the CaptureInfo alone took
// 72: the reading goroutine writes one for every frame and the decoding
// one reads it, each a cache line apart.
type blockFrame struct {
	data []byte
	ts   time.Time
	// capLen, origLen and ifIndex are the CaptureInfo's CaptureLength,
	// Length and InterfaceIndex, which every format stores in 32 bits.
	capLen, origLen, ifIndex uint32
	lt                       layers.LinkType
	several                  bool // read from a pcapng file describing several interfaces
}

func newBlockFrame(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, several bool) blockFrame {
	return blockFrame{data: data, ts: ci.Timestamp, capLen: uint32(ci.CaptureLength), origLen: uint32(ci.Length),
		ifIndex: uint32(ci.InterfaceIndex), lt: lt, several: several}
}

// captureInfo returns the frame's CaptureInfo.
func (fr *blockFrame) captureInfo() gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: fr.ts, CaptureLength: int(fr.capLen), Length: int(fr.origLen), InterfaceIndex: int(fr.ifIndex)}
}

// blockSize is the size of a block: a few hundred frames. The blocks in
// flight stay within the caches: 1 MiB blocks were slower.
const blockSize = 256 << 10

// maxBlockFrames bounds the frames of a block, whose blockFrames and
// decoded segments take 256 bytes each beside the frame's bytes: a block
// of the smallest frames (about 4,000 of 60 bytes) would otherwise hold
// 1 MiB of them. A block of frames of 256 bytes or more is full before this.
const maxBlockFrames = 1024

// filler fills blocks with frames. fill returns io.EOF at the end of the
// capture (the block may hold the last frames) and the Source's errors as
// ReadPacketData returns them.
type filler interface {
	fill(b *block) error
}

func fillerFor(src Source) filler {
	if f, ok := src.(*File); ok {
		return &fileFiller{f: f}
	}
	if s, ok := src.(*Set); ok {
		return &setFiller{s: s}
	}
	return &copyFiller{src: src}
}

// copyFiller copies the frames of any Source into blocks.
type copyFiller struct {
	src Source
	// pending was read but did not fit in the last block. (A value, not
	// a pointer: a pointer to the loop's frame put every frame on the
	// heap.)
	pending    blockFrame
	hasPending bool
}

func (c *copyFiller) fill(b *block) error {
	for len(b.frames) < maxBlockFrames {
		var fr blockFrame
		if c.hasPending {
			fr, c.hasPending = c.pending, false
		} else {
			data, ci, err := c.src.ReadPacketData()
			if err != nil {
				return err
			}
			fr = newBlockFrame(data, ci, c.src.LinkType(), severalInterfaces(c.src))
		}
		if len(b.buf)+len(fr.data) > cap(b.buf) {
			if len(b.frames) > 0 {
				// The frame stays valid: the Source is not read again
				// before the next fill.
				c.pending, c.hasPending = fr, true
				return nil
			}
			b.buf = make([]byte, 0, len(fr.data))
		}
		n := len(b.buf)
		b.buf = append(b.buf, fr.data...)
		fr.data = b.buf[n:len(b.buf):len(b.buf)]
		b.frames = append(b.frames, fr)
	}
	return nil
}

// fileFiller reads a File straight into blocks: the File's buffer is
// lent to each block in turn, so that frames are slices of the block,
// read from the file by the kernel and copied by no one.
type fileFiller struct{ f *File }

func (p *fileFiller) fill(b *block) error {
	f := p.f
	if f.err != nil {
		return io.EOF
	}
	buf := f.buf
	buf.lend(b.buf)
	defer buf.reclaim()
	for {
		// Most pcap records are read in place; anything else through
		// ReadPacketData.
		if b.frames = f.wholeRecords(b.frames, maxBlockFrames); len(b.frames) == maxBlockFrames {
			return nil
		}
		data, ci, err := f.ReadPacketData()
		switch {
		case err == errBlockFull:
			return nil
		case err != nil:
			return err
		}
		b.frames = append(b.frames, newBlockFrame(data, ci, f.linkType, f.severalInterfaces()))
	}
}
