package tlslab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// VethPair is two network namespaces, a client and a server host, joined by
// a veth pair: a small network of the test's own, for traffic that crosses a
// real link with a chosen MTU. Creating one needs root.
type VethPair struct {
	ClientNS, ServerNS       string // namespace names (ip netns)
	ClientIface, ServerIface string // the veth ends
	ClientAddr, ServerAddr   string // IPv4 addresses, existing only inside the namespaces
}

// NewVethPair creates the namespaces NAME-cli and NAME-srv joined by a veth
// pair with the given MTU, addressed 10.X.0.1 (server) and 10.X.0.2
// (client) for a subnet X in 200–249 derived from name. GSO is limited to
// one segment so captures show segments as they cross a real link, not
// 64 KB super-packets.
func NewVethPair(ctx context.Context, name string, mtu int) (*VethPair, error) {
	subnet := 200
	for _, c := range name {
		subnet = (subnet*31 + int(c)) % 50
	}
	subnet += 200
	v := &VethPair{
		ClientNS: name + "-cli", ServerNS: name + "-srv",
		ClientIface: name + "c", ServerIface: name + "s",
		ClientAddr: fmt.Sprintf("10.%d.0.2", subnet), ServerAddr: fmt.Sprintf("10.%d.0.1", subnet),
	}
	v.Close() // leftovers of an interrupted run
	m := fmt.Sprint(mtu)
	steps := [][]string{
		{"netns", "add", v.ServerNS},
		{"netns", "add", v.ClientNS},
		{"link", "add", v.ServerIface, "netns", v.ServerNS, "mtu", m, "gso_max_segs", "1",
			"type", "veth", "peer", "name", v.ClientIface, "netns", v.ClientNS, "mtu", m, "gso_max_segs", "1"},
		{"-n", v.ServerNS, "addr", "add", v.ServerAddr + "/24", "dev", v.ServerIface},
		{"-n", v.ClientNS, "addr", "add", v.ClientAddr + "/24", "dev", v.ClientIface},
		{"-n", v.ServerNS, "link", "set", "lo", "up"},
		{"-n", v.ClientNS, "link", "set", "lo", "up"},
		{"-n", v.ServerNS, "link", "set", v.ServerIface, "up"},
		{"-n", v.ClientNS, "link", "set", v.ClientIface, "up"},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, "ip", s...).CombinedOutput(); err != nil {
			v.Close()
			return nil, fmt.Errorf("tlslab: ip %s: %w: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return v, nil
}

// Close deletes both namespaces, and with them the veth pair.
func (v *VethPair) Close() {
	for _, ns := range []string{v.ServerNS, v.ClientNS} {
		exec.Command("ip", "netns", "delete", ns).Run()
	}
}

// InNetns runs f on a thread inside network namespace ns: sockets f creates
// (listeners, dials, capture handles) belong to ns and keep working from any
// thread afterwards.
func InNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		// If the thread cannot go back to its namespace it stays locked,
		// and the runtime ends it with this goroutine.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("tlslab: enter network namespace %s: %w", ns, err)
			return
		}
		err = f()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
