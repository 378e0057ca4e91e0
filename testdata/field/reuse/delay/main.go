// Command delay holds every packet that netfilter queues to it (iptables
// -j NFQUEUE --queue-num Q) for a fixed time, then lets it go: a constant
// one-way delay, as a WAN link adds, where the kernel's netem qdisc is
// not available. Packets leave in the order they came. It speaks the
// nfnetlink_queue protocol itself (linux/netfilter/nfnetlink_queue.h)
// and runs until killed. Part of testdata/field/reuse (see README.md).
//
//	delay -queue 1 -delay 150ms
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

const (
	nfnlSubsysQueue = 3
	msgPacket       = 0
	msgVerdict      = 1
	msgConfig       = 2
	cfgCmd          = 1
	cfgParams       = 2
	cmdBind         = 1
	copyMeta        = 1
	attrPacketHdr   = 1
	attrVerdictHdr  = 2
	nfAccept        = 1
)

func main() {
	var (
		queue = flag.Uint("queue", 1, "netfilter queue number")
		delay = flag.Duration("delay", 150*time.Millisecond, "how long to hold each packet")
	)
	flag.Parse()
	if err := run(uint16(*queue), *delay); err != nil {
		fmt.Fprintln(os.Stderr, "delay:", err)
		os.Exit(1)
	}
}

// msg builds one nfnetlink message of the queue subsystem.
func msg(typ uint16, flags uint16, queue uint16, attrs ...[]byte) []byte {
	b := make([]byte, 16, 64)
	binary.NativeEndian.PutUint16(b[4:], nfnlSubsysQueue<<8|typ)
	binary.NativeEndian.PutUint16(b[6:], syscall.NLM_F_REQUEST|flags)
	b = append(b, syscall.AF_UNSPEC, 0, byte(queue>>8), byte(queue)) // nfgenmsg, res_id big-endian
	for _, a := range attrs {
		b = append(b, a...)
	}
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	return b
}

// attr builds one netlink attribute, padded to 4 bytes.
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

func run(queue uint16, delay time.Duration) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, syscall.NETLINK_NETFILTER)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	to := &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}
	send := func(b []byte) error { return syscall.Sendto(fd, b, 0, to) }
	if err := send(msg(msgConfig, 0, queue, attr(cfgCmd, []byte{cmdBind, 0, 0, 0}))); err != nil {
		return fmt.Errorf("bind queue %d: %w", queue, err)
	}
	if err := send(msg(msgConfig, 0, queue, attr(cfgParams, []byte{0, 0, 0, 0, copyMeta}))); err != nil {
		return fmt.Errorf("copy mode: %w", err)
	}
	type held struct {
		id  uint32
		due time.Time
	}
	ch := make(chan held, 4096)
	errc := make(chan error, 1)
	go func() {
		for h := range ch {
			time.Sleep(time.Until(h.due))
			v := make([]byte, 8)
			binary.BigEndian.PutUint32(v[0:], nfAccept)
			binary.BigEndian.PutUint32(v[4:], h.id)
			if err := send(msg(msgVerdict, 0, queue, attr(attrVerdictHdr, v))); err != nil {
				errc <- fmt.Errorf("verdict: %w", err)
				return
			}
		}
	}()
	buf := make([]byte, 1<<16)
	for {
		select {
		case err := <-errc:
			return err
		default:
		}
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("parse: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type == syscall.NLMSG_ERROR {
				if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
					return fmt.Errorf("netlink error %d", -e)
				}
				continue
			}
			if m.Header.Type != nfnlSubsysQueue<<8|msgPacket || len(m.Data) < 4 {
				continue
			}
			for a := m.Data[4:]; len(a) >= 4; {
				l := int(binary.NativeEndian.Uint16(a))
				if l < 4 || l > len(a) {
					break
				}
				if binary.NativeEndian.Uint16(a[2:])&0x7fff == attrPacketHdr && l >= 8 {
					ch <- held{binary.BigEndian.Uint32(a[4:]), time.Now().Add(delay)}
				}
				a = a[min(len(a), (l+3)&^3):]
			}
		}
	}
}
