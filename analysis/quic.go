package analysis

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/quic"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Transport is what carried a connection's TLS.
type Transport uint8

const (
	TransportTCP  Transport = iota // TLS records over TCP
	TransportQUIC                  // TLS handshake messages in QUIC CRYPTO frames over UDP
)

func (t Transport) String() string {
	switch t {
	case TransportTCP:
		return "tcp"
	case TransportQUIC:
		return "quic"
	case TransportDNS:
		return "dns"
	}
	return "transport(" + strconv.Itoa(int(t)) + ")"
}

// QUIC is what a QUIC connection showed besides its TLS handshake.
type QUIC struct {
	// Version is the version of the client's first packet; Versions all
	// that its long headers used, in order.
	Version  quic.Version
	Versions []quic.Version
	// VersionNegotiation is the server's list of versions, when it sent
	// one; Retry its Retry packet.
	VersionNegotiation *quic.VersionNegotiation
	Retry              *quic.Retry
	// Closes are the CONNECTION_CLOSE frames read (all of them, also those
	// whose TLS alert is in Alerts).
	Closes []quic.Close
	// OriginalDCID, ClientCID and ServerCID are the connection IDs;
	// CIDChanges counts the packets whose Destination Connection ID
	// changed from the previous one in their direction.
	OriginalDCID, ClientCID, ServerCID []byte
	CIDChanges                         int
	// Datagrams and Packets (by level: Initial, Handshake, 1-RTT) count
	// each direction's traffic; Undecrypted the packets not read.
	Datagrams   [2]int
	Packets     [2][3]int
	Undecrypted [2]int
	// FirstShort is, per direction, the first 1-RTT packet.
	FirstShort [2]capture.Frame
	// CryptoCut counts handshake bytes not read because of the memory
	// bounds.
	CryptoCut int64
	// Errors are the first packets that could not be decoded.
	Errors []quic.PacketError
	// Fallback is the TCP connection the same client opened to the same
	// server after this one got no answer; set by LinkFallbacks.
	Fallback *Fallback
	// Unreachable is the first ICMP error about the client's datagrams.
	Unreachable *ICMPReport
}

// Fallback is a later TCP connection from the same client host to the
// same server: one that replaced an unanswered QUIC connection
// (QUIC.Fallback), or a new attempt after a SYN an ICMP error answered
// (PathFacts.Retry).
type Fallback struct {
	Client, Server netip.AddrPort
	First          capture.Frame
	Established    bool
}

// IsQUIC reports whether the connection was QUIC.
func (c *Connection) IsQUIC() bool { return c.QUIC != nil }

// Transport says what carried the connection's TLS.
func (c *Connection) Transport() Transport {
	if c.DNSFailure != nil {
		return TransportDNS
	}
	if c.IsQUIC() {
		return TransportQUIC
	}
	return TransportTCP
}

// Datagram implements capture.DatagramHandler: QUIC connections are found
// in UDP datagrams, and DTLS is counted.
func (b *Builder) Datagram(src, dst netip.AddrPort, payload []byte, f capture.Frame) {
	if isDNS(src, dst) {
		b.seq.dns.message(src, dst, payload, f, false)
		return
	}
	if b.quic == nil {
		// The Builders of one capture share the bounds, as capture's
		// shards share theirs: only when they are hit can what one
		// Builder does differ from what several do.
		n := len(b.seq.marks)
		b.dtls.max = max(1, MaxDTLSFlows/n)
		opt := quic.Options{Trace: b.opt.Trace, Open: b.quicOpened,
			MaxConns: max(1, quic.DefaultMaxConns/n), MaxCrypto: max(1, quic.DefaultMaxCrypto/n)}
		if b.opt.KeyLog != nil {
			opt.Secrets = b.opt.KeyLog.Lookup
		}
		b.quic = quic.NewTracker(opt, b.quicDone)
		b.quicOpen = make(map[*quic.Conn]*openEntry)
	}
	b.dtls.datagram(src, dst, payload, f)
	b.quicFrame = f.Number
	b.quic.Datagram(src, dst, payload, f)
}

// DatagramError implements capture.ICMPDatagramHandler: an ICMP error
// about a DNS query (a resolver's host where nothing listens on port 53)
// is kept with the query, one about a QUIC connection's Initials (nothing
// listens on the server's UDP port) with the connection.
func (b *Builder) DatagramError(src, dst netip.AddrPort, e capture.ICMPError, f capture.Frame) {
	switch {
	case isDNS(src, dst):
		b.seq.dns.unreachable(src, dst, ICMPReport{Frame: f, About: capture.ClientToServer, ICMPError: e})
	case b.quic != nil:
		b.quic.DatagramError(src, dst, e, f)
	}
}

// Expire implements capture.Expirer: the QUIC connections idle for longer
// than their timeout at now end, each closed by the frame at which the
// capture's time passed its deadline, however the capture is split.
func (b *Builder) Expire(now time.Time, closedBy func(deadline time.Time) int64) {
	if b.quic == nil {
		return
	}
	b.quicClosedBy = closedBy
	b.quic.Expire(now)
	b.quicClosedBy = nil
}

// EndDatagrams implements capture.DatagramHandler. In live mode the
// failed DNS lookups are known only now: they go to Done (from the first
// Builder of a fan-out group to end).
func (b *Builder) EndDatagrams() {
	if b.quic != nil {
		b.quicFrame = math.MaxInt64
		b.quic.End()
	}
	b.seq.mu.Lock()
	b.seq.stats.DTLS.add(b.dtls.stats)
	b.seq.mu.Unlock()
	if b.opt.Done != nil {
		for _, c := range b.seq.dns.failures() {
			b.decided(c, timeNS(c.Last.Time))
		}
	}
}

func (b *Builder) quicOpened(q *quic.Conn) {
	if b.opt.Done == nil {
		b.quicOpen[q] = b.seq.openedBy(q.First.Number, q.First.Number, q.Client, q.Server)
	}
}

func (b *Builder) quicDone(q *quic.Conn) {
	c := quicRecord(q, b)
	closedBy, at := b.quicFrame, b.cur
	if b.quicClosedBy != nil {
		// Idle: closed, and decided, at its deadline, whichever frame
		// then moved the clock past it.
		deadline := q.Last.Time.Add(b.quic.IdleTimeout())
		closedBy, at = b.quicClosedBy(deadline), timeNS(deadline)
	}
	if b.opt.Done != nil {
		b.decided(c, at)
		return
	}
	e := b.quicOpen[q]
	delete(b.quicOpen, q)
	b.seq.finished(c, q.Last.Number, e, closedBy)
}

// awaitsFallback reports whether c is a QUIC connection that got no
// answer, whose client may have fallen back to TCP: the sequencer holds
// it until the capture is over, so that the TCP connection is known.
func awaitsFallback(c *Connection) bool {
	return c.IsQUIC() && c.QUIC.Datagrams[capture.ServerToClient] == 0 && c.QUIC.Fallback == nil
}

// linkFallback finds, among the finished connections waiting to be
// emitted, the first TCP connection from the same client host to the same
// server that began after the unanswered QUIC connection c: the client
// fell back to TCP. The sequencer's lock is held.
func (s *sequencer) linkFallback(c *Connection) {
	var best *Connection
	for _, p := range s.pending {
		t := p.c
		if t.IsQUIC() || t.Server != c.Server || t.Client.Addr() != c.Client.Addr() || t.First.Number <= c.First.Number {
			continue
		}
		if best == nil || t.First.Number < best.First.Number {
			best = t
		}
	}
	if best != nil {
		c.QUIC.Fallback = &Fallback{Client: best.Client, Server: best.Server, First: best.First, Established: best.Established}
	}
}

// quicRecord makes the record of a QUIC connection: its handshake
// messages go through the same parsers as over TCP.
func quicRecord(q *quic.Conn, b *Builder) *Connection {
	c := &Connection{
		Client: q.Client, Server: q.Server,
		Roles: RolesFromClientHello,
		First: q.First, Last: q.Last,
		ClientCertificates: -1,
		Decrypted:          q.Secrets,
		QUIC: &QUIC{
			Version: q.Version, Versions: q.Versions,
			VersionNegotiation: q.VersionNegotiation, Retry: q.Retry, Closes: q.Closes,
			OriginalDCID: q.OriginalDCID, ClientCID: q.ClientCID, ServerCID: q.ServerCID, CIDChanges: q.CIDChanges,
			Datagrams: q.Datagrams, Undecrypted: q.Undecrypted, FirstShort: q.FirstShort,
			CryptoCut: q.CryptoCut, Errors: q.Errors,
		},
	}
	for d := range q.Packets {
		copy(c.QUIC.Packets[d][:], q.Packets[d][:])
	}
	if q.UnreachableFrame.Number != 0 {
		c.QUIC.Unreachable = &ICMPReport{Frame: q.UnreachableFrame, About: capture.ClientToServer, ICMPError: q.Unreachable}
	}
	var an anomalies
	for _, m := range q.Messages {
		quicMessage(c, m, b, &an)
	}
	for _, cl := range q.Closes {
		// RFC 9001, Section 4.8: a TLS alert travels as the crypto error
		// 0x100 + its description.
		if !cl.Application && cl.ErrorCode >= 0x100 && cl.ErrorCode <= 0x1ff && len(c.Alerts) < maxAlerts {
			c.Alerts = append(c.Alerts, Alert{Frame: cl.Frame, Sender: cl.Dir,
				Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertDescription(cl.ErrorCode - 0x100)})
		}
	}
	if q.Packets[capture.ServerToClient][quic.LevelHandshake] > 0 && c.ServerSide.Finished.Number == 0 && !q.Secrets {
		c.ServerSide.Finished = firstServerHandshake(q)
	}
	c.Anomalies = an.list
	// The client sends 1-RTT packets only once it has the server's
	// Finished; a server that also sent 1-RTT packets carried on.
	switch {
	case q.HandshakeDone.Number != 0:
		c.HandshakeDone = q.HandshakeDone
	case q.FirstShort[capture.ClientToServer].Number != 0 && q.FirstShort[capture.ServerToClient].Number != 0:
		c.HandshakeDone = q.FirstShort[capture.ClientToServer]
	}
	c.Established = c.HandshakeDone.Number != 0 && !quicFatalClose(c)
	if c.Established {
		c.ClientSide.AppData = Traffic{Records: q.Packets[0][quic.Level1RTT], First: q.FirstShort[0]}
		c.ServerSide.AppData = Traffic{Records: q.Packets[1][quic.Level1RTT], First: q.FirstShort[1]}
	}
	b.setPrints(c, fingerprint.QUIC, c.ServerHello != nil)
	for _, l := range q.Trace {
		c.Trace = append(c.Trace, TraceFrame{Frame: l.Frame, Dir: l.Dir, Items: []TraceItem{{QUIC: l.Info}}})
	}
	c.TraceOmitted = q.TraceOmitted
	return c
}

func firstServerHandshake(q *quic.Conn) capture.Frame {
	// The server's first Handshake packet travels with or right after its
	// Initial: its first datagram is the best frame the capture can name.
	return q.FirstPacket[capture.ServerToClient]
}

// quicFatalClose reports whether a CONNECTION_CLOSE with an error ended
// the connection before it was established.
func quicFatalClose(c *Connection) bool {
	for _, cl := range c.QUIC.Closes {
		if cl.ErrorCode != 0 && !cl.Application && cl.Frame.Number <= c.HandshakeDone.Number {
			return true
		}
	}
	return false
}

// anomalies collects a record's anomalies once each, up to the cap.
type anomalies struct{ list []tlsparse.Anomaly }

func (a *anomalies) add(id tlsparse.Anomaly) {
	for _, x := range a.list {
		if x == id {
			return
		}
	}
	if len(a.list) < 32 {
		a.list = append(a.list, id)
	}
}

// quicMessage records one handshake message.
func quicMessage(c *Connection, m quic.HandshakeMessage, b *Builder, an *anomalies) {
	f := m.Frame
	switch tlsparse.HandshakeType(m.Type) {
	case tlsparse.HandshakeTypeClientHello:
		ch, err := tlsparse.ParseClientHello(m.Body)
		if err != nil {
			an.add(tlsparse.AnomalyMalformedClientHello)
			return
		}
		if !c.addClientHello(ch, f) {
			an.add(tlsparse.AnomalyRepeatedClientHello)
		}
		for _, a := range ch.Anomalies {
			an.add(a)
		}
	case tlsparse.HandshakeTypeServerHello:
		sh, err := tlsparse.ParseServerHello(m.Body)
		if err != nil {
			an.add(tlsparse.AnomalyMalformedServerHello)
			return
		}
		for _, a := range sh.Anomalies {
			an.add(a)
		}
		if sh.HelloRetryRequest {
			c.addHelloRetry(sh, f)
			return
		}
		if !c.addServerHello(sh, f) {
			an.add(tlsparse.AnomalyRepeatedServerHello)
		}
	case tlsparse.HandshakeTypeEncryptedExtensions:
		msg, err := tlsparse.ParseHandshake(tlsparse.HandshakeTypeEncryptedExtensions, m.Body, c.Version, c.Cipher)
		if ee, ok := msg.(*tlsparse.EncryptedExtensions); err == nil && ok {
			c.ALPN = ee.ALPN
		}
	case tlsparse.HandshakeTypeCertificate:
		cert, err := tlsparse.ParseCertificate(m.Body, tlsparse.VersionTLS13)
		if err != nil {
			an.add(tlsparse.AnomalyMalformedCertificate)
			return
		}
		c.addCertificate(m.Dir, cert, f, &b.certs)
	case tlsparse.HandshakeTypeCompressedCert:
		cert, err := decompressCertificate(m.Body)
		if err != nil {
			an.add(tlsparse.AnomalyUnreadableCompressedCertificate)
			return
		}
		c.addCertificate(m.Dir, cert, f, &b.certs)
	case tlsparse.HandshakeTypeCertificateRequest:
		cr, err := tlsparse.ParseCertificateRequest(m.Body, tlsparse.VersionTLS13)
		if err == nil {
			c.CertificateRequest, c.CertificateRequestFrame = cr, f
		}
	case tlsparse.HandshakeTypeFinished:
		c.Side(m.Dir).finished(f)
	}
}
