// Command soak runs `tlsdiag live` on loopback under a steady handshake load
// and samples its memory, to show that a long capture stays flat.
//
//	go build -o /tmp/tlsdiag ./cmd/tlsdiag
//	sudo go run ./internal/soak -tlsdiag /tmp/tlsdiag -duration 10m
//
// The load is bounded in rate, count and time, and goes only to servers it
// starts on 127.0.0.1.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

func main() {
	var (
		bin      = flag.String("tlsdiag", "tlsdiag", "the tlsdiag binary to run")
		duration = flag.Duration("duration", 10*time.Minute, "how long to run")
		rate     = flag.Int("rate", 50, "handshakes per second")
		maxConns = flag.Int("max", 100000, "stop the load after this many connections")
		every    = flag.Duration("sample", 10*time.Second, "RSS sampling interval")
	)
	flag.Parse()
	if err := soak(*bin, *duration, *rate, *maxConns, *every); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func soak(bin string, duration time.Duration, rate, maxConns int, every time.Duration) error {
	ok, err := tlslab.Start(tlslab.OK)
	if err != nil {
		return err
	}
	defer ok.Close()
	expired, err := tlslab.Start(tlslab.CertExpired)
	if err != nil {
		return err
	}
	defer expired.Close()
	filter := fmt.Sprintf("tcp port %d or tcp port %d", ok.Addr().Port(), expired.Addr().Port())
	cmd := exec.Command(bin, "live", "-i", "lo", "-f", filter, "--format", "ndjson", "--user", "")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	var reported atomic.Int64
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			reported.Add(1)
		}
	}()
	time.Sleep(time.Second)

	var made atomic.Int64
	stop := make(chan struct{})
	go load(ok, expired, rate, maxConns, &made, stop)
	// RSS is the sum of the other three: the Go heap and stacks are in
	// the anonymous part; the binary and the kernel's capture ring in the
	// file-backed one.
	fmt.Printf("%8s %12s %10s %8s %10s %10s %10s %10s\n", "elapsed", "connections", "reported", "threads", "RSS (KiB)", "anon", "file", "shmem")
	start := time.Now()
	for time.Since(start) < duration {
		time.Sleep(every)
		st := procStatus(cmd.Process.Pid)
		fmt.Printf("%8s %12d %10d %8s %10s %10s %10s %10s\n", time.Since(start).Round(time.Second), made.Load(), reported.Load(),
			st["Threads:"], st["VmRSS:"], st["RssAnon:"], st["RssFile:"], st["RssShmem:"])
	}
	close(stop)
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	fmt.Printf("made %d connections, tlsdiag reported %d, exit status %d\n", made.Load(), reported.Load(), cmd.ProcessState.ExitCode())
	if cmd.ProcessState.ExitCode() != 1 { // the expired-certificate connections failed
		return fmt.Errorf("tlsdiag exit status %d (%v): %s", cmd.ProcessState.ExitCode(), err, stderr.String())
	}
	return nil
}

// load makes rate handshakes a second, alternating a good request and one
// rejected for an expired certificate, until stop or maxConns.
func load(ok, expired *tlslab.Server, rate, maxConns int, made *atomic.Int64, stop chan struct{}) {
	client := func(maxVersion uint16) *http.Client {
		cfg := ok.Lab().ClientConfig()
		cfg.MaxVersion = maxVersion
		return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	}
	good, bad := client(tls.VersionTLS13), client(tls.VersionTLS12)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; i < maxConns; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		c, s := good, ok
		if i%2 == 1 {
			c, s = bad, expired
		}
		if resp, err := c.Get("https://" + s.Addr().String() + "/"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		made.Add(1)
	}
}

// procStatus returns the first value of each line of /proc/PID/status, by
// its label ("VmRSS:"); "?" for every one when it cannot be read.
func procStatus(pid int) map[string]string {
	st := map[string]string{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		for _, k := range []string{"Threads:", "VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"} {
			st[k] = "?"
		}
		return st
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			st[f[0]] = f[1]
		}
	}
	return st
}
