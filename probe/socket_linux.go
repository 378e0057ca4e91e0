//go:build linux

package probe

import (
	"net"

	"golang.org/x/sys/unix"
)

// socketQueues returns the bytes of a TCP connection's send queue that
// the peer has not acknowledged, and the received bytes not yet read;
// ok is false when the kernel does not say.
func socketQueues(conn net.Conn) (unsent, unread int, ok bool) {
	tc, isTCP := conn.(*net.TCPConn)
	if !isTCP {
		return 0, 0, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var outErr, inErr error
	if err := rc.Control(func(fd uintptr) {
		unsent, outErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		unread, inErr = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	}); err != nil {
		return 0, 0, false
	}
	return unsent, unread, outErr == nil && inErr == nil
}
