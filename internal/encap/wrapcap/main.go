// Command wrapcap wraps every frame of a pcap of Ethernet frames in an
// encapsulation (package encap), for tests and benchmarks:
//
//	go run ./internal/encap/wrapcap -encap vxlan [-outer6] in.pcap out.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

func main() {
	kind := flag.String("encap", "vxlan", "encapsulation: vxlan, vxlan-8472, geneve, gre-ip, gre-teb, erspan2, erspan3, mpls, pppoe, vlan9100, ipip, cmd, gre-cmd, macsec, radiotap, dot11, gtp, gtp-5g, tzsp")
	outer6 := flag.Bool("outer6", false, "an outer IPv6 header instead of IPv4")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: wrapcap -encap KIND [-outer6] IN.pcap OUT.pcap")
		os.Exit(2)
	}
	if err := run(encap.Kind(*kind), *outer6, flag.Arg(0), flag.Arg(1)); err != nil {
		fmt.Fprintln(os.Stderr, "wrapcap:", err)
		os.Exit(1)
	}
}

func run(kind encap.Kind, outer6 bool, in, out string) error {
	r, err := os.Open(in)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := (&encap.Wrapper{Kind: kind, Outer6: outer6}).Capture(bufio.NewReaderSize(r, 1<<20), w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
