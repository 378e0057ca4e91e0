package analysis

// TLS to record: what each TLS item (hello, handshake message, alert,
// application data, SSLv2 record) means for the connection record, and
// which side is the client.

import (
	"errors"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// item records one decoded record or handshake message. d is the capture
// direction it came from.
func (t *tracker) item(d capture.Direction, it *tlsparse.Item) {
	ds := &t.dirs[d]
	end := min(it.RecordEnd, ds.offset)
	last := ds.completedAt(end-5-int64(it.Record.Length), end)
	if it.Kind != tlsparse.KindNonTLS && it.Kind != tlsparse.KindMalformed && it.Kind != tlsparse.KindProxyHeader {
		ds.tlsSeen, ds.head = true, nil
	}
	t.decideRoles(d, it)
	t.pathHello(d, it)
	if ds.tlsSeen && !t.sawTLS {
		// After decideRoles: the server may have been the other end.
		t.sawTLS = true
		t.b.seq.sawTLS(t.c.Server, t.now)
	}
	rd := t.dir(d)
	c, side := t.c, t.c.Side(rd)
	if t.openRecord(rd, it, last) {
		return
	}
	ti := TraceItem{Kind: it.Kind}
	switch it.Kind {
	case tlsparse.KindHandshake:
		ti.Handshake = it.HandshakeType
		if rd == capture.ServerToClient && c.Roles != RolesGuessed && len(it.Body) > LargeHandshake && (c.Large == nil || !c.Large.Read && c.Large.Type == it.HandshakeType) {
			c.Large = &LargeMessage{Type: it.HandshakeType, Size: len(it.Body), Frame: ds.frameAt(it.Start + 3), Read: true}
		}
		t.handshake(rd, it, last, &ti)
	case tlsparse.KindSSLv2ClientHello:
		if ch, err := tlsparse.ParseSSLv2ClientHello(it.Body); err == nil && c.ClientHello == nil {
			c.ClientHello, c.ClientHelloFrame, c.ClientHelloSSLv2 = ch, last, true
		} else if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedSSLv2ClientHello)
		}
	case tlsparse.KindSSLv2ServerHello:
		t.sslv2ServerHello(it, last)
	case tlsparse.KindSSLv2Record:
		t.sslv2Record(rd, it, last, &ti)
	case tlsparse.KindChangeCipherSpec:
		if side.ChangeCipherSpec.Number == 0 {
			side.ChangeCipherSpec = last
		}
		t.changeCipherSpec(rd)
	case tlsparse.KindEncryptedHandshake:
		if t.hsDone && !c.Version.IsTLS13() {
			if c.After == nil {
				c.After = &AfterHandshake{}
			}
			if c.After.Renegotiation[rd].Number == 0 {
				c.After.Renegotiation[rd] = last
			}
		}
		side.finished(last)
		t.checkDone(last)
	case tlsparse.KindAlert:
		ti.Alert, ti.Encrypted = it.Alert, it.Encrypted
		t.alert(rd, it.Alert, it.Encrypted, last)
	case tlsparse.KindApplicationData:
		t.appData(rd, it, last, &ti)
	case tlsparse.KindHeartbeat:
		t.anomaly(tlsparse.AnomalyHeartbeat)
		t.heartbeat(rd, it, last)
	case tlsparse.KindNonTLS:
		ti.NonTLS = it.NonTLS
		if c.Proxy != nil {
			// The proxy negotiation, not a peer speaking something else.
			if side.Prelude == nil {
				side.Prelude = &NonTLS{Frame: last, Looks: it.NonTLS}
			}
		} else if side.NonTLS == nil {
			side.NonTLS = &NonTLS{Frame: last, First: ds.frameAt(it.Start), Looks: it.NonTLS}
		}
	case tlsparse.KindProxyHeader:
		t.proxyHeader(rd, it, last, &ti)
	case tlsparse.KindMalformed:
		if o := (*tlsparse.OversizedError)(nil); errors.As(it.Err, &o) {
			t.anomaly(tlsparse.AnomalyOversizedHandshakeMessage)
			if rd == capture.ServerToClient && c.Roles != RolesGuessed && c.Large == nil {
				c.Large = &LargeMessage{Type: o.Type, Size: o.Length, Frame: ds.frameAt(o.At + 3)}
			}
		} else {
			t.anomaly(tlsparse.AnomalyMalformedRecord)
		}
	}
	t.trace(rd, last, ti)
}

// decideRoles settles who the client is from the first hello, when the
// SYN was not captured.
func (t *tracker) decideRoles(d capture.Direction, it *tlsparse.Item) {
	c := t.c
	if c.Roles != RolesGuessed {
		return
	}
	var fromClient bool
	switch {
	case it.Kind == tlsparse.KindSSLv2ClientHello,
		it.Kind == tlsparse.KindHandshake && it.HandshakeType == tlsparse.HandshakeTypeClientHello:
		fromClient = true
	case it.Kind == tlsparse.KindSSLv2ServerHello,
		it.Kind == tlsparse.KindHandshake && it.HandshakeType == tlsparse.HandshakeTypeServerHello:
		fromClient = false
	default:
		return
	}
	c.Roles = RolesFromClientHello
	if fromClient == (d == capture.ClientToServer) {
		return
	}
	t.flip = true
	c.Client, c.Server = c.Server, c.Client
	t.flipFacts()
}

// flipFacts swaps the per-direction facts recorded before the roles were
// known: every field of the record that is per side, whether or not it
// can be set that early, so that a field added later is not forgotten
// (TestFlipFactsCoversEverySide checks each one by reflection). QUIC
// records are not flipped: their roles come from the Initial packets;
// nor are the path facts, made once the roles are final (pathRecord).
func (t *tracker) flipFacts() {
	c := t.c
	c.ClientSide, c.ServerSide = c.ServerSide, c.ClientSide
	if c.Unfinished != nil {
		swap(c.Unfinished)
	}
	swap(&c.TCP.FIN)
	swap(&c.TCP.Unacked)
	c.TCP.RSTFrom = c.TCP.RSTFrom.Reverse()
	for i := range c.Alerts {
		c.Alerts[i].Sender = c.Alerts[i].Sender.Reverse()
	}
	for i := range c.TCP.Gaps {
		c.TCP.Gaps[i].Dir = c.TCP.Gaps[i].Dir.Reverse()
	}
	for i := range c.Trace {
		c.Trace[i].Dir = c.Trace[i].Dir.Reverse()
	}
	if c.After != nil {
		swap(&c.After.Renegotiation)
		swap(&c.After.GoAway)
		swap(&c.After.AlertLike)
	}
	if c.Heartbeats != nil {
		swap(c.Heartbeats)
	}
	if k := c.KeyLogFacts; k != nil {
		swap(&k.Head)
		for i := range k.Messages {
			k.Messages[i].Sender = k.Messages[i].Sender.Reverse()
		}
	}
}

// heartbeat counts a heartbeat record of direction d, keeping the first.
func (t *tracker) heartbeat(d capture.Direction, it *tlsparse.Item, f capture.Frame) {
	c := t.c
	if c.Heartbeats == nil {
		c.Heartbeats = new([2]Heartbeats)
	}
	h := &c.Heartbeats[d]
	if h.Records == 0 {
		h.First = Heartbeat{Frame: f, Length: int(it.Record.Length), Encrypted: it.Encrypted, Message: it.Heartbeat}
	}
	h.Records++
	h.Bytes += int64(it.Record.Length)
}

// swap exchanges the two sides of a per-side pair.
func swap[T any](p *[2]T) { p[0], p[1] = p[1], p[0] }

// cutClientHello keeps the readable start of a ClientHello that a gap cut
// short, unless a whole one was seen. It is no trace item: Wireshark does
// not dissect a message it could not reassemble either.
func (t *tracker) cutClientHello(d capture.Direction, it *tlsparse.Item, f capture.Frame) {
	c := t.c
	ch, err := tlsparse.ParseClientHelloPrefix(it.Body)
	if err != nil {
		return
	}
	t.decideRoles(d, it)
	if c.ClientHello == nil && c.CutClientHello == nil {
		c.CutClientHello, c.CutClientHelloFrame, c.CutClientHelloSize = ch, f, len(it.Body)+it.Missing
	}
}

func (t *tracker) trace(d capture.Direction, f capture.Frame, ti TraceItem) {
	c := t.c
	if !t.b.opt.Trace {
		return
	}
	if n := len(c.Trace); n > 0 && c.Trace[n-1].Frame.Number == f.Number && c.Trace[n-1].Dir == d {
		c.Trace[n-1].Items = append(c.Trace[n-1].Items, ti)
		return
	}
	if len(c.Trace) >= t.b.opt.MaxTraceFrames {
		c.TraceOmitted++
		return
	}
	c.Trace = append(c.Trace, TraceFrame{Frame: f, Dir: d, Items: []TraceItem{ti}})
}

func (t *tracker) handshake(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	switch it.HandshakeType {
	case tlsparse.HandshakeTypeClientHello:
		ch, err := tlsparse.ParseClientHello(it.Body)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedClientHello)
			if d == capture.ClientToServer && c.MalformedClientHelloFrame.Number == 0 {
				c.MalformedClientHelloFrame, c.MalformedClientHelloError = f, err.Error()
			}
			return
		}
		ti.SNI = ch.ServerName
		t.promotePrelude(c.Proxy == nil)
		if !c.addClientHello(ch, f) {
			t.anomaly(tlsparse.AnomalyRepeatedClientHello)
		}
		t.anomalies(ch.Anomalies)
	case tlsparse.HandshakeTypeServerHello:
		sh, err := tlsparse.ParseServerHello(it.Body)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedServerHello)
			return
		}
		t.promotePrelude(true)
		t.anomalies(sh.Anomalies)
		if sh.HelloRetryRequest {
			ti.HelloRetry = true
			c.addHelloRetry(sh, f)
			return
		}
		if !c.addServerHello(sh, f) {
			t.anomaly(tlsparse.AnomalyRepeatedServerHello)
			return
		}
		c.ALPN = sh.ALPN
		if c.Version.IsTLS13() {
			// Everything after the ServerHello is encrypted in TLS 1.3.
			t.dirs[t.captureDir(capture.ServerToClient)].dec.SetEncrypted()
			t.setupDecryption()
		} else {
			if c.ClientHello != nil && len(sh.SessionID) > 0 && string(sh.SessionID) == string(c.ClientHello.SessionID) {
				c.Resumed = true
			}
			if c.ClientHello != nil {
				t.setupDecryption12(c.ClientHello.Random, sh)
			}
		}
	case tlsparse.HandshakeTypeCertificate:
		if d == capture.ServerToClient && !t.hsDone && !c.Version.IsTLS13() {
			// A server that sends its certificate runs a full
			// handshake, whatever session id it echoed.
			t.serverCertificate, c.Resumed = true, false
		}
		server := d == capture.ServerToClient && c.Certificates == nil
		if chain, ok := t.b.certs.chain(it.Body, c.Version); ok && server {
			// The same message as an earlier connection's: the same chain.
			c.Certificates, c.CertificateFrame = chain, f
			return
		}
		cert, err := tlsparse.ParseCertificate(it.Body, c.Version)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedCertificate)
			return
		}
		c.addCertificate(d, cert, f, &t.b.certs)
		if server {
			t.b.certs.keepChain(it.Body, c.Version, c.Certificates)
		}
	case tlsparse.HandshakeTypeCompressedCert:
		cert, err := decompressCertificate(it.Body)
		if err != nil {
			t.anomaly(tlsparse.AnomalyUnreadableCompressedCertificate)
			return
		}
		c.addCertificate(d, cert, f, &t.b.certs)
	case tlsparse.HandshakeTypeServerKeyExchange:
		ske, err := tlsparse.ParseServerKeyExchange(it.Body, c.Cipher)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedServerKeyExchange)
			return
		}
		c.ServerKeyExchange, c.ServerKeyExchangeFrame = ske, f
		if ske.Group != 0 {
			c.Group = ske.Group
		}
	case tlsparse.HandshakeTypeCertificateRequest:
		cr, err := tlsparse.ParseCertificateRequest(it.Body, c.Version)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedCertificateRequest)
			return
		}
		c.CertificateRequest, c.CertificateRequestFrame = cr, f
	case tlsparse.HandshakeTypeServerHelloDone:
		c.ServerHelloDoneFrame = f
	}
}

// sslv2ServerHello records a server that answered in SSLv2: the version it
// chose and its certificate. SSLv2 has no server-side negotiation of a
// cipher; the client picks one of the server's in CLIENT-MASTER-KEY.
func (t *tracker) sslv2ServerHello(it *tlsparse.Item, f capture.Frame) {
	c := t.c
	sh, err := tlsparse.ParseSSLv2ServerHello(it.Body)
	if err != nil {
		t.anomaly(tlsparse.AnomalyMalformedSSLv2ServerHello)
		return
	}
	if c.ServerHello != nil {
		t.anomaly(tlsparse.AnomalyRepeatedServerHello)
		return
	}
	t.promotePrelude(true)
	c.ServerHelloSSLv2, c.ServerHelloFrame = sh, f
	c.ServerHello = &tlsparse.ServerHello{Raw: sh.Raw, Version: sh.Version}
	c.Version = sh.Version
	c.Resumed = sh.SessionIDHit
	if len(sh.Certificate) > 0 && c.Certificates == nil {
		c.CertificateFrame = f
		c.Certificates = []Certificate{t.b.certs.get(sh.Certificate)}
	}
}

// sslv2Record follows an SSLv2 handshake past the hellos
// (draft-hickman-netscape-ssl-00): the client sends CLIENT-MASTER-KEY (in
// plaintext; none on a session-id hit) and CLIENT-FINISHED, the server
// SERVER-VERIFY and SERVER-FINISHED, all but the first encrypted. The
// handshake is over with the server's second record after its hello;
// records after that are application data.
func (t *tracker) sslv2Record(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	if c.ServerHelloSSLv2 == nil {
		return // an SSLv2-compatible hello answered by something else
	}
	if t.hsDone {
		t.countAppData(d, it, f, nil)
		return
	}
	l := t.lateFacts()
	l.sslv2Records[d]++
	if d == capture.ClientToServer && l.sslv2Records[d] == 1 {
		if cs, ok := tlsparse.SSLv2ClientMasterKeyCipher(it.Body); ok {
			c.SSLv2Cipher, ti.SSLv2MasterKey = cs, true
			return
		}
	}
	if c.Side(d).Finished.Number == 0 || d == capture.ServerToClient {
		c.Side(d).Finished = f
	}
	if d == capture.ServerToClient && l.sslv2Records[d] >= 2 && l.sslv2Records[capture.ClientToServer] >= 1 {
		t.hsDone = true
		c.HandshakeDone = f
	}
}

// promotePrelude moves plaintext seen before the hellos to Prelude: the
// connection upgraded to TLS (STARTTLS and friends), the peer was not
// speaking something else instead of TLS. A Prelude already there (a
// proxy's reply) stays. The server side's moves at the ClientHello only
// when server is set: what came first through a proxy's tunnel is
// promoted by the ServerHello alone, since a block page the proxy wrote
// into the tunnel comes before the client's hello too.
func (t *tracker) promotePrelude(server bool) {
	for _, s := range []*Side{&t.c.ClientSide, &t.c.ServerSide} {
		if s.NonTLS == nil || s == &t.c.ServerSide && !server {
			continue
		}
		if s.Prelude == nil {
			s.Prelude = s.NonTLS
		}
		s.NonTLS = nil
	}
}

// captureDir maps a record direction back to capture's direction.
func (t *tracker) captureDir(d capture.Direction) capture.Direction { return t.dir(d) }

func (t *tracker) alert(d capture.Direction, a tlsparse.Alert, encrypted bool, f capture.Frame) {
	c := t.c
	if len(c.Alerts) >= maxAlerts {
		t.anomaly(tlsparse.AnomalyTooManyAlerts)
		return
	}
	al := Alert{Frame: f, Sender: d, Encrypted: encrypted}
	if !encrypted {
		al.Level, al.Description = a.Level, a.Description
	}
	if c.Alerts == nil {
		// Room for the other side's: a connection closed with alerts
		// has one from each side most often (close_notify), and a list
		// grown from one was two allocations.
		c.Alerts = make([]Alert, 0, 2)
	}
	c.Alerts = append(c.Alerts, al)
}

const maxAlerts = 16

// appData handles a record of type application_data. In TLS 1.3 the
// handshake after the ServerHello travels in such records too, so until the
// client's Finished they are the encrypted handshake.
func (t *tracker) appData(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	if d == capture.ClientToServer && c.ServerHello == nil {
		t.earlyRecords++
	}
	if c.Version.IsTLS13() && !t.hsDone {
		alertSized := it.Record.Length == encryptedAlertLength(c.Cipher) ||
			d == capture.ClientToServer && it.Record.Length == encryptedAlertLength(c.Cipher)+jssePadding && fingerprint.Recognize(c.ClientHello).Stack == fingerprint.StackJava
		if d == capture.ServerToClient {
			c.Side(d).finished(f)
			ti.Kind = tlsparse.KindEncryptedHandshake
			return
		}
		if alertSized {
			// A TLS 1.3 client that rejects the server's flight sends one
			// short encrypted alert and closes; its Finished is longer.
			ti.Kind, ti.Encrypted = tlsparse.KindAlert, true
			t.alert(d, tlsparse.Alert{}, true, f)
			return
		}
		if c.Side(d).Finished.Number == 0 {
			c.Side(d).Finished = f
			c.ClientFlightRecords.First = int32(it.Record.Length)
			ti.Kind = tlsparse.KindEncryptedHandshake
			t.tls13ClientFinished = true
			t.checkDone(f)
			return
		}
	}
	if c.Version.IsTLS13() && d == capture.ClientToServer && c.ClientFlightRecords.First != 0 && c.ClientFlightRecords.Second == 0 {
		c.ClientFlightRecords.Second = int32(it.Record.Length)
	}
	if c.Version.IsTLS13() && d == capture.ServerToClient {
		if t.serverRecordsAfterDone == 0 {
			t.serverAlertAfterDone = it.Record.Length == encryptedAlertLength(c.Cipher)
		}
		t.serverRecordsAfterDone++
	}
	t.countAppData(d, it, f, nil)
}

// countAppData counts an application data record; plain is its
// decrypted content, or nil.
func (t *tracker) countAppData(d capture.Direction, it *tlsparse.Item, f capture.Frame, plain []byte) {
	a := &t.c.Side(d).AppData
	if a.Records == 0 {
		a.First = f
	}
	a.Records++
	a.Bytes += int64(it.Record.Length)
	if t.hsDone {
		t.afterHandshake(d, it, f, plain)
	}
}

// EncryptedRecordLength is the length of a TLS 1.3 record sealed with
// suite cs that carries n bytes: those, the inner content type and the
// AEAD tag (RFC 8446, Section 5.2).
func EncryptedRecordLength(cs tlsparse.CipherSuite, n int) int {
	const tlsAES128CCM8SHA256 tlsparse.CipherSuite = 0x1305 // the only TLS 1.3 suite with an 8-byte tag
	if cs == tlsAES128CCM8SHA256 {
		return n + 1 + 8
	}
	return n + 1 + 16
}

// encryptedAlertLength is the record length of an encrypted TLS 1.3 alert
// (two bytes).
func encryptedAlertLength(cs tlsparse.CipherSuite) int { return EncryptedRecordLength(cs, 2) }

// jssePadding is the zero padding Java's JSSE adds to each TLS 1.3 record
// it encrypts (OpenJDK 17: its Finished with SHA-384 is 85 bytes, not 69,
// and its certificate_unknown alert 35, not 19).
const jssePadding = 16

// EncryptedFinishedLength is the record length of an encrypted TLS 1.3
// Finished: its 4-byte header and verify data of the suite's hash size.
func EncryptedFinishedLength(cs tlsparse.CipherSuite) int {
	const tlsAES256GCMSHA384 tlsparse.CipherSuite = 0x1302 // the only TLS 1.3 suite with SHA-384
	hash := 32
	if cs == tlsAES256GCMSHA384 {
		hash = 48
	}
	return EncryptedRecordLength(cs, 4+hash)
}

// addClientHello files a parsed ClientHello: the first, or the second
// after a HelloRetryRequest. It returns false for any other (a repeat).
func (c *Connection) addClientHello(ch *tlsparse.ClientHello, f capture.Frame) bool {
	switch {
	case c.ClientHello == nil:
		c.ClientHello, c.ClientHelloFrame = ch, f
	case c.HelloRetry != nil && c.RetryClientHello == nil:
		c.RetryClientHello, c.RetryClientHelloFrame = ch, f
	default:
		return false
	}
	return true
}

// decompressCertificate reads the Certificate message a
// CompressedCertificate holds (RFC 8879), which a TLS 1.3 peer sends in
// place of the Certificate when the other side offered the algorithm.
func decompressCertificate(body []byte) (*tlsparse.Certificate, error) {
	m, err := tlsparse.ParseCompressedCertificate(body)
	if err != nil {
		return nil, err
	}
	return m.Certificate()
}

// addCertificate files a Certificate message that d's sender sent: the
// number of certificates a client sent, or the server's first chain. cert
// aliases the stream's bytes (tlsparse.ParseCertificate): certs copies the
// certificates it keeps.
func (c *Connection) addCertificate(d capture.Direction, cert *tlsparse.Certificate, f capture.Frame, certs *certCache) {
	if d == capture.ClientToServer {
		c.ClientCertificates, c.ClientCertificateFrame = len(cert.Certificates), f
		if len(cert.Certificates) > 0 && c.ClientChain == nil {
			chain := make([]Certificate, 0, len(cert.Certificates))
			for _, der := range cert.Certificates {
				chain = append(chain, certs.get(der))
			}
			c.ClientChain = &chain
		}
		return
	}
	if c.Certificates != nil {
		return
	}
	c.CertificateFrame = f
	c.Certificates = make([]Certificate, 0, len(cert.Certificates))
	for _, der := range cert.Certificates {
		c.Certificates = append(c.Certificates, certs.get(der))
	}
}

// addHelloRetry files the first HelloRetryRequest.
func (c *Connection) addHelloRetry(sh *tlsparse.ServerHello, f capture.Frame) {
	if c.HelloRetry == nil {
		c.HelloRetry, c.HelloRetryFrame = sh, f
	}
}

// addServerHello files the ServerHello and what it negotiated (the
// group and resumption for TLS 1.3). It returns false for a repeat,
// which changes nothing.
func (c *Connection) addServerHello(sh *tlsparse.ServerHello, f capture.Frame) bool {
	if c.ServerHello != nil {
		return false
	}
	c.ServerHello, c.ServerHelloFrame = sh, f
	c.Version, c.Cipher = sh.NegotiatedVersion(), sh.CipherSuite
	if c.Version.IsTLS13() {
		c.Group, c.Resumed = sh.KeyShare, sh.PreSharedKey
	}
	return true
}
