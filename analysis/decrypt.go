package analysis

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// sideKeys decrypts one direction of a connection with secrets from a key
// log, and parses the handshake messages inside.
type sideKeys struct {
	// TLS 1.3: the handshake and application traffic secrets.
	handshake, traffic *decrypt.Decrypter
	// early opens a TLS 1.3 client's 0-RTT records (RFC 8446 Section
	// 4.2.10: its early data and EndOfEarlyData, before its handshake
	// records); nil once a handshake record opened.
	early *decrypt.Decrypter
	// TLS ≤ 1.2: the keys this side switched to at its ChangeCipherSpec.
	tls12 *decrypt.Decrypter12
	// finished is set once this side's Finished was decrypted: its later
	// TLS 1.3 records use the traffic secret.
	finished bool
	// failed is set when a record did not open: the sequence numbers are
	// lost (a missing record, a KeyUpdate), so stop trying.
	failed bool
	// inner parses the decrypted handshake bytes, which may span records.
	inner tlsparse.Decoder
}

// maxDecryptedMessages bounds Connection.DecryptedMessages.
const maxDecryptedMessages = 32

// keyLogActive reports whether a key log with secrets was given; it is
// decided when the connection's streams start, so that secrets read from
// a pcapng Decryption Secrets Block open the connections after it.
func (b *Builder) keyLogActive() bool {
	return b.opt.KeyLog != nil && b.opt.KeyLog.Len() > 0
}

// shortRandom names a client random in a reason: its first 8 bytes.
func shortRandom(r []byte) string { return fmt.Sprintf("%x…", r[:min(len(r), 8)]) }

func (t *tracker) decryption(d Decryption, reason string, args ...any) {
	t.c.Decryption = d
	t.keyLogFacts().Reason = fmt.Sprintf(reason, args...)
}

// keyLogFacts returns the connection's KeyLogFacts, allocating them.
func (t *tracker) keyLogFacts() *KeyLogFacts {
	if t.c.KeyLogFacts == nil {
		t.c.KeyLogFacts = &KeyLogFacts{}
	}
	return t.c.KeyLogFacts
}

// setupDecryption prepares both directions once the TLS 1.3 ServerHello
// names the cipher suite. Without the connection's secrets in the key log
// nothing changes but Connection.Decryption.
func (t *tracker) setupDecryption() {
	c := t.c
	kl := t.b.opt.KeyLog
	if !t.keyLog || c.ClientHello == nil || c.ServerHello == nil {
		return
	}
	labels := [2][2]string{
		capture.ClientToServer: {decrypt.LabelClientHandshakeTraffic, decrypt.LabelClientApplicationTraffic},
		capture.ServerToClient: {decrypt.LabelServerHandshakeTraffic, decrypt.LabelServerApplicationTraffic},
	}
	for d, l := range labels {
		hs, ok := kl.Lookup(c.ClientHello.Random, l[0])
		if !ok {
			continue
		}
		k := &sideKeys{}
		var err error
		if k.handshake, err = decrypt.NewTLS13(uint16(c.Cipher), hs); err != nil {
			t.anomaly(tlsparse.AnomalyKeyLogUnsupportedCipher)
			t.decryption(DecryptionUnsupportedCipher, "the key log has the secrets, but %s is not a cipher suite tlsdiag decrypts", c.Cipher)
			t.keys = [2]*sideKeys{}
			return
		}
		if app, ok := kl.Lookup(c.ClientHello.Random, l[1]); ok {
			k.traffic, _ = decrypt.NewTLS13(uint16(c.Cipher), app)
		}
		if early, ok := kl.Lookup(c.ClientHello.Random, decrypt.LabelClientEarlyTraffic); ok && capture.Direction(d) == capture.ClientToServer && c.ClientHello.EarlyData {
			// Accepted early data uses the suite the server chose (RFC
			// 8446 Section 4.2.10).
			if k.early, _ = decrypt.NewTLS13(uint16(c.Cipher), early); k.early != nil {
				k.early.Skip(uint64(t.earlyRecords))
			}
		}
		t.keys[d] = k
	}
	if t.keys[0] == nil && t.keys[1] == nil {
		if c.ClientHello.ECH {
			// RFC 9849 Section 6.1: the handshake runs on the inner
			// ClientHello when the server accepts ECH.
			t.decryption(DecryptionNoKey, "the key log has no TLS 1.3 secrets for client random %s, the outer ClientHello's of an Encrypted Client Hello: if the server accepted ECH, the secrets are under the inner ClientHello's random, which is encrypted, and tlsdiag cannot open the connection", shortRandom(c.ClientHello.Random))
			return
		}
		t.decryption(DecryptionNoKey, "the key log has no TLS 1.3 secrets for client random %s", shortRandom(c.ClientHello.Random))
	}
}

// setupDecryption12 derives the keys of a TLS ≤ 1.2 handshake once its
// ServerHello is known; each side switches to them at its
// ChangeCipherSpec. clientRandom is the ClientHello's (the renegotiating
// one's, for a renegotiation).
func (t *tracker) setupDecryption12(clientRandom []byte, sh *tlsparse.ServerHello) {
	c := t.c
	if !t.keyLog || clientRandom == nil {
		return
	}
	if n := len(clientRandom); n < 32 {
		// An SSLv2-compatible ClientHello's challenge is the client random
		// right-aligned, zeros before it (RFC 2246 Appendix E.1).
		clientRandom = append(make([]byte, 32-n), clientRandom...)
	}
	ms, ok := t.b.opt.KeyLog.Lookup(clientRandom, decrypt.LabelClientRandom)
	if !ok {
		if !c.Decrypted {
			t.decryption(DecryptionNoKey, "the key log has no CLIENT_RANDOM line for client random %s", shortRandom(clientRandom))
		}
		return
	}
	cl, sv, err := decrypt.NewTLS12(decrypt.Params12{
		Version: uint16(sh.Version), Suite: uint16(sh.CipherSuite), MasterSecret: ms,
		ClientRandom: clientRandom, ServerRandom: sh.Random, EncryptThenMAC: sh.EncryptThenMAC,
	})
	if err != nil {
		t.anomaly(tlsparse.AnomalyKeyLogUnsupportedCipher)
		if !c.Decrypted {
			t.decryption(DecryptionUnsupportedCipher, "the key log has the master secret, but %s %s is not decrypted by tlsdiag",
				tlsparse.Version(sh.Version), sh.CipherSuite)
		}
		return
	}
	t.pending12 = [2]*decrypt.Decrypter12{capture.ClientToServer: cl, capture.ServerToClient: sv}
}

// changeCipherSpec switches side d of a TLS ≤ 1.2 connection to the keys
// its handshake derived.
func (t *tracker) changeCipherSpec(d capture.Direction) {
	if t.c.Version.IsTLS13() || t.pending12[d] == nil {
		return
	}
	t.keys[d] = &sideKeys{tls12: t.pending12[d]}
	t.pending12[d] = nil
}

// openRecord decrypts an encrypted record of direction d, when the key log
// opened it, and handles what it held. It reports false when it did not,
// so the caller treats the record as opaque.
func (t *tracker) openRecord(d capture.Direction, it *tlsparse.Item, f capture.Frame) bool {
	k := t.keys[d]
	if k == nil || k.failed || it.Body == nil {
		return false
	}
	switch {
	case it.Kind == tlsparse.KindApplicationData:
	case k.tls12 != nil && (it.Kind == tlsparse.KindEncryptedHandshake || it.Kind == tlsparse.KindAlert && it.Encrypted):
	default:
		return false
	}
	hdr := []byte{byte(it.Record.Type), byte(it.Record.Version >> 8), byte(it.Record.Version), byte(it.Record.Length >> 8), byte(it.Record.Length)}
	var inner uint8
	var plain []byte
	var err error = decrypt.ErrAuthFailed
	switch {
	case k.tls12 != nil:
		inner, plain, err = k.tls12.Open(hdr, it.Body)
	default:
		if !k.finished {
			inner, plain, err = k.handshake.Open(hdr, it.Body)
			if err == nil {
				k.early = nil
			} else if k.early != nil {
				inner, plain, err = k.early.Open(hdr, it.Body)
			}
		}
		if err != nil && k.traffic != nil {
			inner, plain, err = k.traffic.Open(hdr, it.Body)
			if err == nil {
				k.finished = true
			}
		}
	}
	if err != nil {
		k.failed = true
		if k.tls12 != nil || !k.finished || k.traffic != nil {
			// Without traffic secrets (a TLS 1.3 client that gave up logs
			// only the handshake ones) the records after Finished stay
			// sealed; anything else means records were lost or keys
			// changed.
			t.anomaly(tlsparse.AnomalyKeyLogDecryptionFailed)
			t.openFailed(d, f)
		}
		return false
	}
	if !t.c.Decrypted {
		t.c.Decrypted = true
		t.decryption(DecryptionDecrypted, "")
	}
	switch tlsparse.ContentType(inner) {
	case tlsparse.ContentTypeHandshake:
		t.decryptedHandshake(d, k, plain, f)
	case tlsparse.ContentTypeAlert:
		a := tlsparse.Alert{}
		if len(plain) == 2 {
			a = tlsparse.Alert{Level: tlsparse.AlertLevel(plain[0]), Description: tlsparse.AlertDescription(plain[1])}
		}
		t.trace(d, f, TraceItem{Kind: tlsparse.KindAlert, Alert: a, Encrypted: true, Decrypted: true})
		if len(t.c.Alerts) >= maxAlerts {
			t.anomaly(tlsparse.AnomalyTooManyAlerts)
			break
		}
		t.c.Alerts = append(t.c.Alerts, Alert{Frame: f, Sender: d, Level: a.Level, Description: a.Description, Encrypted: true, Decrypted: true})
	case tlsparse.ContentTypeApplicationData:
		t.trace(d, f, TraceItem{Kind: tlsparse.KindApplicationData, Decrypted: true})
		if d == capture.ServerToClient && t.c.Response == nil {
			if r := parseHTTPResponse(plain); r != nil {
				r.Frame, r.Decrypted = f, true
				t.c.Response = r
			}
		}
		t.countAppData(d, it, f, plain)
		if l := t.late; l != nil && l.nested != nil {
			l.nested.tunnelData(d, plain, f)
		} else {
			t.watchProxyInTLS(d, plain, f)
		}
		if h := &t.keyLogFacts().Head[d]; len(*h) < MaxHead {
			*h = append(*h, plain[:min(len(plain), MaxHead-len(*h))]...)
		}
	default:
		t.trace(d, f, TraceItem{Kind: it.Kind})
	}
	return true
}

// openFailed records why a record of side d did not open.
func (t *tracker) openFailed(d capture.Direction, f capture.Frame) {
	c := t.c
	if c.Decrypted {
		t.keyLogFacts().Reason = fmt.Sprintf("the %s's records from frame %d on did not open (a record missing from the capture, or a key update)", d, f.Number)
		return
	}
	t.decryption(DecryptionFailed, "the key log's secrets for client random %s did not open the %s's record in frame %d: they belong to another connection, or the capture lost a record",
		shortRandom(c.ClientHello.Random), d, f.Number)
}

// decryptedHandshake parses handshake messages from decrypted bytes; they
// are attributed to the frame of the record that carried them.
func (t *tracker) decryptedHandshake(d capture.Direction, k *sideKeys, plain []byte, f capture.Frame) {
	c := t.c
	hdr := [5]byte{byte(tlsparse.ContentTypeHandshake), 3, 3, byte(len(plain) >> 8), byte(len(plain))}
	k.inner.Feed(hdr[:])
	k.inner.Feed(plain)
	for {
		it, ok := k.inner.Next()
		if !ok {
			break
		}
		if it.Kind != tlsparse.KindHandshake {
			continue
		}
		ti := TraceItem{Kind: tlsparse.KindHandshake, Handshake: it.HandshakeType, Decrypted: true}
		kf := t.keyLogFacts()
		kf.Messages = appendCapped(kf.Messages, Message{Frame: f, Sender: d, Type: it.HandshakeType}, maxDecryptedMessages)
		if k.tls12 != nil {
			t.decryptedHandshake12(d, &it, f)
		} else {
			t.handshake(d, &it, f, &ti)
			switch it.HandshakeType {
			case tlsparse.HandshakeTypeEncryptedExtensions:
				if ee, err := tlsparse.ParseEncryptedExtensions(it.Body); err == nil {
					c.ALPN = ee.ALPN
				}
			case tlsparse.HandshakeTypeFinished:
				k.finished = true
				c.Side(d).finished(f)
				if d == capture.ClientToServer {
					t.tls13ClientFinished = true
					t.checkDone(f)
				}
			}
		}
		t.trace(d, f, ti)
	}
}

// decryptedHandshake12 handles a message of a TLS ≤ 1.2 encrypted record:
// a Finished, or a renegotiation (RFC 5246 Section 7.4.1.1: a HelloRequest
// from the server, a ClientHello from the client, and the handshake that
// follows under the current keys).
func (t *tracker) decryptedHandshake12(d capture.Direction, it *tlsparse.Item, f capture.Frame) {
	c := t.c
	switch it.HandshakeType {
	case tlsparse.HandshakeTypeFinished:
		c.Side(d).finished(f)
		t.checkDone(f)
	case tlsparse.HandshakeTypeHelloRequest, tlsparse.HandshakeTypeClientHello:
		if it.HandshakeType == tlsparse.HandshakeTypeClientHello {
			if ch, err := tlsparse.ParseClientHello(it.Body); err == nil {
				t.renegotiationRandom = ch.Random
			}
		}
	case tlsparse.HandshakeTypeServerHello:
		if sh, err := tlsparse.ParseServerHello(it.Body); err == nil {
			t.setupDecryption12(t.renegotiationRandom, sh)
		}
	}
}
