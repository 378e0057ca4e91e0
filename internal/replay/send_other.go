//go:build !linux

package replay

import (
	"context"
	"errors"
)

var errNotLinux = errors.New("replay: sending needs Linux's AF_PACKET sockets")

// Send is only available on Linux.
func Send(ctx context.Context, fr *Frames, opt Options) (Result, error) { return Result{}, errNotLinux }

// ReadCounters is only available on Linux.
func ReadCounters(iface string) (Counters, error) { return Counters{}, errNotLinux }
