package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/capture/live"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/report"
)

const liveUsage = `Usage: tlsdiag live [flags]

Sniffs an interface (as root, or with CAP_NET_RAW) and reports each TLS
connection as soon as its outcome is known: the handshake completed, an
alert, a reset, a non-TLS answer, or no progress for --handshake-timeout.
Ctrl-C stops: connections still open are reported with what is known, then
the summary and the capture statistics.

After the capture is open tlsdiag drops root privileges (to --user, default
nobody, like tcpdump -Z), so the parser of untrusted packets never runs as
root.

Examples:
    tlsdiag live
    tlsdiag live -i eth0 -f 'tcp port 443 or tcp port 8443' --failed
    tlsdiag live -i any --format ndjson -w capture.pcap --duration 10m

Flags:`

// defaultLiveFilter is what live captures unless told otherwise: TLS over
// TCP and QUIC on 443, and DNS, so that a lookup that failed (and the
// answer that named each connection's server) is in the report too, and
// ICMP, whose errors say why a connection or a lookup was refused.
const defaultLiveFilter = "tcp port 443 or udp port 443 or port 53 or icmp or icmp6"

func init() {
	commands["live"] = command{usage: liveUsage, run: runLive}
}

func runLive(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		iface, filter, formatFlag, writeFile, userName string
		capturePath                                    string
		count                                          int64
		duration, statsInterval                        time.Duration
		handshakeTimeout                               = 10 * time.Second
		snaplen                                        int
		fanout                                         = runtime.GOMAXPROCS(0)
		bufferKiB                                      = live.DefaultBufferSize >> 10
		noPromisc, failed                              bool
		caFlags                                        []string
		tlsPorts                                       []uint
	)
	fs.StringVarP(&iface, "interface", "i", "", "capture on this `interface` (\"any\" for all, \"nflog:GROUP\" for an iptables NFLOG group with libpcap); default: the first up, non-loopback one")
	fs.StringVarP(&filter, "filter", "f", defaultLiveFilter, "BPF capture `filter`, in tcpdump syntax (the default takes HTTP/3 and DNS too); the ports it names are TLS ports (a refused or plaintext connection to them is reported)")
	fs.Int64VarP(&count, "count", "c", 0, "stop after this many connections were reported")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (e.g. 30s, 10m)")
	fs.DurationVar(&statsInterval, "stats-interval", 0, "print a line of capture statistics (packets, drops, connections/s) to standard error this often (e.g. 10s)")
	fs.StringVarP(&writeFile, "write", "w", "", "also write the raw packets to this pcap `file` (frame numbers in the report are its frame numbers)")
	fs.IntVarP(&snaplen, "snaplen", "s", 0, "capture at most this many `bytes` of each packet (default 262144)")
	fs.IntVarP(&bufferKiB, "buffer-size", "B", bufferKiB, "kernel capture buffer in `KiB` (as tcpdump -B), shared by the --fanout sockets; it is most of tlsdiag's memory, a larger one drops fewer packets in bursts")
	fs.BoolVarP(&noPromisc, "no-promiscuous-mode", "p", false, "do not put the interface into promiscuous mode")
	fs.BoolP("numeric", "n", true, "print addresses numerically (always; accepted for tcpdump habits)")
	fs.StringVar(&capturePath, "capture", "", "capture `path`: afpacket (Linux) or libpcap (builds with libpcap); default afpacket on Linux")
	fs.IntVar(&fanout, "fanout", fanout, "capture with this many AF_PACKET `sockets` (default: one per core; one on any, and with a filter that takes UDP tunnels), the kernel handing each connection to one of them; 1 for a single socket")
	fs.StringVarP(&formatFlag, "format", "o", "table", "output `format`, one of:"+report.FormatHelp(true))
	fs.BoolVar(&failed, "failed", false, "report only connections whose verdict is not ok")
	fs.DurationVar(&handshakeTimeout, "handshake-timeout", handshakeTimeout, "report a connection whose handshake made no progress for this long")
	fs.StringVar(&userName, "user", "nobody", "after opening the capture, drop root privileges to this `user` (\"\" keeps them)")
	fs.StringArrayVar(&caFlags, flagCACert, nil, "trust the CA certificates in this PEM `file` too (repeatable)")
	fs.UintSliceVar(&tlsPorts, flagTLSPort, nil, "also report connections to this server `port` that carry no TLS; repeatable")
	zeekDir := fs.String("zeek-dir", "", "with --format zeek or zeek-json: write ssl.log and x509.log into this `directory`")
	output := fs.String("output", "", "send the records to a store instead of standard output: es+http://HOST:PORT/INDEX (Elasticsearch/OpenSearch _bulk API, ECS documents; es+https too)")
	seed := fs.Uint16("community-id-seed", 0, "hash each connection's Community ID with this `seed` (0 is the spec's default; other tools must use the same)")
	screenOpts := addScreenFlags(fs)
	capOpts := capFlags(fs)
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprintf(stdout, "%s\n%s", liveUsage, fs.FlagUsages())
			return 0
		}
		return usageError(stderr, err.Error(), "run 'tlsdiag help live' for the flags")
	}
	format, err := report.ParseFormat(formatFlag)
	format, outErr, outHint := outputFormat(*output, format, fs.Changed("format"))
	dirErr, dirHint := logDirFormat(*zeekDir, format)
	switch {
	case err != nil:
		return unknownValue(stderr, "--format", formatFlag, report.FormatNames(true))
	case outErr != "":
		return usageError(stderr, outErr, outHint)
	case dirErr != "":
		return usageError(stderr, dirErr, dirHint)
	case format.ListsFrames():
		return usageError(stderr, fmt.Sprintf("--format %s is not available in live mode", format), fmt.Sprintf("use -w FILE and then 'tlsdiag read --format %s FILE'", format))
	case fs.NArg() > 0:
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)), "quote the filter and pass it with -f")
	case statsInterval < 0:
		return usageError(stderr, "--stats-interval must be positive", "e.g. --stats-interval 10s")
	case handshakeTimeout <= 0:
		return usageError(stderr, "--handshake-timeout must be positive", "")
	case bufferKiB <= 0:
		return usageError(stderr, "-B/--buffer-size must be positive", "it is in KiB, as for tcpdump: e.g. -B 32768")
	case fanout < 1 || fanout > live.MaxFanout:
		return usageError(stderr, fmt.Sprintf("--fanout %d: want 1 to %d sockets", fanout, live.MaxFanout), "1 captures with one socket")
	case capturePath == string(live.Libpcap) && fs.Changed("fanout") && fanout > 1:
		return usageError(stderr, "--fanout is for the afpacket capture path", "libpcap captures with one handle: drop --fanout or --capture libpcap")
	case capturePath != "" && capturePath != string(live.AFPacket) && capturePath != string(live.Libpcap):
		return usageError(stderr, fmt.Sprintf("--capture %q: unknown capture path", capturePath), "use afpacket or libpcap ('tlsdiag version' lists this build's)")
	}
	scr, err := screenOpts.screenFor(stdout, os.Getenv)
	if err != nil {
		return unknownValue(stderr, "--color", screenOpts.color, colorModes)
	}
	roots, err := loadRoots(true, caFlags)
	if err == nil {
		err = roots.Err() // before the capture starts
	}
	if err != nil {
		failure(stderr, err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	if live.NetfilterLog(iface) && !fs.Changed("filter") {
		filter = "" // the NFLOG rule chose the packets
	}
	// A fan-out group shares packets by their outer flow, which differs
	// between the two directions of a connection in a UDP tunnel.
	tunnels := fanout > 1 && capturePath != string(live.Libpcap) && capture.FilterTakesUDPTunnels(filter)
	// On "any", a host that translates addresses (a Docker host's NAT)
	// shows a connection under two or three pairs of addresses, which a
	// fan-out by flow hands to different sockets: one socket reads them
	// as the one connection they are.
	anyNAT := fanout > 1 && capturePath != string(live.Libpcap) && iface == "any"
	if (tunnels || anyNAT) && !fs.Changed("fanout") {
		fanout = 1
	}
	cfg := live.Config{Interface: iface, Filter: filter, Snaplen: snaplen, Promiscuous: !noPromisc, BufferSize: bufferKiB << 10, Backend: live.Backend(capturePath), Fanout: fanout}
	if cfg.Interface == "" {
		if cfg.Interface, err = live.DefaultInterface(); err != nil {
			failure(stderr, err)
			return 2
		}
	}
	if writeFile != "" {
		f, err := os.Create(writeFile)
		if err != nil {
			failure(stderr, fmt.Errorf("-w: %w", err))
			return 2
		}
		defer f.Close()
		cfg.Output = f
	}
	h, err := live.Open(ctx, cfg)
	if err != nil {
		failure(stderr, err)
		return 2
	}
	defer h.Close()
	filterText := fmt.Sprintf("filter %q", filter)
	if filter == "" && live.NetfilterLog(iface) {
		filterText = "no filter (the NFLOG rules choose the packets)"
	}
	say(stderr, "capturing on %s (%s), %s", h.Name(), h.Path(), filterText)
	switch {
	case tunnels && fanout == 1:
		say(stderr, "one socket: the filter takes UDP tunnels (VXLAN, GENEVE, GTP-U, TZSP), whose connections a fan-out by flow would split between sockets")
	case tunnels && len(h.Sockets()) > 1:
		say(stderr, "warning: the filter takes UDP tunnels (VXLAN, GENEVE, GTP-U, TZSP): with --fanout %d the two directions of a connection inside one may go to different sockets and read as incomplete; --fanout 1 keeps them together", fanout)
	case anyNAT && fanout == 1:
		say(stderr, "one socket: on any, a host that translates addresses (a Docker host's NAT) shows each connection under two or three pairs of addresses, which a fan-out by flow would split between sockets; --fanout N shares the work on a host without NAT")
	case anyNAT && len(h.Sockets()) > 1:
		say(stderr, "warning: on any with --fanout %d, a connection seen on both sides of a NAT goes to different sockets and reads as two or three connections, one of them incomplete; --fanout 1 keeps them together", fanout)
	}
	if err := dropPrivileges(userName); err != nil {
		failure(stderr, err)
		return 2
	}

	dest, err := openOutput(*output, stdout, stderr, false)
	if err != nil {
		failure(stderr, err)
		return 2
	}
	defer dest.stop()
	opts := report.Options{CommunityIDSeed: *seed, Width: scr.width, Color: scr.color, Stats: screenOpts.stats}
	if *zeekDir != "" {
		opts.OpenLog = dest.openLog(*zeekDir)
	}
	out, err := report.NewStream(dest.w, format, opts)
	if err != nil {
		failure(stderr, err)
		return 2
	}
	status := 0
	var reported atomic.Int64
	var writeErr error
	pc := pipeline.Config{
		Analysis: analysis.Options{
			// The ports the user named in the filter were meant to be
			// looked at: a refused or plaintext connection to them is
			// reported.
			TLSPorts: append(toPorts(tlsPorts), capture.FilterPorts(filter)...),
		},
		Capture:  *capOpts,
		Diagnose: diagnose.Config{Roots: roots, Cache: diagnose.NewChainCache(0), SettingNames: settingFlags},
	}
	// The capture clock is the packets' timestamps; handshakes that make no
	// progress for handshakeTimeout end as idle.
	pc.Capture.IdleTimeout = handshakeTimeout
	srcs := make([]capture.SplitSource, len(h.Sockets()))
	for i, s := range h.Sockets() {
		srcs[i] = s
	}
	stopStats := statsLines(stderr, h, statsInterval, &reported)
	stats, runErr := pipeline.Live(ctx, srcs, pc, func(r pipeline.Result) {
		r.Source = writeFile // frame numbers are the -w file's
		if r.Verdict.Failed() {
			status = 1
		}
		if failed && !r.Verdict.Failed() || writeErr != nil {
			return
		}
		writeErr = out.Connection(r)
		if n := reported.Add(1); count > 0 && n >= count {
			h.Stop()
		}
	})
	stopStats()
	if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
		failure(stderr, runErr)
		status = 2
	}
	ls, lerr := h.Stats()
	if lerr != nil {
		failure(stderr, lerr)
	}
	notes := append(captureNotes(ls, lerr == nil, stats.Stats), sequenceNotes("", stats.SequenceStats)...)
	closeErr := out.CloseCapture(notes, captureStats(h, ls, stats.Stats))
	if closeErr == nil && !format.WritesSummary() {
		// csv, ecs and zeek have no place for them: standard error.
		saySummary(stderr, out.Summary())
	}
	if err := errors.Join(writeErr, closeErr, dest.close(stderr)); err != nil {
		failure(stderr, err)
		return 2
	}
	return status
}

// captureNotes are the capture statistics printed after the summary; ok
// says whether the kernel's counters ls could be read.
func captureNotes(ls live.Stats, ok bool, st capture.Stats) []string {
	notes := []string{fmt.Sprintf("%d frames read, %d TCP segments, %d connections", st.Frames, st.Segments, st.ConnsOpened)}
	if ok {
		notes = append(notes, fmt.Sprintf("%d packets received by the filter, %d dropped by the kernel, %d dropped by the interface",
			ls.Received, ls.DroppedByKernel, ls.DroppedByIface))
		if len(ls.Sockets) > 1 {
			per := make([]string, len(ls.Sockets))
			for i, s := range ls.Sockets {
				per[i] = fmt.Sprintf("socket %d: %d received, %d dropped", i+1, s.Received, s.DroppedByKernel)
			}
			notes = append(notes, strings.Join(per, "; "))
		}
	}
	notes = append(notes, capNotes("", st)...)
	return notes
}

// captureStats are the statistics the machine formats end with.
func captureStats(h *live.Handle, ls live.Stats, st capture.Stats) report.CaptureStats {
	cs := report.CaptureStats{
		Interface: h.Name(), Path: h.Path(),
		Received: int64(ls.Received), Dropped: int64(ls.DroppedByKernel), DroppedByInterface: int64(ls.DroppedByIface),
		Frames: st.Frames, TCPSegments: st.Segments, TCPConnections: st.ConnsOpened,
	}
	for _, s := range ls.Sockets {
		cs.Sockets = append(cs.Sockets, report.SocketStats{Received: int64(s.Received), Dropped: int64(s.DroppedByKernel)})
	}
	return cs
}

// saySummary writes the summary and its notes to standard error, for the
// formats that have no place for them.
func saySummary(stderr io.Writer, sum report.Summary) {
	verdicts := make([]string, len(sum.Verdicts))
	for i, v := range sum.Verdicts {
		verdicts[i] = fmt.Sprintf("%s %d", v.Name, v.Count)
	}
	line := fmt.Sprintf("summary: %d connections, %d failed", sum.Connections, sum.Failed)
	if len(verdicts) > 0 {
		line += " (" + strings.Join(verdicts, ", ") + ")"
	}
	say(stderr, "%s", line)
	for _, n := range sum.Notes {
		say(stderr, "%s", n)
	}
}

// statsLines prints a line of capture statistics to stderr every interval
// (none when it is 0) until the returned function is called: packets
// received, dropped, and connections reported, each with its rate since
// the line before.
func statsLines(stderr io.Writer, h *live.Handle, interval time.Duration, reported *atomic.Int64) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		var prev live.Stats
		var prevConns int64
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				ls, err := h.Stats()
				if err != nil {
					continue
				}
				conns := reported.Load()
				secs := now.Sub(last).Seconds()
				say(stderr, "stats: %d packets (%.0f/s), %d dropped (%d in the last %s), %d connections (%.1f/s)",
					ls.Received, float64(ls.Received-prev.Received)/secs, ls.DroppedByKernel, ls.DroppedByKernel-prev.DroppedByKernel,
					interval, conns, float64(conns-prevConns)/secs)
				prev, prevConns, last = ls, conns, now
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// dropPrivileges switches a root process to the named user once the
// capture handle is open, as tcpdump -Z does: the packet parser should not
// run as root. An empty name, or a process that is not root, keeps its
// privileges.
func dropPrivileges(name string) error {
	if name == "" || os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("--user: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("--user %s: %w", name, err)
	}
	// Groups first, then the group, then the user: after Setuid the
	// process could no longer change the others.
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("dropping privileges: setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("dropping privileges: setgid %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("dropping privileges: setuid %d: %w", uid, err)
	}
	return nil
}
