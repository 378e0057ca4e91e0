package main

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/capture/filter"
)

// TestDefaultLiveFilter runs live's default filter, compiled by the
// built-in compiler as live's AF_PACKET capture compiles it, over every
// frame of captures of DNS over UDP and TCP, TLS on 443 over TCP and QUIC,
// and TLS on other ports: it keeps exactly the frames to or from port 443
// (TCP or UDP) and port 53, and ICMP, as the frames' own headers say.
func TestDefaultLiveFilter(t *testing.T) {
	prog, err := filter.Compile(defaultLiveFilter, filter.Ethernet, 262144)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]int{}
	for _, name := range []string{
		"../../testdata/captures/dns_failure_nxdomain.pcap",
		"../../testdata/captures/dns_failure_nxdomain_tcp.pcap",
		"../../testdata/public/arkime/curl-enabled-tls13.pcap",
		"../../testdata/public/ja4/latest.pcapng",
		"../../testdata/demo.pcap",
	} {
		f, err := capture.OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; ; n++ {
			data, _, err := f.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if lt := f.LinkType(); lt != layers.LinkTypeEthernet {
				t.Fatalf("%s frame %d: link type %v, want Ethernet", name, n, lt)
			}
			got, err := vm.Run(data)
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, n, err)
			}
			kind, want := wantedByDefault(data)
			if (got > 0) != want {
				t.Errorf("%s frame %d (%s): kept %v, want %v", name, n, kind, got > 0, want)
			}
			if got > 0 {
				kept[kind]++
			} else {
				kept["dropped"]++
			}
		}
		f.Close()
	}
	t.Logf("frames: %v", kept)
	for _, kind := range []string{"udp/53", "tcp/53", "tcp/443", "udp/443", "icmp", "dropped"} {
		if kept[kind] == 0 {
			t.Errorf("no frame was %s: the test proves nothing of it", kind)
		}
	}
}

// wantedByDefault says from a frame's own headers whether the default
// filter should keep it, and what it is.
func wantedByDefault(data []byte) (string, bool) {
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
	if p.Layer(layers.LayerTypeICMPv4) != nil || p.Layer(layers.LayerTypeICMPv6) != nil {
		return "icmp", true
	}
	var proto string
	var src, dst uint16
	switch l := p.TransportLayer().(type) {
	case *layers.TCP:
		proto, src, dst = "tcp", uint16(l.SrcPort), uint16(l.DstPort)
	case *layers.UDP:
		proto, src, dst = "udp", uint16(l.SrcPort), uint16(l.DstPort)
	default:
		return "other", false
	}
	for _, port := range []uint16{443, 53} {
		if src == port || dst == port {
			return fmt.Sprintf("%s/%d", proto, port), true
		}
	}
	return proto, false
}
