// Package tlsgen generates large, realistic TLS captures with a ground
// truth, for benchmarking and testing tlsdiag end to end.
//
// A small pool of real conversations — crypto/tls clients and servers
// talking over in-memory connections, TLS 1.2 and 1.3, ECDSA and RSA,
// resumption, HelloRetryRequest, failures with plaintext and encrypted
// alerts — is recorded once and replayed on many connections with
// different addresses, as Ethernet/IPv4/IPv6/TCP frames with correct
// sequence numbers, MSS-sized segments, interleaved connections, bulk
// application data (random bytes framed as application_data records of
// the negotiated cipher's real size: no crypto runs for the bulk), some
// reordering and retransmission, and connections whose start was not
// captured. TCP-level failures (refused, unanswered, silent server, reset,
// non-TLS peers) need no TLS at all.
//
// The output is streamed as a pcap file and is the same, byte for byte, for
// the same Config on the same machine (crypto/tls prefers AES-GCM or
// ChaCha20 depending on the CPU). Deterministic crypto needs
// GODEBUG=cryptocustomrand=1: put "//go:debug cryptocustomrand=1" in the
// main package or the _test.go file that calls Generate.
package tlsgen

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config says what to generate. Zero fields take the documented defaults.
type Config struct {
	Seed uint64
	// Size is the approximate size of the capture in bytes; generation
	// stops starting connections once it is reached. Default 10 MB.
	Size int64
	// HandshakesOnly leaves out bulk data: every connection is a handshake
	// and one request and response (the packets-per-second case).
	HandshakesOnly bool
	// MaxBulk is the most bulk data one connection carries (sizes are
	// log-uniform from 32 KiB); default 8 MiB.
	MaxBulk int64
	// Pool is the number of distinct TLS conversations recorded; default
	// 50 (at least one per scenario).
	Pool int
	// Active is the number of connections in flight at once; default 32.
	Active int
	// Reorder and Duplicate are the probabilities that a data segment is
	// swapped with the next one or sent again a little later; default
	// 0.002 each. Negative means never.
	Reorder, Duplicate float64
	// Start is the time of the first frame and the instant certificates
	// are valid for; default 2025-06-02 09:00:00 UTC.
	Start time.Time
}

func (c Config) withDefaults() Config {
	if c.Size <= 0 {
		c.Size = 10e6
	}
	if c.MaxBulk <= 0 {
		c.MaxBulk = 8 << 20
	}
	if c.Pool < len(tlsCases) {
		c.Pool = max(50, len(tlsCases))
	}
	if c.Active <= 0 {
		c.Active = 32
	}
	if c.Reorder == 0 {
		c.Reorder = 0.002
	}
	if c.Duplicate == 0 {
		c.Duplicate = 0.002
	}
	c.Reorder, c.Duplicate = max(c.Reorder, 0), max(c.Duplicate, 0)
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	}
	c.Start = c.Start.UTC().Truncate(time.Second)
	return c
}

// Truth is what the capture holds, connection by connection, in the order
// tlsdiag lists them: that of their first frame, but the connections whose
// SYNs got no answer last.
type Truth struct {
	Seed           uint64 `json:"seed"`
	Size           int64  `json:"size"`  // requested
	Bytes          int64  `json:"bytes"` // written
	Frames         int64  `json:"frames"`
	HandshakesOnly bool   `json:"handshakes_only"`
	// CAPEM is the root that signed the trusted servers' chains: tlsdiag's
	// --cacert.
	CAPEM string `json:"ca_pem"`
	// Categories counts the connections tlsdiag reports, by expected
	// verdict category; Ignored are the connections it should not report
	// (plaintext on a non-TLS port).
	Categories  map[string]int `json:"categories"`
	Ignored     int            `json:"ignored"`
	Connections []Conn         `json:"connections"`
}

// Conn is one connection of the capture.
type Conn struct {
	Client   string `json:"client"` // "ip:port", IPv6 in brackets
	Server   string `json:"server"`
	Scenario string `json:"scenario"`
	// Category is the verdict tlsdiag should give; "" for a connection it
	// should not report.
	Category string `json:"category"`
	Version  string `json:"version"` // negotiated ("TLS 1.3"), "" if none
	Cipher   string `json:"cipher"`  // IANA name, "" if none
	SNI      string `json:"sni"`
	Resumed  bool   `json:"resumed,omitempty"`
	// Partial is set when the capture misses the TCP handshake.
	Partial bool `json:"partial,omitempty"`
	// RolesUnknown is set when the capture shows neither the SYN nor a
	// hello: nothing tells the client from the server.
	RolesUnknown bool  `json:"roles_unknown,omitempty"`
	BulkBytes    int64 `json:"bulk_bytes,omitempty"`
}

// Reported says whether tlsdiag should report the connection.
func (c *Conn) Reported() bool { return c.Category != "" }

// Pair finds, for each of n reported connections (ends gives the i-th's
// client and server), the connection of want with those ends, each used
// once, or nil. A report lists connections in first-frame order except a
// few it lists after later ones (a connection answered only after a later
// one ended), so the truth is found by the ends, not by the position.
func Pair(want []Conn, n int, ends func(i int) (client, server string)) []*Conn {
	byEnds := map[string][]int{}
	for j, w := range want {
		byEnds[w.Client+" "+w.Server] = append(byEnds[w.Client+" "+w.Server], j)
		if w.RolesUnknown {
			byEnds[w.Server+" "+w.Client] = append(byEnds[w.Server+" "+w.Client], j)
		}
	}
	used := make([]bool, len(want))
	out := make([]*Conn, n)
	for i := range out {
		client, server := ends(i)
		for _, j := range byEnds[client+" "+server] {
			if !used[j] {
				used[j], out[i] = true, &want[j]
				break
			}
		}
	}
	return out
}

// Generate writes a pcap (Ethernet, microsecond timestamps) to w and
// returns its ground truth.
func Generate(w io.Writer, cfg Config) (*Truth, error) {
	if err := checkDeterministic(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7f4a7c15))}
	if err := g.buildPool(); err != nil {
		return nil, err
	}
	g.truth = &Truth{Seed: cfg.Seed, Size: cfg.Size, HandshakesOnly: cfg.HandshakesOnly,
		CAPEM: string(g.pki.rootPEM()), Categories: map[string]int{}}
	bw, err := g.begin(w)
	if err != nil {
		return nil, err
	}
	if err := g.writeLead(); err != nil {
		return nil, err
	}
	next := func() *flow {
		if g.planned() >= g.cfg.Size {
			return nil
		}
		return g.newFlow()
	}
	if err := g.run(next); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("tlsgen: %w", err)
	}
	g.truth.Bytes = g.written
	// tlsdiag lists the connections whose SYNs got no answer last.
	slices.SortStableFunc(g.truth.Connections, func(a, b Conn) int {
		return cmp.Compare(boolInt(a.Scenario == "no_answer"), boolInt(b.Scenario == "no_answer"))
	})
	return g.truth, nil
}

// begin makes the noise bulk records are cut from and starts the pcap on
// w; the caller flushes the writer it returns.
func (g *generator) begin(w io.Writer) (*bufio.Writer, error) {
	g.noise = make([]byte, 1<<20)
	newReader(g.cfg.Seed, "noise").Read(g.noise)
	bw := bufio.NewWriterSize(w, 1<<20)
	g.pw = pcapgo.NewWriter(bw)
	if err := g.pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("tlsgen: %w", err)
	}
	g.written, g.clock = 24, g.cfg.Start
	return bw, nil
}

type generator struct {
	cfg   Config
	rng   *rand.Rand
	pki   *pki
	ok    []*handshake // pool entries whose handshake succeeds
	fail  []*handshake // … and fails
	hello []byte       // a ClientHello for the TCP-level scenarios
	noise []byte       // random bytes the bulk records are cut from

	pw      *pcapgo.Writer
	fb      frameBuilder
	truth   *Truth
	conns   int // flows started
	written int64
	clock   time.Time
	active  []*flow
}

// buildPool records the pool's conversations, two at a time.
func (g *generator) buildPool() error {
	p, err := newPKI(g.cfg.Seed, g.cfg.Start)
	if err != nil {
		return err
	}
	g.pki = p
	pool := make([]*handshake, g.cfg.Pool)
	errs := make([]error, g.cfg.Pool)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range pool {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c := tlsCases[i%len(tlsCases)]
			pool[i], errs[i] = runCase(c, p, g.cfg.Seed, fmt.Sprintf("pool/%d", i), g.cfg.Start)
		})
	}
	wg.Wait()
	for i, h := range pool {
		if errs[i] != nil {
			return errs[i]
		}
		if h.category == "ok" {
			g.ok = append(g.ok, h)
		} else {
			g.fail = append(g.fail, h)
		}
	}
	g.hello = g.ok[0].chunks[0].data
	return nil
}

// run writes the flows next returns, g.cfg.Active of them in flight at
// once, until next returns nil and every flow is done.
func (g *generator) run(next func() *flow) error {
	for {
		for len(g.active) < g.cfg.Active {
			f := next()
			if f == nil {
				break
			}
			g.active = append(g.active, f)
		}
		if len(g.active) == 0 {
			return nil
		}
		i := g.rng.IntN(len(g.active))
		f := g.active[i]
		for range 1 + g.rng.IntN(4) {
			s, ok := f.pull(g)
			if !ok && f.held(g) {
				g.skipHolds()
				break
			}
			if !ok {
				g.active = append(g.active[:i], g.active[i+1:]...)
				break
			}
			if err := g.emit(f, &s); err != nil {
				return err
			}
		}
	}
}

// skipHolds moves the clock to the earliest end of a hold when every
// active flow is held: nothing else would make it pass.
func (g *generator) skipHolds() {
	var first time.Time
	for _, f := range g.active {
		if !f.held(g) {
			return
		}
		if first.IsZero() || f.holdUntil.Before(first) {
			first = f.holdUntil
		}
	}
	g.clock = first
}

// planned is what the capture will hold once the active flows sent their
// bulk.
func (g *generator) planned() int64 {
	n := g.written
	for _, f := range g.active {
		n += f.bulk + f.queued
	}
	return n
}

func (g *generator) emit(f *flow, s *segment) error {
	if f.truth == -1 {
		f.truth = len(g.truth.Connections)
		g.truth.Connections = append(g.truth.Connections, f.tc)
	}
	f.queued = max(f.queued-int64(len(s.payload)), 0)
	return g.write(s, f.client, f.server)
}

// write writes s between client and server as the next frame, a few
// microseconds after the last.
func (g *generator) write(s *segment, client, server netip.AddrPort) error {
	g.clock = g.clock.Add(time.Duration(1+g.rng.IntN(20)) * time.Microsecond)
	data := g.fb.frame(s, client, server)
	ci := gopacket.CaptureInfo{Timestamp: g.clock, CaptureLength: len(data), Length: len(data)}
	if err := g.pw.WritePacket(ci, data); err != nil {
		return fmt.Errorf("tlsgen: %w", err)
	}
	g.written += 16 + int64(len(data))
	g.truth.Frames++
	return nil
}

// oddTLSPort is a port no list of TLS ports names. Connections to it
// without TLS (refused, plaintext, …) are reported only because the
// capture showed TLS on it before they ended: the lead connection.
const oddTLSPort = 10443

// writeLead writes the capture's first connection whole, before any
// other: a successful handshake to oddTLSPort.
func (g *generator) writeLead() error {
	h := g.ok[0]
	f := &flow{truth: -1, bulkAt: -1, client: clientAddr(g.conns, false), mss: mss4}
	g.conns++
	f.server = serverAddr(h.sni, oddTLSPort, false)
	f.chunks, f.recLen, f.closer = h.chunks, h.recLen, h.closer
	f.tc = Conn{Scenario: h.name, Category: h.category, Version: h.version, Cipher: h.cipher, SNI: h.sni, Resumed: h.resumed,
		Client: f.client.String(), Server: f.server.String()}
	g.truth.Categories[h.category]++
	for {
		s, ok := f.pull(g)
		if !ok {
			return nil
		}
		if err := g.emit(f, &s); err != nil {
			return err
		}
	}
}

// Scenarios without TLS of their own, and how often a new connection is
// one of them.
var tcpScenarios = []string{"refused", "no_answer", "silent_server", "reset_after_hello", "http_server", "http_client"}

// newFlow plans the next connection.
func (g *generator) newFlow() *flow {
	n := g.conns
	g.conns++
	r := g.rng
	f := &flow{truth: -1, bulkAt: -1}
	v6 := r.Float64() < 0.2
	f.client = clientAddr(n, v6)
	tc := Conn{}
	switch x := r.Float64(); {
	case x < 0.62:
		g.tlsFlow(f, &tc, g.ok[r.IntN(len(g.ok))], v6)
	case x < 0.84:
		g.tlsFlow(f, &tc, g.fail[r.IntN(len(g.fail))], v6)
	case x < 0.97:
		g.tcpFlow(f, &tc, tcpScenarios[r.IntN(len(tcpScenarios))], v6)
	default:
		g.tcpFlow(f, &tc, "plain_http", v6)
	}
	if f.recLen == 0 {
		f.bulk = 0
	}
	tc.BulkBytes = f.bulk
	tc.Client, tc.Server = f.client.String(), f.server.String()
	f.mss = mss4
	if v6 {
		f.mss = mss6
	}
	if tc.Category != "" {
		g.truth.Categories[tc.Category]++
	} else {
		g.truth.Ignored++
	}
	f.tc = tc
	return f
}

func (g *generator) tlsFlow(f *flow, tc *Conn, h *handshake, v6 bool) {
	r := g.rng
	*tc = Conn{Scenario: h.name, Category: h.category, Version: h.version, Cipher: h.cipher, SNI: h.sni, Resumed: h.resumed}
	port := uint16(443)
	switch r.IntN(10) {
	case 0:
		port = 8443
	case 1:
		port = oddTLSPort
	}
	f.server = serverAddr(h.sni, port, v6)
	f.chunks, f.bulkAt, f.recLen, f.closer = h.chunks, h.bulkAt, h.recLen, h.closer
	if h.bulkAt >= 0 && !g.cfg.HandshakesOnly {
		lo, hi := math.Log(32<<10), math.Log(float64(g.cfg.MaxBulk))
		want := int64(math.Exp(lo + r.Float64()*(hi-lo)))
		f.bulk = max(min(want, g.cfg.Size-g.planned()), 16<<10)
	}
	switch x := r.Float64(); {
	case x < 0.03 && f.bulk >= 64<<10:
		// The capture began during the bulk transfer.
		f.open, f.midstream, f.hidden = openNoSYN, true, 1+r.IntN(30)
		*tc = Conn{Scenario: h.name + "_midstream", Category: "incomplete_capture", Partial: true, RolesUnknown: true}
	case x < 0.07:
		f.open = openNoSYN
		tc.Partial = true
	}
}

// tcpFlow plans a connection whose trouble is below TLS, or that is not
// TLS at all.
func (g *generator) tcpFlow(f *flow, tc *Conn, scenario string, v6 bool) {
	port := uint16(443)
	if g.rng.IntN(7) == 0 {
		port = oddTLSPort
	}
	f.server = netip.AddrPortFrom(tcpServer(v6), port)
	hello := chunk{from: clientSide, data: g.hello}
	*tc = Conn{Scenario: scenario}
	switch scenario {
	case "refused":
		tc.Category, f.open = "connection_refused", openRefused
	case "no_answer":
		tc.Category, f.open = "no_tcp_answer", openNoAnswer
	case "silent_server":
		tc.Category, tc.SNI = "server_no_response", g.ok[0].sni
		// The client gives up after a second, as a short handshake
		// timeout does: one that closes sooner than any time limit
		// abandoned the connection instead (client_abandoned).
		f.chunks, f.closer, f.closeDelay = []chunk{hello}, clientSide, time.Second
	case "reset_after_hello":
		tc.Category, tc.SNI = "connection_reset", g.ok[0].sni
		f.chunks, f.closer, f.close = []chunk{hello}, serverSide, closeRST
	case "http_server":
		tc.Category, tc.SNI = "not_tls_server", g.ok[0].sni
		f.chunks = []chunk{hello, {from: serverSide, data: []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")}}
		f.closer = serverSide
	case "http_client":
		tc.Category = "not_tls_client"
		f.chunks = []chunk{{from: clientSide, data: []byte("GET / HTTP/1.1\r\nHost: www." + domain + "\r\nUser-Agent: tlsgen\r\n\r\n")}}
		f.closer = serverSide
	case "plain_http":
		f.server = netip.AddrPortFrom(tcpServer(v6), 80)
		f.chunks = []chunk{
			{from: clientSide, data: []byte("GET /index.html HTTP/1.1\r\nHost: www." + domain + "\r\n\r\n")},
			{from: serverSide, data: httpResponse},
		}
	}
}

var httpResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n")

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// clientAddr gives connection n an address of its own, so that no 4-tuple
// is ever reused.
func clientAddr(n int, v6 bool) netip.AddrPort {
	port := uint16(32768 + n%28000)
	if v6 {
		var a [16]byte
		copy(a[:], []byte{0xfd, 0, 0, 0x10})
		a[12], a[13], a[14], a[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return netip.AddrPortFrom(netip.AddrFrom16(a), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), port)
}

// serverAddr is the address of the server for a name.
func serverAddr(sni string, port uint16, v6 bool) netip.AddrPort {
	var h byte
	for i := 0; i < len(sni); i++ {
		h = h*31 + sni[i]
	}
	h = 10 + h%200
	if v6 {
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: h}), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, h}), port)
}

func tcpServer(v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64})
	}
	return netip.AddrFrom4([4]byte{198, 51, 100, 100})
}
