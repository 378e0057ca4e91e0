package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestLiveAnyAcrossNAT runs live on "any" on a host that publishes a
// server behind a NAT, as Docker does: the client reaches the host's
// address, the host translates the destination to the server's (DNAT) and
// its own source address on the server's link (MASQUERADE), so that each
// connection crosses the host twice, under two pairs of addresses. Eight
// requests must read as eight connections, each ok, whose packets both
// sides of the NAT gave; with the default fan-out by flow (two cores, as
// CI has) the two pairs of a connection went to different sockets about
// half the time, and it read as two, one "no_tcp_answer" or
// "incomplete_capture" (all eight stay whole 1 time in 256). An explicit
// --fanout is kept, with a warning. Needs root, iproute2 and iptables.
func TestLiveAnyAcrossNAT(t *testing.T) {
	requireRoot(t)
	requireTools(t, "ip", "iptables")
	ctx := context.Background()
	// client <-> host (p1), host <-> server (p2): p2's client end moves
	// into the host's namespace.
	p1, err := tlslab.NewVethPair(ctx, "tldn1", 1500)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p1.Close)
	p2, err := tlslab.NewVethPair(ctx, "tldn2", 1500)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p2.Close)
	host, client := p1.ServerNS, p1.ClientNS
	server, hostAddr := p2.ServerAddr, p2.ClientAddr
	ipCmd := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ipCmd("-n", p2.ClientNS, "link", "set", p2.ClientIface, "netns", host)
	ipCmd("-n", host, "addr", "add", hostAddr+"/24", "dev", p2.ClientIface)
	ipCmd("-n", host, "link", "set", p2.ClientIface, "up")
	var s *tlslab.Server
	if err := tlslab.InNetns(p2.ServerNS, func() error {
		var err error
		s, err = tlslab.Start(tlslab.OK, tlslab.WithAddr(server+":0"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const published = 9443
	for _, c := range [][]string{
		{"sysctl", "-qw", "net.ipv4.ip_forward=1"},
		{"iptables", "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "-d", p1.ServerAddr, "--dport", fmt.Sprint(published), "-j", "DNAT", "--to-destination", s.Addr().String()},
		{"iptables", "-t", "nat", "-A", "POSTROUTING", "-o", p2.ClientIface, "-j", "MASQUERADE"},
	} {
		if out, err := exec.Command("ip", append([]string{"netns", "exec", host}, c...)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	filter := fmt.Sprintf("tcp port %d or tcp port %d", published, s.Addr().Port())

	var out bytes.Buffer
	errOut := new(syncBuffer)
	live := exec.Command("ip", "netns", "exec", host, os.Args[0], "live", "-i", "any", "-f", filter,
		"--format", "ndjson", "--duration", "6s", "--user", "")
	// Two cores' default fan-out, whatever the machine has.
	live.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1", "GOMAXPROCS=2")
	live.Stdout, live.Stderr = &out, errOut
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	waitFor(t, "live to start", func() bool { return strings.Contains(errOut.String(), "capturing on") })
	cfg := s.Lab().ClientConfig()
	url := fmt.Sprintf("https://%s:%d/", p1.ServerAddr, published)
	const requests = 8
	for range requests {
		if err := getFromNetns(client, cfg, url); err != nil {
			t.Fatalf("request through the NAT: %v", err)
		}
	}
	live.Wait()

	var conns []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var c struct {
			Client, Server string
			Verdict        struct{ Category string }
		}
		if json.Unmarshal(sc.Bytes(), &c) != nil || c.Server == "" {
			continue // the summary line
		}
		conns = append(conns, c.Client+" → "+c.Server+" "+c.Verdict.Category)
		if c.Verdict.Category != "ok" {
			t.Errorf("%s → %s: %s, want ok", c.Client, c.Server, c.Verdict.Category)
		}
	}
	if len(conns) != requests {
		t.Errorf("%d connections, want the %d made, each once:\n%s", len(conns), requests, strings.Join(conns, "\n"))
	}
	if !strings.Contains(errOut.String(), "(AF_PACKET TPACKET_V3, one socket)") || !strings.Contains(errOut.String(), "one socket: on any") {
		t.Errorf("live did not say it captures on any with one socket:\n%s", errOut.String())
	}

	explicit := exec.Command("ip", "netns", "exec", host, os.Args[0], "live", "-i", "any", "-f", filter,
		"--fanout", "2", "--format", "ndjson", "--duration", "1s", "--user", "")
	explicit.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
	combined, _ := explicit.CombinedOutput()
	if !strings.Contains(string(combined), "fan-out by flow over 2 sockets") || !strings.Contains(string(combined), "warning: on any with --fanout 2") {
		t.Errorf("--fanout 2 on any: no warning in:\n%s", combined)
	}
}
