package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// The namespaces and veth pair of the MTU 576 capture.
const (
	nsServer   = "tlslab-srv"
	nsClient   = "tlslab-cli"
	vethServer = "tlslab0"
	vethClient = "tlslab1"
)

// setupNetns creates two network namespaces joined by a veth pair with MTU
// 576, addressed nsServerAddr and nsClientAddr (the addresses exist only
// inside the namespaces). GSO is limited to one segment so that the capture
// shows segments as they would cross a real link, not 64 KB super-packets.
func setupNetns(ctx context.Context) (teardown func(), err error) {
	teardown = func() {
		for _, ns := range []string{nsServer, nsClient} {
			exec.Command("ip", "netns", "delete", ns).Run()
		}
	}
	teardown() // leftovers of an interrupted run
	steps := [][]string{
		{"netns", "add", nsServer},
		{"netns", "add", nsClient},
		{"link", "add", vethServer, "netns", nsServer, "mtu", "576", "gso_max_segs", "1",
			"type", "veth", "peer", "name", vethClient, "netns", nsClient, "mtu", "576", "gso_max_segs", "1"},
		{"-n", nsServer, "addr", "add", nsServerAddr + "/24", "dev", vethServer},
		{"-n", nsClient, "addr", "add", nsClientAddr + "/24", "dev", vethClient},
		{"-n", nsServer, "link", "set", "lo", "up"},
		{"-n", nsClient, "link", "set", "lo", "up"},
		{"-n", nsServer, "link", "set", vethServer, "up"},
		{"-n", nsClient, "link", "set", vethClient, "up"},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, "ip", s...).CombinedOutput(); err != nil {
			teardown()
			return nil, fmt.Errorf("ip %s: %w: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return teardown, nil
}

// startInNetns starts a scenario with its sockets in network namespace ns:
// a socket belongs to the namespace of the thread that creates it, so the
// goroutine locks its thread, enters ns, starts the server and returns.
func startInNetns(ns string, s tlslab.Scenario, opts ...tlslab.Option) (*tlslab.Server, error) {
	type result struct {
		srv *tlslab.Server
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// If the thread cannot go back to its namespace it stays locked,
		// and the runtime ends it with this goroutine.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("enter %s: %w", ns, err)}
			return
		}
		srv, err := tlslab.Start(s, opts...)
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{srv, err}
	}()
	r := <-ch
	return r.srv, r.err
}
