package report

import (
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Document is what the json format writes: every connection, then the
// summary, and for a live capture its statistics.
type Document struct {
	Connections []Connection  `json:"connections"`
	Summary     Summary       `json:"summary"`
	Capture     *CaptureStats `json:"capture,omitempty"`
}

// Connection is one connection as the json and ndjson formats write it.
// Lists are [] when empty, never null; strings are "" when the capture does
// not show the value. Frame numbers are Wireshark's (frame.number) in the
// connection's own capture file.
//
// Field reference:
//
//   - source (string, omitted when empty): the capture file the connection came from.
//   - transport (string, omitted for TLS over TCP): "quic" for a QUIC
//     connection, whose QUIC-level facts are in quic (see QUIC) and whose
//     tcp object is empty; "dns" for a failed DNS lookup, which is no
//     connection: client is the host that asked, server the resolver,
//     dns_failure holds the lookup and every TLS and TCP field is empty.
//   - dns (object, omitted when the capture shows none): the DNS answer
//     that gave the connection its server address, the latest before its
//     first frame, preferring the name in the SNI: name (the name the
//     client asked for), resolver ("ip:port"), query_frame (number or
//     null when the query was not captured), answer_frame (number).
//   - dns_failure (object, only with transport "dns"): name, types (list
//     of the record types asked for, "A", "AAAA", "HTTPS"), rcode
//     ("NXDOMAIN", "SERVFAIL", "REFUSED": the first query's, when the
//     answers differ the summary names the others; "" when no query was
//     answered), tcp (bool: the lookup went over TCP), query_frames and answer_frames
//     (lists of numbers, at most 8 each).
//   - client, server (string): the two ends as "ip:port"; IPv6 addresses in
//     brackets, "[2001:db8::1]:443". The client is the end that sent the SYN,
//     or else the ClientHello.
//   - community_id (string): the connection's Community ID (version 1 of the
//     published spec, "1:" and a base64 SHA-1 of the 5-tuple (TCP, or UDP
//     for QUIC) and the seed), the same string Zeek, Suricata, Arkime, Wireshark and Elastic
//     give the same flow; "" when the two ends' address families differ.
//   - first_frame, last_frame (number): the connection's first and last frame.
//   - start (string): time of the first frame, RFC 3339 in UTC with
//     microseconds (nanoseconds when the capture has them),
//     "2024-05-01T12:00:00.000123Z".
//   - handshake_ms (number or null): milliseconds from the ClientHello to the
//     frame that completed the handshake; null when it did not complete, or
//     when the capture's clock stepped back a second or more in between.
//   - sni (string): the server name the client asked for.
//   - offered_versions (list of strings): the versions the client offered,
//     in its order (highest first, in practice), as "TLS 1.3", "TLS 1.2", …,
//     "SSL 3.0"; GREASE left out.
//   - offered_ciphers (list of strings): the client's cipher suites in its
//     order, by IANA name ("TLS_AES_128_GCM_SHA256"), "0x%04X" when unnamed;
//     GREASE left out.
//   - alpn_offered (list of strings): the application protocols the client
//     offered ("h2", "http/1.1").
//   - version (string): the negotiated version, "" when the server chose none.
//   - cipher (string): the cipher suite the server chose (IANA name).
//   - group (string): the key exchange group ("x25519", "secp256r1").
//   - alpn (string): the application protocol the server chose.
//   - hello_retry (bool): the server sent a HelloRetryRequest.
//   - resumed (bool): the session was resumed (PSK, session ID or ticket).
//   - certificates (list of objects): the server's chain as sent, leaf first
//     (empty under TLS 1.3, which encrypts it, unless a key log opened it). Each has subject, issuer
//     (strings, RFC 2253 form "CN=good.test,O=Example"), sans (list of DNS
//     names, IP addresses, e-mail addresses and URIs), not_before, not_after
//     (RFC 3339, UTC), key ("RSA 2048", "ECDSA P-256", "Ed25519"),
//     signature_algorithm ("SHA256-RSA", "ECDSA-SHA256"), sha256 (lower-case
//     hex fingerprint of the DER), self_signed (bool: issuer equals subject
//     and the certificate's own key verifies its signature), and parse_error
//     (string, only when the DER did not parse; the other fields are then
//     empty except sha256).
//   - alerts (list of objects): every alert record, in order: frame (number),
//     sender ("client" or "server"), level ("warning", "fatal"),
//     description (RFC 8446 name in snake_case, "certificate_expired"),
//     encrypted (bool), decrypted (bool: a key log opened the encrypted
//     alert). Level and description are "" for an encrypted alert that was
//     not decrypted.
//   - established (bool): both sides finished the handshake: the capture
//     shows both Finished messages, or (TLS 1.2 and older) it lacks the
//     client's, lost or garbled, but the client sent application data after
//     the server's Finished and the server answered it, which both do only
//     once the handshake is complete (handshake_ms is then null: no frame of
//     the capture completed it).
//   - decrypted (bool): a key log's secrets opened the connection's
//     encrypted records (TLS 1.0 to 1.3), so what they hide (TLS 1.3
//     certificates, alerts, Finished messages, application data) was read.
//   - decryption (string): what the key log (--keylog, or the secrets a
//     pcapng file carries) did for the connection: "decrypted", "no_key"
//     (no secret for its client random), "unsupported_cipher" (a cipher
//     suite tlsdiag does not decrypt), "failed" (the secrets did not open
//     its records: they belong to another connection, or records were
//     lost); "" without a key log or when there was nothing to decrypt.
//   - decryption_reason (string): why, naming the client random or the
//     frame; "" when decryption is "" or "decrypted" without trouble.
//   - decrypted_messages (list of objects): the handshake messages read
//     from decrypted records, in order: frame, sender, message (snake_case
//     type, e.g. "finished", "hello_request", "client_hello" of a
//     renegotiation, "encrypted_extensions").
//   - app_data_head (object): client, server (strings): the first bytes
//     (at most 64) of the decrypted application data each side sent, e.g.
//     "HTTP/1.1 200 OK\r\n…"; "" when not decrypted.
//   - client_cert_requested (bool): the server sent a CertificateRequest.
//   - app_bytes (object): client, server (numbers): the application data
//     each side sent, in bytes of record payload (ciphertext, so tags and
//     padding count; record headers do not).
//   - after_handshake (object or null; null when the handshake did not
//     complete): what the application did next. request_frame (number or
//     null: the client's first application data record after the
//     handshake, for HTTPS the request), response_frame (number or null: the
//     server's first application data record after it that is not taken for
//     a TLS 1.3 session ticket; null when the server never answered),
//     time_to_first_byte_ms (number or null: milliseconds from the request
//     to the response frame; null when the capture's clock stepped back a
//     second or more in between), server_records_before_request (number:
//     server records between the handshake and the request, TLS 1.3 session
//     tickets as a rule), session_tickets_after_request (number: server
//     records after the request taken for session tickets by size and
//     timing, without a key log), request_line and response_line (strings:
//     the first line of each, e.g. "GET / HTTP/1.1" and "HTTP/1.1 200 OK",
//     when a key log decrypted them and they are text; "" otherwise).
//   - non_tls (object): client, server (strings): what that end sent instead
//     of TLS, e.g. "HTTP response (HTTP/1.1 400 Bad Request)"; "" when it
//     spoke TLS or nothing.
//   - tcp (object): syn (number or null: frame of the first SYN), syn_count
//     (number of SYNs sent, retransmissions included), syn_ack (number or
//     null), rst (null, or object with frame and sender of the first reset),
//     rst_text (omitted unless the first reset carried printable text, as
//     F5 BIG-IP writes its reason for a reset: that text), stale_ack and
//     stale_reset (numbers, omitted unless the server answered the SYN with
//     an ACK of an older connection between the same ports, a challenge
//     ACK: its frame, and that of the client's reset of it), fin (list of objects with frame and sender, one per side that closed),
//     gaps (list of objects: sender, offset (stream offset of the first
//     missing byte), bytes, frame (the frame after which the loss was
//     certain)), retransmissions (number), close (how the connection ended:
//     "fin", "rst", "idle", "eof", "evicted" or "reused"), icmp (omitted
//     unless ICMP errors about the connection's packets were captured: a
//     list of objects, the first 8 in frame order, with frame, about (the
//     sender of the packet it is about: "client" or "server"), from (the
//     address that sent the error), type and code (ICMP's, or ICMPv6's for
//     an IPv6 connection), message (as Wireshark names it, e.g.
//     "Destination unreachable (Port unreachable)") and mtu (the next hop's
//     MTU of a "fragmentation needed" or "packet too big"; omitted
//     otherwise)).
//   - proxy (object, omitted when the connection did not open with a proxy
//     negotiation: in plaintext, or inside the TLS of an `https://` proxy
//     that a key log opened, once the tunnel carried the client's TLS):
//     type ("http_connect", "socks4", "socks5"), address (the
//     proxy, "ip:port": the connection's server), target (the "host:port" the
//     client asked the proxy for), request_frame (number or null: the frame
//     that completed the request), reply_frame (number or null), status (the
//     HTTP status code or SOCKS reply code; null without a reply),
//     status_line (the HTTP status line or the SOCKS reply in words),
//     outcome ("granted", "refused", "auth_required", "upstream_failed" or
//     "unanswered"), credentials (bool: the client sent proxy credentials),
//     auth_schemes (array of strings, omitted unless a 407 reply offered
//     challenges: the schemes of its Proxy-Authenticate fields, e.g.
//     ["Negotiate", "NTLM"]), tls (object, omitted but for an `https://`
//     proxy: the handshake with the proxy itself, with version, cipher, sni
//     (the name the client sent the proxy), subject (the proxy's leaf
//     certificate, "" when none was seen), established (bool) and
//     handshake_frame (number or null: the frame that completed it)); after
//     a 407 answered with another CONNECT on the same connection, these are
//     the last exchange's. The TLS fields describe the TLS tunnelled through
//     the proxy: for an `https://` proxy, the client's handshake with the
//     target that ran inside the proxy's TLS, its frames those of the
//     proxy's records that carried it.
//   - proxy_protocol (object, omitted unless the client's stream began with
//     a PROXY protocol header, as a load balancer writes it before the
//     client's bytes on its connection to the backend: HAProxy send-proxy or
//     send-proxy-v2, nginx stream proxy_protocol, an AWS NLB with
//     proxy_protocol_v2.enabled, curl --haproxy-protocol): frame (the frame
//     with its last byte), version (1, the text line, or 2, the binary
//     header), command ("proxy", or "local": the load balancer's own
//     connection, a health check, whose addresses are no client's; a version
//     1 UNKNOWN family is "local" too), family ("TCP4", "TCP6", "UDP4",
//     "UDP6", "UNIX" or "UNKNOWN"), client (the original client the header
//     names, "ip:port"; the record's client is then the load balancer; ""
//     for a local command or a UNIX or UNKNOWN family), server (the address
//     and port that client connected to, the load balancer's), length (the
//     header's bytes), tlvs (array of strings, omitted when none: the
//     version 2 TLV types in order, e.g. "unique_id", "authority", "aws";
//     at most 16), cut (bool, omitted when false: the header was longer
//     than the 488 bytes read of it, so TLVs past them are not listed),
//     malformed (string, omitted when well-formed: what is wrong with a
//     header that began like one, e.g. "version 1 header ends with LF, not
//     CRLF"; the other fields are then what could be read).
//   - partial (bool): the capture began after the connection did.
//   - client_hello_truncated (object, omitted unless the only ClientHello
//     seen was cut short by a gap in the capture, such as a snap length):
//     frame (number: the last frame with its bytes), captured_bytes and
//     length (numbers: the message body bytes captured and the length the
//     message declared). sni, offered_versions, offered_ciphers and
//     alpn_offered then hold what was read before the cut, and the
//     fingerprints stay "".
//   - ja3, ja3s (strings): the JA3 hash of the ClientHello and the JA3S hash
//     of the ServerHello (MD5, GREASE removed); "" when not seen.
//   - ja4, ja4_r (strings): the ClientHello's JA4 fingerprint and its raw
//     form (FoxIO's JA4, "t13d1516h2_8daaf6152771_e5627efa2ab1").
//   - anomalies (list of strings): stable snake_case IDs of protocol
//     oddities, e.g. "duplicate_extension", "downgrade_sentinel_tls12".
//   - verdict (object): category (one of the verdict categories, e.g. "ok",
//     "cert_expired"), summary (one line), evidence_frames (list of frame
//     numbers, ascending), fix (what to change; "" for ok), warnings (list of
//     strings: problems that did not stop the connection), not_judged (bool,
//     omitted when false: the capture began after the connection, so its
//     handshake was not seen and it counts neither as ok nor as failed).
type Connection struct {
	Source              string          `json:"source,omitempty"`
	Transport           string          `json:"transport,omitempty"`
	Client              string          `json:"client"`
	Server              string          `json:"server"`
	CommunityID         string          `json:"community_id"`
	FirstFrame          int64           `json:"first_frame"`
	LastFrame           int64           `json:"last_frame"`
	Start               string          `json:"start"`
	HandshakeMS         *float64        `json:"handshake_ms"`
	SNI                 string          `json:"sni"`
	OfferedVersions     []string        `json:"offered_versions"`
	OfferedCiphers      []string        `json:"offered_ciphers"`
	ALPNOffered         []string        `json:"alpn_offered"`
	Version             string          `json:"version"`
	Cipher              string          `json:"cipher"`
	Group               string          `json:"group"`
	ALPN                string          `json:"alpn"`
	HelloRetry          bool            `json:"hello_retry"`
	Resumed             bool            `json:"resumed"`
	Certificates        []Certificate   `json:"certificates"`
	Alerts              []Alert         `json:"alerts"`
	Established         bool            `json:"established"`
	Decrypted           bool            `json:"decrypted"`
	Decryption          string          `json:"decryption"`
	DecryptionReason    string          `json:"decryption_reason"`
	DecryptedMessages   []Message       `json:"decrypted_messages"`
	AppDataHead         PerSide[string] `json:"app_data_head"`
	ClientCertRequested bool            `json:"client_cert_requested"`
	AppBytes            PerSide[int64]  `json:"app_bytes"`
	AfterHandshake      *AfterHandshake `json:"after_handshake"`
	NonTLS              PerSide[string] `json:"non_tls"`
	TCP                 TCP             `json:"tcp"`
	QUIC                *QUIC           `json:"quic,omitempty"`
	Proxy               *Proxy          `json:"proxy,omitempty"`
	ProxyProtocol       *ProxyProtocol  `json:"proxy_protocol,omitempty"`
	Heartbeat           *Heartbeat      `json:"heartbeat,omitempty"`
	DNS                 *DNSAnswer      `json:"dns,omitempty"`
	DNSFailure          *DNSFailure     `json:"dns_failure,omitempty"`
	Partial             bool            `json:"partial"`
	HelloTruncated      *HelloTruncated `json:"client_hello_truncated,omitempty"`
	Tunnel              *Tunnel         `json:"tunnel,omitempty"`
	JA3                 string          `json:"ja3"`
	JA3S                string          `json:"ja3s"`
	JA4                 string          `json:"ja4"`
	JA4R                string          `json:"ja4_r"`
	Anomalies           []string        `json:"anomalies"`
	Verdict             Verdict         `json:"verdict"`
}

// HelloTruncated says how much of a cut ClientHello was captured.
type HelloTruncated struct {
	Frame         int64 `json:"frame"`
	CapturedBytes int   `json:"captured_bytes"`
	Length        int   `json:"length"`
}

// Tunnel is the encapsulation a connection was captured in: type (vxlan,
// geneve, gre, erspan, mpls, pppoe or ipip), its identifier under the
// type's name (vni, key, session or label) and the outer addresses.
type Tunnel struct {
	Type    string  `json:"type"`
	VNI     *uint32 `json:"vni,omitempty"`
	Key     *uint32 `json:"key,omitempty"`
	Session *uint32 `json:"session,omitempty"`
	Label   *uint32 `json:"label,omitempty"`
	TEID    *uint32 `json:"teid,omitempty"`
	Outer   string  `json:"outer,omitempty"`
}

func tunnelOf(tp *capture.Tunnel) *Tunnel {
	if tp == nil {
		return nil
	}
	t := *tp
	out := &Tunnel{Type: t.Type.String(), Outer: tunnelOuter(t)}
	if t.HasID {
		id := t.ID
		switch t.Type.IDName() {
		case "vni":
			out.VNI = &id
		case "key":
			out.Key = &id
		case "session":
			out.Session = &id
		case "label":
			out.Label = &id
		case "teid":
			out.TEID = &id
		}
	}
	return out
}

// tunnelOuter is "10.0.0.1 → 10.0.0.2", or "" without outer addresses.
func tunnelOuter(t capture.Tunnel) string {
	if !t.Src.IsValid() {
		return ""
	}
	return t.Src.String() + " → " + t.Dst.String()
}

// tunnelText describes a tunnel in one phrase: "vxlan vni 42, outer 10.0.0.1 → 10.0.0.2".
func tunnelText(t capture.Tunnel) string {
	s := t.Type.String()
	if t.HasID {
		s += " " + t.Type.IDName() + " " + strconv.FormatUint(uint64(t.ID), 10)
	}
	if o := tunnelOuter(t); o != "" {
		s += ", outer " + o
	}
	return s
}

// PerSide holds one value per end of the connection.
type PerSide[T any] struct {
	Client T `json:"client"`
	Server T `json:"server"`
}

// Certificate is one certificate of the server's chain; see Connection.
type Certificate struct {
	Subject            string   `json:"subject"`
	Issuer             string   `json:"issuer"`
	SANs               []string `json:"sans"`
	NotBefore          string   `json:"not_before"`
	NotAfter           string   `json:"not_after"`
	Key                string   `json:"key"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
	SHA256             string   `json:"sha256"`
	SelfSigned         bool     `json:"self_signed"`
	ParseError         string   `json:"parse_error,omitempty"`
}

// Alert is one alert record; see Connection.
type Alert struct {
	Frame       int64  `json:"frame"`
	Sender      string `json:"sender"`
	Level       string `json:"level"`
	Description string `json:"description"`
	Encrypted   bool   `json:"encrypted"`
	Decrypted   bool   `json:"decrypted"`
}

// Message is a handshake message read from a decrypted record; see
// Connection.
type Message struct {
	Frame   int64  `json:"frame"`
	Sender  string `json:"sender"`
	Message string `json:"message"`
}

// TCP holds the TCP-level facts of a connection; see Connection.
type TCP struct {
	SYN             *int64      `json:"syn"`
	SYNCount        int         `json:"syn_count"`
	SYNACK          *int64      `json:"syn_ack"`
	RST             *FrameFrom  `json:"rst"`
	RSTText         string      `json:"rst_text,omitempty"`
	StaleACK        *int64      `json:"stale_ack,omitempty"`
	StaleReset      *int64      `json:"stale_reset,omitempty"`
	FIN             []FrameFrom `json:"fin"`
	Gaps            []Gap       `json:"gaps"`
	Retransmissions int         `json:"retransmissions"`
	Close           string      `json:"close"`
	ICMP            []ICMP      `json:"icmp,omitempty"`
}

// ICMP is an ICMP error about one of a connection's packets; see
// Connection.
type ICMP struct {
	Frame   int64  `json:"frame"`
	About   string `json:"about"`
	From    string `json:"from"`
	Type    int    `json:"type"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	MTU     int    `json:"mtu,omitempty"`
}

// Proxy is the proxy negotiation a connection opened with; see Connection.
type Proxy struct {
	Type         string    `json:"type"`
	Address      string    `json:"address"`
	Target       string    `json:"target"`
	RequestFrame *int64    `json:"request_frame"`
	ReplyFrame   *int64    `json:"reply_frame"`
	Status       *int      `json:"status"`
	StatusLine   string    `json:"status_line"`
	Outcome      string    `json:"outcome"`
	Credentials  bool      `json:"credentials"`
	AuthSchemes  []string  `json:"auth_schemes,omitempty"`
	TLS          *ProxyTLS `json:"tls,omitempty"`
}

// ProxyTLS is an https:// proxy's own handshake, whose tunnel carried the
// handshake the connection's TLS fields describe; see Connection.
type ProxyTLS struct {
	Version        string `json:"version"`
	Cipher         string `json:"cipher"`
	SNI            string `json:"sni"`
	Subject        string `json:"subject"`
	Established    bool   `json:"established"`
	HandshakeFrame *int64 `json:"handshake_frame"`
}

// ProxyProtocol is the PROXY protocol header the client's stream began
// with; see Connection.
type ProxyProtocol struct {
	Frame     int64    `json:"frame"`
	Version   int      `json:"version"`
	Command   string   `json:"command"`
	Family    string   `json:"family"`
	Client    string   `json:"client"`
	Server    string   `json:"server"`
	Length    int      `json:"length"`
	TLVs      []string `json:"tlvs,omitempty"`
	Cut       bool     `json:"cut,omitempty"`
	Malformed string   `json:"malformed,omitempty"`
}

func newProxyProtocol(c *analysis.Connection) *ProxyProtocol {
	p := c.ProxyHeader()
	if p == nil {
		return nil
	}
	out := &ProxyProtocol{Frame: p.Frame.Number, Version: p.Version, Command: "proxy", Family: p.Family,
		Length: p.Length, Cut: p.Cut, Malformed: p.Malformed}
	if p.Local {
		out.Command = "local"
	}
	if p.Source.IsValid() {
		out.Client, out.Server = p.Source.String(), p.Destination.String()
	}
	for _, t := range p.TLVs {
		out.TLVs = append(out.TLVs, tlsparse.ProxyTLVName(t))
	}
	return out
}

func newProxy(c *analysis.Connection) *Proxy {
	p := c.Proxy
	if p == nil {
		return nil
	}
	out := &Proxy{
		Type:         p.Kind.String(),
		Address:      c.Server.String(),
		Target:       p.Target,
		RequestFrame: frameRef(p.RequestFrame),
		ReplyFrame:   frameRef(p.ReplyFrame),
		StatusLine:   p.StatusLine,
		Outcome:      p.Outcome.String(),
		Credentials:  p.Credentials,
	}
	if p.AuthSchemes != "" {
		out.AuthSchemes = strings.Split(p.AuthSchemes, ", ")
	}
	if t := p.TLS; t != nil {
		out.TLS = &ProxyTLS{Version: versionName(t.Version), Cipher: t.Cipher.String(), SNI: t.ServerName,
			Subject: t.Subject, Established: t.Established, HandshakeFrame: frameRef(t.HandshakeDone)}
	}
	if p.ReplyEnd > 0 {
		st := p.Status
		out.Status = &st
	}
	return out
}

// Heartbeat is the heartbeat records (RFC 6520) of a connection, per side;
// see Connection.
type Heartbeat struct {
	Client *HeartbeatSide `json:"client"`
	Server *HeartbeatSide `json:"server"`
}

// HeartbeatSide is what one side sent of heartbeat records: the first
// one's frame, length and, in plaintext, its type and claimed payload
// length; and how many, of how many bytes in all.
type HeartbeatSide struct {
	Frame         int64  `json:"frame"`
	Length        int    `json:"length"`
	Encrypted     bool   `json:"encrypted"`
	Type          string `json:"type,omitempty"`
	PayloadLength *int   `json:"payload_length,omitempty"`
	Records       int    `json:"records"`
	Bytes         int64  `json:"bytes"`
}

func newHeartbeat(c *analysis.Connection) *Heartbeat {
	if c.Heartbeats == nil {
		return nil
	}
	side := func(d capture.Direction) *HeartbeatSide {
		h := c.HeartbeatsFrom(d)
		if h.Records == 0 {
			return nil
		}
		out := &HeartbeatSide{Frame: h.First.Frame.Number, Length: h.First.Length, Encrypted: h.First.Encrypted, Records: h.Records, Bytes: h.Bytes}
		if m := h.First.Message; !h.First.Encrypted && m.Type != 0 {
			n := m.PayloadLength
			out.Type, out.PayloadLength = m.Type.String(), &n
		}
		return out
	}
	return &Heartbeat{Client: side(capture.ClientToServer), Server: side(capture.ServerToClient)}
}

// FrameFrom is a frame and the end that sent it.
type FrameFrom struct {
	Frame  int64  `json:"frame"`
	Sender string `json:"sender"`
}

// Gap is a range of one side's bytes that the capture lacks.
type Gap struct {
	Sender string `json:"sender"`
	Offset int64  `json:"offset"`
	Bytes  int    `json:"bytes"`
	Frame  int64  `json:"frame"`
}

// Verdict is the diagnosis of a connection; see Connection.
type Verdict struct {
	Category       string   `json:"category"`
	Summary        string   `json:"summary"`
	EvidenceFrames []int64  `json:"evidence_frames"`
	Fix            string   `json:"fix"`
	Warnings       []string `json:"warnings"`
	NotJudged      bool     `json:"not_judged,omitempty"`
}

// NewConnection converts a result to its output form, with the Community
// ID of seed 0.
func NewConnection(r pipeline.Result) Connection { return newConnection(r, nil, 0) }

// newConnection is NewConnection converting certificates through memo (nil
// converts each anew) and hashing the Community ID with seed.
func newConnection(r pipeline.Result, memo *certMemo, seed uint16) Connection {
	var out Connection
	out.set(r, memo, seed)
	return out
}

// set makes out what newConnection(r, memo, seed) returns, but reuses the
// arrays of out's lists: the json and ndjson formats convert connection
// after connection into one Connection per encoder, and making the lists
// anew for each was a sixth of the allocations of a read.
func (out *Connection) set(r pipeline.Result, memo *certMemo, seed uint16) {
	out.setUnformatted(r, memo, new(refs))
	c := r.Conn
	out.Client, out.Server = c.Client.String(), c.Server.String()
	out.CommunityID = connectionCommunityID(seed, c)
	out.Start = timestamp(c.First.Time)
}

// setUnformatted is set but for Client, Server, CommunityID and Start,
// which it leaves empty: the json encoder formats them from the
// connection straight into its output (see unformatted). The pointer
// fields point into ptrs.
func (out *Connection) setUnformatted(r pipeline.Result, memo *certMemo, ptrs *refs) {
	c := r.Conn
	fp := c.Fingerprints()
	// The literal is built, from out's old lists among others, before
	// it is assigned.
	*out = Connection{
		Source:            r.Source,
		Transport:         transportOf(c),
		QUIC:              newQUIC(c),
		FirstFrame:        c.First.Number,
		LastFrame:         c.Last.Number,
		SNI:               sni(c),
		OfferedVersions:   reuse(out.OfferedVersions, 0),
		OfferedCiphers:    reuse(out.OfferedCiphers, 0),
		ALPNOffered:       reuse(out.ALPNOffered, 0),
		Version:           versionName(c.Version),
		ALPN:              c.ALPN,
		HelloRetry:        c.HelloRetry != nil,
		Resumed:           c.Resumed,
		Certificates:      reuse(out.Certificates, len(c.Certificates)),
		Alerts:            reuse(out.Alerts, len(c.Alerts)),
		Established:       c.Established,
		Tunnel:            tunnelOf(c.Tunnel),
		Decrypted:         c.Decrypted,
		Decryption:        c.Decryption.String(),
		DecryptionReason:  c.DecryptionReason(),
		DecryptedMessages: reuse(out.DecryptedMessages, len(c.DecryptedMessages())),
		AppDataHead: PerSide[string]{
			Client: string(c.AppDataHead(capture.ClientToServer)),
			Server: string(c.AppDataHead(capture.ServerToClient)),
		},
		ClientCertRequested: c.CertificateRequest != nil,
		AppBytes: PerSide[int64]{
			Client: c.ClientSide.AppData.Bytes,
			Server: c.ServerSide.AppData.Bytes,
		},
		NonTLS: PerSide[string]{
			Client: nonTLS(c.ClientSide.NonTLS),
			Server: nonTLS(c.ServerSide.NonTLS),
		},
		TCP:           newTCP(&c.TCP, c.Path, &out.TCP, ptrs),
		Proxy:         newProxy(c),
		ProxyProtocol: newProxyProtocol(c),
		Heartbeat:     newHeartbeat(c),
		DNS:           newDNSAnswer(c.DNS),
		DNSFailure:    newDNSFailure(c.DNSFailure),
		Partial:       c.Partial,
		JA3:           fp.JA3,
		JA3S:          fp.JA3S,
		JA4:           fp.JA4,
		JA4R:          fp.JA4R,
		Anomalies:     appendAnomalyIDs(reuse(out.Anomalies, len(c.Anomalies)), c.Anomalies),
		Verdict:       newVerdict(r.Verdict),
	}
	if d, ok := c.Duration(); ok {
		out.HandshakeMS = msIn(&ptrs.handshakeMS, d)
	}
	if c.HandshakeDone.Number != 0 {
		out.AfterHandshake = newAfterHandshake(c, ptrs)
	}
	if h := c.CutClientHello; c.ClientHello == nil && h != nil {
		out.HelloTruncated = &HelloTruncated{Frame: c.CutClientHelloFrame.Number, CapturedBytes: len(h.Raw), Length: c.CutClientHelloSize}
	}
	if h := c.ShownClientHello(); h != nil {
		vs := h.OfferedVersions()
		out.OfferedVersions = slices.Grow(out.OfferedVersions, len(vs))
		for _, v := range vs {
			out.OfferedVersions = append(out.OfferedVersions, v.String())
		}
		out.OfferedCiphers = slices.Grow(out.OfferedCiphers, len(h.CipherSuites))
		for _, cs := range h.CipherSuites {
			if !tlsparse.IsGREASE(uint16(cs)) {
				out.OfferedCiphers = append(out.OfferedCiphers, cs.String())
			}
		}
		out.ALPNOffered = append(out.ALPNOffered, h.ALPN...)
	}
	switch {
	case c.ServerHelloSSLv2 != nil:
		// SSLv2 cipher kinds are 3 bytes; the client's CLIENT-MASTER-KEY
		// names the one in use.
		if c.SSLv2Cipher != 0 {
			out.Cipher = c.SSLv2Cipher.String()
		}
	case c.Cipher != 0 || c.ServerHello != nil:
		out.Cipher = c.Cipher.String()
	}
	if c.Group != 0 {
		out.Group = c.Group.String()
	}
	for _, cert := range c.Certificates {
		out.Certificates = append(out.Certificates, memo.certificate(cert))
	}
	for _, a := range c.Alerts {
		oa := Alert{Frame: a.Frame.Number, Sender: a.Sender.String(), Encrypted: a.Encrypted, Decrypted: a.Decrypted}
		if !a.Encrypted || a.Decrypted {
			oa.Level, oa.Description = a.Level.String(), a.Description.String()
		}
		out.Alerts = append(out.Alerts, oa)
	}
	for _, m := range c.DecryptedMessages() {
		out.DecryptedMessages = append(out.DecryptedMessages, Message{Frame: m.Frame.Number, Sender: m.Sender.String(), Message: m.Type.String()})
	}
}

// reuse returns s emptied, with room for n elements to be appended; never
// nil, so that JSON shows [] for an empty list.
func reuse[T any](s []T, n int) []T {
	if s == nil && n == 0 {
		return []T{}
	}
	return slices.Grow(s[:0], n)
}

func newVerdict(v diagnose.Verdict) Verdict {
	return Verdict{
		Category:       string(v.Category),
		Summary:        v.Summary,
		EvidenceFrames: nonNil(v.Evidence),
		Fix:            v.Fix,
		Warnings:       nonNil(v.Warnings),
		NotJudged:      v.NotJudged,
	}
}

// newTCP converts t and the ICMP errors of path (which may be nil), reusing the arrays of old's lists (see
// Connection.set) and pointing into ptrs.
func newTCP(t *analysis.TCPFacts, path *analysis.PathFacts, old *TCP, ptrs *refs) TCP {
	var order [2]capture.Direction
	fins := finOrder(t, order[:0])
	out := TCP{
		SYN:             frameRefIn(&ptrs.syn, t.SYN),
		SYNCount:        t.SYNCount,
		SYNACK:          frameRefIn(&ptrs.synACK, t.SYNACK),
		FIN:             reuse(old.FIN, len(fins)),
		Gaps:            reuse(old.Gaps, len(t.Gaps)),
		Retransmissions: t.Retransmissions,
	}
	if path != nil {
		out.StaleACK = frameRefIn(&ptrs.staleACK, path.StaleACK)
		out.StaleReset = frameRefIn(&ptrs.staleReset, path.StaleReset)
	}
	if t.Close != 0 {
		out.Close = t.Close.String()
	}
	if t.RST.Number != 0 {
		out.RST = &FrameFrom{Frame: t.RST.Number, Sender: t.RSTFrom.String()}
		out.RSTText = t.RSTText
	}
	for _, d := range fins {
		out.FIN = append(out.FIN, FrameFrom{Frame: t.FIN[d].Number, Sender: d.String()})
	}
	for _, g := range t.Gaps {
		out.Gaps = append(out.Gaps, Gap{Sender: g.Dir.String(), Offset: g.Offset, Bytes: g.Size, Frame: g.Frame.Number})
	}
	if path == nil {
		return out
	}
	for _, e := range path.ICMP {
		out.ICMP = append(out.ICMP, ICMP{Frame: e.Frame.Number, About: e.About.String(), From: e.From.String(),
			Type: int(e.Type), Code: int(e.Code), Message: e.String(), MTU: e.MTU})
	}
	return out
}

// finOrder appends to dirs the directions that sent a FIN, earliest
// first.
func finOrder(t *analysis.TCPFacts, dirs []capture.Direction) []capture.Direction {
	c, s := t.FIN[capture.ClientToServer].Number, t.FIN[capture.ServerToClient].Number
	switch {
	case c != 0 && s != 0 && s < c:
		return append(dirs, capture.ServerToClient, capture.ClientToServer)
	case c != 0 && s != 0:
		return append(dirs, capture.ClientToServer, capture.ServerToClient)
	case c != 0:
		return append(dirs, capture.ClientToServer)
	case s != 0:
		return append(dirs, capture.ServerToClient)
	}
	return dirs
}

func frameRef(f capture.Frame) *int64 {
	if f.Number == 0 {
		return nil
	}
	n := f.Number
	return &n
}

// refs holds what the pointer fields of a Connection point to: one
// allocation for a Connection (see Connection.set), none for the one the
// json encoder converts into again and again, where a number of its own
// for each was up to six allocations a connection.
type refs struct {
	handshakeMS, timeToFirstByteMS float64
	syn, synACK, request, response int64
	staleACK, staleReset           int64
	after                          AfterHandshake
}

// msIn stores d in milliseconds, rounded to the microsecond, in *p and
// returns p.
func msIn(p *float64, d time.Duration) *float64 {
	*p = math.Round(float64(d)/float64(time.Microsecond)) / 1000
	return p
}

// frameRefIn is frameRef, storing the number in *p.
func frameRefIn(p *int64, f capture.Frame) *int64 {
	if f.Number == 0 {
		return nil
	}
	*p = f.Number
	return p
}

func nonTLS(n *analysis.NonTLS) string {
	if n == nil {
		return ""
	}
	return n.Looks
}

// appendAnomalyIDs appends the IDs of as to ids.
func appendAnomalyIDs(ids []string, as []tlsparse.Anomaly) []string {
	for _, a := range as {
		ids = append(ids, string(a))
	}
	return ids
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sni(c *analysis.Connection) string {
	if h := c.ShownClientHello(); h != nil {
		return h.ServerName
	}
	return ""
}

func versionName(v tlsparse.Version) string {
	if v == 0 {
		return ""
	}
	return v.String()
}

// timestamp formats t in UTC as RFC 3339 with microseconds, or
// nanoseconds when t has them (pcapng), so that equal captures give equal
// text and no precision is invented or lost.
func timestamp(t time.Time) string {
	var buf [64]byte
	return string(appendTimestamp(buf[:0], t))
}

// appendTimestamp appends timestamp(t).
func appendTimestamp(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	if t.Nanosecond()%1000 != 0 {
		return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z07:00")
	}
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
}

func newCertificate(c analysis.Certificate) Certificate {
	sum := sha256.Sum256(c.DER)
	out := Certificate{SANs: []string{}, SHA256: hex.EncodeToString(sum[:])}
	x := c.X509
	if x == nil {
		out.ParseError = "unparsable certificate"
		if c.ParseError != nil {
			out.ParseError = c.ParseError.Error()
		}
		return out
	}
	out.Subject = x.Subject.String()
	out.Issuer = x.Issuer.String()
	out.SANs = append(out.SANs, x.DNSNames...)
	for _, ip := range x.IPAddresses {
		out.SANs = append(out.SANs, ip.String())
	}
	out.SANs = append(out.SANs, x.EmailAddresses...)
	for _, u := range x.URIs {
		out.SANs = append(out.SANs, u.String())
	}
	out.NotBefore = x.NotBefore.UTC().Format(time.RFC3339)
	out.NotAfter = x.NotAfter.UTC().Format(time.RFC3339)
	out.Key = keyName(x)
	out.SignatureAlgorithm = x.SignatureAlgorithm.String()
	out.SelfSigned = diagnose.SelfSigned(x)
	return out
}

// keyName describes the public key: algorithm and size or curve.
func keyName(x *x509.Certificate) string {
	switch k := x.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA " + strconv.Itoa(k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdh.PublicKey:
		return fmt.Sprint(k.Curve())
	case *dsa.PublicKey:
		return "DSA " + strconv.Itoa(k.P.BitLen())
	}
	return x.PublicKeyAlgorithm.String()
}

// AfterHandshake is what the application did after the handshake.
type AfterHandshake struct {
	RequestFrame               *int64   `json:"request_frame"`
	ResponseFrame              *int64   `json:"response_frame"`
	TimeToFirstByteMS          *float64 `json:"time_to_first_byte_ms"`
	ServerRecordsBeforeRequest int      `json:"server_records_before_request"`
	SessionTicketsAfterRequest int      `json:"session_tickets_after_request"`
	RequestLine                string   `json:"request_line"`
	ResponseLine               string   `json:"response_line"`
}

// newAfterHandshake converts what c did after its handshake, into
// ptrs.after.
func newAfterHandshake(c *analysis.Connection, ptrs *refs) *AfterHandshake {
	a := c.Afterwards()
	out := &ptrs.after
	*out = AfterHandshake{
		RequestFrame:               frameRefIn(&ptrs.request, a.Request),
		ResponseFrame:              frameRefIn(&ptrs.response, a.Response),
		ServerRecordsBeforeRequest: a.ServerFirst,
		SessionTicketsAfterRequest: a.Tickets,
		RequestLine:                a.RequestLine,
		ResponseLine:               a.ResponseLine,
	}
	if d, ok := c.TimeToFirstByte(); ok {
		out.TimeToFirstByteMS = msIn(&ptrs.timeToFirstByteMS, d)
	}
	return out
}
