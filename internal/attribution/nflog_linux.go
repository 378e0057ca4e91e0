package attribution

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// nfnetlink_log's protocol (linux/netfilter/nfnetlink_log.h).
const (
	nfnlSubsysULOG   = 4
	nfulnlMsgPacket  = 0
	nfulnlMsgConfig  = 1
	nfulaPayload     = 9
	nfulaPrefix      = 10
	nfulaCfgCmd      = 1
	nfulaCfgMode     = 2
	nfulaCfgNlbufsiz = 3
	nfulaCfgQthresh  = 5
	nfulnlCfgCmdBind = 1
	nfulnlCopyPacket = 2
	nlaTypeMask      = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// nflogCopy is how much of each logged packet the kernel copies: the IP
// and transport headers, with room for IPv6 extension headers.
const nflogCopy = 128

// nflogGroups are the NFLOG groups tried, from a start that depends on the
// pid, so that concurrent runs rarely try the same one first.
const (
	nflogGroupBase  = 0xA000
	nflogGroupRange = 0x1000
	nflogGroupTries = 64
)

// nflog receives the packets logged to an NFLOG group, keeping the flows
// of those carrying its prefix (another rule logging to the same group is
// not ours).
type nflog struct {
	file   *os.File
	group  uint16
	prefix string

	done  chan struct{}
	mu    sync.Mutex
	flows map[Flow]bool
	// lost counts the times the socket's buffer overflowed (flows may be
	// missing), foreign the packets with another prefix.
	lost, foreign int
}

// openNflog binds a free NFLOG group for packets marked with prefix.
func openNflog(prefix string) (*nflog, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("NFLOG socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("NFLOG socket: %w", err)
	}
	// Room for a burst of flows while the reader is not scheduled (as root
	// the limit of net.core.rmem_max does not apply).
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	start := nflogGroupBase + os.Getpid()%nflogGroupRange
	var bindErr error
	for i := 0; i < nflogGroupTries; i++ {
		group := uint16(nflogGroupBase + (start-nflogGroupBase+i)%nflogGroupRange)
		bindErr = nflogBind(fd, group)
		if bindErr == nil {
			if err := unix.SetNonblock(fd, true); err != nil {
				unix.Close(fd)
				return nil, fmt.Errorf("NFLOG socket: %w", err)
			}
			return &nflog{file: os.NewFile(uintptr(fd), "nflog"), group: group, prefix: prefix,
				done: make(chan struct{}), flows: map[Flow]bool{}}, nil
		}
		if !errors.Is(bindErr, unix.EBUSY) {
			break
		}
	}
	unix.Close(fd)
	return nil, fmt.Errorf("binding an NFLOG group: %w", bindErr)
}

// nflogBind binds group to the socket, copying the first nflogCopy bytes of
// each packet, one packet per message.
func nflogBind(fd int, group uint16) error {
	var mode [6]byte
	binary.BigEndian.PutUint32(mode[:4], nflogCopy)
	mode[4] = nfulnlCopyPacket
	// Each packet sent at once (the kernel's default is to gather 100, or
	// wait a second), in a small buffer.
	var qthresh, bufsiz [4]byte
	binary.BigEndian.PutUint32(qthresh[:], 1)
	binary.BigEndian.PutUint32(bufsiz[:], 1024)
	msg := nfnlMessage(nfulnlMsgConfig, unix.NLM_F_REQUEST|unix.NLM_F_ACK, group,
		nlAttr(nfulaCfgCmd, []byte{nfulnlCfgCmdBind}), nlAttr(nfulaCfgMode, mode[:]),
		nlAttr(nfulaCfgQthresh, qthresh[:]), nlAttr(nfulaCfgNlbufsiz, bufsiz[:]))
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_ERROR && len(m.Data) >= 4 {
				if errno := -int32(binary.NativeEndian.Uint32(m.Data[:4])); errno != 0 {
					return unix.Errno(errno)
				}
				return nil
			}
		}
	}
}

// nfnlMessage is one nfnetlink message of the ULOG subsystem for group.
func nfnlMessage(typ uint16, flags uint16, group uint16, attrs ...[]byte) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+4)
	binary.NativeEndian.PutUint16(b[4:], nfnlSubsysULOG<<8|typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	b[unix.NLMSG_HDRLEN] = unix.AF_UNSPEC
	b[unix.NLMSG_HDRLEN+1] = 0 // NFNETLINK_V0
	binary.BigEndian.PutUint16(b[unix.NLMSG_HDRLEN+2:], group)
	for _, a := range attrs {
		b = append(b, a...)
	}
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

// nlAttr is one netlink attribute, padded to four bytes.
func nlAttr(typ uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data)+3)
	binary.NativeEndian.PutUint16(b, uint16(4+len(data)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// read keeps the flows of the logged packets until the file's deadline.
func (l *nflog) read() {
	defer close(l.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := l.file.Read(buf)
		switch {
		case errors.Is(err, unix.ENOBUFS):
			l.mu.Lock()
			l.lost++
			l.mu.Unlock()
			continue
		case err != nil:
			return
		}
		l.take(buf[:n])
	}
}

// stop reads what the kernel has queued and returns the flows, sorted,
// with remarks on their completeness.
func (l *nflog) stop() ([]Flow, []string) {
	l.file.SetReadDeadline(time.Now())
	<-l.done
	// Every packet the program sent was logged when it was sent: what is
	// queued now is all there is.
	l.file.SetReadDeadline(time.Time{})
	if rc, err := l.file.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			buf := make([]byte, 64<<10)
			for {
				n, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
				if errors.Is(err, unix.ENOBUFS) {
					l.lost++
					continue
				}
				if err != nil || n == 0 {
					return
				}
				l.take(buf[:n])
			}
		})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Flow
	for f := range l.flows {
		out = append(out, f)
	}
	sortFlows(out)
	var notes []string
	if l.lost > 0 {
		notes = append(notes, fmt.Sprintf("the kernel's flow log overflowed %d time(s): some of the program's flows may be missing", l.lost))
	}
	return out, notes
}

func (l *nflog) close() { l.file.Close() }

// take files the flows of a datagram of NFLOG messages.
func (l *nflog) take(b []byte) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range msgs {
		if m.Header.Type != nfnlSubsysULOG<<8|nfulnlMsgPacket || len(m.Data) < 4 {
			continue
		}
		prefix, payload := nflogAttrs(m.Data[4:])
		if prefix != l.prefix {
			l.foreign++
			continue
		}
		if f, ok := parseFlow(payload); ok {
			l.flows[f] = true
		}
	}
}

// nflogAttrs finds a packet message's prefix and payload.
func nflogAttrs(b []byte) (prefix string, payload []byte) {
	for len(b) >= 4 {
		n := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask
		if n < 4 || n > len(b) {
			return
		}
		data := b[4:n]
		switch typ {
		case nfulaPayload:
			payload = data
		case nfulaPrefix:
			if i := indexNUL(data); i >= 0 {
				data = data[:i]
			}
			prefix = string(data)
		}
		n = (n + 3) &^ 3
		if n > len(b) {
			return
		}
		b = b[n:]
	}
	return
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// parseFlow reads the transport and both ends of an outgoing IPv4 or IPv6
// packet (a first fragment at least).
func parseFlow(p []byte) (Flow, bool) {
	var f Flow
	var proto byte
	var l4 []byte
	switch {
	case len(p) >= 20 && p[0]>>4 == 4:
		ihl := int(p[0]&0x0f) * 4
		if ihl < 20 || len(p) < ihl || binary.BigEndian.Uint16(p[6:])&0x1fff != 0 {
			return f, false
		}
		src, _ := netip.AddrFromSlice(p[12:16])
		dst, _ := netip.AddrFromSlice(p[16:20])
		f.Local, f.Remote = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		proto, l4 = p[9], p[ihl:]
	case len(p) >= 40 && p[0]>>4 == 6:
		src, _ := netip.AddrFromSlice(p[8:24])
		dst, _ := netip.AddrFromSlice(p[24:40])
		f.Local, f.Remote = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		proto, l4 = p[6], p[40:]
		for proto == 0 || proto == 43 || proto == 60 || proto == 44 {
			// Hop-by-hop, routing and destination options, fragment.
			if len(l4) < 8 {
				return f, false
			}
			n := (int(l4[1]) + 1) * 8
			if proto == 44 {
				if binary.BigEndian.Uint16(l4[2:])&0xfff8 != 0 {
					return f, false // not the first fragment
				}
				n = 8
			}
			if len(l4) < n {
				return f, false
			}
			proto, l4 = l4[0], l4[n:]
		}
	default:
		return f, false
	}
	if Proto(proto) != TCP && Proto(proto) != UDP || len(l4) < 4 {
		return f, false
	}
	f.Proto = Proto(proto)
	f.Local = netip.AddrPortFrom(f.Local.Addr().Unmap(), binary.BigEndian.Uint16(l4))
	f.Remote = netip.AddrPortFrom(f.Remote.Addr().Unmap(), binary.BigEndian.Uint16(l4[2:]))
	return f, true
}
