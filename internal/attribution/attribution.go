// Package attribution finds the network flows a program and its children
// start: exactly, by running the program in a cgroup of its own and having
// the kernel log the first packet of each flow it sends (needs root), or
// approximately, by sampling the sockets of its process tree in /proc.
package attribution

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Proto is a flow's transport, as the IP header numbers it.
type Proto uint8

// The transports followed.
const (
	TCP Proto = 6
	UDP Proto = 17
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// Flow is one flow the program started: Local is its end, Remote the peer.
type Flow struct {
	Proto         Proto
	Local, Remote netip.AddrPort
}

func (f Flow) String() string { return fmt.Sprintf("%s %s -> %s", f.Proto, f.Local, f.Remote) }

// Method is how flows were attributed.
type Method string

// The methods.
const (
	// Cgroup: the program ran in a cgroup of its own; a netfilter rule
	// logged the first packet of every flow its sockets sent. Exact, also
	// for flows opened and closed in a millisecond.
	Cgroup Method = "cgroup"
	// Sampling: the TCP sockets of the program's process tree were read
	// from /proc every SampleEvery. A flow opened and closed between two
	// samples is missed; UDP flows are not followed.
	Sampling Method = "sampling"
)

// sortFlows orders flows by transport, then local, then remote end.
func sortFlows(fs []Flow) {
	slices.SortFunc(fs, func(a, b Flow) int {
		if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		if c := a.Local.Compare(b.Local); c != 0 {
			return c
		}
		return a.Remote.Compare(b.Remote)
	})
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// Owns reports whether a connection from client to server is one of flows
// (of either transport: a connection record names its ends, and a program
// rarely has a TCP and a UDP flow with the same four).
func Owns(flows []Flow, client, server netip.AddrPort) bool {
	client, server = unmap(client), unmap(server)
	for _, f := range flows {
		if f.Local == client && f.Remote == server {
			return true
		}
	}
	return false
}
