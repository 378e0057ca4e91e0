package tlslab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// RoutedPath is three network namespaces in a line — client, router,
// server — joined by two veth pairs, with IPv4 forwarding on in the
// router: a path with one device on it. The server's packets reach the
// client with their TTL lowered by one; packets the router sends itself
// (a reset forged by iptables REJECT, an ICMP error) arrive with the
// router's full initial TTL. Firewall rules for the router go through
// Router. Creating one needs root.
type RoutedPath struct {
	ClientNS, RouterNS, ServerNS string
	// ClientIface and ServerIface are the hosts' ends of the links.
	ClientIface, ServerIface string
	// RouterClientIface faces the client, RouterServerIface the server.
	RouterClientIface, RouterServerIface string
	ClientAddr, ServerAddr               string // IPv4, only inside the namespaces
	// RouterAddr is the router's address on the client's link.
	RouterAddr string

	delayers     []*Delayer
	interceptors []*Interceptor
	resolvers    []*exec.Cmd
	netnsEtc     string // /etc/netns/CLIENTNS, made by StartResolver
}

// PathMTU sets the MTUs of a RoutedPath's links; zero means 1500.
type PathMTU struct {
	// Client is the client's link MTU at the client's end; Router that
	// of the router's end of the same link. A Router below Client makes
	// a link that cannot carry what both ends announce: an MTU black hole
	// when the router's "fragmentation needed" never arrives.
	Client, Router int
}

// NewRoutedPath creates the namespaces NAME-c, NAME-r and NAME-s: client
// 10.X.1.2 — router 10.X.1.1 / 10.X.2.1 — server 10.X.2.2, for a subnet X in
// 150–199 derived from name. GSO is limited to one segment so that
// captures show segments as they cross a real link.
func NewRoutedPath(ctx context.Context, name string, mtu PathMTU) (*RoutedPath, error) {
	x := 150
	for _, c := range name {
		x = (x*31 + int(c)) % 50
	}
	x += 150
	p := &RoutedPath{
		ClientNS: name + "-c", RouterNS: name + "-r", ServerNS: name + "-s",
		ClientIface: name + "c0", RouterClientIface: name + "r0",
		ServerIface: name + "s0", RouterServerIface: name + "r1",
		ClientAddr: fmt.Sprintf("10.%d.1.2", x), ServerAddr: fmt.Sprintf("10.%d.2.2", x),
		RouterAddr: fmt.Sprintf("10.%d.1.1", x),
	}
	routerC, routerS := fmt.Sprintf("10.%d.1.1", x), fmt.Sprintf("10.%d.2.1", x)
	cm, rm := fmt.Sprint(orMTU(mtu.Client)), fmt.Sprint(orMTU(mtu.Router))
	p.Close() // leftovers of an interrupted run
	steps := [][]string{
		{"netns", "add", p.ClientNS},
		{"netns", "add", p.RouterNS},
		{"netns", "add", p.ServerNS},
		{"link", "add", p.ClientIface, "netns", p.ClientNS, "mtu", cm, "gso_max_segs", "1",
			"type", "veth", "peer", "name", p.RouterClientIface, "netns", p.RouterNS, "mtu", rm, "gso_max_segs", "1"},
		{"link", "add", p.ServerIface, "netns", p.ServerNS, "mtu", "1500", "gso_max_segs", "1",
			"type", "veth", "peer", "name", p.RouterServerIface, "netns", p.RouterNS, "mtu", "1500", "gso_max_segs", "1"},
		{"-n", p.ClientNS, "addr", "add", p.ClientAddr + "/24", "dev", p.ClientIface},
		{"-n", p.RouterNS, "addr", "add", routerC + "/24", "dev", p.RouterClientIface},
		{"-n", p.RouterNS, "addr", "add", routerS + "/24", "dev", p.RouterServerIface},
		{"-n", p.ServerNS, "addr", "add", p.ServerAddr + "/24", "dev", p.ServerIface},
	}
	for _, ns := range []string{p.ClientNS, p.RouterNS, p.ServerNS} {
		steps = append(steps, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	steps = append(steps,
		[]string{"-n", p.ClientNS, "link", "set", p.ClientIface, "up"},
		[]string{"-n", p.RouterNS, "link", "set", p.RouterClientIface, "up"},
		[]string{"-n", p.RouterNS, "link", "set", p.RouterServerIface, "up"},
		[]string{"-n", p.ServerNS, "link", "set", p.ServerIface, "up"},
		[]string{"-n", p.ClientNS, "route", "add", "default", "via", routerC},
		[]string{"-n", p.ServerNS, "route", "add", "default", "via", routerS},
	)
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, "ip", s...).CombinedOutput(); err != nil {
			p.Close()
			return nil, fmt.Errorf("tlslab: ip %s: %w: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	if err := p.run(ctx, p.RouterNS, "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func orMTU(m int) int {
	if m == 0 {
		return 1500
	}
	return m
}

// Router adds an iptables rule in the router, e.g. "-A FORWARD -p tcp
// --dport 4481 -m string --algo bm --string good.test -j REJECT
// --reject-with tcp-reset".
func (p *RoutedPath) Router(ctx context.Context, rule ...string) error {
	return p.run(ctx, p.RouterNS, append([]string{"iptables"}, rule...)...)
}

func (p *RoutedPath) run(ctx context.Context, ns string, argv ...string) error {
	full := append([]string{"netns", "exec", ns}, argv...)
	if out, err := exec.CommandContext(ctx, "ip", full...).CombinedOutput(); err != nil {
		return fmt.Errorf("tlslab: in %s: %s: %w: %s", ns, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// DelayToServer holds every packet the router forwards to the server for
// d before sending it on (an NFQUEUE rule and a Delayer in the router):
// the server is a round trip of d away, while whatever the router itself
// sends — a reset forged by REJECT — is not. Rules added before it see
// the packets first.
func (p *RoutedPath) DelayToServer(ctx context.Context, d time.Duration) error {
	const queue = 7
	var dl *Delayer
	err := InNetns(p.RouterNS, func() error {
		var err error
		dl, err = NewDelayer(queue, d)
		return err
	})
	if err != nil {
		return err
	}
	p.delayers = append(p.delayers, dl)
	return p.Router(ctx, "-A", "FORWARD", "-o", p.RouterServerIface, "-j", "NFQUEUE", "--queue-num", strconv.Itoa(queue))
}

// ServerTTL sets the initial TTL of the server's packets, e.g. 65 so that
// they reach the client with the TTL the router's own packets have.
func (p *RoutedPath) ServerTTL(ctx context.Context, ttl int) error {
	return p.run(ctx, p.ServerNS, "sysctl", "-qw", "net.ipv4.ip_default_ttl="+strconv.Itoa(ttl))
}

// Close deletes the namespaces, and with them the links.
func (p *RoutedPath) Close() {
	for _, d := range p.delayers {
		d.Close()
	}
	p.delayers = nil
	for _, it := range p.interceptors {
		it.Close()
	}
	p.interceptors = nil
	for _, cmd := range p.resolvers {
		cmd.Process.Kill()
		cmd.Wait()
	}
	p.resolvers = nil
	if p.netnsEtc != "" {
		os.RemoveAll(p.netnsEtc)
		p.netnsEtc = ""
	}
	for _, ns := range []string{p.ClientNS, p.RouterNS, p.ServerNS} {
		exec.Command("ip", "netns", "delete", ns).Run()
	}
}
