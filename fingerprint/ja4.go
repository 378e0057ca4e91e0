package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Transports: the first character of a JA4 fingerprint.
const (
	TCP  byte = 't' // TLS over TCP
	QUIC byte = 'q' // TLS inside QUIC
	DTLS byte = 'd' // DTLS over UDP or SCTP
)

// JA4Result holds the four renderings of one ClientHello's JA4 fingerprint.
// Each is "a_b_c": a is the readable prefix (transport, version, SNI,
// counts, ALPN), b the cipher suites and c the extensions followed by the
// signature algorithms.
type JA4Result struct {
	// JA4 is the standard form: b and c are truncated SHA-256 hashes of the
	// sorted lists, e.g. t13d1516h2_8daaf6152771_e5627efa2ab1.
	JA4 string
	// JA4R (JA4_r) writes the sorted lists themselves instead of hashes.
	JA4R string
	// JA4O (JA4_o) hashes the lists in the order sent, SNI and ALPN included.
	JA4O string
	// JA4RO (JA4_ro) writes the lists in the order sent, SNI and ALPN
	// included.
	JA4RO string
}

const (
	extServerName = uint16(tlsparse.ExtServerName) // 0x0000
	extALPN       = uint16(tlsparse.ExtALPN)       // 0x0010
	noHash        = "000000000000"
	hashLen       = len(noHash)
	prefixLen     = 10 // t13d1516h2
)

// JA4 returns the JA4 fingerprint of a ClientHello sent over transport
// (TCP, QUIC or DTLS; any other byte is written as given), following FoxIO's
// JA4 specification:
//
//   - the version is the highest value of supported_versions, else the
//     legacy version field: 13, 12, 11, 10, s3, s2, d1, d2, d3, or 00 when
//     unknown (TLS 1.3 drafts, for one);
//   - 'd' when the server_name extension is present, else 'i';
//   - the numbers of cipher suites and of extensions, SNI and ALPN included,
//     two digits, at most 99;
//   - two characters of the first ALPN protocol (see below), "00" when
//     there is none;
//   - the first 12 hex digits of the SHA-256 of the cipher suites as 4-digit
//     lower-case hex, sorted, comma-joined; and of the extensions likewise,
//     without SNI and ALPN, followed by "_" and the signature algorithms in
//     the order sent ("_" and all only when there are some).
//
// A list with nothing in it hashes to "000000000000"; for the extension
// hash that means no extensions besides SNI and ALPN, in the original-order
// rendering too (the reference's output does the same).
//
// GREASE values (RFC 8701) are left out everywhere: lists, counts, versions
// and ALPN (an ALPN protocol that is a GREASE value is skipped).
//
// ALPN: the first and last characters of the protocol when both are ASCII
// letters or digits ("h2", "http/1.1" → "h1", "x" → "xx"); otherwise the
// first and last characters of the protocol's hex encoding (0xba 0xad →
// "bd"), as the specification says. FoxIO's own tools still
// replace each non-ASCII character with '9' instead.
//
// The result is zero for a nil hello and for an SSLv2-format one (see the
// package documentation).
func JA4(ch *tlsparse.ClientHello, transport byte) JA4Result {
	if ch == nil || ch.SSLv2 {
		return JA4Result{}
	}
	var cipherStack, extStack, sortStack [stackList]uint16
	ciphers := appendNonGREASE(cipherStack[:0], ch.CipherSuites)
	exts := extensionTypes(extStack[:0], ch.Extensions)
	a := ja4Prefix(ch, transport, ciphers, exts)

	var buf [2048]byte
	sorted, orig, hasExts := ja4Lists(buf[:0], sortStack[:0], ch, ciphers, exts)
	var hashes [4][hashLen]byte
	hash12(&hashes[0], sorted[0], len(ciphers) > 0)
	hash12(&hashes[1], sorted[1], hasExts)
	hash12(&hashes[2], orig[0], len(ciphers) > 0)
	hash12(&hashes[3], orig[1], hasExts)

	// One allocation holds all four renderings.
	var sb strings.Builder
	sb.Grow(4*(prefixLen+2) + 4*hashLen + len(sorted[0]) + len(sorted[1]) + len(orig[0]) + len(orig[1]))
	write := func(b, c []byte) int {
		sb.Write(a[:])
		sb.WriteByte('_')
		sb.Write(b)
		sb.WriteByte('_')
		sb.Write(c)
		return sb.Len()
	}
	e1 := write(hashes[0][:], hashes[1][:])
	e2 := write(sorted[0], sorted[1])
	e3 := write(hashes[2][:], hashes[3][:])
	e4 := write(orig[0], orig[1])
	s := sb.String()
	return JA4Result{JA4: s[:e1], JA4R: s[e1:e2], JA4O: s[e2:e3], JA4RO: s[e3:e4]}
}

// ja4Prefix is JA4's readable first part, e.g. t13d1516h2.
func ja4Prefix(ch *tlsparse.ClientHello, transport byte, ciphers, exts []uint16) [prefixLen]byte {
	var a [prefixLen]byte
	a[0] = transport
	a[1], a[2] = ja4Version(ch)
	a[3] = 'i'
	if slices.Contains(exts, extServerName) {
		a[3] = 'd'
	}
	a[4], a[5] = twoDigits(len(ciphers))
	a[6], a[7] = twoDigits(len(exts))
	a[8], a[9] = alpnChars(ch.ALPN)
	return a
}

// ja4Lists renders into buf the cipher suites ([0]) and the extensions
// with the signature algorithms ([1]), sorted without SNI and ALPN, and in
// the order sent with them: JA4_r's and JA4_ro's last two parts. hasExts
// reports extensions other than SNI and ALPN. scratch is room for sorting.
func ja4Lists(buf []byte, scratch []uint16, ch *tlsparse.ClientHello, ciphers, exts []uint16) (sorted, orig [2][]byte, hasExts bool) {
	// Each part is sliced out of buf as soon as it is written: a later
	// append that moves buf leaves the earlier array, and its contents, as
	// they were.
	part := func(from int) []byte { return buf[from:len(buf):len(buf)] }

	scratch = append(scratch[:0], ciphers...)
	slices.Sort(scratch)
	buf = appendHexList(buf, scratch)
	sorted[0] = part(0)

	scratch = scratch[:0]
	for _, e := range exts {
		if e != extServerName && e != extALPN {
			scratch = append(scratch, e)
		}
	}
	slices.Sort(scratch)
	from := len(buf)
	buf = appendSigAlgs(appendHexList(buf, scratch), ch.SignatureSchemes)
	sorted[1] = part(from)

	from = len(buf)
	buf = appendHexList(buf, ciphers)
	orig[0] = part(from)

	from = len(buf)
	buf = appendSigAlgs(appendHexList(buf, exts), ch.SignatureSchemes)
	orig[1] = part(from)
	return sorted, orig, len(scratch) > 0
}

// ja4Version is the two-character version: the highest non-GREASE value of
// supported_versions when there is one, else the legacy version. Like the
// specification, it takes the highest number even for DTLS, whose newer
// versions have lower numbers.
func ja4Version(ch *tlsparse.ClientHello) (byte, byte) {
	v, found := uint16(0), false
	for _, sv := range ch.SupportedVersions {
		if !tlsparse.IsGREASE(uint16(sv)) && (!found || uint16(sv) > v) {
			v, found = uint16(sv), true
		}
	}
	if !found {
		v = uint16(ch.Version)
	}
	switch v {
	case uint16(tlsparse.VersionTLS13):
		return '1', '3'
	case uint16(tlsparse.VersionTLS12):
		return '1', '2'
	case uint16(tlsparse.VersionTLS11):
		return '1', '1'
	case uint16(tlsparse.VersionTLS10):
		return '1', '0'
	case uint16(tlsparse.VersionSSL30):
		return 's', '3'
	case uint16(tlsparse.VersionSSL20):
		return 's', '2'
	case 0xfeff: // DTLS 1.0 (RFC 4347)
		return 'd', '1'
	case 0xfefd: // DTLS 1.2 (RFC 6347)
		return 'd', '2'
	case 0xfefc: // DTLS 1.3 (RFC 9147)
		return 'd', '3'
	}
	return '0', '0'
}

func twoDigits(n int) (byte, byte) {
	n = min(n, 99)
	return byte('0' + n/10), byte('0' + n%10)
}

// alpnChars returns JA4's two ALPN characters for the offered protocols.
func alpnChars(protos []string) (byte, byte) {
	for _, p := range protos {
		if len(p) == 2 && tlsparse.IsGREASE(uint16(p[0])<<8|uint16(p[1])) {
			continue // RFC 8701, Section 2: GREASE ALPN identifiers
		}
		if p == "" {
			return '0', '0'
		}
		first, last := p[0], p[len(p)-1]
		if isAlnum(first) && isAlnum(last) {
			return first, last
		}
		const digits = "0123456789abcdef"
		return digits[first>>4], digits[last&0x0f]
	}
	return '0', '0'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func appendHexList(b []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}

// appendSigAlgs appends "_" and the non-GREASE signature algorithms in the
// order sent, or nothing when there are none.
func appendSigAlgs(b []byte, sigs []tlsparse.SignatureScheme) []byte {
	first := true
	for _, s := range sigs {
		if tlsparse.IsGREASE(uint16(s)) {
			continue
		}
		if first {
			b = append(b, '_')
			first = false
		} else {
			b = append(b, ',')
		}
		b = appendHex4(b, uint16(s))
	}
	return b
}

// hash12 writes the first 12 hex digits of the SHA-256 of s to dst, or
// twelve zeros when the list it renders is empty.
func hash12(dst *[hashLen]byte, s []byte, nonEmpty bool) {
	if !nonEmpty {
		copy(dst[:], noHash)
		return
	}
	sum := sha256.Sum256(s)
	hex.Encode(dst[:], sum[:hashLen/2])
}
