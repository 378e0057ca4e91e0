package tlslab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tcpdump is a running capture by tcpdump, for the captures in testdata
// and the tests that capture real programs.
type Tcpdump struct {
	iface  string
	file   string
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	stderr strings.Builder
}

// StartTcpdump captures filter on iface (in network namespace netns, if
// given) into file, and returns once tcpdump says it is listening.
//
// --immediate-mode matters: without it packets wait in the kernel's ring
// buffer for up to a second, and tcpdump stopped by SIGINT in that second
// writes none of them ("20 packets received by filter, 0 captured"). -Z root
// keeps tcpdump able to write into a root-owned directory.
func StartTcpdump(ctx context.Context, netns, iface, file, filter string) (*Tcpdump, error) {
	argv := []string{"tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-Z", "root", "-w", file, filter}
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	t := &Tcpdump{iface: iface, file: file, cmd: exec.Command(argv[0], argv[1:]...), exited: make(chan struct{})}
	pipe, err := t.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := t.cmd.Start(); err != nil {
		return nil, err
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		once := sync.OnceFunc(func() { close(listening) })
		for sc.Scan() {
			t.mu.Lock()
			t.stderr.WriteString(sc.Text() + "\n")
			t.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				once()
			}
		}
		io.Copy(io.Discard, pipe)
		t.cmd.Wait()
		close(t.exited)
	}()
	select {
	case <-listening:
		return t, nil
	case <-t.exited:
		return nil, fmt.Errorf("tcpdump exited: %s", t.output())
	case <-time.After(10 * time.Second):
		t.cmd.Process.Kill()
		<-t.exited
		return nil, errors.New("tcpdump did not say it was listening within 10s")
	case <-ctx.Done():
		t.cmd.Process.Kill()
		<-t.exited
		return nil, ctx.Err()
	}
}

func (t *Tcpdump) output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.stderr.String())
}

// Stop ends the capture as an operator would, with SIGINT, once the file
// has stopped growing, and waits for tcpdump to exit.
//
// SIGINT makes tcpdump drop whatever it has not yet read from the kernel; on
// a busy machine that can be every packet. tcpdump's exit statistics tell:
// if fewer packets were captured than the filter received, Stop fails, so
// that the caller can try again. On lo the filter receives every packet
// twice (sent and received) and libpcap drops the sent copy in user space.
func (t *Tcpdump) Stop() error {
	// A second of quiet: on a machine busy with other tests tcpdump may
	// not run for some hundred milliseconds while the kernel holds
	// packets for it (a 300 ms quiet lost half a capture once).
	waitStable(t.file, time.Second, 8*time.Second)
	if err := t.cmd.Process.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("stop tcpdump: %w", err)
	}
	select {
	case <-t.exited:
	case <-time.After(10 * time.Second):
		t.cmd.Process.Kill()
		<-t.exited
		return errors.New("tcpdump did not stop within 10s of SIGINT")
	}
	out := t.output()
	captured, ok1 := statistic(out, "packets captured")
	received, ok2 := statistic(out, "packets received by filter")
	if !ok1 || !ok2 {
		return fmt.Errorf("tcpdump did not finish cleanly: %s", out)
	}
	copies := 1
	if t.iface == "lo" {
		copies = 2
	}
	if captured*copies < received {
		return fmt.Errorf("tcpdump captured %d of the %d packets its filter received", captured, received)
	}
	return nil
}

// statistic finds "N <what>" in tcpdump's exit statistics.
func statistic(out, what string) (int, bool) {
	for line := range strings.SplitSeq(out, "\n") {
		if n, ok := strings.CutSuffix(strings.TrimSpace(line), " "+what); ok {
			v, err := strconv.Atoi(n)
			return v, err == nil
		}
	}
	return 0, false
}

// waitStable returns once file's size has not changed for quiet, or after
// limit.
func waitStable(file string, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, since := int64(-1), time.Now()
	for time.Now().Before(deadline) {
		var size int64
		if fi, err := os.Stat(file); err == nil {
			size = fi.Size()
		}
		if size != last {
			last, since = size, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
