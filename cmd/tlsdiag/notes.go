package main

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// sequenceNotes says in words what the analysis left out or moved to
// keep connections in first-frame order, naming the flag that would
// change it; prefix names the capture.
func sequenceNotes(prefix string, st analysis.SequenceStats) []string {
	var notes []string
	for _, pc := range st.IgnoredBeforeTLS {
		notes = append(notes, fmt.Sprintf("%s%d %s without TLS to port %d ended before TLS was first seen on that port and %s not listed (%s %d lists them)",
			prefix, pc.Count, prose.Plural(pc.Count, "connection"), pc.Port, prose.Plural(pc.Count, "is", "are"), flagRef(flagTLSPort), pc.Port))
	}
	if st.Unanswered > 0 {
		notes = append(notes, fmt.Sprintf("%s%d %s whose SYNs got no answer %s listed last, after later ones",
			prefix, st.Unanswered, prose.Plural(st.Unanswered, "connection"), prose.Plural(st.Unanswered, "is", "are")))
	}
	if n := st.FamilyFallbacks; n > 0 {
		notes = append(notes, fmt.Sprintf("%s%d %s whose SYN got no SYN-ACK %s followed by the client's connection over the other IP family (IPv4 for IPv6, or the reverse), whose TLS handshake completed: the client fell back (Happy Eyeballs) and reached the server; %s verdict names the broken family's path and the time each fallback costs",
			prefix, n, prose.Plural(n, "connection"), prose.Plural(n, "was", "were"), prose.Plural(n, "its", "their")))
	}
	if st.UnansweredDropped > 0 {
		notes = append(notes, fmt.Sprintf("%s%d more %s whose SYNs got no answer %s not listed: more than %d were",
			prefix, st.UnansweredDropped, prose.Plural(st.UnansweredDropped, "connection"), prose.Plural(st.UnansweredDropped, "is", "are"), analysis.MaxHeldUnanswered))
	}
	if st.DNSNotKept > 0 {
		notes = append(notes, fmt.Sprintf("%s%d DNS %s not kept to bound memory: DNS answers of connections and failed lookups may be missing",
			prefix, st.DNSNotKept, prose.Plural(st.DNSNotKept, "message or name", "messages or names")))
	}
	if st.DNSMalformed > 0 {
		notes = append(notes, fmt.Sprintf("%s%d %s to or from port 53 did not parse as DNS", prefix, st.DNSMalformed, prose.Plural(st.DNSMalformed, "message")))
	}
	if d := st.DTLS; d.Flows > 0 {
		datagrams, flows := prose.Count(d.Datagrams, "UDP datagram"), prose.Count(d.Flows, "address pair")
		if d.FlowsCapped {
			datagrams, flows = "at least "+datagrams, fmt.Sprintf("more than %d address pairs", d.Flows)
		}
		notes = append(notes, fmt.Sprintf("%s%s on %s carried DTLS (the first handshake: frame %d, %s → %s), which tlsdiag does not analyse: it reads TLS over TCP and QUIC; Wireshark reads DTLS (tshark -Y dtls.handshake)",
			prefix, datagrams, flows, d.First.Number, d.Client, d.Server))
	}
	if st.AnsweredLate > 0 {
		notes = append(notes, fmt.Sprintf("%s%d %s listed after later ones: nothing but %s SYNs came until those had ended (the answer, a SYN-ACK or a reset, came later)",
			prefix, st.AnsweredLate, prose.Plural(st.AnsweredLate, "connection"), prose.Plural(st.AnsweredLate, "its", "their")))
	}
	if st.Late > 0 {
		notes = append(notes, fmt.Sprintf("%s%d %s listed after later ones: %s still open while more than the pending cap of later connections finished (%s)",
			prefix, st.Late, prose.Plural(st.Late, "connection"), prose.Plural(st.Late, "it was", "they were"), flagRef(flagMaxPending)))
	}
	return notes
}

// capNotes says what a capture's memory caps and damage cut, so that
// nothing is dropped silently. prefix names the capture when there are
// several.
func capNotes(prefix string, st capture.Stats) []string {
	var notes []string
	add := func(format string, args ...any) {
		notes = append(notes, prefix+fmt.Sprintf(format, args...))
	}
	if st.ConnsEvicted > 0 {
		add("%s closed early by the connection cap", prose.Count(st.ConnsEvicted, "connection"))
	}
	if st.CapGaps > 0 {
		add("%s (%d bytes) declared lost because out-of-order buffers were full", prose.Count(st.CapGaps, "hole"), st.CapGapBytes)
	}
	if lost := st.Gaps - st.CapGaps - st.SnapGaps; lost > 0 {
		add("%s (%d bytes) where segments were never captured", prose.Count(lost, "gap"), st.GapBytes-st.CapGapBytes-st.SnapGapBytes)
	}
	if st.Truncated > 0 {
		var cut []string
		if st.SnapGapBytes > 0 {
			cut = append(cut, fmt.Sprintf("%d bytes of TCP payload cut", st.SnapGapBytes))
		}
		if st.UDPCut > 0 {
			cut = append(cut, fmt.Sprintf("%d bytes of UDP payload cut in %s: a QUIC packet cut short cannot be decrypted, and a QUIC connection whose first packets were cut is not reported",
				st.UDPCutBytes, prose.Count(st.UDPCut, "datagram")))
		}
		if len(cut) == 0 {
			cut = append(cut, "no TCP or UDP payload among the bytes cut")
		}
		add("%s cut short by the snap length (%s); capture with -s 0 to keep whole frames", prose.Count(st.Truncated, "frame"), strings.Join(cut, "; "))
	}
	if st.IPv4FragmentsDropped > 0 {
		add("%s given up (overlap, timeout or memory cap)", prose.Count(st.IPv4FragmentsDropped, "IPv4 fragment"))
	}
	if st.IPv6FragmentsDropped > 0 {
		add("%s given up (overlap, timeout or memory cap)", prose.Count(st.IPv6FragmentsDropped, "IPv6 fragment"))
	}
	if st.RecordedDrops > 0 {
		add("the capturing tool dropped %s, as the file's interface statistics record: a gap, a missing handshake message or a silence may be the capture's loss, not the network's",
			prose.Count(st.RecordedDrops, "packet"))
	}
	if st.JoinedFiles > 0 {
		add("the file is %d pcap files joined end to end (as cat joins them), read as one capture; Wireshark reads them once joined with mergecap -a -w joined.pcap FILE..., with the same frame numbers",
			st.JoinedFiles+1)
	}
	// Only a step that could change a verdict or a wait is noted: the
	// micro- to milliseconds by which interfaces and NIC queues are
	// written out of order are counted in the statistics, not said.
	if st.ClockStepMax >= analysis.ClockStep {
		where := fmt.Sprintf("in frame %d, by %s", st.ClockStepMaxFrame, diagnose.Span(st.ClockStepMax))
		if st.ClockSteps > 1 {
			where = fmt.Sprintf("in %d frames, by up to %s (in frame %d)", st.ClockSteps, diagnose.Span(st.ClockStepMax), st.ClockStepMaxFrame)
		}
		add("capture time goes back %s: the capturing clock was set back while capturing (an NTP step) or the frames come from several clocks (files of two hosts joined with mergecap -a); a duration across a step is not exact",
			where)
	}
	if st.InterfaceCopies > 0 {
		add("%s repeated a packet just captured on another interface (a bridge under tcpdump -i any, or dumpcap on several interfaces) and %s dropped: each packet counts once",
			prose.Count(st.InterfaceCopies, "frame"), prose.Plural(st.InterfaceCopies, "was", "were"))
	}
	if st.NATConns > 0 {
		add("%s %s seen on both sides of a NAT between the interfaces, under other addresses (%s → %s, for one, was also captured as %s → %s): each is listed once, under the addresses seen first, and its frames under the others count among the copies",
			prose.Count(st.NATConns, "connection"), prose.Plural(st.NATConns, "was", "were"), st.NATTo[0], st.NATTo[1], st.NATFrom[0], st.NATFrom[1])
	}
	if st.Conflicts > 0 {
		add("%s carried different bytes than the original (the original was kept)", prose.Count(st.Conflicts, "retransmitted segment"))
	}
	if st.Malformed > 0 {
		add("%s whose headers could not be decoded", prose.Count(st.Malformed, "frame"))
	}
	for _, k := range slices.SortedFunc(maps.Keys(st.Skipped), func(a, b capture.Skip) int {
		return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.What, b.What))
	}) {
		n := prose.Count(st.Skipped[k], "frame")
		switch k.Reason {
		case capture.SkipLinkType:
			add("%s of link type %s skipped: not decoded (Ethernet, Linux cooked SLL/SLL2, BSD loopback, raw IP, NFLOG, PKTAP, 802.11, PPP, Cisco HDLC and IP over InfiniBand are); capture on the network interface itself (or -i any) to analyse them", n, k.What)
		case capture.SkipEncrypted:
			layer, advice := "the link layer", "capture where the packets are not encrypted yet: on the client or server itself, or on a switch port that does not use MACsec"
			switch {
			case strings.HasPrefix(k.What, "802.11"):
				advice = "a Wi-Fi capture in monitor mode sees only that; capture on the client or server itself (its Wi-Fi interface, not in monitor mode), or decrypt first (airdecap-ng with the network's passphrase writes a decrypted copy as Ethernet frames)"
			case strings.HasPrefix(k.What, "IPsec"):
				layer, advice = "IPsec", "a connection inside the VPN tunnel is hidden: capture inside it, on the client or server itself or on the VPN gateway's inside interface (Wireshark decrypts ESP given the security associations' keys)"
			}
			add("%s encrypted by %s skipped: tlsdiag does not decrypt %s; %s", n, k.What, layer, advice)
		case capture.SkipRepeat:
			add("%s dropped: each repeated a frame already read, and the receiver drops it too", prose.Count(st.Skipped[k], k.What))
		case capture.SkipLinkLayer:
			add("%s skipped: %s", n, k.What)
		default:
			add("%s skipped: %s is not decoded", n, k.What)
		}
	}
	return notes
}

// unseenNotes say what a capture that gave no connection held instead:
// the TCP connections without TLS, by port, and the flag that would
// diagnose them. Frames skipped unread (encrypted Wi-Fi, a link type not
// decoded) may hide connections: that is said too.
func unseenNotes(prefix string, st analysis.Stats) []string {
	ports := st.IgnoredByPort
	if len(ports) == 0 {
		var skipped int64
		for _, n := range st.Skipped {
			skipped += n
		}
		switch {
		case st.Frames == 0:
			return nil
		case skipped >= st.Frames && st.Frames == 1:
			return []string{prefix + "the only frame was skipped, as noted above: no connection could be read"}
		case skipped >= st.Frames:
			return []string{fmt.Sprintf("%sall %d frames were skipped, as noted above: no connection could be read", prefix, st.Frames)}
		case skipped > 0:
			return []string{fmt.Sprintf("%s%s: no TCP connection among the %d read (%d skipped, as noted above)", prefix, prose.Count(st.Frames, "frame"), st.Frames-skipped, skipped)}
		}
		return []string{fmt.Sprintf("%s%s: no TCP connection", prefix, prose.Count(st.Frames, "frame"))}
	}
	const shown = 3
	var parts, flags []string
	for i, pc := range ports {
		if i == shown {
			rest := 0
			for _, pc := range ports[shown:] {
				rest += pc.Count
			}
			parts = append(parts, fmt.Sprintf("%d on %d other ports", rest, len(ports)-shown))
			break
		}
		what := prose.Count(int64(pc.Count), "TCP connection")
		if i > 0 {
			what = strconv.Itoa(pc.Count)
		}
		parts = append(parts, fmt.Sprintf("%s on port %d", what, pc.Port))
		flags = append(flags, fmt.Sprintf("--tls-port %d", pc.Port))
	}
	total := 0
	for _, pc := range ports {
		total += pc.Count
	}
	return []string{fmt.Sprintf("%s%s: %s without TLS — pass %s if %s meant to be TLS",
		prefix, prose.Count(st.Frames, "frame"), strings.Join(parts, ", "), strings.Join(flags, " "), prose.Plural(total, "it was", "they were"))}
}

// capFlags registers the flags of capture's memory caps on fs, with their
// defaults, and returns the options they fill in.
func capFlags(fs *pflag.FlagSet) *capture.Options {
	o := &capture.Options{
		MaxConnections:          capture.DefaultMaxConnections,
		MaxBufferedBytesPerConn: capture.DefaultMaxBufferedBytesPerConn,
		MaxBufferedBytes:        capture.DefaultMaxBufferedBytes,
	}
	fs.IntVar(&o.MaxConnections, "max-connections", o.MaxConnections, "track at most this many TCP connections at once; the longest idle is closed beyond it")
	fs.IntVar(&o.MaxBufferedBytesPerConn, "max-buffer", o.MaxBufferedBytesPerConn, "buffer at most this many out-of-order `bytes` per connection")
	fs.IntVar(&o.MaxBufferedBytes, "max-buffer-total", o.MaxBufferedBytes, "buffer at most this many out-of-order `bytes` in all")
	return o
}

// readErrorNotes puts the error that stopped reading a capture part way in
// the report, for the formats read by programs (the error also goes to
// stderr): which frame it stopped at, and that the connections before it
// are reported. A file that could not be opened has no report to explain:
// its error is only on stderr.
func readErrorNotes(err error) []string {
	var re *capture.ReadError
	if !errors.As(err, &re) {
		return nil
	}
	return []string{fmt.Sprintf("%s: reading stopped at frame %d (offset %d): %v; the connections seen before it are reported, those still open as the capture ended there",
		re.File, re.Frame, re.Offset, re.Err)}
}
