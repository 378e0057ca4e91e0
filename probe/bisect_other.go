//go:build !linux

package probe

import (
	"net"
	"syscall"
)

// mssSupported: the mss factor is offered on Linux only.
const mssSupported = false

func withMSS(control func(network, address string, c syscall.RawConn) error, _ int) func(network, address string, c syscall.RawConn) error {
	return control
}

func connMSS(net.Conn) int { return 0 }
