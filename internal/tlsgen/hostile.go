package tlsgen

import (
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
)

// Hostile names a capture made to attack a reader: its parser, its memory,
// or its honesty about what it had to drop.
type Hostile string

// The hostile captures. Each is deterministic for a seed; the sizes are
// fixed (the robustness targets in SECURITY.md), so that the memory a
// reader needs for them can be compared from run to run.
const (
	// HugeHandshake: 1,000 connections whose ClientHello announces
	// 16 MB and sends 144 KiB of it before the capture ends, and one whose
	// first record announces 65,535 bytes.
	HugeHandshake Hostile = "huge_handshake"
	// BigClientHello: 64 interleaved crypto/tls handshakes whose
	// ClientHello is 64 KiB (254 ALPN protocol names of 255 bytes).
	BigClientHello Hostile = "big_client_hello"
	// SYNFlood: 1,000,000 SYNs to distinct addresses and ports, none
	// answered.
	SYNFlood Hostile = "syn_flood"
	// OneByte: 100,000 connections to port 443, 5,000 at a time, whose
	// client sends one byte (0x16, a TLS record's first) and closes.
	OneByte Hostile = "one_byte"
	// EndlessOutOfOrder: 200 connections whose client sends a ClientHello
	// and then 300 segments each, 1 MB beyond the next expected byte and a
	// segment apart: holes that never fill.
	EndlessOutOfOrder Hostile = "endless_out_of_order"
	// ConflictingOverlap: 1,000 connections whose ClientHello comes in
	// three segments: its tail, then a segment overlapping the tail with
	// other bytes, then its head.
	ConflictingOverlap Hostile = "conflicting_overlap"
	// AlertFlood: 1,000 connections whose server answers the ClientHello
	// with 1,000 fatal alert records each.
	AlertFlood Hostile = "alert_flood"
	// SSLv2Garbage: 10,000 connections to port 443 whose client sends
	// 4 KiB of random SSLv2-style records (two-byte headers with the high
	// bit set, "client hello" type, random fields) and the server resets.
	SSLv2Garbage Hostile = "sslv2_garbage"
)

// HostileKinds lists every hostile capture.
var HostileKinds = []Hostile{HugeHandshake, BigClientHello, SYNFlood, OneByte, EndlessOutOfOrder, ConflictingOverlap, AlertFlood, SSLv2Garbage}

// HostileTruth says what a hostile capture holds.
type HostileTruth struct {
	Kind        Hostile `json:"kind"`
	Seed        uint64  `json:"seed"`
	Bytes       int64   `json:"bytes"`
	Frames      int64   `json:"frames"`
	Connections int     `json:"connections"` // TCP connections (SYNs, for the flood)
	// SNI is the server name every ClientHello carries, where there is
	// one to parse.
	SNI string `json:"sni,omitempty"`
}

// untracked marks a flow that gets no entry in Truth.Connections: hostile
// captures have too many connections to list.
const untracked = -2

// GenerateHostile writes the hostile capture kind as a pcap (Ethernet) to
// w and returns what it holds.
func GenerateHostile(w io.Writer, kind Hostile, seed uint64) (*HostileTruth, error) {
	build, ok := hostileBuilders[kind]
	if !ok {
		return nil, fmt.Errorf("tlsgen: unknown hostile capture %q (want one of %s)", kind, hostileNames())
	}
	if err := checkDeterministic(); err != nil {
		return nil, err
	}
	cfg := Config{Seed: seed, Reorder: -1, Duplicate: -1}.withDefaults()
	g := &generator{cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x5eed)), truth: &Truth{}}
	bw, err := g.begin(w)
	if err != nil {
		return nil, err
	}
	ht := &HostileTruth{Kind: kind, Seed: seed}
	if err := build(g, ht); err != nil {
		return nil, fmt.Errorf("tlsgen: %s: %w", kind, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("tlsgen: %w", err)
	}
	ht.Bytes, ht.Frames = g.written, g.truth.Frames
	return ht, nil
}

func hostileNames() string {
	names := make([]string, len(HostileKinds))
	for i, k := range HostileKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

var hostileBuilders = map[Hostile]func(*generator, *HostileTruth) error{
	HugeHandshake:      hugeHandshake,
	BigClientHello:     bigClientHello,
	SYNFlood:           synFlood,
	OneByte:            oneByte,
	EndlessOutOfOrder:  endlessOutOfOrder,
	ConflictingOverlap: conflictingOverlap,
	AlertFlood:         alertFlood,
	SSLv2Garbage:       sslv2Garbage,
}

// hostileFlow is a connection from the n-th client address to server that
// carries chunks; the client hangs up first unless told otherwise.
func hostileFlow(n int, server netip.AddrPort, chunks ...chunk) *flow {
	return &flow{truth: untracked, bulkAt: -1, client: clientAddr(n, false), server: server, chunks: chunks, mss: mss4}
}

// runFlows writes the flows, active of them interleaved at once.
func (g *generator) runFlows(flows []*flow, active int) error {
	g.cfg.Active = active
	return g.run(func() *flow {
		if len(flows) == 0 {
			return nil
		}
		f := flows[0]
		flows = flows[1:]
		return f
	})
}

// recordsOf cuts payload into records of type typ (legacy version TLS 1.0,
// as ClientHellos carry) of at most 16 KiB.
func recordsOf(typ byte, payload []byte) []byte {
	var b []byte
	for len(payload) > 0 {
		n := min(len(payload), maxPlaintext)
		b = append(b, typ, 3, 1, byte(n>>8), byte(n))
		b = append(b, payload[:n]...)
		payload = payload[n:]
	}
	return b
}

var tlsServer = netip.AddrPortFrom(tcpServer(false), 443)

func hugeHandshake(g *generator, ht *HostileTruth) error {
	const conns = 1000
	flows := make([]*flow, 0, conns+1)
	for i := range conns {
		// A ClientHello of 2^24-1 bytes, of which 144 KiB arrive: more
		// than a reader may buffer for one handshake message.
		msg := append([]byte{1, 0xff, 0xff, 0xff}, g.noise[i:i+144<<10]...)
		f := hostileFlow(i, tlsServer, chunk{from: clientSide, data: recordsOf(22, msg)})
		f.close = closeNone
		flows = append(flows, f)
	}
	// A record of 65,535 bytes: more than TLS allows (2^14 + 2048).
	rec := append([]byte{22, 3, 1, 0xff, 0xff}, g.noise[:2000]...)
	f := hostileFlow(conns, tlsServer, chunk{from: clientSide, data: rec})
	f.close = closeNone
	flows = append(flows, f)
	ht.Connections = len(flows)
	return g.runFlows(flows, len(flows))
}

func bigClientHello(g *generator, ht *HostileTruth) error {
	p, err := newPKI(g.cfg.Seed, g.cfg.Start)
	if err != nil {
		return err
	}
	protos := make([]string, 254)
	for i := range protos {
		protos[i] = fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 251))
	}
	// 254 names of 255 bytes: a ClientHello of about 65,300 bytes, just
	// under the 65,536 bytes a crypto/tls server accepts.
	c := tlsCase{name: "big_client_hello", category: "ok", sni: "www." + domain, cert: useECDSA,
		client: func(c *tls.Config) { c.NextProtos = protos },
		server: func(c *tls.Config) { c.NextProtos = protos[len(protos)-1:] }}
	h, err := runCase(c, p, g.cfg.Seed, "hostile/big", g.cfg.Start)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range h.chunks {
		if c.from != clientSide {
			break
		}
		n += len(c.data)
	}
	if n < 65000 {
		return fmt.Errorf("the ClientHello is %d bytes, not 64 KiB", n)
	}
	const conns = 64
	flows := make([]*flow, conns)
	for i := range flows {
		flows[i] = hostileFlow(i, tlsServer, h.chunks...)
	}
	ht.Connections, ht.SNI = conns, h.sni
	return g.runFlows(flows, conns)
}

func synFlood(g *generator, ht *HostileTruth) error {
	const syns = 1_000_000
	for i := range syns {
		// Every SYN a connection of its own: distinct destination ports
		// on one server after the other.
		server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i/65535)}), uint16(1+i%65535))
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 40000)
		s := segment{from: clientSide, flags: flagSYN, seq: g.rng.Uint32(), mss: mss4}
		if err := g.write(&s, client, server); err != nil {
			return err
		}
	}
	ht.Connections = syns
	return nil
}

func oneByte(g *generator, ht *HostileTruth) error {
	const conns = 100_000
	flows := make([]*flow, conns)
	for i := range flows {
		flows[i] = hostileFlow(i, tlsServer, chunk{from: clientSide, data: []byte{22}})
	}
	ht.Connections = conns
	return g.runFlows(flows, 5000)
}

func endlessOutOfOrder(g *generator, ht *HostileTruth) error {
	hello, sni, err := g.realHello()
	if err != nil {
		return err
	}
	const conns, segs, size = 200, 300, 1400
	flows := make([]*flow, conns)
	for i := range flows {
		flows[i] = hostileFlow(i, tlsServer, chunk{from: clientSide, data: hello})
		flows[i].close = closeNone
	}
	if err := g.runFlows(flows, conns); err != nil {
		return err
	}
	for j := range segs {
		for _, f := range flows {
			s := segment{from: clientSide, flags: flagACK | flagPSH, ack: f.ackOf(clientSide),
				seq:     f.seq[clientSide] + 1<<20 + uint32(j*2*size),
				payload: g.noise[j*size : (j+1)*size]}
			if err := g.write(&s, f.client, f.server); err != nil {
				return err
			}
		}
	}
	ht.Connections, ht.SNI = conns, sni
	return nil
}

func conflictingOverlap(g *generator, ht *HostileTruth) error {
	hello, sni, err := g.realHello()
	if err != nil {
		return err
	}
	const conns = 1000
	for i := range conns {
		f := hostileFlow(i, tlsServer, chunk{from: clientSide, data: hello})
		for {
			s, ok := f.pull(g)
			if !ok {
				break
			}
			if s.from != clientSide || len(s.payload) <= 150 {
				if err := g.emit(f, &s); err != nil {
					return err
				}
				continue
			}
			// The ClientHello in three segments: its tail first (held out
			// of order), then bytes 160 on again but inverted, which
			// overlap the held tail with other content, then its head.
			tail, other, head := s, s, s
			tail.seq, tail.payload = s.seq+150, s.payload[150:]
			other.seq, other.payload = s.seq+160, slices.Clone(s.payload[160:])
			for k := range other.payload {
				other.payload[k] ^= 0xff
			}
			head.payload = s.payload[:150]
			for _, seg := range []*segment{&tail, &other, &head} {
				if err := g.emit(f, seg); err != nil {
					return err
				}
			}
		}
	}
	ht.Connections, ht.SNI = conns, sni
	return nil
}

func alertFlood(g *generator, ht *HostileTruth) error {
	hello, sni, err := g.realHello()
	if err != nil {
		return err
	}
	const conns, alerts = 1000, 1000
	flood := make([]byte, 0, alerts*7)
	for range alerts {
		flood = append(flood, 21, 3, 3, 0, 2, 2, 40) // fatal handshake_failure
	}
	flows := make([]*flow, conns)
	for i := range flows {
		flows[i] = hostileFlow(i, tlsServer, chunk{from: clientSide, data: hello}, chunk{from: serverSide, data: flood})
		flows[i].closer = serverSide
	}
	ht.Connections, ht.SNI = conns, sni
	return g.runFlows(flows, 100)
}

func sslv2Garbage(g *generator, ht *HostileTruth) error {
	const conns, size = 10_000, 4 << 10
	flows := make([]*flow, conns)
	for i := range flows {
		var b []byte
		for len(b) < size {
			n := 3 + g.rng.IntN(300)
			off := g.rng.IntN(len(g.noise) - n)
			b = append(b, 0x80|byte(n>>8), byte(n), 1) // SSLv2 header, CLIENT-HELLO
			b = append(b, g.noise[off:off+n-1]...)
		}
		f := hostileFlow(i, tlsServer, chunk{from: clientSide, data: b})
		f.closer, f.close = serverSide, closeRST
		flows[i] = f
	}
	ht.Connections = conns
	return g.runFlows(flows, 500)
}

// realHello returns a ClientHello crypto/tls sent, as records, and its
// server name.
func (g *generator) realHello() ([]byte, string, error) {
	p, err := newPKI(g.cfg.Seed, g.cfg.Start)
	if err != nil {
		return nil, "", err
	}
	h, err := runCase(tlsCases[0], p, g.cfg.Seed, "hostile/hello", g.cfg.Start)
	if err != nil {
		return nil, "", err
	}
	return h.chunks[0].data, h.sni, nil
}
