package probe

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Target is what a probe connects to: an https:// URL (a full request),
// an http:// URL (a plain request, to see whether the port speaks TLS) or
// HOST:PORT (the TLS handshake only).
type Target struct {
	// URL is the request's URL; nil for a handshake-only probe.
	URL *url.URL
	// Host is the host name or address literal (without brackets), Port
	// the TCP port (443 when the URL names none).
	Host string
	Port uint16
}

// ParseTarget reads a URL or HOST:PORT argument. https:// and http:// URLs
// are accepted: an http:// URL makes a plain request, whose answer says
// whether the port speaks TLS.
func ParseTarget(s string) (Target, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return Target{}, fmt.Errorf("target %q: %w", s, err)
		}
		port := uint16(443)
		switch {
		case strings.EqualFold(u.Scheme, "https"):
			u.Scheme = "https"
		case strings.EqualFold(u.Scheme, "http"):
			u.Scheme, port = "http", 80
		default:
			return Target{}, fmt.Errorf("target %q: scheme %q: the URL must be https:// (or http://)", s, u.Scheme)
		}
		if u.Hostname() == "" {
			return Target{}, fmt.Errorf("target %q: no host", s)
		}
		if p := u.Port(); p != "" {
			if port, err = parsePort(p); err != nil {
				return Target{}, fmt.Errorf("target %q: %w", s, err)
			}
		}
		return Target{URL: u, Host: u.Hostname(), Port: port}, nil
	}
	if strings.TrimSpace(s) == "" {
		return Target{}, errors.New("empty target")
	}
	if strings.ContainsAny(s, "/?#") {
		return Target{}, fmt.Errorf("target %q: neither a URL nor HOST:PORT (a URL needs https://)", s)
	}
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		// A bare host name or address ("::1", "[::1]"): the HTTPS port.
		bare := s
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			bare = s[1 : len(s)-1]
		}
		if _, err2 := netip.ParseAddr(bare); err2 == nil || !strings.ContainsAny(s, ":[]") {
			return checkHost(Target{Host: bare, Port: 443}, s)
		}
		return Target{}, fmt.Errorf("target %q: %w", s, err)
	}
	port, err := parsePort(portText)
	if err != nil {
		return Target{}, fmt.Errorf("target %q: %w", s, err)
	}
	return checkHost(Target{Host: host, Port: port}, s)
}

// checkHost rejects an empty host or one with spaces, control characters
// or brackets, which no resolver would take (brackets only enclose an IPv6
// address: netip accepts "::%[" as an address in zone "[", which
// HOST:PORT cannot write back).
func checkHost(t Target, arg string) (Target, error) {
	if t.Host == "" {
		return Target{}, fmt.Errorf("target %q: no host", arg)
	}
	if strings.IndexFunc(t.Host, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return Target{}, fmt.Errorf("target %q: the host contains spaces or control characters", arg)
	}
	if strings.ContainsAny(t.Host, "[]") {
		return Target{}, fmt.Errorf("target %q: brackets in the host", arg)
	}
	return t, nil
}

// String returns the URL (password hidden) or HOST:PORT.
func (t Target) String() string {
	if t.URL != nil {
		return t.URL.Redacted()
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port)))
}

// HostPort returns "host:port" as a dialer wants it.
// Plain reports whether the target is an http:// URL: no TLS from the
// client.
func (t Target) Plain() bool { return t.URL != nil && t.URL.Scheme == "http" }

func (t Target) HostPort() string { return net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port))) }

// described names the target in a sentence: host:port, or "the server"
// when it is not known (a program run by exec whose error does not say).
func (t Target) described() string {
	if t.Host == "" {
		return "the server"
	}
	return t.HostPort()
}

// portText names a port in a sentence: "port 443", or "its port" when it
// is not known.
func portText(p uint16) string {
	if p == 0 {
		return "its port"
	}
	return "port " + strconv.Itoa(int(p))
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q: want a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// Resolve pins a host and port to addresses, as curl's --resolve does.
type Resolve struct {
	Host  string
	Port  uint16
	Addrs []netip.Addr
}

// ParseResolve reads "host:port:addr[,addr…]"; IPv6 addresses may be in
// brackets.
func ParseResolve(s string) (Resolve, error) {
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" {
		return Resolve{}, fmt.Errorf("%q: want host:port:address", s)
	}
	portText, addrText, ok := strings.Cut(rest, ":")
	if !ok || addrText == "" {
		return Resolve{}, fmt.Errorf("%q: want host:port:address", s)
	}
	port, err := parsePort(portText)
	if err != nil {
		return Resolve{}, fmt.Errorf("%q: %w", s, err)
	}
	r := Resolve{Host: host, Port: port}
	for _, a := range strings.Split(addrText, ",") {
		addr, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(a), "[]"))
		if err != nil {
			return Resolve{}, fmt.Errorf("%q: address %q: %w", s, a, err)
		}
		r.Addrs = append(r.Addrs, addr.Unmap())
	}
	return r, nil
}

// ParseVersion reads a TLS version as a command line gives it:
// "1.0", "1.1", "1.2" or "1.3" (a "TLS", "TLSv" or "tls" prefix is allowed).
func ParseVersion(s string) (uint16, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimPrefix(strings.TrimPrefix(v, "tls"), "v")
	switch strings.TrimSpace(v) {
	case "1.0", "1":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("TLS version %q: want 1.0, 1.1, 1.2 or 1.3", s)
}

// ParseCipherSuites reads a comma-separated list of IANA cipher suite
// names ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") that crypto/tls
// implements, insecure ones included: a probe may need to offer what an old
// server accepts.
func ParseCipherSuites(s string) ([]uint16, error) {
	byName := map[string]uint16{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, c := range list {
			byName[c.Name] = c.ID
		}
	}
	var ids []uint16
	for _, name := range strings.Split(s, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		id, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("cipher suite %q: not an IANA name crypto/tls implements (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", name)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no cipher suites in %q", s)
	}
	return ids, nil
}

// curveAliases are the other names OpenSSL, curl and the RFCs use for the
// groups crypto/tls implements.
var curveAliases = map[string]tls.CurveID{
	"p256": tls.CurveP256, "secp256r1": tls.CurveP256, "prime256v1": tls.CurveP256,
	"p384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"p521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"x25519": tls.X25519,
}

// ParseCurves reads a comma- or colon-separated list of key exchange
// groups: X25519, P-256, P-384, P-521 (or secp256r1 …), X25519MLKEM768,
// SecP256r1MLKEM768, SecP384r1MLKEM1024.
func ParseCurves(s string) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for _, name := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ':' }) {
		key := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(name))
		id, ok := curveAliases[key]
		if !ok {
			for _, c := range []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024} {
				if strings.ToLower(c.String()) == key {
					id, ok = c, true
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("group %q: want X25519, P-256, P-384, P-521, X25519MLKEM768, SecP256r1MLKEM768 or SecP384r1MLKEM1024", strings.TrimSpace(name))
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no groups in %q", s)
	}
	return ids, nil
}
