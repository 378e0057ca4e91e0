package probe

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/diagnose"
)

// endpoint is a host (a name or an address) and a port (0 when not
// named) that a program's error line names.
type endpoint struct {
	host string
	port uint16
}

// endpointPatterns find the places a program's error line names: a URL
// (Go's `Get "https://HOST:PORT/"`, Python's), curl's "Failed to connect
// to HOST port N" and "Could not resolve host: NAME", Go's "lookup NAME",
// "dial tcp HOST:PORT" and its SOCKS dialer's "PROXY->TARGET", Node's
// "getaddrinfo ENOTFOUND NAME" and "connect ECONNREFUSED ADDR:PORT".
// Each has a host group and, where the line can give one, a port group.
var endpointPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bhttps?://(\[[^\]\s]+\]|[^/\s"':@]+)(?::(\d+))?`),
		regexp.MustCompile(`(?i)failed to connect to (\S+) port (\d+)`),
		regexp.MustCompile(`(?i)(?:could not resolve (?:host|proxy): |\blookup |failed to resolve '|\bE(?:NOTFOUND|AI_AGAIN) )([^\s':"]+)()`),
		regexp.MustCompile(`(?i)(?:\bdial tcp[46]? |->|\b(?:connect|E[A-Z]+) E[A-Z]+ )(\[[^\]\s]+\]|[^\s:\[\]>-]+):(\d+)`),
	}
})

// lazyRegexp returns expr compiled on first use. The patterns that read
// what a program printed serve only exec and probe: compiled when the
// package was initialised, they were a twentieth of the start of every
// command, read included.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// namedEndpoints returns the places a program's error line names, in the
// order it names them.
func namedEndpoints(line string) []endpoint {
	var eps []endpoint
	for _, p := range endpointPatterns() {
		for _, m := range p.FindAllStringSubmatch(line, -1) {
			e := endpoint{host: strings.ToLower(strings.Trim(m[1], "[]"))}
			if n, err := strconv.ParseUint(m[2], 10, 16); err == nil {
				e.port = uint16(n)
			}
			if !slices.Contains(eps, e) {
				eps = append(eps, e)
			}
		}
	}
	return eps
}

// names reports whether e is a place connection c went to: its server,
// the name its ClientHello asked for, the target it asked a proxy for,
// or the name a failed lookup was for.
func (e endpoint) names(c *analysis.Connection) bool {
	hosts := []string{c.Server.Addr().String()}
	ports := []uint16{c.Server.Port()}
	if c.ClientHello != nil && c.ClientHello.ServerName != "" {
		hosts = append(hosts, strings.ToLower(c.ClientHello.ServerName))
	}
	if c.Proxy != nil && c.Proxy.Host != "" {
		hosts = append(hosts, strings.ToLower(strings.Trim(c.Proxy.Host, "[]")))
		ports = append(ports, c.Proxy.Port)
	}
	if c.DNSFailure != nil {
		hosts = append(hosts, strings.ToLower(strings.TrimSuffix(c.DNSFailure.Name, ".")))
	}
	host := e.host
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	return slices.Contains(hosts, host) && (e.port == 0 || slices.Contains(ports, e.port))
}

// errorConnections returns the indexes of the connections the program's
// one outcome (its error, or its success) is about. A script fetching
// several URLs has many connections and one error: it is about the
// connections that agree with it (the wire's verdict is what the error
// implies), among those the error line names when it names any, and the
// failed ones among them when any failed. When none agrees, the
// disagreement is said once: on the last connection (the one nearest the
// exit) the line names, failed if one did.
func errorConnections(o *Outcome, wires []Wire, named []endpoint) []int {
	all := make([]int, len(wires))
	for i := range wires {
		all[i] = i
	}
	// narrow keeps the members of set that keep, unless none does.
	narrow := func(set []int, keep func(w *Wire) bool) []int {
		var sub []int
		for _, i := range set {
			if keep(&wires[i]) {
				sub = append(sub, i)
			}
		}
		if len(sub) == 0 {
			return set
		}
		return sub
	}
	set := narrow(all, func(w *Wire) bool {
		return slices.ContainsFunc(named, func(e endpoint) bool { return e.names(w.Result.Conn) })
	})
	failed := func(w *Wire) bool { return w.Result.Verdict.Failed() == (o.Err != nil) }
	var agreeing []int
	for _, i := range set {
		if consistent(o, &wires[i]) {
			agreeing = append(agreeing, i)
		}
	}
	if len(agreeing) > 0 {
		return narrow(agreeing, failed)
	}
	if len(set) == 0 {
		return nil
	}
	set = narrow(set, failed)
	return set[len(set)-1:]
}

// unrelatedCorrelation is the correlation of a connection the program's
// outcome is not about: its verdict stands alone. about is the
// connection the outcome is about.
func unrelatedCorrelation(o *Outcome, w *Wire, about *analysis.Connection) Correlation {
	v := w.Result.Verdict
	c := Correlation{Agreement: Unrelated, Wire: string(v.Category) + ": " + v.Summary}
	other := "another of its connections"
	if about != nil {
		other = fmt.Sprintf("its connection %s → %s", about.Client, about.Server)
	}
	outcome := fmt.Sprintf("the program's error (%s)", o.Class)
	if o.Err == nil {
		outcome = "the program's success"
	}
	switch {
	case v.Category == diagnose.OK:
		c.Summary = fmt.Sprintf("this connection completed its handshake; %s is about %s", outcome, other)
	case !v.Failed():
		c.Summary = fmt.Sprintf("%s is about %s; this one's verdict stands alone", outcome, other)
	default:
		c.Summary = fmt.Sprintf("this connection failed too (%s), but %s is about %s; this one's verdict stands alone", v.Category, outcome, other)
		c.Cause, c.Fix = v.Summary, v.Fix
	}
	return c
}
