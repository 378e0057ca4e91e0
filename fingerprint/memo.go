package fingerprint

import (
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Memo computes fingerprints as JA3, JA3S and JA4 do, and remembers each
// result by the text it is a function of (JA3's and JA3S's full string,
// JA4_ro), so that the hundredth hello of a client is rendered but not
// hashed and copied again: a capture holds few distinct clients and
// servers, and hashing and allocating were most of the cost.
//
// It keeps at most memoEntries results of each kind, each of a text of at
// most memoText bytes (about 1 MiB in all); past that it computes without
// keeping. The zero value is ready; a Memo is not safe for concurrent use.
type Memo struct {
	ja3, ja3s map[string][2]string // full: full and hash
	ja4       map[string]JA4Result // JA4_ro: the result
}

const (
	memoEntries = 256
	memoText    = 1024
)

// JA3 returns what JA3(ch) does.
func (m *Memo) JA3(ch *tlsparse.ClientHello) (full, hash string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var buf [1024]byte
	return remember(&m.ja3, ja3Full(buf[:0], ch))
}

// JA3S returns what JA3S(sh) does.
func (m *Memo) JA3S(sh *tlsparse.ServerHello) (full, hash string) {
	if sh == nil {
		return "", ""
	}
	var buf [512]byte
	return remember(&m.ja3s, ja3sFull(buf[:0], sh))
}

// remember returns full and its MD5 from memo, or computes them and keeps
// them when there is room.
func remember(memo *map[string][2]string, full []byte) (string, string) {
	if r, ok := (*memo)[string(full)]; ok {
		return r[0], r[1]
	}
	f, h := withMD5(full)
	if len(*memo) < memoEntries && len(full) <= memoText {
		if *memo == nil {
			*memo = map[string][2]string{}
		}
		(*memo)[f] = [2]string{f, h}
	}
	return f, h
}

// JA4 returns what JA4(ch, transport) does.
func (m *Memo) JA4(ch *tlsparse.ClientHello, transport byte) JA4Result {
	if ch == nil || ch.SSLv2 {
		return JA4Result{}
	}
	// JA4_ro says everything the other renderings are made of: the
	// prefix, and the lists in the order sent, which sorted give JA4_r.
	var cipherStack, extStack [stackList]uint16
	ciphers := appendNonGREASE(cipherStack[:0], ch.CipherSuites)
	exts := extensionTypes(extStack[:0], ch.Extensions)
	a := ja4Prefix(ch, transport, ciphers, exts)
	var buf [2048]byte
	ro := append(buf[:0], a[:]...)
	ro = append(ro, '_')
	ro = appendHexList(ro, ciphers)
	ro = append(ro, '_')
	ro = appendSigAlgs(appendHexList(ro, exts), ch.SignatureSchemes)
	if r, ok := m.ja4[string(ro)]; ok {
		return r
	}
	r := JA4(ch, transport)
	if len(m.ja4) < memoEntries && len(ro) <= memoText {
		if m.ja4 == nil {
			m.ja4 = map[string]JA4Result{}
		}
		m.ja4[r.JA4RO] = r
	}
	return r
}
