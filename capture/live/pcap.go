//go:build cgo && (libpcap || !linux)

package live

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// havePcap: this build links libpcap.
const havePcap = true

func pcapVersion() string { return pcap.Version() }

// pcapSource is a libpcap handle.
type pcapSource struct {
	h  *pcap.Handle
	lt layers.LinkType
	// netlink: a netfilter log group, whose reads (made non-blocking
	// for the read timeout) fail with EAGAIN when no packet waits.
	netlink bool
}

func openPcap(cfg Config) (source, error) {
	ph, err := activate(cfg)
	if err != nil {
		return nil, openError(cfg.Interface, err)
	}
	if cfg.Interface == "any" {
		// Linux cooked v2 names the interface of each packet; libpcap
		// offers it for "any" since 1.10. Keep v1 if it does not.
		_ = ph.SetLinkType(layers.LinkTypeLinuxSLL2)
	}
	if cfg.Filter != "" {
		if err := ph.SetBPFFilter(cfg.Filter); err != nil {
			ph.Close()
			return nil, fmt.Errorf("live: filter %q: %w", cfg.Filter, err)
		}
	}
	return &pcapSource{h: ph, lt: ph.LinkType(), netlink: NetfilterLog(cfg.Interface)}, nil
}

func activate(cfg Config) (*pcap.Handle, error) {
	in, err := pcap.NewInactiveHandle(cfg.Interface)
	if err != nil {
		return nil, err
	}
	defer in.CleanUp()
	if err := in.SetSnapLen(cfg.Snaplen); err != nil {
		return nil, err
	}
	if err := in.SetPromisc(cfg.Promiscuous); err != nil {
		return nil, err
	}
	if err := in.SetTimeout(cfg.ReadTimeout); err != nil {
		return nil, err
	}
	if cfg.Immediate {
		if err := in.SetImmediateMode(true); err != nil {
			return nil, err
		}
	}
	if err := in.SetBufferSize(cfg.BufferSize); err != nil {
		return nil, err
	}
	return in.Activate()
}

func (s *pcapSource) read() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	switch {
	case errors.Is(err, pcap.NextErrorTimeoutExpired):
		return nil, ci, errTimeout
	case s.netlink && errors.Is(err, pcap.NextErrorReadError) && strings.Contains(s.h.Error().Error(), "temporarily unavailable"):
		return nil, ci, errTimeout // libpcap's "Can't receive packet: Resource temporarily unavailable"
	case err == io.EOF:
		return nil, ci, io.EOF
	}
	return data, ci, err
}

func (s *pcapSource) linkType() layers.LinkType { return s.lt }

func (s *pcapSource) nanoseconds() bool {
	return s.h.Resolution() == gopacket.TimestampResolutionNanosecond
}

func (s *pcapSource) stats() (Stats, error) {
	ps, err := s.h.Stats()
	if err != nil {
		return Stats{}, err
	}
	return Stats{Received: ps.PacketsReceived, DroppedByKernel: ps.PacketsDropped, DroppedByIface: ps.PacketsIfDropped}, nil
}

func (s *pcapSource) close() { s.h.Close() }

func (s *pcapSource) describe() string { return pcap.Version() + ", one handle" }

// compileWithLibpcap compiles a filter the built-in compiler does not
// know, for Ethernet frames.
func compileWithLibpcap(expr string, snaplen int) ([]bpf.RawInstruction, error) {
	ins, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, snaplen, expr)
	if err != nil {
		return nil, err
	}
	raw := make([]bpf.RawInstruction, len(ins))
	for i, in := range ins {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return raw, nil
}
