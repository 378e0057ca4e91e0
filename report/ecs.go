package report

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The ecs format writes one Elastic Common Schema 8.x document per line,
// for Elasticsearch, OpenSearch and whatever ships NDJSON to them
// (Filebeat, Logstash, Vector). ECS fields say what ECS means by them;
// what ECS has no field for is under tlsdiag.*.

var ecsFormat = formatSpec{
	name: FormatECS,
	doc:  "one Elastic Common Schema (ECS 8.x) document per line, tlsdiag's own fields under tlsdiag.*",
	json: true,
	new: func(*Stream) formatter {
		return &ecsFormatter{objects{object: func(s *Stream, r pipeline.Result) any { return newECS(r, s.opts.CommunityIDSeed) }}}
	},
}

// ecsFormatter writes documents only: every line is a connection's
// document, which a store indexes as such, so the summary and the
// capture statistics go to standard error instead.
type ecsFormatter struct{ objects }

func (f *ecsFormatter) connection(s *Stream, r pipeline.Result) error { return f.writeLine(s, r) }

func (f *ecsFormatter) close(*Stream, Summary) error { return nil }

// FormatECS is the name of the ECS format.
const FormatECS Format = "ecs"

// ECSVersion is the version of the Elastic Common Schema the ecs format
// follows (ecs.version in each document).
const ECSVersion = "8.17.0"

// ECS is one connection as an ECS document.
type ECS struct {
	Timestamp   string      `json:"@timestamp"`
	ECSInfo     ecsVersion  `json:"ecs"`
	Event       ecsEvent    `json:"event"`
	Source      ecsEndpoint `json:"source"`
	Destination ecsEndpoint `json:"destination"`
	Network     ecsNetwork  `json:"network"`
	TLS         *ecsTLS     `json:"tls,omitempty"`
	TLSDiag     ecsTLSDiag  `json:"tlsdiag"`
}

type ecsVersion struct {
	Version string `json:"version"`
}

type ecsEvent struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Category []string `json:"category"`
	Type     []string `json:"type"`
	Outcome  string   `json:"outcome"`
	Duration int64    `json:"duration"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Dataset  string   `json:"dataset"`
}

type ecsEndpoint struct {
	Address string `json:"address"`
	IP      string `json:"ip"`
	Port    uint16 `json:"port"`
	Bytes   int64  `json:"bytes"`
}

type ecsNetwork struct {
	Transport   string `json:"transport"`
	Type        string `json:"type"`
	IANANumber  string `json:"iana_number"`
	Protocol    string `json:"protocol,omitempty"`
	CommunityID string `json:"community_id,omitempty"`
}

type ecsTLS struct {
	Version         string        `json:"version,omitempty"`
	VersionProtocol string        `json:"version_protocol,omitempty"`
	Cipher          string        `json:"cipher,omitempty"`
	Curve           string        `json:"curve,omitempty"`
	Established     bool          `json:"established"`
	Resumed         bool          `json:"resumed"`
	NextProtocol    string        `json:"next_protocol,omitempty"`
	Client          ecsTLSClient  `json:"client"`
	Server          *ecsTLSServer `json:"server,omitempty"`
}

type ecsTLSClient struct {
	ServerName       string   `json:"server_name,omitempty"`
	JA3              string   `json:"ja3,omitempty"`
	SupportedCiphers []string `json:"supported_ciphers,omitempty"`
}

type ecsTLSServer struct {
	JA3S string   `json:"ja3s,omitempty"`
	Hash *ecsHash `json:"hash,omitempty"`
	X509 *ecsX509 `json:"x509,omitempty"`
}

type ecsHash struct {
	SHA256 string `json:"sha256"`
}

type ecsX509 struct {
	Subject            ecsName  `json:"subject"`
	Issuer             ecsName  `json:"issuer"`
	NotBefore          string   `json:"not_before"`
	NotAfter           string   `json:"not_after"`
	AlternativeNames   []string `json:"alternative_names,omitempty"`
	SerialNumber       string   `json:"serial_number"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
	PublicKeyAlgorithm string   `json:"public_key_algorithm"`
	PublicKeySize      int      `json:"public_key_size,omitempty"`
	PublicKeyCurve     string   `json:"public_key_curve,omitempty"`
	VersionNumber      string   `json:"version_number"`
}

type ecsName struct {
	DistinguishedName  string   `json:"distinguished_name"`
	CommonName         []string `json:"common_name,omitempty"`
	Organization       []string `json:"organization,omitempty"`
	OrganizationalUnit []string `json:"organizational_unit,omitempty"`
	Country            []string `json:"country,omitempty"`
}

// ecsTLSDiag is what ECS has no field for: the verdict, JA4, and where in
// which capture the connection is.
type ecsTLSDiag struct {
	Verdict     Verdict  `json:"verdict"`
	JA4         string   `json:"ja4,omitempty"`
	JA4R        string   `json:"ja4_r,omitempty"`
	Capture     string   `json:"capture,omitempty"`
	FirstFrame  int64    `json:"first_frame"`
	LastFrame   int64    `json:"last_frame"`
	HandshakeMS *float64 `json:"handshake_ms,omitempty"`
	Anomalies   []string `json:"anomalies,omitempty"`
}

// RecordID is a connection's deterministic identity in a store: the
// SHA-256 of its Community ID and the time of its first frame, in hex,
// cut to 128 bits. Reading the same capture again, on any machine and
// under any file name, gives the same IDs, so a store that keys documents
// on it (the ecs format's event.id, the sink's _id) holds each connection
// once however often it is sent.
func RecordID(communityID string, first time.Time) string {
	h := sha256.New()
	h.Write([]byte(communityID))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(first.UnixNano())))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// newECS converts a result to its ECS document.
func newECS(r pipeline.Result, seed uint16) ECS {
	c := r.Conn
	cid := connectionCommunityID(seed, c)
	outcome := "success"
	switch {
	case r.Verdict.NotJudged:
		outcome = "unknown"
	case r.Verdict.Failed():
		outcome = "failure"
	}
	netType := "ipv4"
	if !c.Client.Addr().Unmap().Is4() {
		netType = "ipv6"
	}
	doc := ECS{
		Timestamp: timestamp(c.First.Time),
		ECSInfo:   ecsVersion{ECSVersion},
		Event: ecsEvent{
			ID:       RecordID(cid, c.First.Time),
			Kind:     "event",
			Category: []string{"network"},
			Type:     []string{"connection"},
			Outcome:  outcome,
			Duration: c.Last.Time.Sub(c.First.Time).Nanoseconds(),
			Start:    timestamp(c.First.Time),
			End:      timestamp(c.Last.Time),
			Dataset:  "tlsdiag.connection",
		},
		Source:      ecsEndpointOf(c.Client.Addr().Unmap().String(), c.Client.Port(), c.ClientSide.AppData.Bytes),
		Destination: ecsEndpointOf(c.Server.Addr().Unmap().String(), c.Server.Port(), c.ServerSide.AppData.Bytes),
		Network:     ecsNetwork{Transport: "tcp", Type: netType, IANANumber: "6", CommunityID: cid},
		TLSDiag: ecsTLSDiag{
			Verdict:    newVerdict(r.Verdict),
			JA4:        c.Fingerprints().JA4,
			JA4R:       c.Fingerprints().JA4R,
			Capture:    r.Source,
			FirstFrame: c.First.Number,
			LastFrame:  c.Last.Number,
			Anomalies:  appendAnomalyIDs([]string{}, c.Anomalies),
		},
	}
	if c.IsQUIC() {
		doc.Network.Transport, doc.Network.IANANumber, doc.Network.Protocol = "udp", "17", "quic"
	}
	if d, ok := c.Duration(); ok {
		ms := float64(d.Microseconds()) / 1000
		doc.TLSDiag.HandshakeMS = &ms
	}
	if c.ClientHello == nil && c.ServerHello == nil {
		return doc // no TLS seen: a refused, silent or plaintext connection
	}
	t := &ecsTLS{Established: c.Established, Resumed: c.Resumed, NextProtocol: strings.ToLower(c.ALPN)}
	if c.Version != 0 {
		t.Version, t.VersionProtocol = ecsVersionOf(c.Version)
	}
	if c.Cipher != 0 || c.ServerHello != nil {
		t.Cipher = c.Cipher.String()
	}
	if c.Group != 0 {
		t.Curve = c.Group.String()
	}
	if h := c.ClientHello; h != nil {
		t.Client.ServerName = h.ServerName
		t.Client.JA3 = c.Fingerprints().JA3
		for _, cs := range h.CipherSuites {
			if !tlsparse.IsGREASE(uint16(cs)) {
				t.Client.SupportedCiphers = append(t.Client.SupportedCiphers, cs.String())
			}
		}
	}
	srv := &ecsTLSServer{JA3S: c.Fingerprints().JA3S}
	if len(c.Certificates) > 0 {
		leaf := c.Certificates[0]
		sum := sha256.Sum256(leaf.DER)
		srv.Hash = &ecsHash{SHA256: strings.ToUpper(hex.EncodeToString(sum[:]))}
		if leaf.X509 != nil {
			srv.X509 = newECSX509(leaf.X509)
		}
	}
	if *srv != (ecsTLSServer{}) {
		t.Server = srv
	}
	doc.TLS = t
	return doc
}

func ecsEndpointOf(ip string, port uint16, bytes int64) ecsEndpoint {
	return ecsEndpoint{Address: ip, IP: ip, Port: port, Bytes: bytes}
}

// ecsVersionOf splits a version as ECS wants it: "1.3" and "tls", "3.0"
// and "ssl".
func ecsVersionOf(v tlsparse.Version) (version, protocol string) {
	name := v.String() // "TLS 1.3", "SSL 3.0", or "0x%04X" when unnamed
	if p, num, ok := strings.Cut(name, " "); ok {
		return num, strings.ToLower(p)
	}
	return name, ""
}

func newECSX509(x *x509.Certificate) *ecsX509 {
	out := &ecsX509{
		Subject:            ecsNameOf(x.Subject.String(), x.Subject.CommonName, x.Subject.Organization, x.Subject.OrganizationalUnit, x.Subject.Country),
		Issuer:             ecsNameOf(x.Issuer.String(), x.Issuer.CommonName, x.Issuer.Organization, x.Issuer.OrganizationalUnit, x.Issuer.Country),
		NotBefore:          x.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:           x.NotAfter.UTC().Format(time.RFC3339),
		SerialNumber:       strings.ToUpper(x.SerialNumber.Text(16)),
		SignatureAlgorithm: x.SignatureAlgorithm.String(),
		PublicKeyAlgorithm: x.PublicKeyAlgorithm.String(),
		VersionNumber:      strconv.Itoa(x.Version),
	}
	out.AlternativeNames = append(out.AlternativeNames, x.DNSNames...)
	for _, ip := range x.IPAddresses {
		out.AlternativeNames = append(out.AlternativeNames, ip.String())
	}
	out.AlternativeNames = append(out.AlternativeNames, x.EmailAddresses...)
	for _, u := range x.URIs {
		out.AlternativeNames = append(out.AlternativeNames, u.String())
	}
	switch k := x.PublicKey.(type) {
	case *rsa.PublicKey:
		out.PublicKeySize = k.N.BitLen()
	case *ecdsa.PublicKey:
		out.PublicKeySize = k.Curve.Params().BitSize
		out.PublicKeyCurve = k.Curve.Params().Name
	case ed25519.PublicKey:
		out.PublicKeySize = 256
	}
	return out
}

func ecsNameOf(dn, cn string, o, ou, country []string) ecsName {
	n := ecsName{DistinguishedName: dn, Organization: o, OrganizationalUnit: ou, Country: country}
	if cn != "" {
		n.CommonName = []string{cn}
	}
	return n
}
