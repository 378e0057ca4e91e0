package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/capture/live"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// maxCaptureBytes bounds the frames a probe keeps for its analysis: a
// handshake needs a few kilobytes; the body of a large download is
// dropped (and said so) beyond this.
const maxCaptureBytes = 64 << 20

// Waiting for the capture to catch up with the request's last packets.
const (
	settlePoll  = 5 * time.Millisecond
	settleQuiet = 30 * time.Millisecond
	settleMax   = 3 * time.Second
)

// wireCapture is a live capture of the probe's own connection. Frames are
// kept in memory and analysed only after the request, when the key log is
// complete: crypto/tls writes a secret only once it has derived it, which
// may be after the capture read the records it opens.
type wireCapture struct {
	iface, filter string
	err           error

	handle   *live.Handle
	linkType layers.LinkType
	done     chan struct{}
	// Written by the reading goroutine until done is closed.
	frames    []storedFrame
	bytes     int
	truncated int
	readErr   error

	// opened holds the TCP endpoints the capture has seen send a SYN,
	// closed those it has seen close: the sender of a FIN, both ends of a
	// RST. flows reads them from the frames, as the analysis does.
	flows          *capture.FlowDecoder
	mu             sync.Mutex
	opened, closed map[netip.AddrPort]bool
}

type storedFrame struct {
	data []byte
	ci   gopacket.CaptureInfo
}

func newWireCapture(iface, filter string) *wireCapture {
	return &wireCapture{iface: iface, filter: filter, done: make(chan struct{}), flows: capture.NewFlowDecoder(),
		opened: map[netip.AddrPort]bool{}, closed: map[netip.AddrPort]bool{}}
}

// startCapture opens the capture and starts reading; it returns once the
// handle is open, so the connection's first SYN is captured. A capture
// that cannot start (no privileges) is recorded in err: the probe goes on
// without a wire view.
func startCapture(ctx context.Context, cfg *Config, p *dialPlan) *wireCapture {
	w := newWireCapture(cfg.Interface, bpfFilter(p.Addrs, p.Port))
	if w.iface == "" {
		w.iface = captureInterface(p.Addrs)
	}
	out := cfg.Pcap
	if cfg.PcapNG {
		out = nil // written by finish, with the secrets
	}
	h, err := live.Open(ctx, live.Config{Interface: w.iface, Filter: w.filter, Immediate: true, ReadTimeout: settlePoll, Output: out})
	if err != nil {
		w.err = err
		close(w.done)
		return w
	}
	w.handle, w.linkType = h, h.LinkType()
	go w.read()
	return w
}

func (w *wireCapture) read() {
	defer close(w.done)
	for {
		data, ci, err := w.handle.ReadPacketData()
		if err != nil {
			if err != io.EOF {
				w.readErr = err
			}
			return
		}
		if w.bytes+len(data) > maxCaptureBytes {
			w.truncated++
			continue
		}
		w.frames = append(w.frames, storedFrame{data: bytes.Clone(data), ci: ci})
		w.bytes += len(data)
		w.noteClose(data, ci.Timestamp)
	}
}

// noteClose records the endpoint that opens a connection with the
// frame's SYN, and those its FIN or RST closes.
func (w *wireCapture) noteClose(data []byte, ts time.Time) {
	fl, ok := w.flows.Flow(data, ts, w.linkType)
	if !ok || fl.UDP || !fl.Open && !fl.FIN && !fl.RST {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case fl.Open:
		w.opened[fl.Src] = true
	case fl.FIN:
		w.closed[fl.Src] = true
	}
	if fl.RST {
		w.closed[fl.Src] = true
		w.closed[fl.Dst] = true
	}
}

// awaitClose waits, up to settleMax, until the capture has read the
// packet that closed the connection from local: the client closed it
// before the capture is stopped, but the kernel may hand its FIN (or
// RST) to the capture later on a busy machine (loopback delivers it from
// a deferred softirq), after the counters said everything was read. A
// capture that did not see the connection open (another interface) is
// not waited for.
func (w *wireCapture) awaitClose(local netip.AddrPort) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	for deadline := time.Now().Add(settleMax); time.Now().Before(deadline); time.Sleep(settlePoll) {
		w.mu.Lock()
		done := w.closed[local] || !w.opened[local]
		w.mu.Unlock()
		if done {
			return
		}
	}
}

// settle waits until the capture has read every packet the kernel queued
// (the request's last packets, its FIN or RST, were sent before this is
// called). Where the counts are exact (AF_PACKET), until the frames read
// and dropped reach the count received, however long a busy machine
// keeps the reader from running, up to settleMax. Where they are not
// (libpcap counts each loopback packet twice and drops the copy itself),
// until that or until the count read has not moved for settleQuiet.
func settle(stats func() (live.Stats, error)) {
	deadline := time.Now().Add(settleMax)
	last, quiet := int64(-1), time.Duration(0)
	for time.Now().Before(deadline) {
		s, err := stats()
		if err != nil {
			return
		}
		if s.Read+int64(s.DroppedByKernel) >= int64(s.Received) {
			return
		}
		if s.Read == last && !s.Exact {
			if quiet >= settleQuiet {
				return
			}
			quiet += settlePoll
		} else {
			quiet = 0
		}
		last = s.Read
		time.Sleep(settlePoll)
	}
}

// finish stops the capture and analyses the frames: the connection the
// request used (the one from local port port, when known), its verdict
// against cfg.WireRoots (cfg.ProxyWireRoots for an https:// proxy's own
// TLS), and its chain's problems.
func (w *wireCapture) finish(cfg *Config, p *dialPlan, keyLog []byte, o *Outcome) Wire {
	local, remote := o.Local, o.Remote
	out := Wire{Interface: w.iface, Filter: w.filter}
	if w.err != nil {
		out.Err = w.err
		return out
	}
	if o.conn != nil && o.conn.closedAtOnce() {
		w.awaitClose(local)
	}
	settle(w.handle.Stats)
	w.handle.Stop()
	<-w.done
	if err := w.handle.Close(); err != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("writing the capture file: %v", err))
	}
	if s, err := w.handle.Stats(); err == nil {
		out.Dropped = s.DroppedByKernel
	}
	if w.readErr != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("the capture stopped early: %v", w.readErr))
	}
	if w.truncated > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d frames after the first %d MiB were not analysed", w.truncated, maxCaptureBytes>>20))
	}
	if out.Dropped > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("the kernel dropped %d packets: the analysis may lack some", out.Dropped))
	}
	out.Frames = int64(len(w.frames))
	if cfg.PcapNG && cfg.Pcap != nil {
		if err := w.writePcapng(cfg.Pcap, keyLog); err != nil {
			out.Notes = append(out.Notes, fmt.Sprintf("writing the capture file: %v", err))
		}
	}
	// crypto/tls writes well-formed lines only; a failure here would
	// just leave TLS 1.3 encrypted.
	kl, _ := decrypt.ParseKeyLog(bytes.NewReader(keyLog))
	settingNames := cfg.SettingNames
	if o.proxyTLS {
		// The TLS the wire judges is the https:// proxy's own: a fix
		// about its roots points at the proxy's.
		settingNames = maps.Clone(settingNames)
		if settingNames == nil {
			settingNames = map[diagnose.Setting]string{}
		}
		settingNames[diagnose.SettingRoots] = cfg.Names.of(SettingProxyRootCAs)
	}
	roots := cfg.WireRoots
	if o.proxyTLS && cfg.ProxyWireRoots != nil {
		roots = cfg.ProxyWireRoots
	}
	pc := pipeline.Config{
		Analysis: analysis.Options{KeyLog: kl, Trace: cfg.Trace, TLSPorts: []uint16{p.Port}},
		Capture:  capture.Options{IdleTimeout: -1},
		Diagnose: diagnose.Config{Roots: diagnose.PoolRoots(roots), SettingNames: settingNames, ExplicitProxy: o.proxyFlag},
	}
	if o.HTTP != nil {
		pc.Diagnose.Response = &analysis.HTTPResponse{Status: o.HTTP.StatusCode, Reason: strings.TrimSpace(strings.TrimPrefix(o.HTTP.Status, strconv.Itoa(o.HTTP.StatusCode))), Server: o.HTTP.Server}
		pc.Diagnose.Server = diagnose.RecognizeServer(pc.Diagnose.Response)
	}
	// Every connection is diagnosed with the request's HTTP answer; only
	// the request's own, picked below, is kept.
	results, stats, err := pipeline.Collect(context.Background(), &replay{frames: w.frames, linkType: w.linkType}, pc)
	if err != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("analysing the capture: %v", err))
	}
	out.Start = stats.Start
	r, others := pick(results, remote, local.Port())
	if others > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("the capture also shows %d other connection(s) to %s, not the probe's", others, remote))
	}
	if r == nil {
		out.Notes = append(out.Notes, fmt.Sprintf("the capture (%d frames) does not show the probe's connection to %s", out.Frames, remote))
		return out
	}
	if p := r.Conn.Proxy; o.proxyTLS && p != nil && p.TLS != nil {
		// The key log opened the proxy's TLS and the wire read the
		// target's handshake in its tunnel: the verdict judges the
		// target, whose roots are the client's own, without the proxy's.
		roots = cfg.WireRoots
		dc := pc.Diagnose
		dc.Roots = diagnose.PoolRoots(roots)
		dc.SettingNames = cfg.SettingNames
		r.Verdict = diagnose.Diagnose(r.Conn, dc)
	}
	out.Result = r
	out.Chain = checkChain(r.Conn, roots)
	return out
}

// checkChain validates the chain the capture shows, at the capture's time;
// nil when the capture shows no chain (TLS 1.3 without secrets, or no
// Certificate message).
func checkChain(c *analysis.Connection, roots *x509.CertPool) *ChainCheck {
	var chain []*x509.Certificate
	for _, cert := range c.Certificates {
		if cert.X509 == nil {
			return nil
		}
		chain = append(chain, cert.X509)
	}
	if len(chain) == 0 {
		return nil
	}
	sni := ""
	if c.ClientHello != nil {
		sni = c.ClientHello.ServerName
	}
	probs := diagnose.CheckChain(chain, sni, c.CertificateFrame.Time, roots)
	if sni == "" {
		// The probe's client sends no SNI only for an address, and then
		// checks that address against the certificate.
		if p := diagnose.AddressProblem(chain[0], c.Server.Addr()); p != nil {
			probs = append(probs, *p)
		}
	}
	return &ChainCheck{Problems: probs}
}

// ChainCheck is the validation of the chain the capture shows against the
// wire's trust store (Config.WireRoots).
type ChainCheck struct {
	// Problems are the reasons the chain does not validate, most important
	// first; empty when it does.
	Problems []diagnose.CertProblem
}

// pick finds the request's connection: to remote, from local port port
// (the last such when the port was reused), else the last to remote. It
// also counts the connections to remote that are not it.
func pick(results []pipeline.Result, remote netip.AddrPort, port uint16) (*pipeline.Result, int) {
	var match, last *pipeline.Result
	n := 0
	for i := range results {
		c := results[i].Conn
		if c.Server.Addr().Unmap() != remote.Addr() || c.Server.Port() != remote.Port() {
			continue
		}
		n++
		last = &results[i]
		if port != 0 && c.Client.Port() == port {
			match = &results[i]
		}
	}
	if port == 0 {
		match = last
	}
	if match == nil {
		return nil, n
	}
	return match, n - 1
}

// replay is a capture.Source over the frames the live capture kept.
type replay struct {
	frames   []storedFrame
	next     int
	linkType layers.LinkType
}

func (r *replay) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	if r.next >= len(r.frames) {
		return nil, gopacket.CaptureInfo{}, io.EOF
	}
	f := r.frames[r.next]
	r.next++
	return f.data, f.ci, nil
}

func (r *replay) LinkType() layers.LinkType { return r.linkType }

// bpfFilter selects the connection's packets and the ICMP errors that
// may answer them (a firewall's REJECT, a router without a route): "(tcp
// port 443 and (host 192.0.2.1 or host 2001:db8::1)) or icmp or icmp6".
func bpfFilter(addrs []netip.Addr, port uint16) string {
	hosts := make([]string, len(addrs))
	for i, a := range addrs {
		hosts[i] = "host " + a.WithZone("").String()
	}
	h := strings.Join(hosts, " or ")
	if len(hosts) > 1 {
		h = "(" + h + ")"
	}
	return "(tcp port " + strconv.Itoa(int(port)) + " and " + h + ") or icmp or icmp6"
}

// captureInterface names the interface the packets to addrs cross: the
// loopback interface for loopback addresses and this host's own addresses
// (the kernel routes those through it), else the interface holding the
// source address the kernel picks, else "any".
func captureInterface(addrs []netip.Addr) string {
	local, loopback := localAddrs()
	names := map[string]bool{}
	for _, a := range addrs {
		if _, own := local[a]; own || a.IsLoopback() {
			names[loopback] = true
			continue
		}
		src, ok := sourceFor(a)
		if n, found := local[src]; ok && found {
			names[n] = true
		} else {
			names["any"] = true
		}
	}
	if len(names) == 1 {
		for n := range names {
			return n
		}
	}
	return "any"
}

// localAddrs maps this host's addresses to their interfaces, and names the
// loopback interface.
func localAddrs() (map[netip.Addr]string, string) {
	m := map[netip.Addr]string{}
	loopback := "lo"
	ifs, err := net.Interfaces()
	if err != nil {
		return m, loopback
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			loopback = ifc.Name
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				m[p.Addr().Unmap()] = ifc.Name
			}
		}
	}
	return m, loopback
}

// sourceFor returns the local address the kernel would send from to reach
// dst. Connecting a UDP socket only looks up the route: nothing is sent.
func sourceFor(dst netip.Addr) (netip.Addr, bool) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, false
	}
	defer c.Close()
	a := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	return a, a.IsValid() && !a.IsUnspecified()
}

// writePcapng writes the frames as a pcapng file whose first block after
// the interface is a Decryption Secrets Block holding the key log
// (pcapng specification Section 4.7; what `editcap --inject-secrets`
// writes), so the secrets precede every packet that needs them.
func (w *wireCapture) writePcapng(dst io.Writer, keyLog []byte) error {
	ng, err := pcapgo.NewNgWriterInterface(dst, pcapgo.NgInterface{
		Name: w.iface, LinkType: w.linkType, SnapLength: 262144, TimestampResolution: 9,
	}, pcapgo.NgWriterOptions{})
	if err != nil {
		return err
	}
	if len(keyLog) > 0 {
		if err := ng.WriteDecryptionSecretsBlock(capture.SecretsTypeTLSKeyLog, keyLog); err != nil {
			return err
		}
	}
	for _, f := range w.frames {
		ci := f.ci
		ci.InterfaceIndex = 0
		if err := ng.WritePacket(ci, f.data); err != nil {
			return err
		}
	}
	return ng.Flush()
}
