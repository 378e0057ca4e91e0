// Package filter compiles the common tcpdump capture filters to classic
// BPF without libpcap, so that a build without cgo can filter in the
// kernel.
//
// It knows the primitives people write in front of a TLS capture:
//
//	host ADDR|NAME, net ADDR/LEN, net ADDR mask MASK,
//	port N, portrange A-B (and names: https, http, …),
//	tcp, udp, sctp, icmp, icmp6, ip, ip6, arp,
//
// with the qualifiers src, dst, "src or dst", "src and dst", the protocol
// qualifiers ip, ip6, arp (before host/net) and tcp, udp, sctp (before
// port/portrange), combined with and/&&, or/||, not/! and parentheses. As
// in libpcap, and and or have the same precedence and group from the left
// ("a or b and c" is "(a or b) and c"), not binds tighter, and a bare
// value after and/or keeps the previous keyword ("port 443 or 8443").
//
// Everything else — vlan, mpls, ether, gateway, less/greater, proto,
// byte offsets such as tcp[13], tcp flags — is refused with an error that
// says so; the libpcap build compiles those. The programs are meant to
// accept exactly the packets libpcap's compilation of the same expression
// accepts (tested by running both over real captures); only the shape of
// the code differs.
package filter

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"
)

// Link says where the network header starts and how the EtherType is
// found in the packets the program will see.
type Link int

const (
	// Ethernet frames (and Linux loopback): EtherType at byte 12,
	// network header at 14.
	Ethernet Link = iota
	// Cooked is what a Linux SOCK_DGRAM packet socket filters: the
	// packet starts at the network header and the EtherType is the
	// kernel's skb->protocol (the ancillary load SKF_AD_PROTOCOL).
	Cooked
)

// ErrUnsupported is wrapped by the errors for expressions this compiler
// does not know and libpcap does.
var ErrUnsupported = errors.New("not supported by the built-in filter compiler (the libpcap build compiles it)")

// maxInstructions is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxInstructions = 4096

// maxJump is the farthest a conditional jump of classic BPF reaches.
const maxJump = 255

// Resolver looks up host names ("host example.com"); nil means the
// system's resolver.
type Resolver func(name string) ([]netip.Addr, error)

// Compile compiles expr for link; accepted packets are kept up to snaplen
// bytes. An empty expression accepts every packet.
func Compile(expr string, link Link, snaplen uint32) ([]bpf.Instruction, error) {
	return CompileWith(expr, link, snaplen, nil)
}

// CompileWith is Compile with a resolver for host names.
func CompileWith(expr string, link Link, snaplen uint32, resolve Resolver) ([]bpf.Instruction, error) {
	if snaplen == 0 {
		snaplen = 262144
	}
	if resolve == nil {
		resolve = systemResolver
	}
	if strings.TrimSpace(expr) == "" {
		return []bpf.Instruction{bpf.RetConstant{Val: snaplen}}, nil
	}
	toks, err := tokenize(expr)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	p := &parser{toks: toks, resolve: resolve}
	n, err := p.parseExpr()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	g := &gen{link: link}
	accept, reject := g.newLabel(), g.newLabel()
	g.node(n, accept, reject)
	g.place(accept)
	g.emit(bpf.RetConstant{Val: snaplen})
	g.place(reject)
	g.emit(bpf.RetConstant{Val: 0})
	prog, err := g.resolve()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return prog, nil
}

func systemResolver(name string) ([]netip.Addr, error) {
	ips, err := net.LookupIP(name)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap())
		}
	}
	return out, nil
}

// tokenize splits the expression into words, parentheses and operators.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '!':
			toks = append(toks, "not")
			i++
		case strings.HasPrefix(s[i:], "&&"):
			toks = append(toks, "and")
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			toks = append(toks, "or")
			i += 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()!&|", rune(s[j])) {
				j++
			}
			if j == i {
				// A lone & or |: bitwise arithmetic on packet bytes.
				return nil, fmt.Errorf("%q at offset %d (arithmetic) is %w", s[i:i+1], i, ErrUnsupported)
			}
			toks = append(toks, strings.ToLower(s[i:j]))
			i = j
		}
	}
	return toks, nil
}
