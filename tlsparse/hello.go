package tlsparse

import (
	"bytes"
	"fmt"
	"slices"
	"unsafe"

	"golang.org/x/crypto/cryptobyte"
)

// Extension is one hello extension as sent, in wire order.
type Extension struct {
	Type ExtensionType
	Data []byte // aliases the message's Raw
}

// ClientHello is a parsed ClientHello (RFC 8446, Section 4.1.2; RFC 5246,
// Section 7.4.1.2), or an SSLv2-compatible one (SSLv2 set).
//
// Byte slices and strings alias Raw, a private copy of the message body:
// the value stays valid after the caller reuses its input.
//
// The fields of fixed size are kept together, after the slices, so that a
// ClientHello takes a 448-byte allocation: one is made per connection.
type ClientHello struct {
	Raw                []byte // message body, without the 4-byte handshake header
	Random             []byte
	SessionID          []byte
	CipherSuites       []CipherSuite
	CompressionMethods []uint8
	Extensions         []Extension

	ServerName           string
	SupportedVersions    []Version
	SupportedGroups      []NamedGroup
	SignatureSchemes     []SignatureScheme
	SignatureSchemesCert []SignatureScheme
	KeyShares            []NamedGroup
	ALPN                 []string
	PSKModes             []uint8
	CompressCertificate  []uint16
	ECPointFormats       []uint8

	// SSLv2Ciphers holds, for an SSLv2-compatible ClientHello (SSLv2), the
	// 3-byte cipher specs that have no TLS equivalent.
	SSLv2Ciphers []uint32

	Anomalies []Anomaly

	Version Version
	// SessionTicketLen and Padding are the lengths of the session_ticket
	// and padding extensions' data (an extension's length is 16 bits).
	SessionTicketLen     uint16
	Padding              uint16
	RecordSizeLimit      uint16
	PreSharedKey         bool
	EarlyData            bool
	StatusRequest        bool
	ExtendedMasterSecret bool
	SecureRenegotiation  bool // renegotiation_info or TLS_EMPTY_RENEGOTIATION_INFO_SCSV
	SessionTicket        bool
	EncryptThenMAC       bool
	ECH                  bool
	Cookie               bool
	// SSLv2 is set for an SSLv2-compatible ClientHello.
	SSLv2 bool
	// Truncated is set by ParseClientHelloPrefix when Raw is only the
	// start of the message: fields and extensions past the cut are unknown,
	// not absent, and the lists read up to the cut may be incomplete.
	Truncated bool
}

// OfferedVersions returns the versions the client offers: supported_versions
// without GREASE values, or else the legacy version field alone. For a
// Truncated hello whose supported_versions was not read it returns nil:
// the versions are unknown.
func (m *ClientHello) OfferedVersions() []Version {
	vs := make([]Version, 0, len(m.SupportedVersions))
	for _, v := range m.SupportedVersions {
		if !IsGREASE(uint16(v)) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		if m.Truncated {
			return nil
		}
		return []Version{m.Version}
	}
	return vs
}

// MaxVersion returns the highest offered version, or zero when it is unknown.
func (m *ClientHello) MaxVersion() Version {
	vs := m.OfferedVersions()
	if len(vs) == 0 {
		return 0
	}
	return slices.Max(vs)
}

// helloRetryRequestRandom is the fixed Random of a HelloRetryRequest
// (RFC 8446, Section 4.1.3).
var helloRetryRequestRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
	0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Downgrade sentinels in the last 8 bytes of a ServerHello.Random
// (RFC 8446, Section 4.1.3).
var (
	downgradeTLS12 = []byte("DOWNGRD\x01")
	downgradeTLS11 = []byte("DOWNGRD\x00")
)

type parseErr struct {
	msg   string // "client hello"
	field string
	off   int // -1 when not meaningful
	what  string
}

func (e *parseErr) Error() string {
	if e.off >= 0 {
		return fmt.Sprintf("tlsparse: %s: %s (offset %d): %s", e.msg, e.field, e.off, e.what)
	}
	return fmt.Sprintf("tlsparse: %s: %s: %s", e.msg, e.field, e.what)
}

func truncated(msg, field string) error {
	return &parseErr{msg: msg, field: field, off: -1, what: "truncated"}
}

func invalid(msg, field, what string) error {
	return &parseErr{msg: msg, field: field, off: -1, what: what}
}

// maxStackExtensions is how many extensions a ClientHello's parse gathers
// on the stack: real hellos send up to about 20.
const maxStackExtensions = 32

// readExtensions reads the extensions block that ends a hello, appending
// them to dst (a caller's stack buffer, so that the caller can allocate
// the extensions with the hello, once their number is known). A block that
// is absent is allowed (RFC 5246, Section 7.4.1.2: pre-extension clients).
// With cut set the block may end early, and the extensions wholly before
// the end are returned.
func readExtensions(s *cryptobyte.String, msg string, body []byte, cut bool, dst []Extension) ([]Extension, anomalies, error) {
	var an anomalies
	if s.Empty() {
		return nil, an, nil
	}
	var exts cryptobyte.String
	if rest := *s; !s.ReadUint16LengthPrefixed(&exts) {
		switch {
		case !cut:
			return nil, an, truncated(msg, "extensions")
		case len(rest) < 2:
			return nil, an, nil
		}
		exts, *s = rest[2:], nil
	}
	// Each extension is a 2-byte type and a 2-byte length, then its data.
	// Read by hand rather than through cryptobyte's length-prefixed reads,
	// whose writes through pointers were a fifth of the parse.
	out := dst[:0]
	for b := []byte(exts); len(b) > 0; {
		if len(b) < 4 || 4+(int(b[2])<<8|int(b[3])) > len(b) {
			if cut {
				break
			}
			// The offset is where cryptobyte would have stopped: after
			// the type and the length when only the data is short.
			consumed := 0
			switch {
			case len(b) >= 4:
				consumed = 4
			case len(b) >= 2:
				consumed = 2
			}
			off := len(body) - len(*s) - (len(b) - consumed)
			return nil, an, &parseErr{msg: msg, field: "extensions", off: off, what: "truncated extension"}
		}
		n := int(b[2])<<8 | int(b[3])
		out = append(out, Extension{Type: ExtensionType(uint16(b[0])<<8 | uint16(b[1])), Data: b[4 : 4+n]})
		b = b[4+n:]
	}
	if len(out) == 0 {
		// An empty block: no extensions, as before, but not nil.
		out = []Extension{}
	}
	if !s.Empty() && !cut {
		an.add(AnomalyTrailingData)
	}
	return out, an, nil
}

// u16Arena hands out typed uint16 slices carved from one allocation. The
// conversions are sound: every target type has uint16 as underlying type.
type u16Arena []uint16

func (a *u16Arena) take(n int) []uint16 {
	if n > len(*a) {
		return make([]uint16, n)
	}
	s := (*a)[:n:n]
	*a = (*a)[n:]
	return s
}

func arenaSlice[T ~uint16](a *u16Arena, n int) []T {
	if n == 0 {
		return nil
	}
	s := a.take(n)
	return unsafe.Slice((*T)(unsafe.Pointer(&s[0])), n)
}

// readU16List reads a list of uint16 values prefixed by an lenBytes-byte length.
func readU16List[T ~uint16](s *cryptobyte.String, lenBytes int, a *u16Arena) ([]T, bool) {
	var list cryptobyte.String
	switch lenBytes {
	case 1:
		if !s.ReadUint8LengthPrefixed(&list) {
			return nil, false
		}
	default:
		if !s.ReadUint16LengthPrefixed(&list) {
			return nil, false
		}
	}
	if len(list)%2 != 0 {
		return nil, false
	}
	out := arenaSlice[T](a, len(list)/2)
	for i := range out {
		out[i] = T(uint16(list[2*i])<<8 | uint16(list[2*i+1]))
	}
	return out, true
}

// ParseClientHello parses the body of a ClientHello handshake message.
// Damage to the fixed fields or the extensions framing is an error; damage
// inside one extension is recorded as the anomaly "malformed_<extension>"
// and bytes left over inside one as "trailing_bytes_in_<extension>", and
// parsing continues.
func ParseClientHello(body []byte) (*ClientHello, error) {
	return parseClientHello(body, false)
}

// ParseClientHelloPrefix parses the first bytes of a ClientHello whose rest
// was lost (a snap length, a gap in the capture): every field and extension
// wholly within prefix, and the cipher suites up to the cut. The result is
// Truncated. Only a prefix too short to hold the legacy version is an error.
func ParseClientHelloPrefix(prefix []byte) (*ClientHello, error) {
	return parseClientHello(prefix, true)
}

func parseClientHello(body []byte, cut bool) (*ClientHello, error) {
	const msg = "client hello"
	raw := bytes.Clone(body)
	// The hello is filled here and moved to the heap with its extensions,
	// in one allocation, once their number is known (newClientHello).
	m := ClientHello{Raw: raw, Truncated: cut}
	s := cryptobyte.String(raw)
	var vers uint16
	var random, sid, suites, comp cryptobyte.String
	if !s.ReadUint16(&vers) {
		return nil, truncated(msg, "legacy_version")
	}
	m.Version = Version(vers)
	if !s.ReadBytes((*[]byte)(&random), 32) {
		if cut {
			return newClientHelloAlone(&m), nil
		}
		return nil, truncated(msg, "random")
	}
	m.Random = random
	if !s.ReadUint8LengthPrefixed(&sid) {
		if cut {
			return newClientHelloAlone(&m), nil
		}
		return nil, truncated(msg, "legacy_session_id")
	}
	m.SessionID = sid
	suitesCut := false
	if rest := s; !s.ReadUint16LengthPrefixed(&suites) {
		if !cut {
			return nil, truncated(msg, "cipher_suites")
		}
		if len(rest) < 2 {
			return newClientHelloAlone(&m), nil
		}
		rest = rest[2:]
		suites, s, suitesCut = rest[:len(rest)&^1], nil, true
	}
	if len(suites)%2 != 0 {
		return nil, invalid(msg, "cipher_suites", fmt.Sprintf("odd length %d", len(suites)))
	}
	compCut := false
	if !s.ReadUint8LengthPrefixed(&comp) {
		if !cut {
			return nil, truncated(msg, "legacy_compression_methods")
		}
		s, compCut = nil, true
	}
	m.CompressionMethods = comp
	var stack [maxStackExtensions]Extension
	exts, an, err := readExtensions(&s, msg, raw, cut, stack[:0])
	if err != nil {
		return nil, err
	}
	size := len(suites) / 2
	for _, e := range exts {
		switch e.Type {
		case ExtSupportedVersions, ExtSupportedGroups, ExtSignatureAlgorithms, ExtSignatureAlgorithmsCert, ExtCompressCertificate:
			size += len(e.Data) / 2
		case ExtKeyShare:
			size += len(e.Data) / 4
		}
	}
	h, arena := newClientHello(&m, exts, size)
	exts = h.Extensions // the heap's copy: stack stays on the stack
	h.CipherSuites = arenaSlice[CipherSuite](&arena, len(suites)/2)
	for i := range h.CipherSuites {
		c := CipherSuite(uint16(suites[2*i])<<8 | uint16(suites[2*i+1]))
		h.CipherSuites[i] = c
		if c == SuiteEmptyRenegotiationInfoSCSV {
			h.SecureRenegotiation = true
		}
	}

	if len(sid) > 32 {
		an.add(AnomalySessionIDTooLong)
	}
	if len(h.CipherSuites) == 0 && !suitesCut {
		an.add(AnomalyNoCipherSuites)
	}
	if !bytes.Contains(comp, []byte{0}) && !compCut && !suitesCut {
		an.add(AnomalyNoNullCompression)
	}

	var seen [4]uint64 // bitmap of the first 256 extension types; others by scan
	for i, e := range exts {
		if dup(&seen, exts[:i], e.Type) {
			an.add(AnomalyDuplicateExtension)
			continue
		}
		if e.Type == ExtPreSharedKey && i != len(exts)-1 {
			// RFC 8446, Section 4.2.11: it MUST be the last extension.
			an.add(AnomalyPSKNotLast)
		}
		h.clientExtension(e, &arena, &an)
	}
	h.Anomalies = an
	return h, nil
}

// A ClientHello is allocated with its extensions and the uint16 lists it
// reads (cipher suites, versions, groups, signature algorithms: the
// arena), one allocation instead of three per connection, in the
// smallest of these that holds them: a ClientHello, 13 extensions and
// the arena fill the 1024-byte size class, with 21 the 1280-byte one
// (with the 8-byte header of an object of more than 512 bytes that holds
// pointers). Go and curl send about 11 extensions, browsers about 18;
// their lists take 29 to 59 uint16s.
type (
	clientHello13 struct {
		m     ClientHello
		exts  [13]Extension
		arena [helloArena]uint16
	}
	clientHello21 struct {
		m     ClientHello
		exts  [21]Extension
		arena [helloArena]uint16
	}
)

const helloArena = 64

// newClientHello returns a copy of m on the heap with a copy of exts (nil
// when the hello had no extensions block) as its Extensions, and an arena
// of size uint16s.
func newClientHello(m *ClientHello, exts []Extension, size int) (*ClientHello, u16Arena) {
	var h *ClientHello
	var room []Extension
	var arena u16Arena
	switch n := len(exts); {
	case n == 0:
		h = new(ClientHello)
		if exts != nil {
			room = []Extension{} // an empty extensions block
		}
	case n <= 13 && size <= helloArena:
		b := new(clientHello13)
		h, room, arena = &b.m, b.exts[:n:n], b.arena[:size:size]
	case n <= 21 && size <= helloArena:
		b := new(clientHello21)
		h, room, arena = &b.m, b.exts[:n:n], b.arena[:size:size]
	default:
		h, room = new(ClientHello), make([]Extension, n)
	}
	if arena == nil && size > 0 {
		arena = make(u16Arena, size)
	}
	*h = *m
	copy(room, exts) // not exts itself: it is on the caller's stack
	h.Extensions = room
	return h, arena
}

// newClientHelloAlone returns a copy of m on the heap, for a hello cut
// before its extensions.
func newClientHelloAlone(m *ClientHello) *ClientHello {
	h, _ := newClientHello(m, nil, 0)
	return h
}

// dup reports whether t occurred in earlier extensions.
func dup(seen *[4]uint64, earlier []Extension, t ExtensionType) bool {
	if t < 256 {
		bit := uint64(1) << (t % 64)
		if seen[t/64]&bit != 0 {
			return true
		}
		seen[t/64] |= bit
		return false
	}
	for _, e := range earlier {
		if e.Type == t {
			return true
		}
	}
	return false
}

func (m *ClientHello) clientExtension(e Extension, arena *u16Arena, an *anomalies) {
	s := cryptobyte.String(e.Data)
	ok := true
	switch e.Type {
	case ExtServerName:
		// RFC 6066, Section 3.
		var list cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&list) {
			ok = false
			break
		}
		names := 0
		for !list.Empty() {
			var typ uint8
			var name cryptobyte.String
			if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&name) {
				ok = false
				break
			}
			if typ != 0 { // only host_name(0) is defined
				continue
			}
			names++
			if names > 1 {
				an.add(AnomalyMultipleServerNames)
				continue
			}
			// The name aliases Raw, as the slices do: Raw is the
			// hello's own copy, which nothing writes to, and a
			// string of its own was an allocation per connection.
			m.ServerName = unsafe.String(unsafe.SliceData(name), len(name))
			if len(name) == 0 {
				an.add(AnomalyEmptySNI)
			} else if name[len(name)-1] == '.' {
				an.add(AnomalySNITrailingDot)
			}
		}
	case ExtStatusRequest:
		// RFC 6066, Section 8.
		m.StatusRequest = true
		s = nil // the request's contents are not needed
	case ExtSupportedGroups:
		// RFC 8422, Section 5.1.1; RFC 8446, Section 4.2.7.
		m.SupportedGroups, ok = readU16List[NamedGroup](&s, 2, arena)
	case ExtECPointFormats:
		// RFC 8422, Section 5.1.2.
		var f cryptobyte.String
		ok = s.ReadUint8LengthPrefixed(&f)
		m.ECPointFormats = f
	case ExtSignatureAlgorithms:
		// RFC 8446, Section 4.2.3.
		m.SignatureSchemes, ok = readU16List[SignatureScheme](&s, 2, arena)
	case ExtSignatureAlgorithmsCert:
		// RFC 8446, Section 4.2.3.
		m.SignatureSchemesCert, ok = readU16List[SignatureScheme](&s, 2, arena)
	case ExtALPN:
		// RFC 7301, Section 3.1.
		var list cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&list) {
			ok = false
			break
		}
		n, c := 0, list
		for !c.Empty() {
			var p cryptobyte.String
			if !c.ReadUint8LengthPrefixed(&p) {
				ok = false
				break
			}
			n++
		}
		if !ok {
			break
		}
		m.ALPN = make([]string, 0, n)
		for !list.Empty() {
			var p cryptobyte.String
			list.ReadUint8LengthPrefixed(&p)
			if len(p) == 0 {
				an.add(AnomalyEmptyALPNProtocol)
			}
			m.ALPN = append(m.ALPN, protocolName(p))
		}
	case ExtPadding:
		// RFC 7685, Section 3: the data is zero bytes.
		m.Padding = uint16(len(e.Data))
		for _, b := range e.Data {
			if b != 0 {
				an.add(AnomalyNonzeroPadding)
				break
			}
		}
		s = nil
	case ExtEncryptThenMAC:
		// RFC 7366, Section 2: empty.
		m.EncryptThenMAC = true
	case ExtExtendedMasterSecret:
		// RFC 7627, Section 5.1: empty.
		m.ExtendedMasterSecret = true
	case ExtCompressCertificate:
		// RFC 8879, Section 3.
		m.CompressCertificate, ok = readU16List[uint16](&s, 1, arena)
	case ExtRecordSizeLimit:
		// RFC 8449, Section 4.
		ok = s.ReadUint16(&m.RecordSizeLimit)
	case ExtSessionTicket:
		// RFC 5077, Section 3.2: empty, or a ticket being presented.
		m.SessionTicket = true
		m.SessionTicketLen = uint16(len(e.Data))
		s = nil
	case ExtPreSharedKey:
		// RFC 8446, Section 4.2.11: identities and binders.
		m.PreSharedKey = true
		var ids, binders cryptobyte.String
		ok = s.ReadUint16LengthPrefixed(&ids) && s.ReadUint16LengthPrefixed(&binders)
	case ExtEarlyData:
		// RFC 8446, Section 4.2.10: empty in a ClientHello.
		m.EarlyData = true
	case ExtSupportedVersions:
		// RFC 8446, Section 4.2.1.
		m.SupportedVersions, ok = readU16List[Version](&s, 1, arena)
	case ExtCookie:
		// RFC 8446, Section 4.2.2.
		m.Cookie = true
		var c cryptobyte.String
		ok = s.ReadUint16LengthPrefixed(&c)
	case ExtPSKModes:
		// RFC 8446, Section 4.2.9.
		var modes cryptobyte.String
		ok = s.ReadUint8LengthPrefixed(&modes)
		m.PSKModes = modes
	case ExtKeyShare:
		// RFC 8446, Section 4.2.8: client_shares.
		var list cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&list) {
			ok = false
			break
		}
		n, c := 0, list
		for !c.Empty() {
			var g uint16
			var key cryptobyte.String
			if !c.ReadUint16(&g) || !c.ReadUint16LengthPrefixed(&key) {
				ok = false
				break
			}
			n++
		}
		if !ok {
			break
		}
		m.KeyShares = arenaSlice[NamedGroup](arena, n)
		for i := 0; !list.Empty(); i++ {
			var g uint16
			var key cryptobyte.String
			list.ReadUint16(&g)
			list.ReadUint16LengthPrefixed(&key)
			m.KeyShares[i] = NamedGroup(g)
		}
	case ExtRenegotiationInfo:
		// RFC 5746, Section 3.2.
		m.SecureRenegotiation = true
		var v cryptobyte.String
		ok = s.ReadUint8LengthPrefixed(&v)
	case ExtECH:
		// RFC 9849, Section 5: outer or inner ClientHello; presence is what matters here.
		m.ECH = true
		s = nil
	default:
		return
	}
	switch {
	case !ok:
		an.add(MalformedExtension(e.Type))
	case !s.Empty():
		an.add(TrailingBytesInExtension(e.Type))
	}
}

// protocolName returns an ALPN protocol ID as a string, without an
// allocation for the common ones: nearly every hello names some of these.
func protocolName(p []byte) string {
	switch string(p) { // compared in place, not converted
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	case "http/1.0":
		return "http/1.0"
	case "h3":
		return "h3"
	case "acme-tls/1":
		return "acme-tls/1"
	}
	return string(p)
}

// ServerHello is a parsed ServerHello or HelloRetryRequest (RFC 8446,
// Section 4.1.3). Byte slices alias Raw, a private copy of the body.
//
// The fields of fixed size are kept together, after the slices, so that a
// ServerHello takes a 160-byte allocation: one is made per connection.
type ServerHello struct {
	Raw        []byte
	Random     []byte
	SessionID  []byte
	Extensions []Extension
	ALPN       string
	Anomalies  []Anomaly

	Version           Version
	CipherSuite       CipherSuite
	CompressionMethod uint8

	SupportedVersion     Version    // selected version; 0 if the extension is absent
	KeyShare             NamedGroup // server's share group, or HRR selected_group
	PreSharedKey         bool
	SelectedIdentity     uint16
	ExtendedMasterSecret bool
	SecureRenegotiation  bool
	SessionTicket        bool
	StatusRequest        bool
	EncryptThenMAC       bool
	Cookie               bool
	HelloRetryRequest    bool
}

// NegotiatedVersion is the selected supported_versions value if present,
// else the legacy version field.
func (m *ServerHello) NegotiatedVersion() Version {
	if m.SupportedVersion != 0 {
		return m.SupportedVersion
	}
	return m.Version
}

// ParseServerHello parses the body of a ServerHello handshake message,
// including the HelloRetryRequest form. Errors and anomalies follow
// ParseClientHello.
func ParseServerHello(body []byte) (*ServerHello, error) {
	const msg = "server hello"
	raw := bytes.Clone(body)
	// As parseClientHello: filled here, then moved to the heap with its
	// extensions (newServerHello).
	m := ServerHello{Raw: raw}
	s := cryptobyte.String(raw)
	var vers, suite uint16
	var random, sid cryptobyte.String
	if !s.ReadUint16(&vers) {
		return nil, truncated(msg, "legacy_version")
	}
	m.Version = Version(vers)
	if !s.ReadBytes((*[]byte)(&random), 32) {
		return nil, truncated(msg, "random")
	}
	m.Random = random
	m.HelloRetryRequest = bytes.Equal(random, helloRetryRequestRandom)
	// TLS 1.3 drafts up to -21 put the version here and had no session ID
	// or compression method (draft-ietf-tls-tls13-21, Section 4.1.3).
	draft, isDraft := Version(vers).TLS13Draft()
	early13 := isDraft && draft <= 21
	if !early13 && !s.ReadUint8LengthPrefixed(&sid) {
		return nil, truncated(msg, "legacy_session_id")
	}
	m.SessionID = sid
	if !s.ReadUint16(&suite) {
		return nil, truncated(msg, "cipher_suite")
	}
	m.CipherSuite = CipherSuite(suite)
	if !early13 && !s.ReadUint8(&m.CompressionMethod) {
		return nil, truncated(msg, "legacy_compression_method")
	}
	var stack [16]Extension
	exts, an, err := readExtensions(&s, msg, raw, false, stack[:0])
	if err != nil {
		return nil, err
	}
	h, room := newServerHello(&m, exts)
	exts = h.Extensions // the heap's copy: stack stays on the stack
	if an == nil {
		an = room
	}
	if len(sid) > 32 {
		an.add(AnomalySessionIDTooLong)
	}
	if h.CompressionMethod != 0 {
		an.add(AnomalyCompressionNotNull)
	}
	switch tail := random[24:]; {
	case bytes.Equal(tail, downgradeTLS12):
		an.add(AnomalyDowngradeTLS12)
	case bytes.Equal(tail, downgradeTLS11):
		an.add(AnomalyDowngradeTLS11)
	}
	var seen [4]uint64
	for i, e := range exts {
		if dup(&seen, exts[:i], e.Type) {
			an.add(AnomalyDuplicateExtension)
			continue
		}
		h.serverExtension(e, &an)
	}
	if len(an) > 0 { // else nil, not the empty room
		h.Anomalies = an
	}
	return h, nil
}

// A ServerHello is allocated with its extensions, as a ClientHello, and
// room for one anomaly: a TLS 1.3 server's downgrade sentinel in a TLS
// 1.2 hello, the one anomaly of most hellos that have any, was a list of
// its own. With 2 extensions (TLS 1.3's) it fills the 240-byte size
// class, with 6 (TLS 1.2's are about 3 to 5) the 384-byte one.
type (
	serverHello2 struct {
		m         ServerHello
		exts      [2]Extension
		anomalies [1]Anomaly
	}
	serverHello6 struct {
		m         ServerHello
		exts      [6]Extension
		anomalies [1]Anomaly
	}
)

// newServerHello returns a copy of m on the heap with a copy of exts (nil
// when the hello had no extensions block) as its Extensions, and room for
// its anomalies (empty, or with a capacity of one).
func newServerHello(m *ServerHello, exts []Extension) (*ServerHello, anomalies) {
	var h *ServerHello
	var room []Extension
	var an anomalies
	switch n := len(exts); {
	case n == 0:
		h = new(ServerHello)
		if exts != nil {
			room = []Extension{} // an empty extensions block
		}
	case n <= 2:
		b := new(serverHello2)
		h, room, an = &b.m, b.exts[:n:n], b.anomalies[:0]
	case n <= 6:
		b := new(serverHello6)
		h, room, an = &b.m, b.exts[:n:n], b.anomalies[:0]
	default:
		h, room = new(ServerHello), make([]Extension, n)
	}
	*h = *m
	copy(room, exts) // not exts itself: it is on the caller's stack
	h.Extensions = room
	return h, an
}

// extKeyShareDraft is key_share's number in TLS 1.3 drafts up to -22 and
// in Google's 2017 experiment versions (VersionGoogleExperiment1 and 2);
// IANA reserves it.
const extKeyShareDraft ExtensionType = 40

func (m *ServerHello) serverExtension(e Extension, an *anomalies) {
	s := cryptobyte.String(e.Data)
	ok := true
	switch e.Type {
	case ExtSupportedVersions:
		// RFC 8446, Section 4.2.1: selected_version.
		var v uint16
		ok = s.ReadUint16(&v)
		m.SupportedVersion = Version(v)
	case ExtKeyShare, extKeyShareDraft:
		// RFC 8446, Section 4.2.8: a KeyShareEntry, or in a HelloRetryRequest
		// only the selected_group.
		var g uint16
		ok = s.ReadUint16(&g)
		m.KeyShare = NamedGroup(g)
		if ok && !m.HelloRetryRequest {
			var key cryptobyte.String
			ok = s.ReadUint16LengthPrefixed(&key)
		}
	case ExtALPN:
		// RFC 7301, Section 3.1: exactly one protocol.
		var list, p cryptobyte.String
		ok = s.ReadUint16LengthPrefixed(&list) && list.ReadUint8LengthPrefixed(&p) && list.Empty()
		if ok {
			m.ALPN = protocolName(p)
			if len(p) == 0 {
				an.add(AnomalyEmptyALPNProtocol)
			}
		}
	case ExtPreSharedKey:
		// RFC 8446, Section 4.2.11: selected_identity.
		m.PreSharedKey = true
		ok = s.ReadUint16(&m.SelectedIdentity)
	case ExtExtendedMasterSecret:
		// RFC 7627, Section 5.1.
		m.ExtendedMasterSecret = true
	case ExtRenegotiationInfo:
		// RFC 5746, Section 3.2.
		m.SecureRenegotiation = true
		var v cryptobyte.String
		ok = s.ReadUint8LengthPrefixed(&v)
	case ExtSessionTicket:
		// RFC 5077, Section 3.2: empty; a NewSessionTicket will follow.
		m.SessionTicket = true
	case ExtStatusRequest:
		// RFC 6066, Section 8: empty; a CertificateStatus will follow.
		m.StatusRequest = true
	case ExtEncryptThenMAC:
		// RFC 7366, Section 2.
		m.EncryptThenMAC = true
	case ExtCookie:
		// RFC 8446, Section 4.2.2.
		m.Cookie = true
		var c cryptobyte.String
		ok = s.ReadUint16LengthPrefixed(&c)
	default:
		return
	}
	switch {
	case !ok:
		an.add(MalformedExtension(e.Type))
	case !s.Empty():
		an.add(TrailingBytesInExtension(e.Type))
	}
}
