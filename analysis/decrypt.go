package analysis

import (
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// sideKeys decrypts one direction of a TLS 1.3 connection with secrets from
// a key log, and parses the handshake messages inside.
type sideKeys struct {
	handshake, traffic *decrypt.Decrypter
	// finished is set once this side's Finished was decrypted: its later
	// records use the traffic secret.
	finished bool
	// failed is set when a record opened with neither secret: the sequence
	// numbers are lost (a missing record, a KeyUpdate), so stop trying.
	failed bool
	// inner parses the decrypted handshake bytes, which may span records.
	inner tlsparse.Decoder
}

// setupDecryption prepares both directions once the TLS 1.3 ServerHello
// names the cipher suite. Without the connection's secrets in the key log
// nothing changes.
func (t *tracker) setupDecryption() {
	c := t.c
	kl := t.b.opt.KeyLog
	if kl == nil || c.ClientHello == nil || c.ServerHello == nil {
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
			return
		}
		if app, ok := kl.Lookup(c.ClientHello.Random, l[1]); ok {
			k.traffic, _ = decrypt.NewTLS13(uint16(c.Cipher), app)
		}
		t.keys[d] = k
	}
	if t.keys[0] != nil || t.keys[1] != nil {
		c.Decrypted = true
	}
}

// decryptRecord opens an application_data record of direction d and
// handles what it held. It reports false when the record could not be
// decrypted, so the caller falls back to reading record sizes.
func (t *tracker) decryptRecord(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) bool {
	k := t.keys[d]
	if k == nil || k.failed || it.Body == nil {
		return false
	}
	hdr := []byte{byte(it.Record.Type), byte(it.Record.Version >> 8), byte(it.Record.Version), byte(it.Record.Length >> 8), byte(it.Record.Length)}
	var inner uint8
	var plain []byte
	var err error = decrypt.ErrAuthFailed
	if !k.finished {
		inner, plain, err = k.handshake.Open(hdr, it.Body)
	}
	if err != nil && k.traffic != nil {
		inner, plain, err = k.traffic.Open(hdr, it.Body)
		if err == nil {
			k.finished = true
		}
	}
	if err != nil {
		k.failed = true
		if !k.finished || k.traffic != nil {
			// Without traffic secrets (a client that gave up logs only
			// the handshake ones) the records after Finished stay sealed;
			// anything else means records were lost or keys changed.
			t.anomaly(tlsparse.AnomalyKeyLogDecryptionFailed)
		}
		return false
	}
	switch tlsparse.ContentType(inner) {
	case tlsparse.ContentTypeHandshake:
		ti.Kind = tlsparse.KindEncryptedHandshake
		t.decryptedHandshake(d, k, plain, f)
	case tlsparse.ContentTypeAlert:
		a := tlsparse.Alert{}
		if len(plain) == 2 {
			a = tlsparse.Alert{Level: tlsparse.AlertLevel(plain[0]), Description: tlsparse.AlertDescription(plain[1])}
		}
		ti.Kind, ti.Alert, ti.Encrypted = tlsparse.KindAlert, a, true
		t.c.Alerts = appendCapped(t.c.Alerts, Alert{Frame: f, Sender: d, Level: a.Level, Description: a.Description, Encrypted: true, Decrypted: true}, maxAlerts)
	default:
		if d == capture.ServerToClient && t.c.Response == nil {
			if r := parseHTTPResponse(plain); r != nil {
				r.Frame, r.Decrypted = f, true
				t.c.Response = r
			}
		}
		t.countAppData(d, it, f, plain)
	}
	return true
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
		var ti TraceItem
		t.handshake(d, &it, f, &ti)
		switch it.HandshakeType {
		case tlsparse.HandshakeTypeEncryptedExtensions:
			if ee, err := tlsparse.ParseEncryptedExtensions(it.Body); err == nil {
				c.ALPN = ee.ALPN
			}
		case tlsparse.HandshakeTypeFinished:
			k.finished = true
			if c.Finished[d].Number == 0 {
				c.Finished[d] = f
			}
			if d == capture.ClientToServer {
				t.tls13ClientFinished = true
				t.checkDone(f)
			}
		}
	}
}
