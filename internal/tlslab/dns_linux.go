package tlslab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// StartResolver runs dnsmasq in the router as the client's name server, on
// RouterAddr port 53, with no upstream servers, no /etc/hosts and no
// configuration file: it answers from options alone, e.g.
// "--address=/good.test/10.1.2.3" (an A record for the name and every
// name under it) or "--address=/missing.test/" (NXDOMAIN); it refuses
// every other name (REFUSED: it has no upstream to ask). Programs run in
// the client's namespace with `ip netns exec` use it: their
// /etc/resolv.conf is /etc/netns/CLIENTNS/resolv.conf, naming it (with
// glibc's use-vc option when overTCP: queries over TCP). The server
// stops, and the file goes, with Close.
func (p *RoutedPath) StartResolver(ctx context.Context, overTCP bool, options ...string) error {
	dir := filepath.Join("/etc/netns", p.ClientNS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tlslab: %w", err)
	}
	p.netnsEtc = dir
	// One attempt a second, twice: an unanswered lookup ends in seconds.
	conf := "nameserver " + p.RouterAddr + "\noptions timeout:1 attempts:2\n"
	if overTCP {
		conf += "options use-vc\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("tlslab: %w", err)
	}
	return p.dnsmasq(ctx, p.RouterAddr, p.ClientNS, options...)
}

// StartUpstream runs another dnsmasq in the router, on 127.0.0.1 port 53
// of the router's namespace: an upstream server for StartResolver's
// (--server=127.0.0.1), with the same defaults.
func (p *RoutedPath) StartUpstream(ctx context.Context, options ...string) error {
	return p.dnsmasq(ctx, "127.0.0.1", p.RouterNS, options...)
}

// dnsmasq runs dnsmasq in the router on addr, and waits until it answers
// from namespace from.
func (p *RoutedPath) dnsmasq(ctx context.Context, addr, from string, options ...string) error {
	argv := append([]string{"netns", "exec", p.RouterNS, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=" + addr,
		"--pid-file", "--user=root", "--log-facility=-"}, options...)
	if addr != "127.0.0.1" {
		argv = append(argv, "--except-interface=lo")
	}
	cmd := exec.Command("ip", argv...)
	out := new(lockedBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tlslab: dnsmasq: %w", err)
	}
	p.resolvers = append(p.resolvers, cmd)
	// Ready once it answers on TCP (it listens on both).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var c net.Conn
		err := InNetns(from, func() error {
			var err error
			c, err = (&net.Dialer{Timeout: 200 * time.Millisecond}).DialContext(ctx, "tcp", net.JoinHostPort(addr, "53"))
			return err
		})
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("tlslab: dnsmasq in %s does not answer on %s:53: %w: %s", p.RouterNS, addr, err, out.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer keeps what a process writes, for an error message: the
// process writes while the caller may read.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 4096 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(bytes.TrimSpace(l.b.Bytes()))
}
