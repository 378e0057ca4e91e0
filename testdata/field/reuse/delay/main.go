// Command delay holds every packet that netfilter queues to it (iptables
// -j NFQUEUE --queue-num Q) for a fixed time, then lets it go: a constant
// one-way delay, as a WAN link adds, where the kernel's netem qdisc is
// not available. It runs tlslab's Delayer, the tests' own, in the network
// namespace it is started in, until it is killed. Part of
// testdata/field/reuse (see README.md).
//
//	delay -queue 1 -delay 150ms
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

func main() {
	var (
		queue = flag.Uint("queue", 1, "netfilter queue number")
		delay = flag.Duration("delay", 150*time.Millisecond, "how long to hold each packet")
	)
	flag.Parse()
	d, err := tlslab.NewDelayer(uint16(*queue), *delay)
	if err != nil {
		fmt.Fprintf(os.Stderr, "delay: %v\n", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	d.Close()
}
