package diagnose

import (
	"net/netip"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

func init() { caseTables = append(caseTables, unreachableCases) }

func TestDiagnoseUnreachable(t *testing.T) { runDiagnoseCases(t, unreachableCases(t)) }

// synAnsweredByICMP is a connection whose SYN (frame 1) got no SYN-ACK
// but an ICMP error (frame 2) from from, about the client's packet.
func synAnsweredByICMP(from string, e capture.ICMPError) *analysis.Connection {
	c := tcpConn()
	c.TCP.SYNACK, c.TCP.Close, c.Last = capture.Frame{}, capture.ClosedEOF, fr(1)
	e.From = netip.MustParseAddr(from)
	if e.IP.TTL == 0 {
		e.IP.TTL = 62
	}
	c.Path = &analysis.PathFacts{Acked: [2]int64{-1, -1}, ICMP: []analysis.ICMPReport{{Frame: fr(2), About: client, ICMPError: e}}}
	return c
}

func unreachableCases(t *testing.T) []diagnoseCase {
	const server, router = "198.51.100.7", "203.0.113.1"
	return []diagnoseCase{
		{name: "firewalld's REJECT on the server's host", cat: ConnectionRefused,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(server, capture.ICMPError{Type: 3, Code: 10})
			},
			summary:  []string{"a firewall on the server's host rejected the SYN (frame 1)", "Host administratively prohibited", "firewalld's default", `"no route to host"`},
			evidence: []int64{1, 2},
			fix:      []string{"firewall-cmd --permanent --add-port=443/tcp", "ufw allow 443/tcp"}, nWarn: -1},
		{name: "iptables' default REJECT on the server's host", cat: ConnectionRefused,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(server, capture.ICMPError{Type: 3, Code: 3})
			},
			summary:  []string{"iptables' default REJECT answer", `"connection refused"`},
			evidence: []int64{1, 2}, fix: []string{"open TCP port 443 in the firewall of 198.51.100.7"}, nWarn: -1},
		{name: "a router's REJECT", cat: ConnectionRefused,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(router, capture.ICMPError{Type: 3, Code: 13})
			},
			summary:  []string{"a firewall or router on the way rejected the SYN", "from 203.0.113.1 (2 routers beyond"},
			evidence: []int64{1, 2}, fix: []string{"the administrator of the firewall at 203.0.113.1"}, nWarn: -1},
		{name: "IPv6 administratively prohibited", cat: ConnectionRefused,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(server, capture.ICMPError{V6: true, Type: 1, Code: 1})
			},
			summary:  []string{"icmp6-adm-prohibited", `"permission denied"`},
			evidence: []int64{1, 2}, nWarn: -1},
		{name: "host unreachable from a router", cat: HostUnreachable,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(router, capture.ICMPError{Type: 3, Code: 1})
			},
			summary:  []string{"203.0.113.1 (2 routers beyond the capture point's link, by its TTL) answered the SYN (frame 1)", "no host answered its ARP"},
			evidence: []int64{1, 2}, fix: []string{"check that 198.51.100.7 is the server's current address"}, nWarn: -1},
		{name: "network unreachable", cat: HostUnreachable,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(router, capture.ICMPError{Type: 3, Code: 0})
			},
			summary:  []string{"203.0.113.1 has no route to 198.51.100.7's network", `"network is unreachable"`},
			evidence: []int64{1, 2}, fix: []string{"check the route to 198.51.100.7 at 203.0.113.1"}, nWarn: -1},
		{name: "time exceeded", cat: HostUnreachable,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(router, capture.ICMPError{Type: 11, Code: 0})
			},
			summary: []string{"the SYN's TTL ran out at 203.0.113.1"}, evidence: []int64{1, 2},
			fix: []string{"routing loop"}, nWarn: -1},
		{name: "fragmentation needed does not answer a SYN", cat: NoTCPAnswer,
			conn: func(*pki) *analysis.Connection {
				return synAnsweredByICMP(router, capture.ICMPError{Type: 3, Code: 4, MTU: 1400})
			},
			summary: []string{"never answered"}, evidence: []int64{1}, nWarn: -1},
		{name: "an error about the server's packet is not the SYN's", cat: NoTCPAnswer,
			conn: func(*pki) *analysis.Connection {
				c := synAnsweredByICMP(router, capture.ICMPError{Type: 3, Code: 1})
				c.Path.ICMP[0].About = capture.ServerToClient
				return c
			},
			summary: []string{"never answered"}, evidence: []int64{1}, nWarn: -1},
	}
}
