// Package replay sends the frames of a capture out of a network
// interface at a chosen rate, looping the capture if asked, so that a
// receiver on the other end of a link can be measured rather than the
// sender: the frames are read into memory once and handed to the kernel
// through an AF_PACKET transmit ring, many frames per system call.
package replay

import (
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/capture"
)

// Frames are the frames of a capture, in capture order, in one buffer.
type Frames struct {
	buf     []byte
	end     []int // frame i is buf[end[i-1]:end[i]]
	largest int
}

// Load reads every frame of the capture in r (pcap or pcapng, possibly
// compressed). Only Ethernet captures can be sent as they are, and only
// whole frames: a frame cut by the capture's snap length is an error.
func Load(name string, r io.Reader) (*Frames, error) {
	f, err := capture.NewReader(name, r)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	fr := &Frames{}
	for {
		data, ci, err := f.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if lt := f.LinkType(); lt != layers.LinkTypeEthernet {
			return nil, fmt.Errorf("replay: %s: frame %d has link type %v; only Ethernet frames can be sent", name, len(fr.end)+1, lt)
		}
		if ci.CaptureLength < ci.Length {
			return nil, fmt.Errorf("replay: %s: frame %d was captured with %d of its %d bytes", name, len(fr.end)+1, ci.CaptureLength, ci.Length)
		}
		fr.buf = append(fr.buf, data...)
		fr.end = append(fr.end, len(fr.buf))
		fr.largest = max(fr.largest, len(data))
	}
	if len(fr.end) == 0 {
		return nil, fmt.Errorf("replay: %s: no frame to send", name)
	}
	return fr, nil
}

// Len returns the number of frames.
func (fr *Frames) Len() int { return len(fr.end) }

// Bytes returns the frames' total size.
func (fr *Frames) Bytes() int64 { return int64(len(fr.buf)) }

// Largest returns the size of the largest frame.
func (fr *Frames) Largest() int { return fr.largest }

// Frame returns frame i (from 0); the caller must not change it.
func (fr *Frames) Frame(i int) []byte {
	start := 0
	if i > 0 {
		start = fr.end[i-1]
	}
	return fr.buf[start:fr.end[i]:fr.end[i]]
}
