//go:build !linux

package probe

import "net"

// socketQueues is known on Linux only.
func socketQueues(net.Conn) (unsent, unread int, ok bool) { return 0, 0, false }
