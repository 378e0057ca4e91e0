package fingerprint

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// JA3 returns the JA3 fingerprint of a ClientHello: full is
// "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats"
// in decimal, each list joined with "-" in the order sent and with GREASE
// values (RFC 8701) left out of every list; hash is the MD5 of full in
// lower-case hex. SSLVersion is the legacy version field, never
// supported_versions, as in Salesforce's original. An absent list is empty
// (so a hello without extensions ends in ",,,").
//
// Both are empty for a nil hello and for an SSLv2-format one (see the
// package documentation).
func JA3(ch *tlsparse.ClientHello) (full, hash string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var stack [stackList]uint16
	var buf [1024]byte
	b := strconv.AppendUint(buf[:0], uint64(ch.Version), 10)
	b = append(b, ',')
	b = appendDecimalList(b, appendNonGREASE(stack[:0], ch.CipherSuites))
	b = append(b, ',')
	b = appendDecimalList(b, extensionTypes(stack[:0], ch.Extensions))
	b = append(b, ',')
	b = appendDecimalList(b, appendNonGREASE(stack[:0], ch.SupportedGroups))
	b = append(b, ',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	return withMD5(b)
}

// JA3S returns the JA3S fingerprint of a ServerHello: full is
// "SSLVersion,Cipher,Extensions" in decimal, the extensions joined with "-"
// in the order sent, and hash is its MD5 in lower-case hex. SSLVersion is the
// legacy version field (0x0303 for TLS 1.3, as tshark and Arkime write it).
// A server has no reason to send GREASE, but one that does gets the same
// treatment as a client: the value is left out.
//
// Both are empty for a nil hello. A HelloRetryRequest is a ServerHello on
// the wire and is fingerprinted like one; callers choose which to pass.
func JA3S(sh *tlsparse.ServerHello) (full, hash string) {
	if sh == nil {
		return "", ""
	}
	var stack [stackList]uint16
	var buf [512]byte
	b := strconv.AppendUint(buf[:0], uint64(sh.Version), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sh.CipherSuite), 10)
	b = append(b, ',')
	b = appendDecimalList(b, extensionTypes(stack[:0], sh.Extensions))
	return withMD5(b)
}

// withMD5 returns full as a string and its MD5 in hex, sharing one
// allocation.
func withMD5(full []byte) (string, string) {
	sum := md5.Sum(full)
	var sb strings.Builder
	sb.Grow(len(full) + 2*md5.Size)
	sb.Write(full)
	var h [2 * md5.Size]byte
	hex.Encode(h[:], sum[:])
	sb.Write(h[:])
	s := sb.String()
	return s[:len(full)], s[len(full):]
}

func appendDecimalList(b []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}
