package tlslab

import (
	"errors"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// startFullBacklog listens with backlog 0 and puts one connection in the
// accept queue, never accepting it. Linux admits sk_max_ack_backlog+1
// connections to the queue and then drops every SYN (tcp_conn_request:
// "sk_acceptq_is_full … goto drop"), syncookies or not: clients see no
// answer at all, as from a firewall that drops.
func startFullBacklog(s *Server, addr string) error {
	ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	s.onClose(ln.Close)
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	// listen(2) on a listening socket only changes its backlog.
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), 0) }); err != nil {
		return err
	}
	if lerr != nil {
		return lerr
	}
	filler, err := net.DialTimeout("tcp", s.addr.String(), 2*time.Second)
	if err != nil {
		return err
	}
	s.onClose(filler.Close)
	// The filler's final ACK queues it; wait until the kernel says so. For a
	// listener, TCP_INFO reports the accept queue length in tcpi_unacked.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var queued uint32
		var ierr error
		if err := rc.Control(func(fd uintptr) {
			info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			if err != nil {
				ierr = err
				return
			}
			queued = info.Unacked
		}); err != nil {
			return err
		}
		if ierr != nil {
			return ierr
		}
		if queued >= 1 {
			return nil
		}
	}
	return errors.New("accept queue did not fill within 2s")
}
