package tlslab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Delayer holds every packet an iptables NFQUEUE rule sends to its queue
// for a fixed time before letting it go: a link with a long round trip,
// for a kernel without the netem qdisc. It speaks the nfnetlink_queue
// protocol (linux/netfilter/nfnetlink_queue.h) on a netlink socket of
// the network namespace it was made in.
type Delayer struct {
	fd     int
	queue  uint16
	delay  time.Duration
	wg     sync.WaitGroup
	mu     sync.Mutex // serialises verdicts
	closed atomic.Bool
}

// nfnetlink_queue's message types, attributes and values.
const (
	nfnlSubsysQueue  = 3
	nfqnlMsgPacket   = 0
	nfqnlMsgVerdict  = 1
	nfqnlMsgConfig   = 2
	nfqaCfgCmd       = 1
	nfqaCfgParams    = 2
	nfqaPacketHdr    = 1
	nfqaVerdictHdr   = 2
	nfqnlCfgCmdBind  = 1
	nfqnlCopyMeta    = 1
	nfAccept         = 1
	netlinkNetfilter = 12
	nlmsgHeaderLen   = 16
	nfgenHeaderLen   = 4
	nlmsgError       = 2
	nlmFRequest      = 1
	nlmFAck          = 4
)

// NewDelayer binds queue in the calling thread's network namespace (run
// it inside InNetns) and starts delaying.
func NewDelayer(queue uint16, delay time.Duration) (*Delayer, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkNetfilter)
	if err != nil {
		return nil, fmt.Errorf("tlslab: netlink socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("tlslab: netlink bind: %w", err)
	}
	// A blocked read does not end when another thread closes the socket:
	// the loop wakes up to look whether it should stop.
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("tlslab: netlink timeout: %w", err)
	}
	d := &Delayer{fd: fd, queue: queue, delay: delay}
	bind := attr(nfqaCfgCmd, []byte{nfqnlCfgCmdBind, 0, 0, syscall.AF_INET})
	params := attr(nfqaCfgParams, []byte{0, 0, 0, 0, nfqnlCopyMeta})
	for _, a := range [][]byte{bind, params} {
		if err := d.request(nfqnlMsgConfig, syscall.AF_UNSPEC, a); err != nil {
			syscall.Close(fd)
			return nil, fmt.Errorf("tlslab: binding queue %d: %w", queue, err)
		}
	}
	d.wg.Add(1)
	go d.loop()
	return d, nil
}

// Close stops delaying; packets still held are dropped by the kernel.
func (d *Delayer) Close() {
	d.closed.Store(true)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	syscall.Close(d.fd)
}

func attr(typ uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data)+3)
	binary.NativeEndian.PutUint16(b[0:], uint16(4+len(data)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// message builds a netlink message of nfnetlink_queue's type typ.
func (d *Delayer) message(typ uint16, family uint8, flags uint16, attrs []byte) []byte {
	b := make([]byte, nlmsgHeaderLen+nfgenHeaderLen, nlmsgHeaderLen+nfgenHeaderLen+len(attrs))
	b = append(b, attrs...)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], nfnlSubsysQueue<<8|typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	b[16] = family
	binary.BigEndian.PutUint16(b[18:], d.queue)
	return b
}

// request sends a configuration message and waits for its
// acknowledgment.
func (d *Delayer) request(typ uint16, family uint8, attrs []byte) error {
	if err := syscall.Sendto(d.fd, d.message(typ, family, nlmFRequest|nlmFAck, attrs), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := syscall.Recvfrom(d.fd, buf, 0)
	if err != nil {
		return err
	}
	if n < nlmsgHeaderLen+4 || binary.NativeEndian.Uint16(buf[4:]) != nlmsgError {
		return errors.New("no acknowledgment")
	}
	if code := int32(binary.NativeEndian.Uint32(buf[16:])); code != 0 {
		return syscall.Errno(-code)
	}
	return nil
}

func (d *Delayer) loop() {
	defer d.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		if d.closed.Load() {
			return
		}
		n, _, err := syscall.Recvfrom(d.fd, buf, 0)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for b := buf[:n]; len(b) >= nlmsgHeaderLen; {
			l := int(binary.NativeEndian.Uint32(b))
			if l < nlmsgHeaderLen || l > len(b) {
				break
			}
			d.packet(b[:l])
			b = b[(l+3)&^3:]
		}
	}
}

// packet schedules the verdict on one queued packet.
func (d *Delayer) packet(m []byte) {
	if binary.NativeEndian.Uint16(m[4:])&0xff != nfqnlMsgPacket || len(m) < nlmsgHeaderLen+nfgenHeaderLen {
		return
	}
	for a := m[nlmsgHeaderLen+nfgenHeaderLen:]; len(a) >= 4; {
		l := int(binary.NativeEndian.Uint16(a))
		if l < 4 || l > len(a) {
			return
		}
		if binary.NativeEndian.Uint16(a[2:])&0x7fff == nfqaPacketHdr && l >= 8 {
			id := binary.BigEndian.Uint32(a[4:])
			time.AfterFunc(d.delay, func() { d.accept(id) })
			return
		}
		a = a[(l+3)&^3:]
	}
}

func (d *Delayer) accept(id uint32) {
	v := make([]byte, 8)
	binary.BigEndian.PutUint32(v[0:], nfAccept)
	binary.BigEndian.PutUint32(v[4:], id)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return
	}
	syscall.Sendto(d.fd, d.message(nfqnlMsgVerdict, syscall.AF_UNSPEC, nlmFRequest, attr(nfqaVerdictHdr, v)), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
}
