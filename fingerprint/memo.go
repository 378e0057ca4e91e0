package fingerprint

import (
	"encoding/binary"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Memo computes fingerprints as JA3, JA3S and JA4 do, and remembers each
// result by what it is a function of (the version, the lists without
// GREASE values, JA4's prefix), in binary, so that the hundredth hello of a
// client is neither rendered, nor hashed, nor copied again: a capture
// holds few distinct clients and servers, and those were most of the
// cost.
//
// It keeps at most memoEntries results of each kind, each under a key of
// at most memoKey bytes (about 1 MiB in all); past that it computes
// without keeping. The zero value is ready; a Memo is not safe for
// concurrent use.
type Memo struct {
	ja3, ja3s map[string][2]string // full and hash
	ja4       map[string]JA4Result
}

const (
	memoEntries = 256
	memoKey     = 512
)

// JA3 returns what JA3(ch) does.
func (m *Memo) JA3(ch *tlsparse.ClientHello) (full, hash string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var stack [stackList]uint16
	var buf [memoKey]byte
	k := binary.BigEndian.AppendUint16(buf[:0], uint16(ch.Version))
	k = appendKeyList(k, appendNonGREASE(stack[:0], ch.CipherSuites))
	k = appendKeyList(k, extensionTypes(stack[:0], ch.Extensions))
	k = appendKeyList(k, appendNonGREASE(stack[:0], ch.SupportedGroups))
	k = binary.BigEndian.AppendUint32(k, uint32(len(ch.ECPointFormats)))
	for _, f := range ch.ECPointFormats {
		k = append(k, byte(f))
	}
	r := remember(&m.ja3, k, func() [2]string { f, h := JA3(ch); return [2]string{f, h} })
	return r[0], r[1]
}

// JA3S returns what JA3S(sh) does.
func (m *Memo) JA3S(sh *tlsparse.ServerHello) (full, hash string) {
	if sh == nil {
		return "", ""
	}
	var stack [stackList]uint16
	var buf [memoKey]byte
	k := binary.BigEndian.AppendUint16(buf[:0], uint16(sh.Version))
	k = binary.BigEndian.AppendUint16(k, uint16(sh.CipherSuite))
	k = appendKeyList(k, extensionTypes(stack[:0], sh.Extensions))
	r := remember(&m.ja3s, k, func() [2]string { f, h := JA3S(sh); return [2]string{f, h} })
	return r[0], r[1]
}

// remember returns what memo holds for key, or what compute gives, kept
// when there is room.
func remember[R any](memo *map[string]R, key []byte, compute func() R) R {
	if r, ok := (*memo)[string(key)]; ok {
		return r
	}
	r := compute()
	if len(*memo) < memoEntries && len(key) <= memoKey {
		if *memo == nil {
			*memo = map[string]R{}
		}
		(*memo)[string(key)] = r
	}
	return r
}

// JA4 returns what JA4(ch, transport) does.
func (m *Memo) JA4(ch *tlsparse.ClientHello, transport byte) JA4Result {
	if ch == nil || ch.SSLv2 {
		return JA4Result{}
	}
	// The prefix and the lists in the order sent are what all four
	// renderings are made of (sorted, they give JA4_r's).
	var cipherStack, extStack, sigStack [stackList]uint16
	ciphers := appendNonGREASE(cipherStack[:0], ch.CipherSuites)
	exts := extensionTypes(extStack[:0], ch.Extensions)
	a := ja4Prefix(ch, transport, ciphers, exts)
	var buf [memoKey]byte
	k := append(buf[:0], a[:]...)
	k = appendKeyList(k, ciphers)
	k = appendKeyList(k, exts)
	k = appendKeyList(k, appendNonGREASE(sigStack[:0], ch.SignatureSchemes))
	return remember(&m.ja4, k, func() JA4Result { return JA4(ch, transport) })
}

// appendKeyList appends vs with their number in front.
func appendKeyList(k []byte, vs []uint16) []byte {
	k = binary.BigEndian.AppendUint32(k, uint32(len(vs)))
	for _, v := range vs {
		k = binary.BigEndian.AppendUint16(k, v)
	}
	return k
}
