package tlsparse

import (
	"bytes"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Message is any parsed handshake message.
type Message interface {
	Type() HandshakeType
}

func (*ClientHello) Type() HandshakeType         { return HandshakeTypeClientHello }
func (*ServerHello) Type() HandshakeType         { return HandshakeTypeServerHello }
func (*Certificate) Type() HandshakeType         { return HandshakeTypeCertificate }
func (*ServerKeyExchange) Type() HandshakeType   { return HandshakeTypeServerKeyExchange }
func (*CertificateRequest) Type() HandshakeType  { return HandshakeTypeCertificateRequest }
func (*NewSessionTicket) Type() HandshakeType    { return HandshakeTypeNewSessionTicket }
func (*EncryptedExtensions) Type() HandshakeType { return HandshakeTypeEncryptedExtensions }
func (*CertificateVerify) Type() HandshakeType   { return HandshakeTypeCertificateVerify }
func (*ClientKeyExchange) Type() HandshakeType   { return HandshakeTypeClientKeyExchange }
func (*Finished) Type() HandshakeType            { return HandshakeTypeFinished }
func (*CertificateStatus) Type() HandshakeType   { return HandshakeTypeCertificateStatus }
func (*KeyUpdate) Type() HandshakeType           { return HandshakeTypeKeyUpdate }
func (m *EmptyMessage) Type() HandshakeType      { return m.Typ }
func (m *UnknownMessage) Type() HandshakeType    { return m.Typ }

// UnknownMessage is a handshake message this package does not decode.
type UnknownMessage struct {
	Typ HandshakeType
	Raw []byte
}

// EmptyMessage is a message that has no body: HelloRequest,
// ServerHelloDone or EndOfEarlyData.
type EmptyMessage struct {
	Typ HandshakeType
}

// ParseHandshake parses a handshake message body of type t. The version v
// and cipher suite cs are the negotiated ones (from the ServerHello); they
// select between TLS 1.2 and TLS 1.3 layouts and the ServerKeyExchange
// format. Types without a parser give an *UnknownMessage.
func ParseHandshake(t HandshakeType, body []byte, v Version, cs CipherSuite) (Message, error) {
	switch t {
	case HandshakeTypeClientHello:
		return ParseClientHello(body)
	case HandshakeTypeServerHello:
		return ParseServerHello(body)
	case HandshakeTypeCertificate:
		return ParseCertificate(bytes.Clone(body), v)
	case HandshakeTypeServerKeyExchange:
		return parseServerKeyExchange(body, cs, v)
	case HandshakeTypeCertificateRequest:
		return ParseCertificateRequest(body, v)
	case HandshakeTypeNewSessionTicket:
		return ParseNewSessionTicket(body, v)
	case HandshakeTypeEncryptedExtensions:
		return ParseEncryptedExtensions(body)
	case HandshakeTypeCertificateVerify:
		return ParseCertificateVerify(body, v)
	case HandshakeTypeClientKeyExchange:
		return ParseClientKeyExchange(body)
	case HandshakeTypeFinished:
		return ParseFinished(body)
	case HandshakeTypeCertificateStatus:
		return ParseCertificateStatus(body)
	case HandshakeTypeKeyUpdate:
		return ParseKeyUpdate(body)
	case HandshakeTypeCompressedCert:
		return ParseCompressedCertificate(bytes.Clone(body))
	case HandshakeTypeHelloRequest, HandshakeTypeServerHelloDone, HandshakeTypeEndOfEarlyData:
		if len(body) != 0 {
			return nil, invalid(t.Title(), "body", fmt.Sprintf("%d bytes in an empty message", len(body)))
		}
		return &EmptyMessage{Typ: t}, nil
	}
	return &UnknownMessage{Typ: t, Raw: bytes.Clone(body)}, nil
}

// Certificate is a Certificate message (RFC 5246, Section 7.4.2; RFC 8446,
// Section 4.4.2). Unlike the other messages it aliases the body it was
// parsed from (see ParseCertificate).
type Certificate struct {
	Raw          []byte   // the body
	Context      []byte   // TLS 1.3 certificate_request_context
	Certificates [][]byte // DER, leaf first, aliasing Raw
	// EntryExtensions holds each entry's extensions in TLS 1.3 (OCSP status,
	// SCTs); nil for TLS ≤ 1.2.
	EntryExtensions [][]Extension
}

// ParseCertificate parses a Certificate message in the layout of version v.
// Unlike the other parse functions it does not copy body: the message and
// its certificates alias it, and are only valid as long as body is. A chain
// is the largest message of a handshake, and its reader keeps only what it
// has not seen before (analysis keeps one copy of each distinct
// certificate), so a copy of every chain would be mostly thrown away.
// ParseHandshake copies body for it as for the others.
func ParseCertificate(body []byte, v Version) (*Certificate, error) {
	const msg = "certificate"
	m := &Certificate{Raw: body}
	s := cryptobyte.String(m.Raw)
	tls13 := v.IsTLS13()
	if tls13 {
		var ctx cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) {
			return nil, truncated(msg, "certificate_request_context")
		}
		m.Context = ctx
	}
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) {
		return nil, truncated(msg, "certificate_list")
	}
	// Count first so that the lists are allocated once; the loop below
	// reports what does not parse.
	n := 0
	for c := list; ; n++ {
		var der, exts cryptobyte.String
		if !c.ReadUint24LengthPrefixed(&der) || tls13 && !c.ReadUint16LengthPrefixed(&exts) {
			break
		}
	}
	if n > 0 {
		m.Certificates = make([][]byte, 0, n)
		if tls13 {
			m.EntryExtensions = make([][]Extension, 0, n)
		}
	}
	for i := 0; !list.Empty(); i++ {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) {
			return nil, truncated(msg, fmt.Sprintf("certificate_list[%d]", i))
		}
		m.Certificates = append(m.Certificates, der)
		if tls13 {
			var exts cryptobyte.String
			if !list.ReadUint16LengthPrefixed(&exts) {
				return nil, truncated(msg, fmt.Sprintf("certificate_list[%d].extensions", i))
			}
			es, err := splitExtensions(exts, msg)
			if err != nil {
				return nil, err
			}
			m.EntryExtensions = append(m.EntryExtensions, es)
		}
	}
	if !s.Empty() {
		return nil, invalid(msg, "certificate_list", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	return m, nil
}

// splitExtensions reads a sequence of extensions filling all of s.
func splitExtensions(s cryptobyte.String, msg string) ([]Extension, error) {
	var out []Extension
	for !s.Empty() {
		var t uint16
		var data cryptobyte.String
		if !s.ReadUint16(&t) || !s.ReadUint16LengthPrefixed(&data) {
			return nil, truncated(msg, "extensions")
		}
		out = append(out, Extension{Type: ExtensionType(t), Data: data})
	}
	return out, nil
}

// ServerKeyExchange is a TLS ≤ 1.2 ServerKeyExchange (RFC 5246, Section
// 7.4.3; RFC 8422, Section 5.4; RFC 4279 for the PSK forms).
type ServerKeyExchange struct {
	Raw         []byte
	KeyExchange KeyExchange
	// ECDHE: CurveType 3 (named_curve) with Group, or 1/2 (explicit curves,
	// whose parameters are left in Raw).
	CurveType uint8
	Group     NamedGroup
	PublicKey []byte // ECDH point or DH Ys
	// DHE: the size of the prime p in bits.
	DHPrimeBits     int
	PSKIdentityHint []byte
	// Signature over the parameters; SignatureScheme is set in the TLS 1.2
	// form only. Anonymous and PSK suites carry none.
	SignatureScheme SignatureScheme
	Signature       []byte
}

// ParseServerKeyExchange parses a ServerKeyExchange for cipher suite cs.
// Without the version it tells the TLS 1.2 signature layout (scheme, then
// signature) from the older one by which of them exactly fills the message;
// ParseHandshake passes the version instead.
func ParseServerKeyExchange(body []byte, cs CipherSuite) (*ServerKeyExchange, error) {
	return parseServerKeyExchange(body, cs, 0)
}

func parseServerKeyExchange(body []byte, cs CipherSuite, v Version) (*ServerKeyExchange, error) {
	const msg = "server key exchange"
	m := &ServerKeyExchange{Raw: bytes.Clone(body), KeyExchange: cs.KeyExchange()}
	s := cryptobyte.String(m.Raw)
	switch m.KeyExchange {
	case KeyExchangePSK, KeyExchangeDHEPSK, KeyExchangeECDHEPSK:
		var hint cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&hint) {
			return nil, truncated(msg, "psk_identity_hint")
		}
		m.PSKIdentityHint = hint
	}
	switch m.KeyExchange {
	case KeyExchangeECDHE, KeyExchangeECDHEPSK:
		if !s.ReadUint8(&m.CurveType) {
			return nil, truncated(msg, "curve_type")
		}
		if m.CurveType != 3 {
			// Explicit curves (RFC 4492, Section 5.4) are deprecated by RFC 8422;
			// keep the message raw.
			return m, nil
		}
		var g uint16
		var point cryptobyte.String
		if !s.ReadUint16(&g) {
			return nil, truncated(msg, "named_curve")
		}
		m.Group = NamedGroup(g)
		if !s.ReadUint8LengthPrefixed(&point) {
			return nil, truncated(msg, "public")
		}
		m.PublicKey = point
	case KeyExchangeDHE, KeyExchangeDHEPSK:
		var p, g, y cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&p) {
			return nil, truncated(msg, "dh_p")
		}
		if !s.ReadUint16LengthPrefixed(&g) {
			return nil, truncated(msg, "dh_g")
		}
		if !s.ReadUint16LengthPrefixed(&y) {
			return nil, truncated(msg, "dh_Ys")
		}
		m.DHPrimeBits = bitLen(p)
		m.PublicKey = y
	case KeyExchangeRSA:
		if !cs.export() {
			return m, nil
		}
		var mod, exp cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&mod) || !s.ReadUint16LengthPrefixed(&exp) {
			return nil, truncated(msg, "rsa_params")
		}
	case KeyExchangePSK:
	default:
		return m, nil
	}
	if cs.anonymous() {
		if !s.Empty() {
			return nil, invalid(msg, "params", fmt.Sprintf("%d trailing bytes", len(s)))
		}
		return m, nil
	}
	return m, m.readSignature(s, v)
}

// readSignature reads the digitally-signed struct that ends the message.
func (m *ServerKeyExchange) readSignature(s cryptobyte.String, v Version) error {
	const msg = "server key exchange"
	withScheme := v >= VersionTLS12
	if v == 0 {
		// Guess: the older form is a bare length-prefixed signature that
		// fills the rest exactly.
		withScheme = len(s) < 2 || int(s[0])<<8|int(s[1]) != len(s)-2
	}
	if withScheme {
		var scheme uint16
		if !s.ReadUint16(&scheme) {
			return truncated(msg, "signature_algorithm")
		}
		m.SignatureScheme = SignatureScheme(scheme)
	}
	var sig cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&sig) {
		return truncated(msg, "signature")
	}
	if !s.Empty() {
		return invalid(msg, "signature", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	m.Signature = sig
	return nil
}

func bitLen(b []byte) int {
	for i, c := range b {
		if c != 0 {
			n := (len(b) - i - 1) * 8
			for ; c != 0; c >>= 1 {
				n++
			}
			return n
		}
	}
	return 0
}

// CertificateRequest is a CertificateRequest (RFC 5246, Section 7.4.4;
// RFC 8446, Section 4.3.2).
type CertificateRequest struct {
	Raw                  []byte
	Context              []byte  // TLS 1.3
	CertificateTypes     []uint8 // TLS ≤ 1.2
	SignatureSchemes     []SignatureScheme
	SignatureSchemesCert []SignatureScheme // TLS 1.3
	CANames              [][]byte          // DER-encoded DistinguishedNames
	Extensions           []Extension       // TLS 1.3
	Anomalies            []Anomaly
}

// ParseCertificateRequest parses a CertificateRequest in the layout of v.
func ParseCertificateRequest(body []byte, v Version) (*CertificateRequest, error) {
	const msg = "certificate request"
	m := &CertificateRequest{Raw: bytes.Clone(body)}
	s := cryptobyte.String(m.Raw)
	var arena u16Arena
	if v.IsTLS13() {
		var ctx, exts cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) {
			return nil, truncated(msg, "certificate_request_context")
		}
		m.Context = ctx
		if !s.ReadUint16LengthPrefixed(&exts) {
			return nil, truncated(msg, "extensions")
		}
		es, err := splitExtensions(exts, msg)
		if err != nil {
			return nil, err
		}
		m.Extensions = es
		var an anomalies
		var seen [4]uint64
		for i, e := range es {
			if dup(&seen, es[:i], e.Type) {
				an.add(AnomalyDuplicateExtension)
				continue
			}
			d := cryptobyte.String(e.Data)
			ok := true
			switch e.Type {
			case ExtSignatureAlgorithms:
				// RFC 8446, Section 4.2.3.
				m.SignatureSchemes, ok = readU16List[SignatureScheme](&d, 2, &arena)
			case ExtSignatureAlgorithmsCert:
				m.SignatureSchemesCert, ok = readU16List[SignatureScheme](&d, 2, &arena)
			case ExtCertificateAuthorities:
				// RFC 8446, Section 4.2.4.
				m.CANames, ok = readDNs(&d)
			default:
				continue
			}
			switch {
			case !ok:
				an.add(MalformedExtension(e.Type))
			case !d.Empty():
				an.add(TrailingBytesInExtension(e.Type))
			}
		}
		m.Anomalies = an
	} else {
		var types cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&types) {
			return nil, truncated(msg, "certificate_types")
		}
		m.CertificateTypes = types
		if v >= VersionTLS12 || v == 0 && len(s) >= 2 && looksLikeTLS12CertRequest(s) {
			var ok bool
			if m.SignatureSchemes, ok = readU16List[SignatureScheme](&s, 2, &arena); !ok {
				return nil, truncated(msg, "supported_signature_algorithms")
			}
		}
		var ok bool
		if m.CANames, ok = readDNs(&s); !ok {
			return nil, truncated(msg, "certificate_authorities")
		}
	}
	if !s.Empty() {
		return nil, invalid(msg, "certificate_authorities", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	return m, nil
}

// looksLikeTLS12CertRequest tells whether s (after certificate_types) holds
// a signature algorithm list before the CA names: then the two u16-prefixed
// vectors fill s exactly.
func looksLikeTLS12CertRequest(s cryptobyte.String) bool {
	var a, b cryptobyte.String
	return s.ReadUint16LengthPrefixed(&a) && s.ReadUint16LengthPrefixed(&b) && s.Empty()
}

func readDNs(s *cryptobyte.String) ([][]byte, bool) {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) {
		return nil, false
	}
	var out [][]byte
	for !list.Empty() {
		var dn cryptobyte.String
		if !list.ReadUint16LengthPrefixed(&dn) {
			return nil, false
		}
		out = append(out, dn)
	}
	return out, true
}

// NewSessionTicket is a NewSessionTicket (RFC 5077, Section 3.3; RFC 8446,
// Section 4.6.1).
type NewSessionTicket struct {
	Raw          []byte
	Lifetime     uint32 // seconds; ticket_lifetime_hint before TLS 1.3
	AgeAdd       uint32 // TLS 1.3
	Nonce        []byte // TLS 1.3
	Ticket       []byte
	MaxEarlyData uint32      // TLS 1.3 early_data extension; 0 if absent
	Extensions   []Extension // TLS 1.3
}

// ParseNewSessionTicket parses a NewSessionTicket in the layout of v.
func ParseNewSessionTicket(body []byte, v Version) (*NewSessionTicket, error) {
	const msg = "new session ticket"
	m := &NewSessionTicket{Raw: bytes.Clone(body)}
	s := cryptobyte.String(m.Raw)
	if !s.ReadUint32(&m.Lifetime) {
		return nil, truncated(msg, "ticket_lifetime")
	}
	var ticket cryptobyte.String
	if !v.IsTLS13() {
		if !s.ReadUint16LengthPrefixed(&ticket) {
			return nil, truncated(msg, "ticket")
		}
		m.Ticket = ticket
	} else {
		var nonce, exts cryptobyte.String
		if !s.ReadUint32(&m.AgeAdd) {
			return nil, truncated(msg, "ticket_age_add")
		}
		if !s.ReadUint8LengthPrefixed(&nonce) {
			return nil, truncated(msg, "ticket_nonce")
		}
		m.Nonce = nonce
		if !s.ReadUint16LengthPrefixed(&ticket) {
			return nil, truncated(msg, "ticket")
		}
		m.Ticket = ticket
		if !s.ReadUint16LengthPrefixed(&exts) {
			return nil, truncated(msg, "extensions")
		}
		es, err := splitExtensions(exts, msg)
		if err != nil {
			return nil, err
		}
		m.Extensions = es
		for _, e := range es {
			if e.Type == ExtEarlyData {
				// RFC 8446, Section 4.2.10: max_early_data_size.
				d := cryptobyte.String(e.Data)
				if !d.ReadUint32(&m.MaxEarlyData) {
					return nil, truncated(msg, "early_data")
				}
			}
		}
	}
	if !s.Empty() {
		return nil, invalid(msg, "ticket", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	return m, nil
}

// EncryptedExtensions is a TLS 1.3 EncryptedExtensions (RFC 8446, Section 4.3.1).
type EncryptedExtensions struct {
	Raw             []byte
	Extensions      []Extension
	ALPN            string
	ServerNameAck   bool // empty server_name: the server used the client's SNI
	EarlyData       bool // early data accepted
	SupportedGroups []NamedGroup
	RecordSizeLimit uint16
	Anomalies       []Anomaly
}

// ParseEncryptedExtensions parses an EncryptedExtensions message.
func ParseEncryptedExtensions(body []byte) (*EncryptedExtensions, error) {
	const msg = "encrypted extensions"
	m := &EncryptedExtensions{Raw: bytes.Clone(body)}
	s := cryptobyte.String(m.Raw)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return nil, truncated(msg, "extensions")
	}
	if !s.Empty() {
		return nil, invalid(msg, "extensions", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	es, err := splitExtensions(exts, msg)
	if err != nil {
		return nil, err
	}
	m.Extensions = es
	var an anomalies
	var seen [4]uint64
	var arena u16Arena
	for i, e := range es {
		if dup(&seen, es[:i], e.Type) {
			an.add(AnomalyDuplicateExtension)
			continue
		}
		d := cryptobyte.String(e.Data)
		ok := true
		switch e.Type {
		case ExtServerName:
			// RFC 6066, Section 3: the server's acknowledgement is empty.
			m.ServerNameAck = true
		case ExtALPN:
			// RFC 7301, Section 3.1.
			var list, p cryptobyte.String
			ok = d.ReadUint16LengthPrefixed(&list) && list.ReadUint8LengthPrefixed(&p) && list.Empty()
			m.ALPN = protocolName(p)
		case ExtEarlyData:
			// RFC 8446, Section 4.2.10.
			m.EarlyData = true
		case ExtSupportedGroups:
			// RFC 8446, Section 4.2.7: the server's preference, informational.
			m.SupportedGroups, ok = readU16List[NamedGroup](&d, 2, &arena)
		case ExtRecordSizeLimit:
			// RFC 8449, Section 4.
			ok = d.ReadUint16(&m.RecordSizeLimit)
		default:
			continue
		}
		switch {
		case !ok:
			an.add(MalformedExtension(e.Type))
		case !d.Empty():
			an.add(TrailingBytesInExtension(e.Type))
		}
	}
	m.Anomalies = an
	return m, nil
}

// CertificateVerify is a CertificateVerify (RFC 5246, Section 7.4.8;
// RFC 8446, Section 4.4.3).
type CertificateVerify struct {
	Raw             []byte
	SignatureScheme SignatureScheme // 0 before TLS 1.2
	Signature       []byte
}

// ParseCertificateVerify parses a CertificateVerify in the layout of v
// (v == 0 is taken as TLS 1.2 or later).
func ParseCertificateVerify(body []byte, v Version) (*CertificateVerify, error) {
	const msg = "certificate verify"
	m := &CertificateVerify{Raw: bytes.Clone(body)}
	s := cryptobyte.String(m.Raw)
	if v == 0 || v >= VersionTLS12 {
		var scheme uint16
		if !s.ReadUint16(&scheme) {
			return nil, truncated(msg, "algorithm")
		}
		m.SignatureScheme = SignatureScheme(scheme)
	}
	var sig cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&sig) {
		return nil, truncated(msg, "signature")
	}
	if !s.Empty() {
		return nil, invalid(msg, "signature", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	m.Signature = sig
	return m, nil
}

// ClientKeyExchange is a ClientKeyExchange, kept raw: its layout depends on
// the key exchange, and its contents are encrypted or ephemeral.
type ClientKeyExchange struct {
	Raw []byte
}

// ParseClientKeyExchange copies a ClientKeyExchange body.
func ParseClientKeyExchange(body []byte) (*ClientKeyExchange, error) {
	if len(body) == 0 {
		return nil, truncated("client key exchange", "exchange_keys")
	}
	return &ClientKeyExchange{Raw: bytes.Clone(body)}, nil
}

// Finished is a plaintext Finished (rarely seen: it is normally encrypted).
type Finished struct {
	VerifyData []byte
}

// ParseFinished copies a Finished body.
func ParseFinished(body []byte) (*Finished, error) {
	if len(body) == 0 {
		return nil, truncated("finished", "verify_data")
	}
	return &Finished{VerifyData: bytes.Clone(body)}, nil
}

// CertificateStatus is a CertificateStatus carrying an OCSP response
// (RFC 6066, Section 8).
type CertificateStatus struct {
	Raw          []byte
	StatusType   uint8  // 1 = ocsp
	OCSPResponse []byte // DER
}

// ParseCertificateStatus parses a CertificateStatus message.
func ParseCertificateStatus(body []byte) (*CertificateStatus, error) {
	const msg = "certificate status"
	m := &CertificateStatus{Raw: bytes.Clone(body)}
	s := cryptobyte.String(m.Raw)
	var resp cryptobyte.String
	if !s.ReadUint8(&m.StatusType) {
		return nil, truncated(msg, "status_type")
	}
	if !s.ReadUint24LengthPrefixed(&resp) {
		return nil, truncated(msg, "response")
	}
	if !s.Empty() {
		return nil, invalid(msg, "response", fmt.Sprintf("%d trailing bytes", len(s)))
	}
	m.OCSPResponse = resp
	return m, nil
}

// KeyUpdate is a TLS 1.3 KeyUpdate (RFC 8446, Section 4.6.3).
type KeyUpdate struct {
	RequestUpdate bool
}

// ParseKeyUpdate parses a KeyUpdate message.
func ParseKeyUpdate(body []byte) (*KeyUpdate, error) {
	if len(body) != 1 {
		return nil, invalid("key update", "request_update", fmt.Sprintf("%d bytes, want 1", len(body)))
	}
	if body[0] > 1 {
		return nil, invalid("key update", "request_update", fmt.Sprintf("value %d", body[0]))
	}
	return &KeyUpdate{RequestUpdate: body[0] == 1}, nil
}
