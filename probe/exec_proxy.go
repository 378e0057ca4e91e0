package probe

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/tlsdiag/tlsdiag/internal/attribution"
)

// envProxy is the proxy a program's environment names for https://
// requests, as curl and net/http read it: HTTPS_PROXY (or https_proxy,
// else ALL_PROXY, all_proxy), except for the targets NO_PROXY (no_proxy)
// names and, as net/http has it, localhost and loopback addresses.
type envProxy struct {
	from string // the variable that names it
	url  *url.URL
	cfg  httpproxy.Config
}

// readEnvProxy returns the proxy env names; ok is false when it names
// none (or one that does not parse).
func readEnvProxy(env []string) (p envProxy, ok bool) {
	getenv := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, found := strings.CutPrefix(env[i], name+"="); found {
				return v
			}
		}
		return ""
	}
	var value string
	value, p.from = firstNamed(getenv, "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
	if value == "" {
		return p, false
	}
	noProxy, _ := firstNamed(getenv, "NO_PROXY", "no_proxy")
	p.cfg = httpproxy.Config{HTTPSProxy: value, NoProxy: noProxy}
	// The proxy's own URL: a target NO_PROXY does not exclude gets it.
	u, err := p.cfg.ProxyFunc()(&url.URL{Scheme: "https", Host: "tlsdiag.invalid"})
	if err != nil || u == nil || u.Hostname() == "" {
		return p, false
	}
	p.url = u
	return p, true
}

// applies reports whether the proxy is for the target host (a name or an
// address, with its port when known).
func (p envProxy) applies(host string, port uint16) bool {
	hostPort := host
	if port != 0 {
		hostPort = net.JoinHostPort(host, strconv.Itoa(int(port)))
	} else if strings.Contains(host, ":") {
		hostPort = "[" + host + "]"
	}
	u, err := p.cfg.ProxyFunc()(&url.URL{Scheme: "https", Host: hostPort})
	return err == nil && u != nil
}

// port is the proxy's port, its scheme's when the URL names none.
func (p envProxy) port() uint16 {
	if n, err := strconv.ParseUint(p.url.Port(), 10, 16); err == nil {
		return uint16(n)
	}
	switch p.url.Scheme {
	case "https":
		return 443
	case "socks5", "socks5h", "socks4", "socks4a", "socks":
		return 1080
	}
	return 80
}

// reached reports whether one of flows went to the proxy: to its address
// and port, or, for a proxy named by a host name (which is not looked up
// here), to its port.
func (p envProxy) reached(flows []attribution.Flow) bool {
	addr, err := netip.ParseAddr(p.url.Hostname())
	for _, f := range flows {
		if f.Remote.Port() != p.port() {
			continue
		}
		switch {
		case err == nil && f.Remote.Addr().Unmap() == addr.Unmap():
			return true
		case err != nil && p.url.Hostname() == "localhost" && f.Remote.Addr().IsLoopback():
			return true
		case err != nil && p.url.Hostname() != "localhost":
			return true
		}
	}
	return false
}

// noteIgnoredProxy notes a proxy the program's environment names for its
// target but the program never connected to: a program that ignores the
// variable (Node.js's https module, Python's http.client) goes direct,
// and a failure to resolve or reach the target is explained by that.
func (r *ExecResult) noteIgnoredProxy(env []string) {
	p, ok := readEnvProxy(env)
	if !ok || p.reached(r.Flows) {
		return
	}
	var targets []endpoint
	for _, e := range namedEndpoints(r.ErrorLine) {
		if !strings.EqualFold(e.host, p.url.Hostname()) {
			targets = append(targets, e)
		}
	}
	for _, c := range r.Connections {
		if h := c.Result.Conn.ClientHello; h != nil && h.ServerName != "" {
			targets = append(targets, endpoint{host: h.ServerName, port: c.Result.Conn.Server.Port()})
		}
	}
	if len(targets) == 0 {
		return
	}
	for _, t := range targets {
		if !p.applies(t.host, t.port) {
			return
		}
	}
	how := "no connection of the program to it was seen"
	if r.Attribution != attribution.Cgroup {
		how = "no connection of the program to it was seen (sampled from /proc: a very short one may be missed)"
	}
	target := targets[0].host
	if targets[0].port != 0 {
		target = net.JoinHostPort(target, strconv.Itoa(int(targets[0].port)))
	}
	r.Wire.Notes = append(r.Wire.Notes, fmt.Sprintf("%s=%s is set in the program's environment and applies to %s, but %s: the program ignores %s (Node.js's https module and Python's http.client do) and went direct; give the proxy to the program itself (an agent or its proxy setting), or make it reach %s directly",
		p.from, p.url.Redacted(), target, how, p.from, target))
}
