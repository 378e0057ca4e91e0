package diagnose

// Causes on the path between the two ends — a firewall that resets or
// drops, a link that swallows large segments — read from what the packet
// headers say about who sent what and what arrived (analysis.PathFacts).
// Each cause is one file that registers its rule with registerPathRule.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// pathRule recognises one cause on the path. check sees only connections
// whose handshake did not complete and in which no side sent an alert or
// something other than TLS: an end that said why it stopped is the
// cause, whatever the path did.
type pathRule struct {
	category Category
	check    func(*diagnosis) (Verdict, bool)
}

var pathRules []pathRule

// registerPathRule adds a rule; rules are tried in the order of
// Categories. It returns true, for use as `var _ = registerPathRule(…)`.
func registerPathRule(cat Category, check func(*diagnosis) (Verdict, bool)) bool {
	pathRules = append(pathRules, pathRule{cat, check})
	slices.SortStableFunc(pathRules, func(a, b pathRule) int {
		return slices.Index(Categories, a.category) - slices.Index(Categories, b.category)
	})
	return true
}

// pathVerdict returns the first path rule's verdict that fits.
func (d *diagnosis) pathVerdict() (Verdict, bool) {
	c := d.c
	if c.Path == nil || c.Established || len(c.Alerts) > 0 || c.ClientSide.NonTLS != nil || c.ServerSide.NonTLS != nil {
		return Verdict{}, false
	}
	for _, r := range pathRules {
		if v, ok := r.check(d); ok {
			return v, true
		}
	}
	return Verdict{}, false
}

// NamesOtherNames reports whether c's verdict is a path verdict that
// names the other names under which its server host completed handshakes
// (analysis.Connection.OtherNames): a ClientHello dropped or reset on the
// way. It is analysis.Options.NamesOtherNames, so that only those
// connections wait for the capture's end to know them all. It reads what
// those rules read, none of which the names change.
func NamesOtherNames(c *analysis.Connection) bool {
	v, ok := helloDiagnosis(c, Config{}).pathVerdict()
	return ok && (v.Category == MiddleboxDrop || v.Category == MiddleboxReset)
}

// hopsAway estimates how many routers a packet crossed from its IP TTL
// (or IPv6 hop limit): stacks start at 64 (Linux, macOS, BSD), 128
// (Windows) or 255 (network devices, Solaris), and each router lowers it
// by one. It returns the initial value assumed and the hop count.
func hopsAway(ttl uint8) (initial, hops int) {
	for _, i := range []int{64, 128, 255} {
		if int(ttl) <= i {
			return i, i - int(ttl)
		}
	}
	return 255, 0
}

// ttlText describes a packet's TTL and the distance it implies.
func ttlText(p analysis.Packet) string {
	initial, hops := hopsAway(p.IP.TTL)
	name := "TTL"
	if p.IP.V6 {
		name = "hop limit"
	}
	return fmt.Sprintf("%s %d (%s from a stack starting at %d)", name, p.IP.TTL, hopText(hops), initial)
}

func hopText(n int) string {
	if n == 1 {
		return "1 hop"
	}
	return fmt.Sprintf("%d hops", n)
}

// resentIn returns the retransmissions of dir's bytes that start in
// [from, to).
func resentIn(p *analysis.PathFacts, dir capture.Direction, from, to int64) []analysis.Resend {
	var rs []analysis.Resend
	for _, r := range p.Resent[dir] {
		if r.Offset >= from && r.Offset < to {
			rs = append(rs, r)
		}
	}
	return rs
}

// resendCount is the number of retransmissions in rs.
func resendCount(rs []analysis.Resend) int {
	n := 0
	for _, r := range rs {
		n += r.Count
	}
	return n
}

// lastResend is the latest retransmission in rs.
func lastResend(rs []analysis.Resend) capture.Frame {
	var f capture.Frame
	for _, r := range rs {
		if r.Last.Number > f.Number {
			f = r.Last
		}
	}
	return f
}

// otherNames says which connections of the capture to the same server
// host completed their handshakes under other names, and their first
// frames: beside a hello dropped or reset on the way, they show that the
// path lets the host through and singles out the name. "" when none.
func (d *diagnosis) otherNames() (string, []capture.Frame) {
	c := d.c
	if len(c.OtherNames) == 0 {
		return "", nil
	}
	var parts []string
	var frames []capture.Frame
	for _, o := range c.OtherNames {
		where := ""
		if o.Server != c.Server {
			where = fmt.Sprintf(" on port %d", o.Server.Port())
		}
		parts = append(parts, fmt.Sprintf("'%s'%s (%s)", o.Name, where, frameRef(o.First.Number)))
		frames = append(frames, o.First)
	}
	return fmt.Sprintf("other connections to the same server host under other names completed their handshakes — %s — so the path lets the host through and singles out this name", strings.Join(parts, ", ")), frames
}
