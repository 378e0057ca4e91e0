//go:build !unix

package probe

import (
	"net/netip"
	"syscall"
)

// bindControl does nothing where the socket cannot be bound portably: the
// local port of a failed connection attempt is then unknown.
func bindControl(netip.Addr, *portRecorder) func(network, address string, c syscall.RawConn) error {
	return nil
}
