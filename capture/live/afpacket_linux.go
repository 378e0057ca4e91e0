//go:build linux

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/tlsdiag/tlsdiag/capture/filter"
)

// haveAFPacket: Linux has AF_PACKET sockets.
const haveAFPacket = true

// Ring geometry. A TPACKET_V3 block must hold the largest packet kept
// (DefaultSnaplen plus headers); the kernel hands a block to user space
// when it is full or its retire timeout passed.
//
// Config.Immediate uses TPACKET_V2 instead, as libpcap does in immediate
// mode: each frame is handed over as it is written, with no block to
// wait for. Its frames have a fixed size, large enough for a loopback
// packet (MTU 65536) and its headers.
const (
	afBlockSize = 1 << 20
	afFrameSize = 4096
	afMinBlocks = 4
	afRetire    = 50 * time.Millisecond

	afImmediateFrame  = 65536 + 4096
	afImmediateFrames = 64

	// sllOffset: where the kernel puts the packet's struct sockaddr_ll
	// relative to the data of a SOCK_DGRAM frame. A TPACKET_V3 frame
	// is tpacket3_hdr (48 bytes, aligned), sockaddr_ll (20), then the
	// data at TPACKET_ALIGN(48+20)+16 = 96 (net/packet/af_packet.c,
	// tpacket_rcv: macoff = netoff = TPACKET_ALIGN(tp_hdrlen) + 16); a
	// TPACKET_V2 frame is tpacket2_hdr (32), sockaddr_ll, data at
	// TPACKET_ALIGN(32+20)+16 = 80: 48 bytes apart in both.
	sllOffset = 96 - 48
)

// afSource is an AF_PACKET socket with a TPACKET_V3 ring.
type afSource struct {
	tp     *afpacket.TPacket
	cooked bool // SOCK_DGRAM: frames get a synthesized Linux cooked v2 header
	v2     bool // TPACKET_V2 (Config.Immediate)
	// since: frames stamped before it predate the filter, and the
	// counters do not count them.
	since  time.Time
	buf    []byte
	iftype map[int]uint16
	desc   string
}

func openAFPacket(cfg Config) (source, error) {
	srcs, err := openAFPackets(cfg, 1)
	if err != nil {
		return nil, err
	}
	return srcs[0], nil
}

// openFanout opens cfg.Fanout sockets in a fan-out group.
func openFanout(cfg Config) ([]source, error) { return openAFPackets(cfg, cfg.Fanout) }

// fanoutMode hands each flow to one socket of the group by the kernel's
// symmetric flow hash (both directions of a connection alike), after
// reassembling IP fragments, so that a fragment goes where its flow goes.
const fanoutMode = afpacket.FanoutHash | afpacket.FanoutHashWithDefrag

// openAFPackets opens n AF_PACKET sockets, each with the filter, the ring
// split between them; with n > 1 they form a fan-out group.
func openAFPackets(cfg Config, n int) ([]source, error) {
	bind, cooked := cfg.Interface, false
	if cfg.Interface == "any" {
		bind, cooked = "", true
	}
	var loIndex int
	if bind != "" {
		ifi, err := net.InterfaceByName(bind)
		if err != nil {
			return nil, openError(cfg.Interface, err)
		}
		if ifi.Flags&net.FlagUp == 0 {
			return nil, openError(cfg.Interface, errors.New("interface not up"))
		}
		if wifiMonitor(interfaceType(bind)) {
			hint := "use a build with libpcap (make build where libpcap-dev is installed)"
			if havePcap {
				hint = "drop --capture afpacket"
			}
			return nil, fmt.Errorf("live: %s is a Wi-Fi interface in monitor mode, whose 802.11 frames tlsdiag captures through libpcap only: %s, or capture it with tcpdump -i %s -w FILE and read FILE (%w)",
				cfg.Interface, hint, cfg.Interface, errNeedsLibpcap)
		}
		// Interfaces without an Ethernet header (tun, wireguard, ppp)
		// are read cooked, as libpcap does.
		cooked = ifi.Flags&net.FlagLoopback == 0 && len(ifi.HardwareAddr) != 6
		if ifi.Flags&net.FlagLoopback != 0 {
			loIndex = ifi.Index
		}
	} else if lo := loopbackIndex(); lo > 0 {
		loIndex = lo
	}
	link := filter.Ethernet
	if cooked {
		link = filter.Cooked
	}
	prog, by, err := compileFilter(cfg.Filter, link, cfg.Snaplen)
	if err != nil {
		return nil, err
	}
	if loIndex > 0 {
		prog = append(skipLoopbackOutgoing(loIndex, bind == ""), prog...)
	}
	n = max(n, 1)
	version, frameSize, blockSize := afpacket.TPacketVersion3, afFrameSize, afBlockSize
	blocks := max(cfg.BufferSize/n/afBlockSize, afMinBlocks)
	name := "TPACKET_V3"
	if cfg.Immediate {
		version, frameSize, blockSize, name = afpacket.TPacketVersion2, afImmediateFrame, afImmediateFrame, "TPACKET_V2"
		blocks = max(cfg.BufferSize/n/afImmediateFrame, afImmediateFrames)
	}
	sockType := afpacket.SocketRaw
	if cooked {
		sockType = afpacket.SocketDgram
	}
	desc := "AF_PACKET " + name + ", one socket"
	if n > 1 {
		desc = fmt.Sprintf("AF_PACKET %s, fan-out by flow over %d sockets", name, n)
	}
	if by == "libpcap" {
		desc += ", filter compiled by " + pcapVersion()
	}
	var srcs []*afSource
	fail := func(err error) ([]source, error) {
		for _, s := range srcs {
			s.close()
		}
		return nil, err
	}
	// A socket receives every packet from its bind until its filter is
	// attached, and every flow until it joins the group; those frames
	// sit in its ring, some counted, some not. So each socket first gets
	// a filter that takes nothing, joins the group, and has its counters
	// cleared; only then does it get the real filter. The counters then
	// count exactly the frames that passed it, and the frames that came
	// before, all stamped before the filter, are skipped uncounted.
	group := -1
	for range n {
		tp, err := afpacket.NewTPacket(afpacket.OptInterface(bind), afpacket.OptTPacketVersion(version),
			afpacket.OptFrameSize(frameSize), afpacket.OptBlockSize(blockSize), afpacket.OptNumBlocks(blocks),
			afpacket.OptBlockTimeout(afRetire), afpacket.OptPollTimeout(cfg.ReadTimeout), sockType)
		if err != nil {
			return fail(openError(cfg.Interface, err))
		}
		srcs = append(srcs, &afSource{tp: tp, cooked: cooked, v2: version == afpacket.TPacketVersion2, iftype: map[int]uint16{}, desc: desc})
		if err := tp.SetBPF(takeNothing); err != nil {
			return fail(fmt.Errorf("live: attaching the filter to the socket on %s: %w", cfg.Interface, err))
		}
		if n > 1 {
			if group, err = joinFanout(tp, group); err != nil {
				return fail(fmt.Errorf("live: fan-out over %d sockets on %s: %w", n, cfg.Interface, err))
			}
		}
	}
	// A packet the kernel was already queueing when the empty filter
	// was attached lands within microseconds.
	time.Sleep(time.Millisecond)
	since := time.Now()
	for _, s := range srcs {
		if err := s.tp.InitSocketStats(); err != nil {
			return fail(fmt.Errorf("live: clearing the counters of the socket on %s: %w", cfg.Interface, err))
		}
		s.since = since
	}
	for _, s := range srcs {
		if err := s.tp.SetBPF(prog); err != nil {
			return fail(fmt.Errorf("live: attaching the filter to the socket on %s: %w", cfg.Interface, err))
		}
	}
	if cfg.Promiscuous && bind != "" {
		if err := srcs[0].tp.SetPromiscuous(true); err != nil {
			return fail(openError(cfg.Interface, err))
		}
	}
	out := make([]source, len(srcs))
	for i, s := range srcs {
		out[i] = s
	}
	return out, nil
}

// joinFanout makes tp a member of fan-out group id, or of a new group
// when id is -1, and returns the group's id. A new group gets an id the
// kernel knows to be unused (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.12):
// joining another program's group by chance would hand it our packets.
func joinFanout(tp *afpacket.TPacket, id int) (int, error) {
	if id >= 0 {
		return id, tp.SetFanout(fanoutMode, uint16(id))
	}
	fd, ok := socketFD(tp)
	if !ok {
		// No way to read the id back: the process id, unlikely taken.
		id = os.Getpid() & 0xffff
		return id, tp.SetFanout(fanoutMode, uint16(id))
	}
	if err := tp.SetFanout(fanoutMode|unix.PACKET_FANOUT_FLAG_UNIQUEID, 0); err != nil {
		return -1, err
	}
	v, err := unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
	if err != nil {
		return -1, fmt.Errorf("reading the group id: %w", err)
	}
	return v & 0xffff, nil
}

// socketFD returns the file descriptor of tp's socket, which the afpacket
// package keeps to itself.
func socketFD(tp *afpacket.TPacket) (int, bool) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return 0, false
	}
	return int(f.Int()), true
}

// compileFilter compiles expr with the built-in compiler or, for what it
// does not know, with libpcap where the build has it.
func compileFilter(expr string, link filter.Link, snaplen int) ([]bpf.RawInstruction, string, error) {
	ins, err := filter.Compile(expr, link, uint32(snaplen))
	if err == nil {
		raw, err := bpf.Assemble(ins)
		if err != nil {
			return nil, "", fmt.Errorf("live: %w", err)
		}
		return raw, "built-in", nil
	}
	if !errors.Is(err, filter.ErrUnsupported) {
		return nil, "", fmt.Errorf("live: %w", err)
	}
	if havePcap && link == filter.Ethernet {
		raw, perr := compileWithLibpcap(expr, snaplen)
		if perr != nil {
			return nil, "", fmt.Errorf("live: filter %q: %w", expr, perr)
		}
		return raw, "libpcap", nil
	}
	return nil, "", fmt.Errorf("live: %w (%w)", err, errNeedsLibpcap)
}

// interfaceType is the ARPHRD_ hardware type of a network interface, 0
// when unknown.
func interfaceType(name string) uint16 {
	b, err := os.ReadFile(filepath.Join("/sys/class/net", name, "type"))
	if err != nil {
		return 0
	}
	t, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 16)
	if err != nil {
		return 0
	}
	return uint16(t)
}

// wifiMonitor reports whether an interface of hardware type t is Wi-Fi in
// monitor mode: its frames are 802.11, alone or behind a Prism or
// radiotap header, never Ethernet.
func wifiMonitor(t uint16) bool {
	switch t {
	case unix.ARPHRD_IEEE80211, unix.ARPHRD_IEEE80211_PRISM, unix.ARPHRD_IEEE80211_RADIOTAP:
		return true
	}
	return false
}

// skipLoopbackOutgoing drops the outgoing copy of each loopback packet:
// on lo the socket sees every packet twice, as sent and as received
// (libpcap drops the copy too). With anyIface, only on interface lo.
func skipLoopbackOutgoing(lo int, anyIface bool) []bpf.RawInstruction {
	var ins []bpf.Instruction
	if anyIface {
		ins = append(ins,
			bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(lo), SkipTrue: 0, SkipFalse: 3})
	}
	ins = append(ins,
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 0, SkipFalse: 1},
		bpf.RetConstant{Val: 0})
	raw, err := bpf.Assemble(ins)
	if err != nil {
		panic(err) // constant program
	}
	return raw
}

func loopbackIndex() int {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			return i.Index
		}
	}
	return 0
}

func (s *afSource) read() ([]byte, gopacket.CaptureInfo, error) {
	for {
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			return nil, ci, errTimeout
		}
		if err != nil {
			return nil, ci, err
		}
		if !s.since.IsZero() {
			// Only the first frames can predate the filter: once one
			// is stamped after it, trust the filter (a clock step must
			// not hide later frames).
			if ci.Timestamp.Before(s.since) {
				continue
			}
			s.since = time.Time{}
		}
		ci.AncillaryData = nil
		if s.cooked {
			data = s.withCookedHeader(data, &ci)
		}
		return data, ci, nil
	}
}

// withCookedHeader puts a Linux cooked v2 header (LINKTYPE_LINUX_SLL2)
// in front of a SOCK_DGRAM packet, from the sockaddr_ll the kernel
// stored beside it: protocol, interface, hardware type, packet type and
// address, as libpcap does for "any".
func (s *afSource) withCookedHeader(data []byte, ci *gopacket.CaptureInfo) []byte {
	const hdr = 20
	s.buf = append(s.buf[:0], make([]byte, hdr)...)
	h := s.buf[:hdr]
	// struct sockaddr_ll: family u16, protocol be16, ifindex i32,
	// hatype u16, pkttype u8, halen u8, addr [8]u8 (host order but for
	// protocol).
	var sll *[20]byte
	if len(data) > 0 {
		sll = (*[20]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), -sllOffset))
	}
	if sll != nil && binary.NativeEndian.Uint16(sll[0:]) == unix.AF_PACKET && int(int32(binary.NativeEndian.Uint32(sll[4:]))) == ci.InterfaceIndex {
		copy(h[0:2], sll[2:4])
		binary.BigEndian.PutUint32(h[4:], uint32(ci.InterfaceIndex))
		binary.BigEndian.PutUint16(h[8:], binary.NativeEndian.Uint16(sll[8:]))
		h[10] = sll[10]
		h[11] = min(sll[11], 8)
		copy(h[12:20], sll[12:20])
	} else {
		// Not where it should be: say what the packet itself says.
		proto := uint16(0)
		if len(data) > 0 {
			switch data[0] >> 4 {
			case 4:
				proto = 0x0800
			case 6:
				proto = 0x86dd
			}
		}
		binary.BigEndian.PutUint16(h[0:], proto)
		binary.BigEndian.PutUint32(h[4:], uint32(ci.InterfaceIndex))
		binary.BigEndian.PutUint16(h[8:], s.hardwareType(ci.InterfaceIndex))
	}
	s.buf = append(s.buf, data...)
	ci.CaptureLength += hdr
	ci.Length += hdr
	return s.buf
}

func (s *afSource) hardwareType(index int) uint16 {
	if t, ok := s.iftype[index]; ok {
		return t
	}
	t := uint16(unix.ARPHRD_NONE)
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		switch {
		case ifi.Flags&net.FlagLoopback != 0:
			t = unix.ARPHRD_LOOPBACK
		case len(ifi.HardwareAddr) == 6:
			t = unix.ARPHRD_ETHER
		}
	}
	s.iftype[index] = t
	return t
}

func (s *afSource) linkType() layers.LinkType {
	if s.cooked {
		return layers.LinkTypeLinuxSLL2
	}
	return layers.LinkTypeEthernet
}

func (s *afSource) nanoseconds() bool { return true }

func (s *afSource) stats() (Stats, error) {
	v2, v3, err := s.tp.SocketStats()
	if err != nil {
		return Stats{}, err
	}
	received, dropped := int(v3.Packets()), int(v3.Drops())
	if s.v2 {
		received, dropped = int(v2.Packets()), int(v2.Drops())
	}
	// tp_packets counts the dropped packets too, as libpcap's ps_recv.
	// The filter drops the loopback's outgoing copies in the kernel, and
	// the counters were cleared when it was attached: they are exact.
	return Stats{Received: received, DroppedByKernel: dropped, Exact: true}, nil
}

func (s *afSource) close() { s.tp.Close() }

// takeNothing is a filter that accepts no packet.
var takeNothing = func() []bpf.RawInstruction {
	raw, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		panic(err) // constant program
	}
	return raw
}()

func (s *afSource) describe() string { return s.desc }
