package attribution

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv makes the test binary a short-lived program: it opens a TCP
// connection and sends a UDP datagram to the addresses it names, and exits
// (in a few milliseconds: too fast for sampling to see).
const childEnv = "TLSDIAG_ATTRIBUTION_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		tcp, udp, _ := strings.Cut(v, ",")
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			os.Exit(3)
		}
		c.Close()
		u, err := net.Dial("udp", udp)
		if err != nil {
			os.Exit(4)
		}
		u.Write([]byte("x"))
		u.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (a cgroup and netfilter rules); CI runs as root")
	}
}

// TestCgroupShortLived runs a Go program and curl that connect and exit at
// once, while this process connects to the same server all along: the
// tracker must find exactly the programs' flows, and leave no rule and no
// cgroup behind.
func TestCgroupShortLived(t *testing.T) {
	needRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var accepted []netip.AddrPort // the clients' ends, as the server sees them
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c.RemoteAddr().(*net.TCPAddr).AddrPort())
			mu.Unlock()
			c.Close()
		}
	}()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	server := ln.Addr().(*net.TCPAddr).AddrPort()
	udpServer := pc.LocalAddr().(*net.UDPAddr).AddrPort()

	for _, program := range []string{"go", "curl"} {
		t.Run(program, func(t *testing.T) {
			mu.Lock()
			accepted = nil
			mu.Unlock()
			// Noise: this process's own connections to the same server.
			stop, noiseDone := make(chan struct{}), make(chan struct{})
			var noise []netip.AddrPort
			go func() {
				defer close(noiseDone)
				for {
					if c, err := net.Dial("tcp", server.String()); err == nil {
						noise = append(noise, c.LocalAddr().(*net.TCPAddr).AddrPort())
						c.Close()
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			}()
			time.Sleep(10 * time.Millisecond)
			tr := Start(Config{})
			defer tr.Close()
			if tr.Method() != Cgroup {
				t.Fatalf("method %s: %v", tr.Method(), tr.Fallback())
			}
			var cmd *exec.Cmd
			switch program {
			case "go":
				cmd = exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), childEnv+"="+server.String()+","+udpServer.String())
			case "curl":
				cmd = exec.Command("curl", "-s", "-m", "2", "http://"+server.String()+"/")
			}
			tr.Prepare(cmd)
			begin := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tr.Started(cmd.Process.Pid)
			cmd.Wait() // curl fails (the server answers nothing): not the point
			took := time.Since(begin)
			flows, notes, err := tr.Finish()
			close(stop)
			<-noiseDone
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s ran %v; flows %v; notes %q; %d noise connections", program, took, flows, notes, len(noise))
			mu.Lock()
			var mine []Flow
			for _, a := range accepted {
				if !slices.Contains(noise, a) {
					mine = append(mine, Flow{Proto: TCP, Local: a, Remote: server})
				}
			}
			mu.Unlock()
			if program == "go" {
				var b [16]byte
				pc.SetReadDeadline(time.Now().Add(time.Second))
				_, from, err := pc.ReadFrom(b[:])
				if err != nil {
					t.Fatal(err)
				}
				mine = append(mine, Flow{Proto: UDP, Local: from.(*net.UDPAddr).AddrPort(), Remote: udpServer})
			}
			sortFlows(mine)
			if len(mine) == 0 || !slices.Equal(flows, mine) {
				t.Errorf("flows %v, want the program's %v", flows, mine)
			}
			for _, f := range flows {
				// The noise is TCP: a UDP flow may share a local port with it.
				if f.Proto == TCP && slices.Contains(noise, f.Local) {
					t.Errorf("flow %v is this process's, not the program's", f)
				}
			}
			if len(noise) == 0 {
				t.Error("no other connection was made meanwhile: the test proves nothing")
			}
			checkCleaned(t)
		})
	}
}

// TestSamplingFallback: without the cgroup, a connection the program
// holds for a while (curl waiting 300 ms for an answer) is found by
// sampling /proc. Needs no root.
func TestSamplingFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond) // the program waits for an answer
			c.Close()
		}
	}()
	tr := Start(Config{Sampling: true})
	defer tr.Close()
	if tr.Method() != Sampling || tr.Fallback() == nil {
		t.Fatalf("method %s, fallback %v", tr.Method(), tr.Fallback())
	}
	cmd := exec.Command("curl", "-s", "-m", "1", "http://"+ln.Addr().String()+"/")
	tr.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr.Started(cmd.Process.Pid)
	cmd.Wait()
	flows, _, err := tr.Finish()
	if err != nil {
		t.Fatal(err)
	}
	server := ln.Addr().(*net.TCPAddr).AddrPort()
	if len(flows) != 1 || flows[0].Remote != server || flows[0].Proto != TCP {
		t.Errorf("flows %v, want one TCP flow to %s", flows, server)
	}
}

// checkCleaned fails when a chain or a cgroup of this process is left.
func checkCleaned(t *testing.T) {
	t.Helper()
	left, err := Leftovers(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestStaleRemoved: the chain and cgroup of a run that was killed before
// it could clean up (its process is gone) are removed by the next run.
func TestStaleRemoved(t *testing.T) {
	needRoot(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pid := dead.Process.Pid
	mount, own, err := ownCgroup()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s%d-1", cgroupPrefix, pid)
	dir := filepath.Join(mount.dir(own), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	chain := fmt.Sprintf("%s%d-1", chainPrefix, pid)
	script := fmt.Sprintf("*mangle\n:%[1]s - [0:0]\n-A %[1]s -p tcp --syn -j NFLOG --nflog-group 1\n-I POSTROUTING 1 -m cgroup --path %[2]s -j %[1]s\nCOMMIT\n",
		chain, strconv.Quote(filepath.Join(own, name)))
	for _, r := range []string{"iptables-restore", "ip6tables-restore"} {
		if err := runRestore(r, script); err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := Leftovers(pid); len(left) != 7 {
		t.Fatalf("made %q, want per family a chain, its rule and the jump, and a cgroup", left)
	}
	tr := Start(Config{})
	tr.Close()
	if left, err := Leftovers(pid); err != nil || len(left) > 0 {
		t.Errorf("left behind after the next run: %q (%v)", left, err)
	}
}
