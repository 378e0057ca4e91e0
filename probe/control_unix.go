//go:build unix

package probe

import (
	"net/netip"
	"syscall"
)

// bindControl binds the socket, before it connects, to the source address
// the kernel would pick for dst and an ephemeral port, and records the
// port: a refused or unanswered connection has no net.Conn to ask, yet its
// SYNs in the capture must be told apart from other connections to the
// same server. Failing to bind is not an error: the kernel then picks as
// usual and only the port is unknown.
func bindControl(dst netip.Addr, rec *portRecorder) func(network, address string, c syscall.RawConn) error {
	src, ok := sourceFor(dst)
	if !ok {
		return nil
	}
	return func(_, _ string, c syscall.RawConn) error {
		c.Control(func(fd uintptr) {
			var sa syscall.Sockaddr
			if src.Is4() {
				sa = &syscall.SockaddrInet4{Addr: src.As4()}
			} else {
				sa = &syscall.SockaddrInet6{Addr: src.As16()}
			}
			if syscall.Bind(int(fd), sa) != nil {
				return
			}
			got, err := syscall.Getsockname(int(fd))
			if err != nil {
				return
			}
			switch a := got.(type) {
			case *syscall.SockaddrInet4:
				rec.set(src, uint16(a.Port))
			case *syscall.SockaddrInet6:
				rec.set(src, uint16(a.Port))
			}
		})
		return nil
	}
}
