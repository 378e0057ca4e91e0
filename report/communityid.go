package report

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// IP protocol numbers the Community ID hashes (IANA "Assigned Internet
// Protocol Numbers").
const (
	ProtoTCP  = 6
	ProtoUDP  = 17
	ProtoSCTP = 132
)

// CommunityID is the Community ID (version 1 of Corelight's published
// "Community ID Flow Hashing" spec) of the flow between a and b over IP
// protocol proto, with the given seed: Zeek, Suricata, Arkime, Wireshark
// and Elastic compute the same string for the same flow, so records from
// each can be joined on it. The direction does not matter: the smaller
// address (then port) is hashed first. It is "1:" and the base64 of
// SHA-1(seed ‖ lower address ‖ higher address ‖ proto ‖ 0 ‖ lower port ‖
// higher port), every number big-endian. Addresses of different families
// give "" (no flow has them); an IPv4-mapped IPv6 address is hashed as the
// IPv4 address it carries, as the packets that carry it are IPv4.
func CommunityID(seed uint16, proto uint8, a, b netip.AddrPort) string {
	return communityID(seed, proto, a.Addr(), b.Addr(), a.Port(), b.Port(), true)
}

// connectionCommunityID is the Community ID of a connection: its TCP
// flow, or the UDP flow a QUIC connection runs over.
func connectionCommunityID(seed uint16, c *analysis.Connection) string {
	return CommunityID(seed, ipProto(c), c.Client, c.Server)
}

// appendConnectionCommunityID appends connectionCommunityID(seed, c).
func appendConnectionCommunityID(b []byte, seed uint16, c *analysis.Connection) []byte {
	return appendCommunityID(b, seed, ipProto(c), c.Client.Addr(), c.Server.Addr(), c.Client.Port(), c.Server.Port(), true)
}

// ipProto is the IP protocol that carried a connection.
func ipProto(c *analysis.Connection) uint8 {
	if c.IsQUIC() || c.DNSFailure != nil && !c.DNSFailure.TCP {
		return ProtoUDP
	}
	return ProtoTCP
}

// communityID hashes a flow; without ports (a protocol that has none), the
// ports are left out of the hash, as the spec says of "other IP-borne
// protocols".
func communityID(seed uint16, proto uint8, sa, da netip.Addr, sp, dp uint16, ports bool) string {
	var id [len(communityIDVersion) + 28]byte // base64 of 20 bytes is 28 characters
	return string(appendCommunityID(id[:0], seed, proto, sa, da, sp, dp, ports))
}

// communityIDVersion starts every Community ID.
const communityIDVersion = "1:"

// appendCommunityID appends communityID(seed, proto, sa, da, sp, dp,
// ports); the json format writes it straight into its output, where a
// string of its own was an allocation for every connection.
func appendCommunityID(b []byte, seed uint16, proto uint8, sa, da netip.Addr, sp, dp uint16, ports bool) []byte {
	sa, da = sa.Unmap(), da.Unmap()
	if !sa.IsValid() || !da.IsValid() || sa.Is4() != da.Is4() {
		return b
	}
	var sb, db [16]byte
	s, d := addrBytes(&sb, sa), addrBytes(&db, da)
	// Order the endpoints so that the lower address comes first; with
	// equal addresses, the lower port.
	if c := bytes.Compare(s, d); c > 0 || c == 0 && sp > dp {
		s, d, sp, dp = d, s, dp, sp
	}
	buf := make([]byte, 0, 2+16+16+2+4)
	buf = binary.BigEndian.AppendUint16(buf, seed)
	buf = append(buf, s...)
	buf = append(buf, d...)
	buf = append(buf, proto, 0)
	if ports {
		buf = binary.BigEndian.AppendUint16(buf, sp)
		buf = binary.BigEndian.AppendUint16(buf, dp)
	}
	sum := sha1.Sum(buf)
	b = append(b, communityIDVersion...)
	return base64.StdEncoding.AppendEncode(b, sum[:])
}

// addrBytes puts a's 4 or 16 bytes in b and returns them, as a.AsSlice
// would without allocating.
func addrBytes(b *[16]byte, a netip.Addr) []byte {
	if a.Is4() {
		v4 := a.As4()
		return b[:copy(b[:], v4[:])]
	}
	*b = a.As16()
	return b[:]
}
