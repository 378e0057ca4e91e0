package replay

import "time"

// Options say where and how fast to send.
type Options struct {
	// Interface is the name of the interface to send on. It must be up,
	// and its MTU must carry the largest frame.
	Interface string
	// Rate is in bits per second of frames as the interface counters
	// count them (from the Ethernet header on, no preamble, no FCS); 0
	// sends as fast as the kernel takes the frames.
	Rate float64
	// Loops is how many times the capture is sent; 0 means once.
	Loops int
}

// Result is what Send handed to the kernel.
type Result struct {
	Frames int64
	Bytes  int64
	// Elapsed runs from the first frame handed over until the kernel
	// had released every frame (sent, or dropped by the interface).
	Elapsed time.Duration
	// Sends counts the system calls that handed frames over.
	Sends int64
}

// Mbps returns the rate in Mbit/s: bytes over Elapsed.
func (r Result) Mbps() float64 { return mbps(r.Bytes, r.Elapsed) }

func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) * 8 / d.Seconds() / 1e6
}

// Counters are an interface's transmit counters: the kernel's own count
// of what left (or failed to leave) through it.
type Counters struct {
	Packets, Bytes, Dropped int64
}

// Sub returns the counts from o to c.
func (c Counters) Sub(o Counters) Counters {
	return Counters{Packets: c.Packets - o.Packets, Bytes: c.Bytes - o.Bytes, Dropped: c.Dropped - o.Dropped}
}

// Mbps returns the rate in Mbit/s of c's bytes over d.
func (c Counters) Mbps(d time.Duration) float64 { return mbps(c.Bytes, d) }
