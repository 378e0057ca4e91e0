package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// capNotes says what a capture's memory caps and damage cut, so that
// nothing is dropped silently. prefix names the capture when there are
// several.
func capNotes(prefix string, st capture.Stats) []string {
	var notes []string
	add := func(format string, args ...any) {
		notes = append(notes, prefix+fmt.Sprintf(format, args...))
	}
	if st.ConnsEvicted > 0 {
		add("%s closed early by the connection cap", count(st.ConnsEvicted, "connection"))
	}
	if st.CapGaps > 0 {
		add("%s (%d bytes) declared lost because out-of-order buffers were full", count(st.CapGaps, "hole"), st.CapGapBytes)
	}
	if lost := st.Gaps - st.CapGaps - st.SnapGaps; lost > 0 {
		add("%s (%d bytes) where segments were never captured", count(lost, "gap"), st.GapBytes-st.CapGapBytes-st.SnapGapBytes)
	}
	if st.Truncated > 0 {
		add("%s cut short by the snap length (%d bytes of TCP payload cut); capture with -s 0 to keep whole frames", count(st.Truncated, "frame"), st.SnapGapBytes)
	}
	if st.IPv4FragmentsDropped > 0 {
		add("%s given up (overlap, timeout or memory cap)", count(st.IPv4FragmentsDropped, "IPv4 fragment"))
	}
	if st.IPv6FragmentsDropped > 0 {
		add("%s given up (overlap, timeout or memory cap)", count(st.IPv6FragmentsDropped, "IPv6 fragment"))
	}
	if st.Conflicts > 0 {
		add("%s carried different bytes than the original (the original was kept)", count(st.Conflicts, "retransmitted segment"))
	}
	if st.Malformed > 0 {
		add("%s whose headers could not be decoded", count(st.Malformed, "frame"))
	}
	for _, k := range slices.SortedFunc(maps.Keys(st.Skipped), func(a, b capture.Skip) int {
		return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.What, b.What))
	}) {
		n := count(st.Skipped[k], "frame")
		switch k.Reason {
		case capture.SkipLinkType:
			add("%s of link type %s skipped: not decoded (Ethernet, Linux cooked SLL/SLL2, BSD loopback and raw IP are); capture on the network interface itself (or -i any) to analyse them", n, k.What)
		default:
			add("%s skipped: %s is not decoded", n, k.What)
		}
	}
	return notes
}

// unseenNotes say what a capture that gave no connection held instead:
// the TCP connections without TLS, by port, and the flag that would
// diagnose them.
func unseenNotes(prefix string, st analysis.Stats) []string {
	ports := st.IgnoredByPort
	if len(ports) == 0 {
		if st.Frames > 0 {
			return []string{fmt.Sprintf("%s%s: no TCP connection", prefix, count(st.Frames, "frame"))}
		}
		return nil
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
		what := count(int64(pc.Count), "TCP connection")
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
		prefix, count(st.Frames, "frame"), strings.Join(parts, ", "), strings.Join(flags, " "), plural(total, "it was", "they were"))}
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// count writes n and the noun, plural when n is not 1.
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
