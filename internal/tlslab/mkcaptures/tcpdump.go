package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// tcpdump is a running capture.
type tcpdump struct {
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	stderr strings.Builder
}

// startTcpdump captures filter on iface (in network namespace netns, if
// given) into file, and returns once tcpdump says it is listening.
//
// --immediate-mode matters: without it packets wait in the kernel's ring
// buffer for up to a second, and tcpdump stopped by SIGINT in that second
// writes none of them ("20 packets received by filter, 0 captured"). -Z root
// keeps tcpdump able to write into a root-owned directory.
func startTcpdump(ctx context.Context, netns, iface, file, filter string) (*tcpdump, error) {
	argv := []string{"tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-Z", "root", "-w", file, filter}
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	t := &tcpdump{cmd: exec.Command(argv[0], argv[1:]...), exited: make(chan struct{})}
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

func (t *tcpdump) output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.stderr.String())
}

// stop ends the capture as an operator would, with SIGINT, and waits for
// tcpdump to write its last packets and exit.
func (t *tcpdump) stop() error {
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
	if !strings.Contains(t.output(), "packets captured") {
		return fmt.Errorf("tcpdump did not finish cleanly: %s", t.output())
	}
	return nil
}
