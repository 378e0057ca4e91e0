package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The expression tree: and, or, not, and two kinds of test on the packet.
type node interface{}

type andNode struct{ a, b node }
type orNode struct{ a, b node }
type notNode struct{ a node }

// cmpNode loads a value and tests value&mask in [lo, hi]. indirect loads
// relative to the IPv4 header's end (ldxb 4*([nh]&0xf) first).
type cmpNode struct {
	kind     loadKind
	off      uint32 // from the network header (etype: unused)
	size     int    // 1, 2 or 4 bytes
	indirect bool
	mask     uint32 // 0: none
	lo, hi   uint32
}

// bitsNode is true when any of bits is set in the loaded value.
type bitsNode struct {
	off  uint32
	size int
	bits uint32
}

type loadKind int

const (
	loadNet   loadKind = iota // bytes from the network header
	loadEtype                 // the EtherType (link dependent)
)

// Protocol and EtherType numbers.
const (
	etIPv4 = 0x0800
	etIPv6 = 0x86dd
	etARP  = 0x0806
	etRARP = 0x8035

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoFrag6  = 44
	protoICMPv6 = 58
	protoSCTP   = 132
)

// qual is what a primitive says before its value: "tcp src port".
type qual struct {
	proto string // ip ip6 arp rarp tcp udp sctp, or ""
	dir   string // src dst "src or dst" "src and dst", or "" (either)
	typ   string // host net port portrange
}

type parser struct {
	toks    []string
	pos     int
	last    *qual // the previous primitive's qualifiers, for bare values
	resolve Resolver
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

// parseExpr: terms joined by and/or, same precedence, from the left.
func (p *parser) parseExpr() (node, error) {
	n, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		switch p.peek() {
		case "and":
			p.next()
			m, err := p.parseTerm()
			if err != nil {
				return nil, err
			}
			n = andNode{n, m}
		case "or":
			p.next()
			m, err := p.parseTerm()
			if err != nil {
				return nil, err
			}
			n = orNode{n, m}
		default:
			return n, nil
		}
	}
}

func (p *parser) parseTerm() (node, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, errors.New("expression ends too early")
	case t == "not":
		p.next()
		n, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case t == "(":
		p.next()
		n, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return n, nil
	case t == ")" || t == "and" || t == "or":
		return nil, fmt.Errorf("unexpected %q", t)
	}
	return p.parsePrimitive()
}

var (
	protoWords = map[string]bool{"ip": true, "ip6": true, "arp": true, "rarp": true, "tcp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true}
	dirWords   = map[string]bool{"src": true, "dst": true}
	typeWords  = map[string]bool{"host": true, "net": true, "port": true, "portrange": true}
	// libpcap's other keywords: an expression using them needs libpcap.
	libpcapWords = map[string]bool{
		"ether": true, "fddi": true, "tr": true, "wlan": true, "ppp": true, "slip": true, "link": true,
		"vlan": true, "mpls": true, "pppoed": true, "pppoes": true, "geneve": true, "vxlan": true,
		"gateway": true, "less": true, "greater": true, "proto": true, "protochain": true,
		"broadcast": true, "multicast": true, "inbound": true, "outbound": true,
		"ifname": true, "on": true, "rnr": true, "rulenum": true, "reason": true, "rset": true,
		"ruleset": true, "srnr": true, "subrulenum": true, "action": true, "type": true, "subtype": true,
		"dir": true, "len": true, "ah": true, "esp": true, "vrrp": true, "carp": true, "pim": true,
		"igmp": true, "igrp": true, "atalk": true, "aarp": true, "decnet": true, "iso": true, "stp": true,
		"ipx": true, "netbeui": true, "lat": true, "sca": true, "moprc": true, "mopdl": true,
		"llc": true, "radio": true, "ra": true, "ta": true, "addr1": true, "addr2": true,
		"addr3": true, "addr4": true, "bpf": true, "clnp": true, "esis": true, "isis": true,
		"l1": true, "l2": true, "iih": true, "lsp": true, "snp": true, "csnp": true, "psnp": true,
		"hsls": true, "ip6multicast": true, "ip6broadcast": true,
	}
)

func unsupported(what string) error {
	return fmt.Errorf("%s is %w", what, ErrUnsupported)
}

func (p *parser) parsePrimitive() (node, error) {
	t := p.peek()
	if strings.ContainsAny(t, "[]=<>+*/") && !looksLikeNet(t) {
		return nil, unsupported(fmt.Sprintf("%q (byte offsets and arithmetic)", t))
	}
	if libpcapWords[t] {
		return nil, unsupported(fmt.Sprintf("%q", t))
	}
	if !protoWords[t] && !dirWords[t] && !typeWords[t] {
		// A bare value keeps the previous primitive's qualifiers.
		if p.last == nil {
			return nil, fmt.Errorf("%q needs a keyword before it (host, net, port, portrange)", t)
		}
		p.next()
		return p.value(*p.last, t)
	}
	var q qual
	if protoWords[t] {
		q.proto = p.next()
		if libpcapWords[p.peek()] {
			return nil, unsupported(fmt.Sprintf("%q after %q", p.peek(), q.proto))
		}
	}
	if dirWords[p.peek()] {
		q.dir = p.next()
		// "src or dst", "src and dst"
		if (p.peek() == "or" || p.peek() == "and") && p.pos+1 < len(p.toks) && dirWords[p.toks[p.pos+1]] && p.toks[p.pos+1] != q.dir {
			q.dir = "src " + p.next() + " dst"
			p.next()
		}
	}
	if typeWords[p.peek()] {
		q.typ = p.next()
	}
	if q.dir == "" && q.typ == "" {
		// A protocol on its own: "tcp", "ip6".
		p.last = nil
		return protoNode(q.proto)
	}
	if q.typ == "" {
		q.typ = "host"
	}
	v := p.peek()
	if v == "" || v == "(" || v == ")" || v == "and" || v == "or" || v == "not" {
		return nil, fmt.Errorf("%s needs a value", q.typ)
	}
	if libpcapWords[v] {
		return nil, unsupported(fmt.Sprintf("%q", v))
	}
	p.next()
	p.last = &q
	return p.value(q, v)
}

func looksLikeNet(t string) bool {
	_, err := netip.ParsePrefix(t)
	return err == nil || strings.Count(t, "/") == 1 && !strings.ContainsAny(t, "[]=<>+*")
}

// value builds the test for one value under the qualifiers q.
func (p *parser) value(q qual, v string) (node, error) {
	switch q.typ {
	case "host":
		if q.proto != "" && q.proto != "ip" && q.proto != "ip6" && q.proto != "arp" && q.proto != "rarp" {
			return nil, unsupported(fmt.Sprintf("%q before host", q.proto))
		}
		return p.host(q, v)
	case "net":
		if q.proto != "" && q.proto != "ip" && q.proto != "ip6" && q.proto != "arp" && q.proto != "rarp" {
			return nil, unsupported(fmt.Sprintf("%q before net", q.proto))
		}
		if p.peek() == "mask" {
			p.next()
			m := p.next()
			return netMask(q, v, m)
		}
		return netPrefix(q, v)
	case "port", "portrange":
		if q.proto != "" && q.proto != "tcp" && q.proto != "udp" && q.proto != "sctp" {
			return nil, unsupported(fmt.Sprintf("%q before %s", q.proto, q.typ))
		}
		lo, hi, err := ports(v, q.typ == "portrange")
		if err != nil {
			return nil, err
		}
		return portNode(q, lo, hi), nil
	}
	return nil, fmt.Errorf("unknown keyword %q", q.typ)
}

func protoNode(proto string) (node, error) {
	switch proto {
	case "ip":
		return etype(etIPv4), nil
	case "ip6":
		return etype(etIPv6), nil
	case "arp":
		return etype(etARP), nil
	case "rarp":
		return etype(etRARP), nil
	case "tcp":
		return orNode{ip4Proto(protoTCP), ip6Proto(protoTCP)}, nil
	case "udp":
		return orNode{ip4Proto(protoUDP), ip6Proto(protoUDP)}, nil
	case "sctp":
		return orNode{ip4Proto(protoSCTP), ip6Proto(protoSCTP)}, nil
	case "icmp":
		return ip4Proto(protoICMP), nil
	case "icmp6":
		return ip6Proto(protoICMPv6), nil
	}
	return nil, fmt.Errorf("unknown protocol %q", proto)
}

func etype(v uint32) node { return cmpNode{kind: loadEtype, lo: v, hi: v} }

func byteAt(off uint32, v uint32) node { return cmpNode{off: off, size: 1, lo: v, hi: v} }

// ip4Proto: IPv4 with this protocol.
func ip4Proto(proto uint32) node { return andNode{etype(etIPv4), byteAt(9, proto)} }

// ip6Proto: IPv6 with this next header, directly or after a fragment
// header (libpcap looks that far).
func ip6Proto(proto uint32) node {
	return andNode{etype(etIPv6), orNode{byteAt(6, proto), andNode{byteAt(6, protoFrag6), byteAt(40, proto)}}}
}

// either combines a source and a destination test by the direction.
func either(dir string, src, dst node) node {
	switch dir {
	case "src":
		return src
	case "dst":
		return dst
	case "src and dst":
		return andNode{src, dst}
	}
	return orNode{src, dst}
}

func (p *parser) host(q qual, v string) (node, error) {
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(v); err == nil {
		addrs = append(addrs, a.Unmap())
	} else {
		if strings.Contains(v, "/") {
			return nil, fmt.Errorf("host %q: an address range needs net", v)
		}
		found, err := p.resolve(v)
		if err != nil {
			return nil, fmt.Errorf("host %q: %w", v, err)
		}
		for _, a := range found {
			if a.Is4() && q.proto != "ip6" || a.Is6() && (q.proto == "" || q.proto == "ip6") {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("host %q: no address of the right family", v)
		}
	}
	var n node
	for _, a := range addrs {
		m, err := addrTest(q, v, a, 0)
		if err != nil {
			return nil, err
		}
		if n == nil {
			n = m
		} else {
			n = orNode{n, m}
		}
	}
	return n, nil
}

// addrTest matches address a (the top bits bits of it; 0: all).
func addrTest(q qual, v string, a netip.Addr, bits int) (node, error) {
	if a.Is4() {
		if q.proto == "ip6" {
			return nil, fmt.Errorf("%q is not an IPv6 address", v)
		}
		if bits == 0 {
			bits = 32
		}
		mask := uint32(0xffffffff) << (32 - bits)
		if bits == 0 {
			mask = 0
		}
		b := a.As4()
		val := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if val&^mask != 0 {
			return nil, fmt.Errorf("%q has bits set beyond its mask", v)
		}
		word := func(off uint32) node {
			c := cmpNode{off: off, size: 4, lo: val, hi: val}
			if mask != 0xffffffff {
				c.mask = mask
			}
			return c
		}
		ip := andNode{etype(etIPv4), either(q.dir, word(12), word(16))}
		arp := either(q.dir, word(14), word(24))
		switch q.proto {
		case "ip":
			return ip, nil
		case "arp":
			return andNode{etype(etARP), arp}, nil
		case "rarp":
			return andNode{etype(etRARP), arp}, nil
		}
		return orNode{ip, andNode{orNode{etype(etARP), etype(etRARP)}, arp}}, nil
	}
	if q.proto != "" && q.proto != "ip6" {
		return nil, fmt.Errorf("%q is not an IPv4 address", v)
	}
	if bits == 0 {
		bits = 128
	}
	b := a.As16()
	field := func(base uint32) node {
		var n node
		for w := 0; w < 4; w++ {
			wb := bits - 32*w
			if wb <= 0 {
				break
			}
			mask := uint32(0xffffffff)
			if wb < 32 {
				mask <<= 32 - wb
			}
			val := uint32(b[4*w])<<24 | uint32(b[4*w+1])<<16 | uint32(b[4*w+2])<<8 | uint32(b[4*w+3])
			if val&^mask != 0 {
				return nil
			}
			c := cmpNode{off: base + uint32(4*w), size: 4, lo: val, hi: val}
			if mask != 0xffffffff {
				c.mask = mask
			}
			if n == nil {
				n = c
			} else {
				n = andNode{n, c}
			}
		}
		return n
	}
	src, dst := field(8), field(24)
	if src == nil {
		return nil, fmt.Errorf("%q has bits set beyond its mask", v)
	}
	return andNode{etype(etIPv6), either(q.dir, src, dst)}, nil
}

// netPrefix reads "10.0.0.0/8", "2001:db8::/32", "10.1" (classful: as
// many octets as given) or a whole address.
func netPrefix(q qual, v string) (node, error) {
	if pfx, err := netip.ParsePrefix(v); err == nil {
		if pfx.Bits() == 0 {
			// libpcap: a zero mask matches every address of the family.
			if pfx.Addr().Is4() {
				return etypeFamily(q), nil
			}
			return etype(etIPv6), nil
		}
		return addrTest(q, v, pfx.Addr().Unmap(), pfx.Bits())
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return addrTest(q, v, a.Unmap(), 0)
	}
	parts := strings.Split(v, ".")
	if len(parts) < 4 {
		var b [4]byte
		for i, s := range parts {
			n, err := strconv.ParseUint(s, 10, 8)
			if err != nil {
				return nil, fmt.Errorf("net %q: not a network", v)
			}
			b[i] = byte(n)
		}
		return addrTest(q, v, netip.AddrFrom4(b), 8*len(parts))
	}
	return nil, fmt.Errorf("net %q: not a network", v)
}

// etypeFamily is every IPv4 packet (and ARP/RARP unless q says ip).
func etypeFamily(q qual) node {
	switch q.proto {
	case "ip":
		return etype(etIPv4)
	case "arp":
		return etype(etARP)
	case "rarp":
		return etype(etRARP)
	}
	return orNode{etype(etIPv4), orNode{etype(etARP), etype(etRARP)}}
}

func netMask(q qual, v, m string) (node, error) {
	a, err1 := netip.ParseAddr(v)
	mk, err2 := netip.ParseAddr(m)
	if err1 != nil || err2 != nil || !a.Is4() || !mk.Is4() {
		return nil, fmt.Errorf("net %s mask %s: want two IPv4 addresses", v, m)
	}
	b := mk.As4()
	mask := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for bits < 32 && mask&(1<<(31-bits)) != 0 {
		bits++
	}
	if bits < 32 && mask<<bits != 0 {
		return nil, unsupported(fmt.Sprintf("mask %s (not contiguous)", m))
	}
	if bits == 0 {
		return etypeFamily(q), nil
	}
	return addrTest(q, v+" mask "+m, a, bits)
}

// portNames are the service names the built-in compiler knows (libpcap
// reads /etc/services).
var portNames = map[string]uint32{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "pop3": 110,
	"imap": 143, "ldap": 389, "https": 443, "smtps": 465, "submission": 587, "ldaps": 636,
	"imaps": 993, "pop3s": 995, "http-alt": 8080,
}

func port(s string) (uint32, error) {
	if n, ok := portNames[s]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("port %q: not a number or a known service name", s)
	}
	if n > 65535 {
		return 0, fmt.Errorf("port %s: larger than 65535", s)
	}
	return uint32(n), nil
}

func ports(v string, isRange bool) (lo, hi uint32, err error) {
	if !isRange {
		n, err := port(v)
		return n, n, err
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		// libpcap takes a single port as a range of one.
		n, err := port(v)
		return n, n, err
	}
	if lo, err = port(a); err != nil {
		return 0, 0, err
	}
	if hi, err = port(b); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi, nil
}

// portNode: TCP/UDP/SCTP ports over IPv4 (first fragments only, as
// libpcap) and IPv6 (fixed 40-byte header, as libpcap).
func portNode(q qual, lo, hi uint32) node {
	var protos []uint32
	switch q.proto {
	case "tcp":
		protos = []uint32{protoTCP}
	case "udp":
		protos = []uint32{protoUDP}
	case "sctp":
		protos = []uint32{protoSCTP}
	default:
		protos = []uint32{protoSCTP, protoTCP, protoUDP}
	}
	anyOf := func(off uint32) node {
		var n node
		for _, p := range protos {
			if n == nil {
				n = byteAt(off, p)
			} else {
				n = orNode{n, byteAt(off, p)}
			}
		}
		return n
	}
	p6 := func(off uint32) node { return cmpNode{off: 40 + off, size: 2, lo: lo, hi: hi} }
	p4 := func(off uint32) node { return cmpNode{off: off, size: 2, indirect: true, lo: lo, hi: hi} }
	v6 := andNode{andNode{etype(etIPv6), anyOf(6)}, either(q.dir, p6(0), p6(2))}
	firstFragment := notNode{bitsNode{off: 6, size: 2, bits: 0x1fff}}
	v4 := andNode{andNode{andNode{etype(etIPv4), anyOf(9)}, firstFragment}, either(q.dir, p4(0), p4(2))}
	return orNode{v6, v4}
}
