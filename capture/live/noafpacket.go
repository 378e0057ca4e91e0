//go:build !linux

package live

import "errors"

// haveAFPacket: AF_PACKET sockets are Linux's.
const haveAFPacket = false

func openAFPacket(Config) (source, error) {
	return nil, errors.New("live: AF_PACKET capture exists on Linux only")
}

func openFanout(Config) ([]source, error) {
	return nil, errors.New("live: fan-out over several sockets exists on Linux only")
}
