package quic

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

// Version is a QUIC version number (RFC 9000, Section 15).
type Version uint32

// The versions whose Initial packets can be decrypted.
const (
	Version1       Version = 0x00000001 // RFC 9000
	Version2       Version = 0x6b3343cf // RFC 9369
	VersionDraft29 Version = 0xff00001d // draft-ietf-quic-transport-29, still sent by older stacks
)

// String names the version: "v1", "v2", "draft-29", or the hex value.
func (v Version) String() string {
	switch v {
	case Version1:
		return "v1"
	case Version2:
		return "v2"
	case 0:
		return "negotiation"
	}
	if v>>8 == 0xff0000 {
		return "draft-" + strconv.Itoa(int(v&0xff))
	}
	if v&0x0f0f0f0f == 0x0a0a0a0a {
		// RFC 9000, Section 15: reserved to exercise version negotiation.
		return fmt.Sprintf("grease(0x%08x)", uint32(v))
	}
	if v.Google() {
		return string([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return fmt.Sprintf("0x%08x", uint32(v))
}

// Google reports whether v is a version of Google's QUIC (gQUIC), which
// Chrome spoke before RFC 9000: "Q" and three digits (its handshake is
// QUIC Crypto, not TLS), or "T" and three digits (TLS, in frames of its
// own).
func (v Version) Google() bool {
	c := byte(v >> 24)
	isDigit := func(b byte) bool { return '0' <= b && b <= '9' }
	return (c == 'Q' || c == 'T') && isDigit(byte(v>>16)) && isDigit(byte(v>>8)) && isDigit(byte(v))
}

// Known reports whether the version's Initial packets can be read.
func (v Version) Known() bool { return params(v) != nil }

// versionParams are what differs between versions in packet protection.
type versionParams struct {
	salt                       []byte
	keyLabel, ivLabel, hpLabel string
	retryKey, retryNonce       []byte
	// types maps the two long-header type bits to a PacketType.
	types [4]PacketType
}

var (
	// RFC 9001, Section 5.2 and 5.8.
	paramsV1 = &versionParams{
		salt:     hexBytes("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
		keyLabel: "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
		retryKey:   hexBytes("be0c690b9f66575a1d766b54e368c84e"),
		retryNonce: hexBytes("461599d35d632bf2239825bb"),
		types:      [4]PacketType{PacketInitial, Packet0RTT, PacketHandshake, PacketRetry},
	}
	// RFC 9369, Sections 3.2 and 3.3.
	paramsV2 = &versionParams{
		salt:     hexBytes("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
		keyLabel: "quicv2 key", ivLabel: "quicv2 iv", hpLabel: "quicv2 hp",
		retryKey:   hexBytes("8fb4b01b56ac48e260fbcbcead7ccc92"),
		retryNonce: hexBytes("d86969bc2d7c6d9990efb04a"),
		types:      [4]PacketType{PacketRetry, PacketInitial, Packet0RTT, PacketHandshake},
	}
	// draft-ietf-quic-tls-29, Sections 5.2 and 5.8.
	paramsDraft29 = &versionParams{
		salt:     hexBytes("afbfec289993d24c9e9786f19c6111e04390a899"),
		keyLabel: "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
		retryKey:   hexBytes("ccce187ed09a09d05728155a6cb96be1"),
		retryNonce: hexBytes("e54930f97f2136f0530a8c1c"),
		types:      [4]PacketType{PacketInitial, Packet0RTT, PacketHandshake, PacketRetry},
	}
)

func params(v Version) *versionParams {
	switch v {
	case Version1:
		return paramsV1
	case Version2:
		return paramsV2
	case VersionDraft29:
		return paramsDraft29
	}
	return nil
}

// PacketType is the type of a QUIC packet.
type PacketType uint8

const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation
	Packet1RTT // short header
)

var packetTypeNames = [...]string{
	PacketInitial: "Initial", Packet0RTT: "0-RTT", PacketHandshake: "Handshake",
	PacketRetry: "Retry", PacketVersionNegotiation: "Version Negotiation", Packet1RTT: "1-RTT",
}

func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) && packetTypeNames[t] != "" {
		return packetTypeNames[t]
	}
	return "packet(" + strconv.Itoa(int(t)) + ")"
}

// hexBytes decodes a constant of this package.
func hexBytes(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("quic: bad hex constant " + s)
	}
	return b
}
