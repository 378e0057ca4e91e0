package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

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

// startInNetns starts a scenario with its sockets in network namespace ns.
func startInNetns(ns string, s tlslab.Scenario, opts ...tlslab.Option) (srv *tlslab.Server, err error) {
	err = tlslab.InNetns(ns, func() error {
		srv, err = tlslab.Start(s, opts...)
		return err
	})
	return srv, err
}
