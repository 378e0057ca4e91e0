//go:build linux

package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Transmit ring geometry (TPACKET_V2; Documentation/networking/packet_mmap.rst).
const (
	// txDataOffset: where a frame's data begins in a TPACKET_V2
	// transmit slot, after the header (tpacket_parse_header in
	// net/packet/af_packet.c: tp_hdrlen - sizeof(struct sockaddr_ll) =
	// TPACKET_ALIGN(sizeof(struct tpacket2_hdr))).
	txDataOffset = 32
	txRingBytes  = 4 << 20
	// txBatch: the most frames handed over by one send. The kernel
	// sends them one after the other in that call; a smaller batch
	// only costs more calls.
	txBatch = 256
	// minSleep: shorter sleeps cost more than they wait; maxSleep: see
	// sleep.
	minSleep = 100 * time.Microsecond
	maxSleep = time.Millisecond
)

// Send sends the frames out of opt.Interface, opt.Loops times, paced to
// opt.Rate. It returns when the kernel has released every frame, or at
// the first error; ctx stops it between two batches.
func Send(ctx context.Context, fr *Frames, opt Options) (Result, error) {
	r, err := openRing(opt.Interface, fr.Largest())
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	var pace *bucket
	// wake: each sleep waits for this many bytes' worth (or the next
	// frame's, if larger), some 50 frames of a TLS capture: every
	// wake-up costs CPU that the receiver on the same machine needs.
	wake := 32 << 10
	if opt.Rate > 0 {
		pace = newBucket(opt.Rate, fr.Largest())
		wake = min(wake, int(pace.burst))
	}
	var res Result
	start := time.Now()
	finish := func(err error) (Result, error) {
		if err == nil {
			err = r.send()
		}
		if derr := r.drain(); err == nil {
			err = derr
		}
		res.Elapsed, res.Sends = time.Since(start), r.sends
		return res, err
	}
	for range max(opt.Loops, 1) {
		for i := range fr.Len() {
			f := fr.Frame(i)
			if pace != nil && !pace.take(len(f)) {
				if err := r.send(); err != nil {
					return finish(err)
				}
				if err := ctx.Err(); err != nil {
					return finish(err)
				}
				for pace.refill(time.Since(start)); !pace.take(len(f)); pace.refill(time.Since(start)) {
					sleep(min(max(pace.wait(max(len(f), wake)), minSleep), maxSleep))
				}
			}
			for !r.free() {
				if err := r.send(); err != nil {
					return finish(err)
				}
				if err := r.waitFree(); err != nil {
					return finish(err)
				}
			}
			r.put(f)
			res.Frames++
			res.Bytes += int64(len(f))
			if r.filled >= txBatch {
				if err := r.send(); err != nil {
					return finish(err)
				}
				if err := ctx.Err(); err != nil {
					return finish(err)
				}
			}
		}
	}
	return finish(nil)
}

// txRing is an AF_PACKET socket's transmit ring: slots the program fills
// and marks for sending, that the kernel sends at the next send(2) and
// marks free again when the interface is done with them.
type txRing struct {
	fd       int
	iface    string
	mem      []byte
	slotSize int
	slots    int
	next     int // the next slot to fill
	filled   int // slots filled since the last send
	sends    int64
}

func openRing(iface string, largest int) (*txRing, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("replay: %s is not up", iface)
	}
	// The kernel refuses a frame longer than the MTU, the Ethernet
	// header and one VLAN tag (tpacket_snd).
	if most := ifi.MTU + 14 + 4; largest > most {
		return nil, fmt.Errorf("replay: a frame of %d bytes is larger than %s takes (MTU %d: %d bytes with the Ethernet header and a VLAN tag)", largest, iface, ifi.MTU, most)
	}
	// Protocol 0: the socket sends and never receives.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("replay: AF_PACKET socket: %w", err)
	}
	r := &txRing{fd: fd, iface: iface}
	fail := func(what string, err error) (*txRing, error) {
		r.close()
		return nil, fmt.Errorf("replay: %s on %s: %w", what, iface, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return fail("TPACKET_V2", err)
	}
	// Straight to the driver: the qdisc's queue and lock are a cost per
	// frame that a replay does not need.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
		return fail("PACKET_QDISC_BYPASS", err)
	}
	// Frames in flight count against the send buffer: let the whole
	// ring be in flight (SO_SNDBUFFORCE passes net.core.wmem_max).
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, txRingBytes); err != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, txRingBytes)
	}
	r.slotSize = 2048
	for r.slotSize < largest+txDataOffset {
		r.slotSize *= 2
	}
	block := max(r.slotSize, 64<<10)
	blocks := max(txRingBytes/block, 2)
	r.slots = block / r.slotSize * blocks
	req := unix.TpacketReq{Block_size: uint32(block), Block_nr: uint32(blocks), Frame_size: uint32(r.slotSize), Frame_nr: uint32(r.slots)}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		return fail("PACKET_TX_RING", err)
	}
	if r.mem, err = unix.Mmap(fd, 0, block*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return fail("mapping the ring", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	return r, nil
}

func (r *txRing) header(i int) *unix.Tpacket2Hdr {
	return (*unix.Tpacket2Hdr)(unsafe.Pointer(&r.mem[i*r.slotSize]))
}

// free says whether the next slot is free to fill.
func (r *txRing) free() bool {
	return atomic.LoadUint32(&r.header(r.next).Status) == unix.TP_STATUS_AVAILABLE
}

// put fills the next slot with f and marks it for sending; the kernel
// reads the slot once it sees the mark, so the mark is written last.
func (r *txRing) put(f []byte) {
	h := r.header(r.next)
	h.Len = uint32(len(f))
	copy(r.mem[r.next*r.slotSize+txDataOffset:], f)
	atomic.StoreUint32(&h.Status, unix.TP_STATUS_SEND_REQUEST)
	if r.next++; r.next == r.slots {
		r.next = 0
	}
	r.filled++
}

// send hands the filled slots to the kernel, which sends them before the
// call returns.
func (r *txRing) send() error {
	if r.filled == 0 {
		return nil
	}
	for {
		err := unix.Sendto(r.fd, nil, unix.MSG_DONTWAIT, nil)
		switch {
		case err == nil:
			r.filled = 0
			r.sends++
			return nil
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.ENOBUFS):
			// The send buffer is full of frames in flight, or the
			// interface dropped one (its tx_dropped counts it): the
			// slots not sent yet are still marked; send them again.
			sleep(minSleep)
		default:
			return fmt.Errorf("replay: sending on %s: %w", r.iface, err)
		}
	}
}

// waitFree waits until the next slot is free, as the interface finishes
// with the frames in flight.
func (r *txRing) waitFree() error {
	for deadline := time.Now().Add(5 * time.Second); !r.free(); {
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(fds, 10); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("replay: waiting for the ring on %s: %w", r.iface, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replay: %s kept a frame for 5 s", r.iface)
		}
	}
	return nil
}

// drain waits until every slot is free: every frame has left.
func (r *txRing) drain() error {
	for i := range r.slots {
		for deadline := time.Now().Add(5 * time.Second); atomic.LoadUint32(&r.header(i).Status) != unix.TP_STATUS_AVAILABLE; sleep(minSleep) {
			if time.Now().After(deadline) {
				return fmt.Errorf("replay: %s kept a frame for 5 s", r.iface)
			}
		}
	}
	return nil
}

// sleep blocks the thread in nanosleep(2) for d, which wakes within about
// 100 µs. time.Sleep rounds a short wait up to a millisecond or more when
// the process has nothing else to run (the runtime then waits in
// epoll_pwait, whose timeout is in whole milliseconds): pacing would
// come in bursts of a millisecond's frames.
//
// The call is raw: the runtime does not hand the thread's P to another
// thread meanwhile, which for a sleep of this length costs more CPU than
// the sleep saves (a third of the sender's CPU at 500 Mbit/s on a 2-core
// VM). Holding the P delays a stop-the-world by at most the sleep, so d
// is kept to maxSleep.
func sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(min(d, maxSleep)))
	for {
		_, _, e := unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if e != unix.EINTR {
			return
		}
	}
}

func (r *txRing) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
	}
	unix.Close(r.fd)
}

// ReadCounters returns the transmit counters of iface in this network
// namespace (/sys/class/net/IFACE/statistics).
func ReadCounters(iface string) (Counters, error) {
	var c Counters
	for _, f := range []struct {
		name string
		v    *int64
	}{{"tx_packets", &c.Packets}, {"tx_bytes", &c.Bytes}, {"tx_dropped", &c.Dropped}} {
		b, err := os.ReadFile(filepath.Join("/sys/class/net", filepath.Base(iface), "statistics", f.name))
		if err != nil {
			return Counters{}, fmt.Errorf("replay: %w", err)
		}
		if *f.v, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return Counters{}, fmt.Errorf("replay: %s %s: %w", iface, f.name, err)
		}
	}
	return c, nil
}
