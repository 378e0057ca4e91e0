package capture

import (
	"slices"
	"strconv"
	"strings"
)

// maxFilterPorts bounds the ports FilterPorts returns: a wide portrange
// names ports, not TLS services.
const maxFilterPorts = 4096

// FilterPorts returns the TCP ports a capture filter (tcpdump/libpcap
// syntax: live's -f, a pcapng interface's if_filter) selects by number:
// "port N", "dst port N", "portrange A-B", "port N or M", sorted and
// without repeats. Ports the filter excludes ("not port 22") are left out.
// It reads only those primitives: it is a hint of what the user meant to
// look at, not a BPF compiler.
func FilterPorts(filter string) []uint16 {
	toks := filterTokens(filter)
	var ports []uint16
	add := func(lo, hi uint64) {
		for p := lo; p <= hi && len(ports) < maxFilterPorts; p++ {
			ports = append(ports, uint16(p))
		}
	}
	for i := 0; i < len(toks); i++ {
		kw := toks[i]
		if kw != "port" && kw != "portrange" {
			continue
		}
		negated := false
		for j := i - 1; j >= 0 && j >= i-3; j-- {
			if toks[j] == "not" {
				negated = true
				break
			}
			if toks[j] == "and" || toks[j] == "or" || toks[j] == "&&" || toks[j] == "||" {
				break
			}
		}
		// "port 443 or 8443": the numbers after or/and keep the keyword.
		for j := i + 1; j < len(toks); j += 2 {
			lo, hi, ok := portArg(toks[j], kw == "portrange")
			if !ok {
				break
			}
			if !negated {
				add(lo, hi)
			}
			i = j
			if j+1 >= len(toks) || toks[j+1] != "or" && toks[j+1] != "||" {
				break
			}
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

// filterTokens splits a capture filter into lower-case words, with
// parentheses as spaces and "!" as "not".
func filterTokens(filter string) []string {
	r := strings.NewReplacer("(", " ", ")", " ", "!", " not ")
	return strings.Fields(strings.ToLower(r.Replace(filter)))
}

// portArg reads "443" or, for portrange, "4430-4499".
func portArg(s string, isRange bool) (lo, hi uint64, ok bool) {
	if isRange {
		a, b, found := strings.Cut(s, "-")
		if !found {
			return 0, 0, false
		}
		lo, err1 := strconv.ParseUint(a, 10, 16)
		hi, err2 := strconv.ParseUint(b, 10, 16)
		if err1 != nil || err2 != nil || lo == 0 || hi < lo {
			return 0, 0, false
		}
		return lo, hi, true
	}
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, 0, false
	}
	return p, p, true
}

// udpTunnelPorts are the UDP ports of the tunnels the decoder reads.
var udpTunnelPorts = []uint16{portVXLAN, portVXLANLinux, portGENEVE, portGTPU, portTZSP, portCAPWAPData}

// FilterTakesUDPTunnels reports whether a capture filter may pass the
// packets of a UDP tunnel the decoder reads (VXLAN, GENEVE, GTP-U, TZSP,
// CAPWAP): it is empty, names one of their ports or the tunnel (libpcap's
// vxlan, geneve), or takes UDP without naming a port. A tunnel's outer headers
// differ between a connection's two directions (each end picks the UDP
// source port from its own hash of the packet inside), so a kernel
// fan-out by the outer flow may hand them to different sockets.
func FilterTakesUDPTunnels(filter string) bool {
	toks := filterTokens(filter)
	if len(toks) == 0 {
		return true
	}
	for i, tok := range toks {
		switch tok {
		case "vxlan", "geneve":
			return true
		case "udp":
			if i+1 == len(toks) || !slices.Contains([]string{"port", "portrange", "src", "dst"}, toks[i+1]) {
				return true
			}
		}
	}
	for _, p := range FilterPorts(filter) {
		if slices.Contains(udpTunnelPorts, p) {
			return true
		}
	}
	return false
}
