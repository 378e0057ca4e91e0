package tlsparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The PROXY protocol (HAProxy's proxy-protocol.txt): a load balancer that
// passes TCP through (HAProxy send-proxy and send-proxy-v2, nginx stream
// proxy_protocol, an AWS NLB with proxy_protocol_v2.enabled) writes, before
// the client's first byte on its connection to the backend, a header that
// names the client it stands for. Version 1 is a text line, version 2 a
// binary header after a 12-byte signature.

// ProxyV1Max is the longest version 1 header, its CRLF included
// (proxy-protocol.txt, section 2.1).
const ProxyV1Max = 107

// ProxyV2Max is the longest version 2 header: 16 fixed bytes and a length
// of at most 65535 (section 2.2).
const ProxyV2Max = 16 + 65535

// proxyKeep bounds the bytes of a version 2 header the decoder keeps: the
// fixed part, the largest address block (AF_UNIX, 216 bytes) and the
// first TLVs. Longer headers are passed over by their length.
const proxyKeep = 16 + 216 + 256

// proxyV2Sig is the version 2 signature (section 2.2).
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// ProxyHeader is what a PROXY protocol header says.
type ProxyHeader struct {
	// Version is 1 (text) or 2 (binary).
	Version int
	// Local is set for a version 2 LOCAL command (the load balancer's own
	// connection, a health check) and a version 1 "UNKNOWN" family: the
	// addresses are then not a client's and are left zero.
	Local bool
	// Family is the protocol and address family as version 1 names them:
	// "TCP4", "TCP6", "UDP4", "UDP6", "UNIX", "UNKNOWN".
	Family string
	// Source is the original client's address and port, Destination the
	// address and port it connected to (the load balancer's); zero for a
	// UNIX or UNKNOWN family.
	Source, Destination netip.AddrPort
	// Length is the header's length in bytes.
	Length int
	// TLVs are the types of the version 2 TLVs, in order (at most 16),
	// from the bytes kept.
	TLVs []uint8
	// Cut is set when the header was longer than the bytes kept of it:
	// its TLVs past them are not listed.
	Cut bool
}

// ProxyHeaderPrefix reports whether b, the first bytes of a stream, may
// begin a PROXY protocol header: "PROXY" or the start of the version 2
// signature. The decoder looks only at a stream's first bytes.
func ProxyHeaderPrefix(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == 'P' {
		const p = "PROXY "
		n := min(len(b), len(p))
		return string(b[:n]) == p[:n]
	}
	n := min(len(b), len(proxyV2Sig))
	return bytes.Equal(b[:n], proxyV2Sig[:n])
}

// ErrProxyTruncated is ParseProxyHeader's error for bytes that end
// before the header does.
var ErrProxyTruncated = errors.New("truncated")

// ParseProxyHeader reads the PROXY protocol header b begins with. b may
// hold more bytes after it, and may hold only the first bytes of a long
// version 2 header (then Cut is set). The error names what is wrong:
// ErrProxyTruncated for bytes that end before the header's end, a bad
// signature, version, command, family or length otherwise.
func ParseProxyHeader(b []byte) (ProxyHeader, error) {
	if len(b) > 0 && b[0] == 'P' {
		return parseProxyV1(b)
	}
	return parseProxyV2(b)
}

// parseProxyV1 reads "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n"
// (section 2.1).
func parseProxyV1(b []byte) (ProxyHeader, error) {
	h := ProxyHeader{Version: 1}
	line := b[:min(len(b), ProxyV1Max)]
	i := bytes.Index(line, []byte("\r\n"))
	if i < 0 {
		if len(b) >= ProxyV1Max {
			return h, fmt.Errorf("version 1 header without CRLF in its first %d bytes", ProxyV1Max)
		}
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			return h, errors.New("version 1 header ends with LF, not CRLF")
		}
		return h, fmt.Errorf("version 1 header: %w", ErrProxyTruncated)
	}
	h.Length = i + 2
	f := strings.Split(string(line[:i]), " ")
	if f[0] != "PROXY" || len(f) < 2 {
		return h, errors.New("version 1 header does not start with \"PROXY \"")
	}
	h.Family = f[1]
	switch f[1] {
	case "UNKNOWN":
		// The rest of the line is to be ignored.
		h.Local = true
		return h, nil
	case "TCP4", "TCP6":
	default:
		return h, fmt.Errorf("version 1 header: unknown protocol %+q", f[1])
	}
	if len(f) != 6 {
		return h, fmt.Errorf("version 1 header: %d fields, want 6", len(f))
	}
	src, err1 := netip.ParseAddr(f[2])
	dst, err2 := netip.ParseAddr(f[3])
	sp, err3 := strconv.ParseUint(f[4], 10, 16)
	dp, err4 := strconv.ParseUint(f[5], 10, 16)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return h, errors.New("version 1 header: bad address or port")
	}
	if want4 := f[1] == "TCP4"; src.Is4() != want4 || dst.Is4() != want4 {
		return h, fmt.Errorf("version 1 header: addresses not of family %s", f[1])
	}
	h.Source, h.Destination = netip.AddrPortFrom(src, uint16(sp)), netip.AddrPortFrom(dst, uint16(dp))
	return h, nil
}

// parseProxyV2 reads the binary header (section 2.2): the signature, a
// version and command byte, a family and protocol byte, a 2-byte length,
// the addresses, then TLVs.
func parseProxyV2(b []byte) (ProxyHeader, error) {
	h := ProxyHeader{Version: 2}
	n := min(len(b), len(proxyV2Sig))
	if !bytes.Equal(b[:n], proxyV2Sig[:n]) {
		return h, errors.New("bad version 2 signature")
	}
	if len(b) < 16 {
		return h, fmt.Errorf("version 2 header: %w", ErrProxyTruncated)
	}
	if b[12]>>4 != 2 {
		return h, fmt.Errorf("version 2 header: version %d, want 2", b[12]>>4)
	}
	length := int(binary.BigEndian.Uint16(b[14:16]))
	h.Length = 16 + length
	switch b[12] & 0xF {
	case 0:
		h.Local = true
	case 1:
	default:
		return h, fmt.Errorf("version 2 header: unknown command 0x%X", b[12]&0xF)
	}
	var addrLen int
	h.Family, addrLen = proxyFamily(b[13])
	if h.Family == "" {
		return h, fmt.Errorf("version 2 header: unknown family and protocol 0x%02X", b[13])
	}
	if length < addrLen {
		return h, fmt.Errorf("version 2 header: length %d too short for %s addresses (%d bytes)", length, h.Family, addrLen)
	}
	body := b[16:min(len(b), h.Length)]
	if len(body) < addrLen {
		return h, fmt.Errorf("version 2 header: %w", ErrProxyTruncated)
	}
	if !h.Local {
		switch addrLen {
		case 12:
			h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10]))
			h.Destination = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[4:8])), binary.BigEndian.Uint16(body[10:12]))
		case 36:
			h.Source = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[0:16])), binary.BigEndian.Uint16(body[32:34]))
			h.Destination = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[16:32])), binary.BigEndian.Uint16(body[34:36]))
		}
	}
	// TLVs: type, 2-byte length, value (section 2.2.7).
	t := body[addrLen:]
	for len(t) >= 3 && len(h.TLVs) < 16 {
		l := int(binary.BigEndian.Uint16(t[1:3]))
		if 3+l > len(t) && len(b) >= h.Length {
			return h, fmt.Errorf("version 2 header: TLV 0x%02X of length %d past the header's end", t[0], l)
		}
		h.TLVs = append(h.TLVs, t[0])
		t = t[min(len(t), 3+l):]
	}
	if len(b) < h.Length {
		h.Cut = true
	} else if len(t) > 0 && len(h.TLVs) < 16 {
		return h, fmt.Errorf("version 2 header: %d stray bytes after its TLVs", len(t))
	}
	return h, nil
}

// proxyFamily names a version 2 family and protocol byte as version 1
// would, and gives the length of its address block; "" when unknown.
func proxyFamily(c byte) (string, int) {
	switch c {
	case 0x00:
		return "UNKNOWN", 0
	case 0x11:
		return "TCP4", 12
	case 0x12:
		return "UDP4", 12
	case 0x21:
		return "TCP6", 36
	case 0x22:
		return "UDP6", 36
	case 0x31, 0x32:
		return "UNIX", 216
	}
	return "", 0
}

// ProxyTLVName names a version 2 TLV type (section 2.2.7, and the AWS
// and Azure types of their load balancers): "alpn", "unique_id"; 0x%02X
// for others.
func ProxyTLVName(t uint8) string {
	switch t {
	case 0x01:
		return "alpn"
	case 0x02:
		return "authority"
	case 0x03:
		return "crc32c"
	case 0x04:
		return "noop"
	case 0x05:
		return "unique_id"
	case 0x20:
		return "ssl"
	case 0x30:
		return "netns"
	case 0xEA:
		return "aws"
	case 0xEE:
		return "azure"
	}
	return fmt.Sprintf("0x%02X", t)
}
