// Package live opens a libpcap handle on a network interface as a capture
// source.
//
// A *Handle is a capture.Source: hand it to capture.Run. Stop (or the
// cancellation of the context given to Open) makes ReadPacketData return
// io.EOF within Config.ReadTimeout, so Run closes every connection and
// returns. Frames can be written to a pcap file as they are read, so that
// the frame numbers in a report are the frame numbers of that file.
package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"github.com/gopacket/gopacket/pcapgo"
)

// Defaults for Config fields left zero.
const (
	// DefaultSnaplen is libpcap's maximum: whole packets.
	DefaultSnaplen = 262144
	// DefaultReadTimeout bounds how long Stop takes to end a read.
	DefaultReadTimeout = 100 * time.Millisecond
	// DefaultBufferSize is the kernel ring for captured packets. In
	// immediate mode libpcap gives every packet a slot of the snap length,
	// so its own 2 MiB default holds just 8 packets of 256 KiB: a reader
	// that is late by a few loopback segments loses the rest.
	DefaultBufferSize = 32 << 20
)

// Config says what to capture.
type Config struct {
	// Interface is the interface to capture on; "any" means every
	// interface (Linux). Empty means DefaultInterface().
	Interface string
	// Filter is a BPF filter in tcpdump syntax, e.g. "tcp port 443".
	Filter string
	// Snaplen is the most bytes kept of each packet. Zero means
	// DefaultSnaplen. Bytes cut off become gaps in the TCP streams.
	Snaplen int
	// Promiscuous also captures traffic not addressed to this host.
	Promiscuous bool
	// Immediate delivers each packet as it arrives instead of in batches:
	// lower latency, more wake-ups.
	Immediate bool
	// ReadTimeout is how long a read waits before checking for Stop. Zero
	// means DefaultReadTimeout.
	ReadTimeout time.Duration
	// BufferSize is the kernel capture buffer in bytes. Zero means
	// DefaultBufferSize. A larger one drops fewer packets in bursts.
	BufferSize int
	// Output, if set, receives every frame read, as a pcap file (with
	// nanosecond timestamps when the interface provides them). Close
	// flushes it; it is not closed.
	Output io.Writer
}

// Stats are libpcap's counters for the handle.
type Stats struct {
	Received        int   // packets that passed the filter
	DroppedByKernel int   // dropped for lack of buffer space: the capture missed them
	DroppedByIface  int   // dropped by the interface or its driver
	Read            int64 // frames returned by ReadPacketData
}

// Handle is an open live capture.
type Handle struct {
	h        *pcap.Handle
	name     string
	linkType layers.LinkType
	timeout  time.Duration

	out  *bufio.Writer
	pw   *pcapgo.Writer
	read atomic.Int64

	stop      atomic.Bool
	stopCtx   func() bool
	closeOnce sync.Once
	mu        sync.Mutex // guards last and closed
	last      Stats
	closed    bool
}

// Open starts capturing. When ctx is cancelled, reads end as after Stop.
func Open(ctx context.Context, cfg Config) (*Handle, error) {
	if cfg.Interface == "" {
		name, err := DefaultInterface()
		if err != nil {
			return nil, err
		}
		cfg.Interface = name
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	ph, err := activate(cfg)
	if err != nil {
		return nil, openError(cfg.Interface, err)
	}
	h := &Handle{h: ph, name: cfg.Interface, timeout: cfg.ReadTimeout}
	if cfg.Interface == "any" {
		// Linux cooked v2 names the interface of each packet; libpcap
		// offers it for "any" since 1.10. Keep v1 if it does not.
		_ = ph.SetLinkType(layers.LinkTypeLinuxSLL2)
	}
	h.linkType = ph.LinkType()
	if cfg.Filter != "" {
		if err := ph.SetBPFFilter(cfg.Filter); err != nil {
			ph.Close()
			return nil, fmt.Errorf("live: filter %q: %w", cfg.Filter, err)
		}
	}
	if cfg.Output != nil {
		h.out = bufio.NewWriterSize(cfg.Output, 64<<10)
		if ph.Resolution() == gopacket.TimestampResolutionNanosecond {
			h.pw = pcapgo.NewWriterNanos(h.out)
		} else {
			h.pw = pcapgo.NewWriter(h.out)
		}
		if err := h.pw.WriteFileHeader(uint32(cfg.Snaplen), h.linkType); err != nil {
			ph.Close()
			return nil, fmt.Errorf("live: writing the capture file: %w", err)
		}
	}
	h.stopCtx = context.AfterFunc(ctx, h.Stop)
	return h, nil
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

// openError explains the usual reasons libpcap refuses an interface.
func openError(iface string, err error) error {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted"):
		return fmt.Errorf("live: capturing on %s needs root or CAP_NET_RAW (e.g. sudo setcap cap_net_raw,cap_net_admin=eip $(which tlsdiag)): %w", iface, err)
	case strings.Contains(msg, "no such device"):
		return fmt.Errorf("live: no interface named %q (ip link lists them): %w", iface, err)
	case strings.Contains(msg, "not up"):
		return fmt.Errorf("live: interface %s is down: %w", iface, err)
	}
	return fmt.Errorf("live: capturing on %s: %w", iface, err)
}

// Name returns the interface name.
func (h *Handle) Name() string { return h.name }

// LinkType returns the link type of the frames.
func (h *Handle) LinkType() layers.LinkType { return h.linkType }

// ReadPacketData returns the next frame; data is valid until the next call.
// After Stop, Close or the cancellation of Open's context it returns
// io.EOF (within Config.ReadTimeout of it).
func (h *Handle) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	for {
		if h.stop.Load() {
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
		data, ci, err := h.h.ZeroCopyReadPacketData()
		switch {
		case err == nil:
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			continue
		case err == io.EOF:
			return nil, ci, io.EOF
		default:
			return nil, ci, fmt.Errorf("live: reading from %s: %w", h.name, err)
		}
		// time.Unix gives local time; UTC keeps frames comparable with
		// those read from files.
		ci.Timestamp = ci.Timestamp.UTC()
		h.read.Add(1)
		if h.pw != nil {
			if err := h.pw.WritePacket(ci, data); err != nil {
				return nil, ci, fmt.Errorf("live: writing the capture file: %w", err)
			}
		}
		return data, ci, nil
	}
}

// Stop ends the capture: the current or next read returns io.EOF. It is
// safe to call from any goroutine, more than once.
func (h *Handle) Stop() { h.stop.Store(true) }

// Stats returns libpcap's counters (the last ones, after Close).
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return h.last, nil
	}
	ps, err := h.h.Stats()
	if err != nil {
		return h.last, fmt.Errorf("live: statistics of %s: %w", h.name, err)
	}
	h.last = Stats{Received: ps.PacketsReceived, DroppedByKernel: ps.PacketsDropped, DroppedByIface: ps.PacketsIfDropped, Read: h.read.Load()}
	return h.last, nil
}

// Close stops the capture, flushes Config.Output and releases the handle.
// Call it after the reading goroutine is done with ReadPacketData.
func (h *Handle) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.Stop()
		h.stopCtx()
		h.Stats() // keep the last counters
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		h.h.Close()
		if h.out != nil {
			if ferr := h.out.Flush(); ferr != nil {
				err = fmt.Errorf("live: writing the capture file: %w", ferr)
			}
		}
	})
	return err
}

// pcap_if flags (pcap/pcap.h).
const (
	ifLoopback = 0x1
	ifUp       = 0x2
)

// DefaultInterface returns the first interface that is up, is not a
// loopback and has an address, as libpcap lists them (tcpdump's choice).
func DefaultInterface() (string, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return "", fmt.Errorf("live: listing interfaces: %w", err)
	}
	for _, d := range devs {
		if d.Flags&ifUp != 0 && d.Flags&ifLoopback == 0 && len(d.Addresses) > 0 && d.Name != "any" {
			return d.Name, nil
		}
	}
	return "", errors.New("live: no interface is up (other than loopback); name one, or use any")
}
