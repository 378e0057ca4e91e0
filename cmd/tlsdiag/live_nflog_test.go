package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/capture/live"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestLiveNFLOG captures a netfilter log group: iptables rules in the
// client's network namespace log its packets to and from the lab servers
// to NFLOG group 7, and tlsdiag live -i nflog:7 reports each connection
// with its verdict, as read does of the file it wrote. A build without
// libpcap, which cannot capture a log group, says so and how else to get
// the packets. Needs root, iproute2 and iptables (CI has them).
func TestLiveNFLOG(t *testing.T) {
	requireRoot(t)
	requireTools(t, "ip", "iptables")
	v, err := tlslab.NewVethPair(context.Background(), "tldnf", 1500)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	for _, rule := range [][]string{
		{"OUTPUT", "-d", v.ServerAddr},
		{"INPUT", "-s", v.ServerAddr},
	} {
		args := append([]string{"netns", "exec", v.ClientNS, "iptables", "-A", rule[0], "-p", "tcp", rule[1], rule[2]}, "-j", "NFLOG", "--nflog-group", "7")
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	servers, dir := startLabIn(t, v)
	const duration = 6 * time.Second
	written := dir + "/nflog.pcap"
	args := []string{"netns", "exec", v.ClientNS, os.Args[0], "live", "-i", "nflog:7", "--format", "ndjson",
		"--duration", duration.String(), "-w", written, "--user", "", "--cacert", dir + "/" + tlslab.CAFile}
	var tlsPorts []string
	for _, s := range servers {
		tlsPorts = append(tlsPorts, "--tls-port", fmt.Sprint(s.Addr().Port()))
	}
	cmd := exec.Command("ip", append(args, tlsPorts...)...)
	cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	if !strings.Contains(strings.Join(live.Backends(), " "), "libpcap") {
		cmd.Wait()
		want := "nflog:7 is a netfilter log group (iptables -j NFLOG), which libpcap captures and AF_PACKET does not: use a build with libpcap"
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("exit status %d, want 2 and %q in:\n%s", code, want, stderr.String())
		}
		return
	}
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on") })
	if want := "capturing on nflog:7 (libpcap"; !strings.Contains(stderr.String(), want) {
		t.Errorf("no %q in the start line:\n%s", want, stderr.String())
	}
	arrivals := readVerdicts(t, stdout)
	for i, s := range servers {
		requestFromNetns(t, v.ClientNS, s, liveCases[i])
	}
	got := map[string]verdictLine{}
	for l := range arrivals {
		got[l.server] = l
	}
	cmd.Wait()
	checkStreamed(t, servers, got, time.Now().Add(time.Hour), stderr.String())

	checkReadAgrees(t, servers, got, dir, written)
}
