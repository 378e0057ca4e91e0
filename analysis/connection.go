// Package analysis builds one Connection record per TCP connection from the
// reassembled byte streams and the TLS messages parsed from them.
package analysis

import (
	"crypto/x509"
	"net/netip"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Connection is everything the capture shows about one TCP connection that
// carried TLS or was meant to. It is filled in event by event while packets
// arrive and finalized exactly once, when the connection closes or the
// capture ends. Frame fields with a zero Number mean "not seen".
type Connection struct {
	Client, Server netip.AddrPort
	// Roles says how Client and Server were told apart.
	Roles RoleSource
	// Partial is set when the capture began after the connection did (no SYN
	// and no handshake start).
	Partial bool
	// ClientHelloSSLv2 is set when the first hello used the SSLv2-compatible
	// format (kept with the other small fields, see TestRecordSize).
	ClientHelloSSLv2 bool
	// SSLv2Cipher is the cipher kind the client chose in its SSLv2
	// CLIENT-MASTER-KEY; zero when not seen (with the small fields above,
	// in what was padding).
	SSLv2Cipher tlsparse.SSLv2Cipher
	First       capture.Frame // first frame of the connection
	Last        capture.Frame // last frame of the connection
	// CaptureEnd is the capture's last frame (its number, and the latest
	// frame time), for a connection still open when the capture ended
	// (ClosedEOF, or ClosedFIN with one side's FIN); zero for one that
	// closed before. A connection whose Last is seconds
	// before it went quiet while the capture went on.
	CaptureEnd capture.Frame
	// Tunnel is the encapsulation the connection was captured in, nil for
	// none: Client and Server are the addresses inside it.
	Tunnel *capture.Tunnel

	TCP TCPFacts
	// QUIC holds the QUIC-level facts of a QUIC connection (then TCP is
	// empty); nil for TLS over TCP.
	QUIC *QUIC
	// Path is what the packet headers tell about the path (path.go); nil
	// unless the connection had a RST, a retransmission, a gap or a stale
	// acknowledgment.
	Path *PathFacts
	// OtherNames are, for a connection whose named ClientHello got nothing
	// back from the server while its path facts show a reset, a
	// retransmission or a gap, up to three connections of the capture to
	// the same server host under other names whose handshakes completed,
	// in first-frame order. Reading a file fills it (the connection is
	// held until the capture's end); live reading does not.
	OtherNames []OtherName
	// OtherChains are, for a named connection whose chain was visible and
	// whose handshake did not complete, up to two connections of the
	// capture for the same name whose handshakes completed with a leaf of
	// another issuer: those reported before it, then those waiting to be,
	// in first-frame order. Live reading does not fill it.
	OtherChains []OtherChain
	// DNS is the DNS answer in the capture that gave the connection its
	// server address; nil when the capture shows none.
	DNS *DNSAnswer
	// DNSFailure is set on the record of a failed DNS lookup, which is no
	// connection: Client asked Server (the resolver), and every field but
	// First and Last is empty.
	DNSFailure *DNSFailure

	// Proxy is the proxy negotiation (HTTP CONNECT, SOCKS) the connection
	// opened with; nil when it did not. The TLS after it is tunnelled.
	Proxy *Proxy
	// ProxyInTLS is the HTTP CONNECT exchange a key log showed inside the
	// connection's own TLS, when the record's TLS fields are the https://
	// proxy's: the proxy refused the tunnel, or nothing went through the
	// tunnel it granted. A tunnel that carried bytes is read instead: the
	// record's TLS fields are then the target's handshake nested in it,
	// Proxy is the exchange and Proxy.TLS the proxy's own handshake, and
	// ProxyInTLS is nil. Nil too when the decrypted data did not start
	// with a CONNECT request.
	ProxyInTLS *Proxy

	// ClientHello is the first ClientHello; after a HelloRetryRequest the
	// second one is RetryClientHello.
	ClientHello      *tlsparse.ClientHello
	ClientHelloFrame capture.Frame
	// CutClientHello is what could be read of a ClientHello that a gap in
	// the capture (a snap length, a lost segment) cut short, when no whole
	// one was seen: Truncated, for showing the SNI, versions and suites
	// sent before the cut. Nothing is judged from it. CutClientHelloFrame
	// is the last frame with its bytes and CutClientHelloSize the message's
	// declared body length.
	CutClientHello      *tlsparse.ClientHello
	CutClientHelloFrame capture.Frame
	CutClientHelloSize  int
	// MalformedClientHelloFrame is the frame that completed the first
	// whole ClientHello that did not parse (no gap cut it), and
	// MalformedClientHelloError why.
	MalformedClientHelloFrame capture.Frame
	MalformedClientHelloError string

	// OtherFamily is, for a TCP connection whose SYN got no SYN-ACK (none
	// came, a reset or an ICMP error answered it), the connection to the
	// same server port in the other IP family (IPv4 for IPv6, IPv6 for
	// IPv4) that began after it, within a few seconds of its end: likely
	// the same client trying the name's other address (Happy Eyeballs,
	// RFC 8305); or else, when none did, the failed attempt in the other
	// family it followed. Nil when the capture holds neither. Reading a
	// file fills it; live reading does not hold connections for it.
	OtherFamily           *FamilyAttempt
	HelloRetry            *tlsparse.ServerHello
	HelloRetryFrame       capture.Frame
	RetryClientHello      *tlsparse.ClientHello
	RetryClientHelloFrame capture.Frame

	// ServerHello is the server's hello. For a server that answered in
	// SSLv2 it is a stand-in holding only the version, and the message
	// itself is ServerHelloSSLv2.
	ServerHello      *tlsparse.ServerHello
	ServerHelloFrame capture.Frame
	ServerHelloSSLv2 *tlsparse.SSLv2ServerHello

	// Certificates is the server's chain as sent (TLS ≤ 1.2, or TLS 1.3 once
	// decrypted), leaf first.
	Certificates     []Certificate
	CertificateFrame capture.Frame

	ServerKeyExchange       *tlsparse.ServerKeyExchange
	ServerKeyExchangeFrame  capture.Frame
	CertificateRequest      *tlsparse.CertificateRequest
	CertificateRequestFrame capture.Frame
	ServerHelloDoneFrame    capture.Frame
	// ClientCertificates is the number of certificates the client sent in
	// answer to a CertificateRequest; -1 when it sent no Certificate message.
	ClientCertificates     int
	ClientCertificateFrame capture.Frame
	// ClientChain is the chain the client sent in that Certificate, leaf
	// first (TLS ≤ 1.2, or TLS 1.3 once decrypted); nil when it sent none,
	// as for nearly every connection (out of line, so that records stay
	// small). Read it with ClientCerts.
	ClientChain *[]Certificate

	// ClientFlightRecords are the lengths of the client's first two
	// encrypted records after the server's flight, in TLS 1.3 without
	// keys: a client answering a CertificateRequest without a certificate
	// sends a short empty Certificate record before its Finished.
	ClientFlightRecords FlightRecords

	// ClientSide and ServerSide are what each end sent, as one type, so
	// that the same code reads either (Side). When the capture's guess of
	// the client turns out wrong, the two swap whole.
	ClientSide, ServerSide Side

	Alerts []Alert
	// Response is the server's first HTTP/1.x response head, when the
	// capture can read it (plaintext, or TLS 1.3 opened by a key log).
	Response *HTTPResponse
	// Unfinished holds, per direction, the TLS bytes at the end of the
	// stream that never made a complete record: a peer that stopped, or
	// was given up on, in the middle of one (a server trickling its
	// ServerHello byte by byte). It is nil when every byte made a record,
	// as for nearly every connection, so that the record stays small;
	// read it with Tail.
	Unfinished *[2]Unfinished
	// Large is the server's first handshake message longer than
	// LargeHandshake (a certificate chain that some clients refuse for
	// its size), once the roles are known: nil as for nearly every
	// connection, out of line so that the record stays small.
	Large *LargeMessage
	// Heartbeats are, per side (indexed by Sender), the heartbeat records
	// (RFC 6520) it sent; nil when neither sent one, as for nearly every
	// connection. Read them with HeartbeatsFrom.
	Heartbeats *[2]Heartbeats

	// Negotiated parameters: zero when not negotiated.
	Version tlsparse.Version
	Cipher  tlsparse.CipherSuite
	Group   tlsparse.NamedGroup
	ALPN    string
	Resumed bool
	// Decrypted is set once a key log's secrets opened one of the
	// connection's encrypted records.
	Decrypted bool
	// Established is set when both sides finished the handshake: both
	// Finished seen, or, in TLS ≤ 1.2 without the client's, application
	// data both ways after the server's (FinishedImplied).
	Established bool
	// Decryption says what the key log did for the connection;
	// KeyLogFacts what it showed (nil until a key log had something to
	// say: most connections of a large capture have none, so it is not
	// carried inline). Read them with DecryptionReason,
	// DecryptedMessages and AppDataHead.
	Decryption  Decryption
	KeyLogFacts *KeyLogFacts
	// HandshakeDone is the frame that completed the handshake.
	HandshakeDone capture.Frame
	// After is what the application did once the handshake was over; nil
	// until the client sent data after it (out of line: most records of a
	// large capture never need it). Read it with Afterwards.
	After *AfterHandshake

	// Prints are the fingerprints of the hellos, nil when neither hello
	// was seen (kept out of line, so that records of connections without
	// hellos stay small); read them with Fingerprints. Connections with
	// the same fingerprints may share them: never write through Prints.
	Prints *Fingerprints

	// Anomalies are the oddities found while reading the connection, each
	// once, in first-seen order (at most 32).
	Anomalies []tlsparse.Anomaly
	// Trace lists the TLS-bearing frames in order, when Options.Trace is set.
	Trace []TraceFrame
	// TraceOmitted counts frames left out of Trace by its cap.
	TraceOmitted int
}

// Side is what one end of a connection sent: the client's half of the
// record or the server's.
type Side struct {
	// Bytes counts the TCP payload bytes, gaps excluded.
	Bytes int64
	// NonTLS is what the end sent when it was not TLS.
	NonTLS *NonTLS
	// Prelude is the plaintext that preceded TLS on a connection that
	// upgraded (STARTTLS, PostgreSQL SSLRequest, …).
	Prelude *NonTLS
	// ChangeCipherSpec is the end's ChangeCipherSpec, Finished its first
	// encrypted handshake record.
	ChangeCipherSpec capture.Frame
	Finished         capture.Frame
	// AppData counts the application data records.
	AppData Traffic
}

// finished keeps f as the side's Finished, unless it has one.
func (s *Side) finished(f capture.Frame) {
	if s.Finished.Number == 0 {
		s.Finished = f
	}
}

// Side returns the half of the record that d's sender sent: ClientSide
// for capture.ClientToServer, ServerSide for capture.ServerToClient.
// d is a direction of the record (an Alert's Sender, a Gap's Dir), whose
// client is Client.
func (c *Connection) Side(d capture.Direction) *Side {
	if d == capture.ClientToServer {
		return &c.ClientSide
	}
	return &c.ServerSide
}

// AfterHandshake is the application's exchange after a completed
// handshake, as far as record positions, sizes and times (or, with a key
// log, the decrypted bytes) show it.
//
// Session tickets versus an answer: in TLS 1.3 a server sends its
// NewSessionTicket messages (RFC 8446, Section 4.6.1) as encrypted
// application_data records once it has the client's Finished, usually
// before the request arrives. Without a key log they are told from an
// answer by position, size and timing: records before the client's first
// data cannot answer it (ServerFirst); records after it are taken for
// tickets only when they are small (at most TicketMaxLength bytes), came
// within twice the server's ClientHello-to-ServerHello time (at least
// 10 ms) of the client's Finished — a reflex of the TLS stack — and were
// followed by at least TicketSilence of silence from the server. A short,
// quick answer to a client that then hangs up looks the same on the wire
// except for that silence, so the silence decides; a short quick answer
// followed by a long idle keep-alive would still be taken for tickets, and
// diagnose says so — unless the server's tickets came before the request
// (a capture at the server, or a client that waited): then its record
// after the request of a length other than theirs is the answer. With a
// key log the records are opened and tickets are known for what they are. In TLS 1.2 tickets travel inside the handshake,
// so every server record after the request is the answer. Under HTTP/2
// the server's first record is its SETTINGS frame, sent without waiting
// for a request: without a key log Response is then that frame, not the
// answer; with one, records holding only such connection frames are
// passed over (see h2Exchange).
type AfterHandshake struct {
	// Request is the client's first application data record after the
	// handshake: for HTTPS, the request.
	Request capture.Frame
	// Response is the server's first application data record after
	// Request that is not taken for a session ticket: the first byte of
	// the answer. Zero when the server never answered.
	Response capture.Frame
	// ServerFirst counts the server's records between the handshake and
	// Request: session tickets in TLS 1.3, or a server that speaks first.
	ServerFirst int
	// Tickets counts the server's records after Request taken for session
	// tickets by size and timing (TLS 1.3 without a key log), in
	// TicketFrames.
	Tickets      int
	TicketFrames []capture.Frame
	// RequestLine and ResponseLine are the first line of the decrypted
	// request and answer (a key log opened them), printable, cut to
	// MaxLineLength bytes; empty otherwise.
	RequestLine, ResponseLine string
	// GoAway is, per side (indexed by Sender), the first HTTP/2 GOAWAY
	// frame (RFC 9113, Section 6.8) at the start of a decrypted record of
	// an HTTP/2 connection, with its error code; a zero Frame when none
	// was seen.
	GoAway [2]H2GoAway
	// Turns counts the client's turns: runs of its application data
	// records, each begun after the server last sent data (or the
	// first) — on an HTTP/1.1 keep-alive connection, its requests; under
	// HTTP/2 without a key log, its frames of the connection's own
	// (SETTINGS acknowledgements, WINDOW_UPDATE) too. Records the size of
	// an encrypted TLS 1.3 alert (AlertLike) take no part.
	Turns int
	// LastTurn is the first record of the client's last turn, and
	// LastTurnLine its first line when a key log opened it (as
	// RequestLine); BeforeLastTurn is the server's last data record
	// before it, and AfterLastTurn the server's first after it (zero
	// when none). With Turns > 1 they show a request sent on a
	// connection that had been idle since BeforeLastTurn.
	LastTurn, BeforeLastTurn, AfterLastTurn capture.Frame
	LastTurnLine                            string
	// MaxStream is the highest stream ID of the HTTP/2 HEADERS frames
	// the client sent in decrypted records (a key log opened them): the
	// last request it had sent when a GOAWAY came.
	MaxStream uint32
	// AlertLike is, per side (indexed by Sender), the first TLS 1.3
	// record no key log opened whose length is that of an encrypted
	// alert, after that side's last other data record: close_notify, as
	// a rule, when a FIN follows.
	AlertLike [2]capture.Frame
	// Renegotiation is, per side (indexed by Sender), the first
	// encrypted handshake record it sent after both Finished messages of
	// a TLS ≤ 1.2 handshake that no key log opened: a renegotiation
	// (RFC 5246 Section 7.4.1: the client's ClientHello, the server's
	// HelloRequest, then that side's part of the new handshake).
	Renegotiation [2]capture.Frame
}

// Afterwards returns After, or the zero AfterHandshake when it is nil.
func (c *Connection) Afterwards() AfterHandshake {
	if c.After == nil {
		return AfterHandshake{}
	}
	return *c.After
}

// TicketMaxLength is the largest TLS 1.3 record (ciphertext) taken for a
// NewSessionTicket without a key log: tickets from OpenSSL, BoringSSL,
// Go and NSS encrypt to a few hundred bytes.
const TicketMaxLength = 1024

// MaxLineLength caps AfterHandshake.RequestLine and ResponseLine.
const MaxLineLength = 200

// TimeToFirstByte is the time from the request to the first byte of the
// answer; false when either is missing or the time is not known
// (Elapsed).
func (c *Connection) TimeToFirstByte() (time.Duration, bool) {
	a := c.Afterwards()
	return c.Elapsed(a.Request, a.Response)
}

// ClockStep is how far back a frame must be timestamped for the
// connection's durations to be in doubt: frames that interfaces or NIC
// queues wrote out of order are micro- to milliseconds behind, and the
// durations are as good as ever; clocks stepped (ntpd steps an offset
// over 128 ms, chrony's makestep one over a second) or hosts' files
// joined are farther apart. Certificate dates and the timeouts verdicts
// name are at second scale or coarser, so no smaller step changes a
// verdict.
const ClockStep = time.Second

// Elapsed is the time from frame a to frame b of the connection; false
// when either is missing, or when the capture's clock stepped back by
// ClockStep or more between them (TCPFacts.ClockBack): their timestamps
// then do not say how far apart they were.
func (c *Connection) Elapsed(a, b capture.Frame) (time.Duration, bool) {
	if a.Number == 0 || b.Number == 0 || c.SteppedBetween(a, b) {
		return 0, false
	}
	return b.Time.Sub(a.Time), true
}

// SteppedBetween reports whether the capture's clock stepped back by
// ClockStep or more between frames a and b of the connection.
func (c *Connection) SteppedBetween(a, b capture.Frame) bool {
	s := c.TCP.ClockBack.Number
	return c.TCP.ClockBehind >= ClockStep && min(a.Number, b.Number) < s && s <= max(a.Number, b.Number)
}

// Fingerprints returns the fingerprints of the hellos; empty when the
// hello was not seen.
func (c *Connection) Fingerprints() Fingerprints {
	if c.Prints == nil {
		return Fingerprints{}
	}
	return *c.Prints
}

// Fingerprints are the JA3, JA3S and JA4 fingerprints of a connection's
// hellos (package fingerprint).
type Fingerprints struct {
	JA3, JA3S   string // MD5 hashes
	JA4, JA4R   string // JA4 and its raw form JA4_r
	JA4O, JA4RO string // the original-order forms JA4_o and JA4_ro
}

// RoleSource says how the client was identified.
type RoleSource uint8

const (
	RolesFromSYN         RoleSource = iota + 1 // the SYN (or SYN-ACK) was captured
	RolesFromClientHello                       // no SYN; the ClientHello's sender
	RolesGuessed                               // neither: the first sender is assumed to be the client
)

// TCPFacts are the TCP-level events of a connection.
type TCPFacts struct {
	SYN      capture.Frame // first SYN
	SYNCount int           // SYNs sent, retransmissions included
	SYNACK   capture.Frame
	// RST is the first reset and RSTFrom its sender.
	RST     capture.Frame
	RSTFrom capture.Direction
	// Unacked is set, per direction, when the direction sent payload and
	// the capture shows no acknowledgment of its last byte by the other
	// side: the bytes were lost on the way, or the capture missed the
	// acknowledgment. Known once the capture closed the connection (false
	// in a connection reported before, live). Kept in what was padding
	// (TestRecordSize).
	Unacked [2]bool
	// RSTText is the text the first reset carried, if it carried text
	// (RFC 1122 lets a RST say why; F5 BIG-IP does: "BIG-IP: [0x11c5672:
	// 3045] {peer} TCP RST from remote system"), at most maxRSTText bytes.
	RSTText string
	// FIN is indexed by the direction that sent it.
	FIN [2]capture.Frame
	// ClientISN is the client's initial sequence number, when its SYN (or
	// the SYN-ACK) was captured.
	ClientISN       uint32
	Gaps            []Gap
	Retransmissions int
	Conflicts       int
	ZeroWindow      int
	Close           capture.CloseReason
	// ClockBack is the connection's first frame timestamped before the
	// latest frame of the capture ahead of it, and ClockBehind the most
	// any of its frames was: the capture's clock stepped back (an NTP
	// step, files of two hosts joined), and the connection's times may be
	// off by as much. A duration from a frame before ClockBack to one
	// from it on is not known.
	ClockBack   capture.Frame
	ClockBehind time.Duration
}

// ICMPReport is an ICMP error about one of a connection's packets: the
// frame that carried it, whose packet it was about, and what it says.
type ICMPReport struct {
	Frame capture.Frame
	About capture.Direction // the sender of the packet it is about
	capture.ICMPError
}

// MaxICMP bounds TCPFacts.ICMP: a SYN sent again and again, each
// rejected, says no more after the first few.
const MaxICMP = 8

// Gap is a range of a direction's bytes that was never captured.
type Gap struct {
	Dir    capture.Direction
	Offset int64 // stream offset of the first missing byte
	Size   int
	Frame  capture.Frame // the frame after which the loss became certain
	// SnapLen is set when the bytes are missing because frame Frame was
	// cut by the capture's snap length (of SnapLen bytes), not lost.
	SnapLen int
	// Unseen is set when no packet of the direction was captured at all:
	// the other side's acknowledgments alone show its bytes (a capture of
	// one direction).
	Unseen bool
}

// Certificate is one certificate of the chain as sent.
type Certificate struct {
	DER []byte
	// X509 is nil when the DER did not parse; ParseError says why.
	X509       *x509.Certificate
	ParseError error
}

// FlightRecords are the lengths of a client's first two encrypted
// records after the server's flight; 0 for one not seen.
type FlightRecords struct{ First, Second int32 }

// ClientCerts is the chain the client sent, leaf first; nil when it
// sent no certificate or the capture could not read it.
func (c *Connection) ClientCerts() []Certificate {
	if c.ClientChain == nil {
		return nil
	}
	return *c.ClientChain
}

// Alert is one TLS alert record.
type Alert struct {
	Frame  capture.Frame
	Sender capture.Direction
	// Level and Description are zero when the alert was encrypted and not
	// decrypted.
	Level       tlsparse.AlertLevel
	Description tlsparse.AlertDescription
	Encrypted   bool
	// Decrypted is set when a key log opened the encrypted alert.
	Decrypted bool
}

// Known reports whether the alert's level and description are known: it
// was sent in plaintext, or a key log opened it.
func (a Alert) Known() bool { return !a.Encrypted || a.Decrypted }

// NonTLS is what a peer sent instead of TLS.
type NonTLS struct {
	// Frame completed the bytes described; First carried the first of
	// them (zero when not known: a proxy's negotiation, a PROXY protocol
	// header).
	Frame, First capture.Frame
	// Looks describes the bytes, e.g. "HTTP response (HTTP/1.1 400 Bad Request)".
	Looks string
	// Short holds the bytes when they were all the side sent and too
	// few to describe on their own (no line end, a few binary bytes),
	// nil otherwise.
	Short []byte
	// Proxy is what a PROXY protocol header says, when the bytes are
	// one at the start of the client's stream (a load balancer's, naming
	// the original client); nil otherwise. Read it with
	// Connection.ProxyHeader.
	Proxy *ProxyHeader
}

// Tail returns direction d's Unfinished, zero when every byte made a
// record.
func (c *Connection) Tail(d capture.Direction) Unfinished {
	if c.Unfinished == nil {
		return Unfinished{}
	}
	return c.Unfinished[d]
}

// HeartbeatsFrom returns what side d sent of heartbeat records, zero when
// it sent none.
func (c *Connection) HeartbeatsFrom(d capture.Direction) Heartbeats {
	if c.Heartbeats == nil {
		return Heartbeats{}
	}
	return c.Heartbeats[d]
}

// Heartbeats is what one side sent of heartbeat records (RFC 6520). A
// heartbeat request longer than its record says (Heartbleed,
// CVE-2014-0160) is read from the first one in plaintext; once encrypted,
// only the records' sizes are known.
type Heartbeats struct {
	// First is the side's first heartbeat record.
	First Heartbeat
	// Records counts its heartbeat records and Bytes their lengths
	// (record bodies, as on the wire).
	Records int
	Bytes   int64
}

// Heartbeat is one heartbeat record.
type Heartbeat struct {
	Frame capture.Frame
	// Length is the record's body length.
	Length int
	// Encrypted is set for a record sent after change_cipher_spec; for one
	// before, Message is its header (type and claimed payload length).
	Encrypted bool
	Message   tlsparse.HeartbeatHeader
}

// LargeHandshake is the size above which a server's handshake message is
// kept as Connection.Large: crypto/tls's limit for every message but a
// Certificate (65,536 bytes), below the limits clients set on Certificate
// messages (OpenSSL's 100 KiB, GnuTLS's 128 KiB, crypto/tls's 256 KiB).
const LargeHandshake = 1 << 16

// LargeMessage is a handshake message of the server's larger than
// LargeHandshake: its type, the body length its header announces and the
// frame that carried that header. Read is set when the whole message
// arrived and was parsed; a message longer than tlsparse.MaxHandshakeSize
// is never read (the parser skips it to bound its memory), and one the
// client gave up on while it arrived may not have arrived whole.
type LargeMessage struct {
	Type  tlsparse.HandshakeType
	Size  int
	Frame capture.Frame
	Read  bool
}

// Unfinished is the tail of a direction's TLS bytes that never completed
// a record: how many bytes, in how many frames, the first and the last.
// Zero when every byte was part of a complete record.
type Unfinished struct {
	Bytes       int64
	Frames      int
	First, Last capture.Frame
}

// Traffic counts application data.
type Traffic struct {
	Records int
	Bytes   int64 // record payload bytes (ciphertext)
	First   capture.Frame
}

// KeyLogFacts is what a key log showed of a connection.
type KeyLogFacts struct {
	// Reason says why Decryption is what it is (empty when it is
	// DecryptionNone or DecryptionDecrypted with every record opened).
	Reason string
	// Messages are the handshake messages found in decrypted records
	// (Finished, a renegotiation's hellos, TLS 1.3's encrypted flight), in
	// order, at most maxDecryptedMessages.
	Messages []Message
	// Head is each record direction's first plaintext bytes (at most
	// MaxHead) once the key log opened its records, e.g.
	// "HTTP/1.1 200 OK"; nil otherwise.
	Head [2][]byte
}

// MaxHead bounds KeyLogFacts.Head.
const MaxHead = 64

// DecryptionReason says why Decryption is what it is; "" when there is
// nothing to say.
func (c *Connection) DecryptionReason() string {
	if c.KeyLogFacts == nil {
		return ""
	}
	return c.KeyLogFacts.Reason
}

// DecryptedMessages returns the handshake messages found in decrypted
// records, in order.
func (c *Connection) DecryptedMessages() []Message {
	if c.KeyLogFacts == nil {
		return nil
	}
	return c.KeyLogFacts.Messages
}

// AppDataHead returns direction d's first decrypted application bytes
// (at most MaxHead), nil when none were decrypted.
func (c *Connection) AppDataHead(d capture.Direction) []byte {
	if c.KeyLogFacts == nil {
		return nil
	}
	return c.KeyLogFacts.Head[d]
}

// Decryption says what a key log did for a connection.
type Decryption uint8

const (
	// DecryptionNone: no key log, or nothing to decrypt (no ServerHello).
	DecryptionNone Decryption = iota
	// DecryptionDecrypted: the secrets opened the encrypted records.
	DecryptionDecrypted
	// DecryptionNoKey: the key log holds no secret for the connection's
	// client random.
	DecryptionNoKey
	// DecryptionUnsupportedCipher: the secrets are there but the cipher
	// suite is one this tool cannot open.
	DecryptionUnsupportedCipher
	// DecryptionFailed: the secrets did not open the records (they belong
	// to another connection, or records were lost).
	DecryptionFailed
)

// Decryptions lists every Decryption value.
var Decryptions = []Decryption{DecryptionNone, DecryptionDecrypted, DecryptionNoKey, DecryptionUnsupportedCipher, DecryptionFailed}

func (d Decryption) String() string {
	switch d {
	case DecryptionNone:
		return ""
	case DecryptionDecrypted:
		return "decrypted"
	case DecryptionNoKey:
		return "no_key"
	case DecryptionUnsupportedCipher:
		return "unsupported_cipher"
	case DecryptionFailed:
		return "failed"
	}
	return "decryption(" + strconv.Itoa(int(d)) + ")"
}

// Message is a handshake message read from a decrypted record.
type Message struct {
	Frame  capture.Frame
	Sender capture.Direction
	Type   tlsparse.HandshakeType
}

// TraceFrame is one TLS-bearing frame and what it carried, in stream order.
type TraceFrame struct {
	Frame capture.Frame
	Dir   capture.Direction
	Items []TraceItem
}

// TraceItem is one record or handshake message whose last byte was in the
// frame (Wireshark attributes a reassembled message to that frame).
type TraceItem struct {
	Kind      tlsparse.ItemKind
	Handshake tlsparse.HandshakeType // for KindHandshake
	// HelloRetry marks a ServerHello that is a HelloRetryRequest.
	HelloRetry bool
	SNI        string // for a ClientHello
	Alert      tlsparse.Alert
	Encrypted  bool // for KindAlert
	// Decrypted marks an item read from a decrypted record: a handshake
	// message (KindHandshake), an alert, or application data.
	Decrypted bool
	NonTLS    string // for KindNonTLS
	// QUIC describes a QUIC datagram (Kind is zero): its packets and
	// frames, as Wireshark's Info column does.
	QUIC string
	// Segment marks a frame that carried only bytes of a record the
	// capture never saw complete (Kind is zero): Wireshark lists it as a
	// TCP segment of a reassembled PDU.
	Segment bool
	// SSLv2MasterKey marks a KindSSLv2Record that is the client's
	// plaintext CLIENT-MASTER-KEY.
	SSLv2MasterKey bool
}

// Duration is the time from the first ClientHello to the end of the
// handshake; false when the handshake did not complete or the time is
// not known (Elapsed).
func (c *Connection) Duration() (time.Duration, bool) {
	return c.Elapsed(c.ClientHelloFrame, c.HandshakeDone)
}

// ShownClientHello returns the ClientHello to show the client's offer
// from: the first whole one, or else the readable start of a cut one
// (Truncated), or nil.
func (c *Connection) ShownClientHello() *tlsparse.ClientHello {
	if c.ClientHello != nil {
		return c.ClientHello
	}
	return c.CutClientHello
}

// OfferedVersions are the versions the client offered, highest first.
func (c *Connection) OfferedVersions() []tlsparse.Version {
	if c.ClientHello == nil {
		return nil
	}
	return c.ClientHello.OfferedVersions()
}
