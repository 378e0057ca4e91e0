// Command replay sends a capture's frames out of a network interface at a
// given rate, for measuring a receiver (make bench-live):
//
//	replay -i veth0 -rate 2000 capture.pcap
//
// Results go to standard output, one line of key=value; everything else
// goes to standard error with a "replay:" prefix.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/replay"
)

const usage = `Usage: replay -i IFACE [-rate MBITS] [-loop N] FILE

Reads the capture FILE (Ethernet frames; pcap or pcapng, possibly
compressed) into memory, then sends its frames out of IFACE in capture
order through an AF_PACKET transmit ring, paced to -rate Mbit/s (frames
from the Ethernet header on, as the interface counters count them; 0: as
fast as the kernel takes them), -loop times. Needs root (CAP_NET_RAW).

Prints what was sent and what the interface's counters saw meanwhile:
    frames=N bytes=N seconds=S mbps=R if_packets=N if_bytes=N if_mbps=R if_dropped=N cpu_s=S

seconds runs from the first frame handed to the kernel until it released
the last; mbps is bytes over seconds, if_mbps the interface's count of
bytes over seconds. cpu_s is the process's CPU time meanwhile, which
includes the kernel's work of delivering each frame to whatever receives
it on the other end of a veth pair (done on the sending CPU).

Examples:
    replay -i tldba -rate 2000 testdata/bench/live.pcap
    ip netns exec a replay -i veth0 -rate 0 -loop 10 capture.pcap

Flags:`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "%s\n", usage); fs.PrintDefaults() }
	var (
		iface string
		rate  float64
		loops int
	)
	fs.StringVar(&iface, "i", "", "send on `interface` (required)")
	fs.Float64Var(&rate, "rate", 0, "`Mbit/s` of frames; 0: as fast as possible")
	fs.IntVar(&loops, "loop", 1, "send the capture `n` times")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	switch {
	case iface == "":
		fmt.Fprintln(stderr, "replay: -i is required")
		return 2
	case fs.NArg() != 1:
		fmt.Fprintln(stderr, "replay: one capture file is required")
		return 2
	case rate < 0 || loops < 1:
		fmt.Fprintln(stderr, "replay: -rate must be 0 or more and -loop 1 or more")
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	frames, err := replay.Load(fs.Arg(0), f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	before, err := replay.ReadCounters(iface)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	cpu0 := cpuTime()
	res, err := replay.Send(ctx, frames, replay.Options{Interface: iface, Rate: rate * 1e6, Loops: loops})
	cpu := cpuTime() - cpu0
	after, cerr := replay.ReadCounters(iface)
	if err == nil {
		err = cerr
	}
	d := after.Sub(before)
	fmt.Fprintf(stdout, "frames=%d bytes=%d seconds=%.3f mbps=%.1f if_packets=%d if_bytes=%d if_mbps=%.1f if_dropped=%d cpu_s=%.2f\n",
		res.Frames, res.Bytes, res.Elapsed.Seconds(), res.Mbps(), d.Packets, d.Bytes, d.Mbps(res.Elapsed), d.Dropped, cpu.Seconds())
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	return 0
}

// cpuTime returns the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
