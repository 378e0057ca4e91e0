// Package live captures packets from a network interface as a capture
// source.
//
// Two capture paths exist. On Linux the default is an AF_PACKET socket
// with a TPACKET_V3 ring (pure Go, no libpcap), its filter compiled by
// package filter; builds with the libpcap tag (and builds for other
// systems with cgo) also have libpcap, used when asked for, for filters
// the built-in compiler does not know, and where AF_PACKET does not exist.
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
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture"
)

// Defaults for Config fields left zero.
const (
	// DefaultSnaplen is libpcap's maximum: whole packets.
	DefaultSnaplen = 262144
	// DefaultReadTimeout bounds how long Stop takes to end a read.
	DefaultReadTimeout = 100 * time.Millisecond
	// DefaultBufferSize is the kernel ring for captured packets, shared
	// by the fan-out sockets. In immediate mode libpcap gives every packet
	// a slot of the snap length, so its own 2 MiB default holds just 8
	// packets of 256 KiB: a reader that is late by a few loopback segments
	// loses the rest. At 2 Gbit/s with two sockets on two busy cores, 32
	// MiB (16 MiB a socket, 64 ms of traffic) dropped packets in 5 of 20
	// replays of make bench-live (0.2-4.7 %), 64 MiB in 2 of 20 (0.5 and
	// 1.4 %).
	DefaultBufferSize = 64 << 20
)

// Backend names a capture path.
type Backend string

const (
	// Auto picks AF_PACKET on Linux and libpcap elsewhere; on Linux it
	// falls back to libpcap (where the build has it) for a filter the
	// built-in compiler does not know.
	Auto Backend = ""
	// AFPacket is a Linux AF_PACKET socket with a TPACKET_V3 ring.
	AFPacket Backend = "afpacket"
	// Libpcap is a libpcap handle (cgo builds with libpcap only).
	Libpcap Backend = "libpcap"
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
	// Backend chooses the capture path; Auto (zero) as documented there.
	Backend Backend
	// Fanout is the number of AF_PACKET sockets to capture with, in a
	// fan-out group that hands each flow (both directions, IP fragments
	// reassembled first) to one of them: read each socket on a core of
	// its own. Zero or 1 means one socket. libpcap has one handle.
	Fanout int
	// Output, if set, receives every frame read, as a pcap file (with
	// nanosecond timestamps when the capture path provides them). Close
	// flushes it; it is not closed.
	Output io.Writer
}

// Stats are the kernel's (or libpcap's) counters for the handle.
type Stats struct {
	Received        int   // packets that passed the filter
	DroppedByKernel int   // dropped for lack of buffer space: the capture missed them
	DroppedByIface  int   // dropped by the interface or its driver (libpcap only)
	Read            int64 // frames returned by ReadPacketData or ReadFrame
	// Sockets are each socket's counters, in the order of
	// Handle.Sockets (in Handle.Stats only).
	Sockets []Stats
	// Exact: every packet counted in Received is either read or
	// dropped, so Read+DroppedByKernel reaching Received means the
	// reader has caught up. libpcap on a loopback interface counts each
	// packet twice (sent and received) and drops the copy itself, so
	// its counts are not exact.
	Exact bool
}

// source is one capture path's open handle.
type source interface {
	// read returns the next frame, errTimeout when none came within the
	// read timeout, or another error.
	read() ([]byte, gopacket.CaptureInfo, error)
	linkType() layers.LinkType
	nanoseconds() bool
	stats() (Stats, error)
	close()
	// describe says which path this is, for the start line.
	describe() string
}

// errTimeout is a read that found nothing within the read timeout.
var errTimeout = errors.New("live: read timeout")

// Handle is an open live capture: one socket, or a fan-out group of them
// (Config.Fanout) that share the packets by flow.
type Handle struct {
	socks   []*Socket
	name    string
	timeout time.Duration

	out    *bufio.Writer
	pw     *pcapgo.Writer
	wmu    sync.Mutex   // guards pw; frames increase under it when writing
	frames atomic.Int64 // the number of the last frame read, of every socket

	stop      atomic.Bool
	stopCtx   func() bool
	closeOnce sync.Once
	mu        sync.Mutex // guards last and closed
	last      Stats
	closed    bool
}

// Socket is one socket of a Handle: a capture.SplitSource of its share
// of the flows. Read each socket of a group on a goroutine of its own.
type Socket struct {
	h    *Handle
	src  source
	read atomic.Int64
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
	if cfg.Fanout < 0 || cfg.Fanout > MaxFanout {
		return nil, fmt.Errorf("live: %d sockets: a fan-out group has 1 to %d", cfg.Fanout, MaxFanout)
	}
	srcs, err := openSources(cfg)
	if err != nil {
		return nil, err
	}
	h := &Handle{name: cfg.Interface, timeout: cfg.ReadTimeout}
	for _, src := range srcs {
		h.socks = append(h.socks, &Socket{h: h, src: src})
	}
	if cfg.Output != nil {
		h.out = bufio.NewWriterSize(cfg.Output, 64<<10)
		if srcs[0].nanoseconds() {
			h.pw = pcapgo.NewWriterNanos(h.out)
		} else {
			h.pw = pcapgo.NewWriter(h.out)
		}
		if err := h.pw.WriteFileHeader(uint32(cfg.Snaplen), srcs[0].linkType()); err != nil {
			h.closeSources()
			return nil, fmt.Errorf("live: writing the capture file: %w", err)
		}
	}
	h.stopCtx = context.AfterFunc(ctx, h.Stop)
	return h, nil
}

// MaxFanout bounds Config.Fanout.
const MaxFanout = 64

// openSources opens the capture path cfg.Backend asks for: cfg.Fanout
// AF_PACKET sockets in a fan-out group, or one socket.
func openSources(cfg Config) ([]source, error) {
	if NetfilterLog(cfg.Interface) {
		// Not a network interface: a netlink group only libpcap reads.
		if cfg.Filter != "" {
			return nil, fmt.Errorf("live: %s cannot be filtered (libpcap does not filter NFLOG frames): the iptables rule chooses what it logs (e.g. -p tcp --dport 443 -j NFLOG --nflog-group N); drop -f", cfg.Interface)
		}
		if cfg.Backend == AFPacket || !havePcap {
			hint := "use a build with libpcap (make build where libpcap-dev is installed)"
			if havePcap {
				hint = "drop --capture afpacket"
			}
			return nil, fmt.Errorf("live: %s is a netfilter log group (iptables -j NFLOG), which libpcap captures and AF_PACKET does not: %s, or capture it with tcpdump -i %s -w FILE and read FILE",
				cfg.Interface, hint, cfg.Interface)
		}
		src, err := openPcap(cfg)
		if err != nil {
			return nil, err
		}
		return []source{src}, nil
	}
	if cfg.Fanout > 1 && cfg.Backend != Libpcap && haveAFPacket {
		srcs, err := openFanout(cfg)
		if err == nil || !errors.Is(err, errNeedsLibpcap) || cfg.Backend == AFPacket || !havePcap {
			return srcs, err
		}
		// A filter only libpcap compiles, without AF_PACKET's libpcap
		// compiler (not an Ethernet interface), or an interface only
		// libpcap captures: one libpcap handle.
	}
	src, err := openSource(cfg)
	if err != nil {
		return nil, err
	}
	return []source{src}, nil
}

// openSource opens the capture path cfg.Backend asks for.
func openSource(cfg Config) (source, error) {
	switch cfg.Backend {
	case AFPacket:
		return openAFPacket(cfg)
	case Libpcap:
		return openPcap(cfg)
	case Auto:
		if !haveAFPacket {
			return openPcap(cfg)
		}
		src, err := openAFPacket(cfg)
		if err != nil && havePcap && errors.Is(err, errNeedsLibpcap) {
			return openPcap(cfg)
		}
		return src, err
	}
	return nil, fmt.Errorf("live: unknown capture path %q (afpacket or libpcap)", cfg.Backend)
}

// NetfilterLog reports whether iface names a netfilter log group as
// libpcap does: "nflog" (group 0) or "nflog:GROUP". Such a capture takes
// no filter: the iptables rules choose what is logged.
func NetfilterLog(iface string) bool {
	return iface == "nflog" || strings.HasPrefix(iface, "nflog:")
}

// errNeedsLibpcap is a filter only libpcap compiles, or an interface only
// libpcap captures.
var errNeedsLibpcap = errors.New("libpcap needed")

// Backends lists the capture paths of this build, the default first.
func Backends() []string {
	var out []string
	if haveAFPacket {
		out = append(out, "AF_PACKET (TPACKET_V3, filters compiled by the built-in compiler"+
			map[bool]string{true: ", then libpcap)", false: ")"}[havePcap])
	}
	if havePcap {
		out = append(out, pcapVersion())
	}
	return out
}

// openError explains the usual reasons an interface is refused.
func openError(iface string, err error) error {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted"):
		return fmt.Errorf("live: capturing on %s needs root or CAP_NET_RAW (e.g. sudo setcap cap_net_raw,cap_net_admin=eip $(which tlsdiag)): %w", iface, err)
	case strings.Contains(msg, "no such device") || strings.Contains(msg, "no such network interface"):
		return fmt.Errorf("live: no interface named %q (ip link lists them): %w", iface, err)
	case strings.Contains(msg, "not up") || strings.Contains(msg, "network is down"):
		return fmt.Errorf("live: interface %s is down: %w", iface, err)
	}
	return fmt.Errorf("live: capturing on %s: %w", iface, err)
}

// Name returns the interface name.
func (h *Handle) Name() string { return h.name }

// LinkType returns the link type of the frames.
func (h *Handle) LinkType() layers.LinkType { return h.socks[0].src.linkType() }

// Path says which capture path the handle uses, and with how many sockets
// ("AF_PACKET TPACKET_V3, fan-out by flow over 2 sockets", "libpcap
// version 1.10.3, one handle").
func (h *Handle) Path() string { return h.socks[0].src.describe() }

// Sockets returns the sockets of the capture: one, or the members of a
// fan-out group.
func (h *Handle) Sockets() []*Socket { return h.socks }

// ReadPacketData returns the next frame of the first socket; data is valid
// until the next call. After Stop, Close or the cancellation of Open's
// context it returns io.EOF (within Config.ReadTimeout of it). With
// several sockets, read each of Sockets instead.
func (h *Handle) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	s := h.socks[0]
	for {
		data, ci, _, err := s.ReadFrame()
		if err == capture.ErrNoFrame {
			continue
		}
		return data, ci, err
	}
}

// Name returns the interface name.
func (s *Socket) Name() string { return s.h.name }

// LinkType returns the link type of the frames.
func (s *Socket) LinkType() layers.LinkType { return s.src.linkType() }

// ReadFrame returns the socket's next frame (data is valid until the next
// call) and its number among the frames of every socket of the handle,
// which is its number in Config.Output. It returns capture.ErrNoFrame when
// no frame came within Config.ReadTimeout (ci.Timestamp then says up to
// when every frame was returned), io.EOF after Stop.
func (s *Socket) ReadFrame() ([]byte, gopacket.CaptureInfo, int64, error) {
	h := s.h
	if h.stop.Load() {
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	data, ci, err := s.src.read()
	switch {
	case err == nil:
	case err == errTimeout:
		// Every frame stamped before the last two read timeouts was
		// handed over: a ring block or libpcap's buffer waits at most
		// one before it is.
		return nil, gopacket.CaptureInfo{Timestamp: time.Now().Add(-2 * h.timeout).UTC()}, 0, capture.ErrNoFrame
	case err == io.EOF:
		return nil, ci, 0, io.EOF
	default:
		return nil, ci, 0, fmt.Errorf("live: reading from %s: %w", h.name, err)
	}
	// time.Unix gives local time; UTC keeps frames comparable with
	// those read from files.
	ci.Timestamp = ci.Timestamp.UTC()
	s.read.Add(1)
	if h.pw == nil {
		return data, ci, h.frames.Add(1), nil
	}
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if err := h.pw.WritePacket(ci, data); err != nil {
		return nil, ci, 0, fmt.Errorf("live: writing the capture file: %w", err)
	}
	return data, ci, h.frames.Add(1), nil
}

// Stop ends the capture: the current or next read returns io.EOF. It is
// safe to call from any goroutine, more than once.
func (h *Handle) Stop() { h.stop.Store(true) }

// Stats returns the capture's counters, summed over the sockets, with
// each socket's in Sockets (the last ones, after Close).
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return h.last, nil
	}
	total := Stats{Exact: true}
	for _, s := range h.socks {
		st, err := s.src.stats()
		if err != nil {
			return h.last, fmt.Errorf("live: statistics of %s: %w", h.name, err)
		}
		st.Read = s.read.Load()
		total.Received += st.Received
		total.DroppedByKernel += st.DroppedByKernel
		total.DroppedByIface += st.DroppedByIface
		total.Read += st.Read
		total.Exact = total.Exact && st.Exact
		total.Sockets = append(total.Sockets, st)
	}
	h.last = total
	return h.last, nil
}

// Close stops the capture, flushes Config.Output and releases the handle.
// Call it after the reading goroutines are done with the sockets.
func (h *Handle) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.Stop()
		h.stopCtx()
		h.Stats() // keep the last counters
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		h.closeSources()
		if h.out != nil {
			if ferr := h.out.Flush(); ferr != nil {
				err = fmt.Errorf("live: writing the capture file: %w", ferr)
			}
		}
	})
	return err
}

func (h *Handle) closeSources() {
	for _, s := range h.socks {
		s.src.close()
	}
}

// DefaultInterface returns the first interface that is up, is not a
// loopback and has an address (tcpdump's choice).
func DefaultInterface() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("live: listing interfaces: %w", err)
	}
	for _, d := range ifs {
		if d.Flags&net.FlagUp == 0 || d.Flags&net.FlagLoopback != 0 || d.Name == "any" {
			continue
		}
		if addrs, err := d.Addrs(); err == nil && len(addrs) > 0 {
			return d.Name, nil
		}
	}
	return "", errors.New("live: no interface is up (other than loopback); name one, or use any")
}
