package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestReadKernelVXLAN reads what a capture on a Kubernetes node's own
// interface shows when Flannel or Cilium carries the pods' traffic: TLS
// inside the Linux kernel's VXLAN, to its default port 8472. Two network
// namespaces joined by a veth pair each get a VXLAN device (VNI 42,
// dstport 8472) with an overlay address; the live cases' servers listen
// on the server's overlay address, the client reaches them through the
// overlay, and tcpdump captures the veth underneath. read must find each
// connection by its overlay addresses, with the live case's verdict and
// the tunnel named with its VNI and outer addresses. Needs root and
// iproute2 (CI has both).
func TestReadKernelVXLAN(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"ip", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; CI installs it: %v", tool, err)
		}
	}
	ctx := context.Background()
	v, err := tlslab.NewVethPair(ctx, "tldvx", 1500)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	const serverOverlay, clientOverlay = "192.168.42.1", "192.168.42.2"
	for _, end := range []struct{ ns, iface, local, remote, overlay string }{
		{v.ServerNS, v.ServerIface, v.ServerAddr, v.ClientAddr, serverOverlay},
		{v.ClientNS, v.ClientIface, v.ClientAddr, v.ServerAddr, clientOverlay},
	} {
		for _, step := range [][]string{
			{"link", "add", "vx42", "type", "vxlan", "id", "42", "dstport", "8472", "local", end.local, "remote", end.remote, "dev", end.iface},
			{"addr", "add", end.overlay + "/24", "dev", "vx42"},
			{"link", "set", "vx42", "up"},
		} {
			if out, err := exec.Command("ip", append([]string{"-n", end.ns}, step...)...).CombinedOutput(); err != nil {
				t.Fatalf("ip -n %s %s: %v: %s", end.ns, strings.Join(step, " "), err, out)
			}
		}
	}
	var servers []*tlslab.Server
	for _, lc := range liveCases {
		err := tlslab.InNetns(v.ServerNS, func() error {
			s, err := tlslab.Start(lc.scenario, tlslab.WithAddr(serverOverlay+":0"))
			if err == nil {
				servers = append(servers, s)
				t.Cleanup(func() { s.Close() })
			}
			return err
		})
		if err != nil {
			t.Fatalf("start %s: %v", lc.scenario, err)
		}
	}
	dir := t.TempDir()
	if err := servers[0].Lab().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "underlay.pcap")
	td, err := tlslab.StartTcpdump(ctx, v.ClientNS, v.ClientIface, file, "udp port 8472")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range servers {
		requestFromNetns(t, v.ClientNS, s, liveCases[i])
	}
	if err := td.Stop(); err != nil {
		t.Fatal(err)
	}

	var out, stderr bytes.Buffer
	if status := run([]string{"read", "--format", "ndjson", "--cacert", filepath.Join(dir, tlslab.CAFile), file}, &out, &stderr); status != 1 {
		t.Errorf("exit status %d, want 1: %s", status, stderr.String())
	}
	type tunnel struct {
		Type  string
		VNI   *uint32
		Outer string
	}
	got := map[string]string{} // server: verdict, tunnel
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var c struct {
			Client, Server string
			Tunnel         *tunnel
			Verdict        struct{ Category string }
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil || c.Server == "" {
			continue // the summary line
		}
		if !strings.HasPrefix(c.Client, clientOverlay+":") {
			t.Errorf("connection %s → %s: not from the client's overlay address", c.Client, c.Server)
		}
		tun := "no tunnel"
		if c.Tunnel != nil && c.Tunnel.VNI != nil {
			tun = fmt.Sprintf("%s %s vni %d", c.Tunnel.Type, c.Tunnel.Outer, *c.Tunnel.VNI)
		}
		got[c.Server] = c.Verdict.Category + ", " + tun
	}
	wantTunnel := "vxlan " + v.ClientAddr + " → " + v.ServerAddr + " vni 42"
	for i, s := range servers {
		want := liveCases[i].want + ", " + wantTunnel
		if g := got[s.Addr().String()]; g != want {
			t.Errorf("%s (%s): %q, want %q", s.Addr(), liveCases[i].scenario, g, want)
		}
	}
	if len(got) != len(servers) {
		t.Errorf("%d connections, want %d: %v", len(got), len(servers), got)
	}
}
