//go:build linux

package probe

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// mssSupported: the mss factor clamps with TCP_MAXSEG, which Linux honours
// when set before connecting.
const mssSupported = true

// withMSS adds to control a TCP_MAXSEG of mss bytes, set before the socket
// connects so that the SYN advertises it and no segment is larger; mss 0
// leaves control as it is.
func withMSS(control func(network, address string, c syscall.RawConn) error, mss int) func(network, address string, c syscall.RawConn) error {
	if mss <= 0 {
		return control
	}
	return func(network, address string, c syscall.RawConn) error {
		if control != nil {
			if err := control(network, address, c); err != nil {
				return err
			}
		}
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, mss)
		}); err != nil {
			return err
		}
		return serr
	}
}

// connMSS is the connection's current maximum segment size; 0 when the
// kernel does not say.
func connMSS(conn net.Conn) int {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return 0
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	mss := 0
	rc.Control(func(fd uintptr) {
		if v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG); err == nil {
			mss = v
		}
	})
	return mss
}
