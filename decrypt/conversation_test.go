package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// This file reads both directions of a captured TLS 1.3 connection with a
// key log, the way the analyzer is meant to use the package: the tests
// below feed it bytes from crypto/tls, OpenSSL and public captures.

// TLS record and handshake constants used by the tests.
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23

	msgClientHello         = 1
	msgServerHello         = 2
	msgNewSessionTicket    = 4
	msgEncryptedExtensions = 8
	msgCertificate         = 11
	msgCertificateRequest  = 13
	msgCertificateVerify   = 15
	msgFinished            = 20
	msgKeyUpdate           = 24
)

type record struct {
	header, body []byte
}

// splitRecords cuts a byte stream into TLS records. A trailing partial
// record is an error: the tests capture whole conversations.
func splitRecords(stream []byte) ([]record, error) {
	var recs []record
	for off := 0; off < len(stream); {
		if len(stream)-off < recordHeaderLen {
			return recs, fmt.Errorf("%d trailing bytes at offset %d, short of a record header", len(stream)-off, off)
		}
		n := int(stream[off+3])<<8 | int(stream[off+4])
		end := off + recordHeaderLen + n
		if end > len(stream) {
			return recs, fmt.Errorf("record at offset %d needs %d bytes, %d left", off, recordHeaderLen+n, len(stream)-off)
		}
		recs = append(recs, record{stream[off : off+recordHeaderLen], stream[off+recordHeaderLen : end]})
		off = end
	}
	return recs, nil
}

type handshakeMsg struct {
	typ       uint8
	body      []byte
	encrypted bool
}

type alert struct {
	level, description uint8
	encrypted          bool
}

// directionView is what a key log reveals of one direction.
type directionView struct {
	messages         []handshakeMsg
	appData          []byte
	alerts           []alert
	handshakeRecords int // encrypted records opened with the handshake secret
	appRecords       int // encrypted records opened with traffic secret 0
	// stoppedAt is the index of the first record left unread because it
	// follows a KeyUpdate (out of scope for the package), or -1; dec is
	// then the Decrypter that would have opened it.
	stoppedAt int
	dec       *Decrypter
}

func (v *directionView) types() []uint8 {
	var ts []uint8
	for _, m := range v.messages {
		ts = append(ts, m.typ)
	}
	return ts
}

func (v *directionView) first(typ uint8) *handshakeMsg {
	for i := range v.messages {
		if v.messages[i].typ == typ {
			return &v.messages[i]
		}
	}
	return nil
}

// readDirection follows the pattern in the package documentation: open
// encrypted records with the handshake secret until this side's Finished,
// then with traffic secret 0. appSecret may be nil when the handshake never
// got that far.
func readDirection(recs []record, suite uint16, hsSecret, appSecret []byte) (*directionView, error) {
	v := &directionView{stoppedAt: -1}
	var hsDec, appDec *Decrypter
	var err error
	if hsSecret != nil {
		if hsDec, err = NewTLS13(suite, hsSecret); err != nil {
			return v, err
		}
	}
	if appSecret != nil {
		if appDec, err = NewTLS13(suite, appSecret); err != nil {
			return v, err
		}
	}
	cur := hsDec
	var hsBuf []byte
	for i, r := range recs {
		inner, content, encrypted := r.header[0], r.body, false
		switch inner {
		case typeChangeCipherSpec:
			continue // RFC 8446 Appendix D.4 compatibility record, never encrypted
		case typeApplicationData:
			if cur == nil {
				return v, fmt.Errorf("record %d is encrypted and no secret is known for it", i)
			}
			if inner, content, err = cur.Open(r.header, r.body); err != nil {
				return v, fmt.Errorf("record %d: %w", i, err)
			}
			encrypted = true
			if cur == hsDec {
				v.handshakeRecords++
			} else {
				v.appRecords++
			}
		}
		switch inner {
		case typeHandshake:
			hsBuf = append(hsBuf, content...)
			for len(hsBuf) >= 4 {
				n := 4 + (int(hsBuf[1])<<16 | int(hsBuf[2])<<8 | int(hsBuf[3]))
				if len(hsBuf) < n {
					break
				}
				m := handshakeMsg{hsBuf[0], bytes.Clone(hsBuf[4:n]), encrypted}
				hsBuf = hsBuf[n:]
				v.messages = append(v.messages, m)
				switch {
				case m.typ == msgFinished && encrypted && cur == hsDec:
					cur = appDec
				case m.typ == msgKeyUpdate:
					v.stoppedAt, v.dec = i+1, cur
					return v, nil
				}
			}
		case typeApplicationData:
			v.appData = append(v.appData, content...)
		case typeAlert:
			if len(content) != 2 {
				return v, fmt.Errorf("record %d: alert of %d bytes", i, len(content))
			}
			v.alerts = append(v.alerts, alert{content[0], content[1], encrypted})
		default:
			return v, fmt.Errorf("record %d: unexpected content type %d", i, inner)
		}
	}
	if len(hsBuf) != 0 {
		return v, fmt.Errorf("%d bytes of an unfinished handshake message", len(hsBuf))
	}
	return v, nil
}

// clientRandom returns the random of the ClientHello that opens the client's
// stream: bytes 11 to 43 of its first record.
func clientRandom(recs []record) ([]byte, error) {
	if len(recs) == 0 || recs[0].header[0] != typeHandshake {
		return nil, errors.New("client stream does not start with a handshake record")
	}
	b := recs[0].body
	if len(b) < 4+2+32 || b[0] != msgClientHello {
		return nil, errors.New("first client record does not hold a ClientHello")
	}
	return b[6:38], nil
}

// serverSuite returns the cipher suite of the ServerHello that opens the
// server's stream.
func serverSuite(recs []record) (uint16, error) {
	if len(recs) == 0 || recs[0].header[0] != typeHandshake {
		return 0, errors.New("server stream does not start with a handshake record")
	}
	s := cryptobyte.String(recs[0].body)
	var typ uint8
	var body, sessionID cryptobyte.String
	var suite uint16
	if !s.ReadUint8(&typ) || typ != msgServerHello || !s.ReadUint24LengthPrefixed(&body) ||
		!body.Skip(2+32) || !body.ReadUint8LengthPrefixed(&sessionID) || !body.ReadUint16(&suite) {
		return 0, errors.New("first server record does not hold a ServerHello")
	}
	return suite, nil
}

// certificates returns the DER certificates of a TLS 1.3 Certificate
// message (RFC 8446 Section 4.4.2).
func certificates(body []byte) ([][]byte, error) {
	s := cryptobyte.String(body)
	var context, list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&context) || !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil, errors.New("malformed Certificate message")
	}
	var ders [][]byte
	for !list.Empty() {
		var der, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || !list.ReadUint16LengthPrefixed(&exts) {
			return nil, errors.New("malformed CertificateEntry")
		}
		ders = append(ders, der)
	}
	return ders, nil
}

// conversation is the two byte streams of one TCP connection and the key
// log that came with it.
type conversation struct {
	clientToServer, serverToClient []byte
	keyLog                         *KeyLog
}

// connectionView is both directions read with the key log.
type connectionView struct {
	suite          uint16
	clientRandom   []byte
	client, server *directionView
	clientRecs     []record
	serverRecs     []record
}

// read splits both streams, finds the secrets for this connection and reads
// each direction. A missing traffic secret 0 is allowed (a failed
// handshake); missing handshake secrets are not.
func (c conversation) read(t *testing.T) *connectionView {
	t.Helper()
	var (
		cv  connectionView
		err error
	)
	if cv.clientRecs, err = splitRecords(c.clientToServer); err != nil {
		t.Fatalf("client stream: %v", err)
	}
	if cv.serverRecs, err = splitRecords(c.serverToClient); err != nil {
		t.Fatalf("server stream: %v", err)
	}
	if cv.clientRandom, err = clientRandom(cv.clientRecs); err != nil {
		t.Fatal(err)
	}
	if cv.suite, err = serverSuite(cv.serverRecs); err != nil {
		t.Fatal(err)
	}
	secret := func(label string, required bool) []byte {
		s, ok := c.keyLog.Lookup(cv.clientRandom, label)
		if !ok && required {
			t.Fatalf("key log has no %s for client random %x", label, cv.clientRandom)
		}
		return s
	}
	cv.client, err = readDirection(cv.clientRecs, cv.suite,
		secret(LabelClientHandshakeTraffic, true), secret(LabelClientApplicationTraffic, false))
	if err != nil {
		t.Fatalf("client to server: %v", err)
	}
	cv.server, err = readDirection(cv.serverRecs, cv.suite,
		secret(LabelServerHandshakeTraffic, true), secret(LabelServerApplicationTraffic, false))
	if err != nil {
		t.Fatalf("server to client: %v", err)
	}
	return &cv
}

// fullFlight is the server's flight of a full handshake without client
// authentication; authFlight asks for a client certificate.
var (
	fullFlight = []uint8{msgServerHello, msgEncryptedExtensions, msgCertificate, msgCertificateVerify, msgFinished}
	authFlight = []uint8{msgServerHello, msgEncryptedExtensions, msgCertificateRequest, msgCertificate,
		msgCertificateVerify, msgFinished}
)

// checkServerFlight asserts the server's first flight: the ServerHello in
// the clear, then the rest of want opened with the server handshake secret,
// a Certificate whose chain is wantChain, and after the Finished only
// NewSessionTicket or KeyUpdate.
func checkServerFlight(t *testing.T, v *directionView, want []uint8, wantChain [][]byte) {
	t.Helper()
	got := v.types()
	if len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
		t.Fatalf("server handshake messages %v, want them to start with %v", got, want)
	}
	for i, m := range v.messages[1:len(want)] {
		if !m.encrypted {
			t.Errorf("server message %d (type %d) was not encrypted", i+1, m.typ)
		}
	}
	for _, m := range v.messages[len(want):] {
		if m.typ != msgNewSessionTicket && m.typ != msgKeyUpdate {
			t.Errorf("after Finished the server sent handshake type %d", m.typ)
		}
	}
	checkChain(t, "server", v.first(msgCertificate), wantChain)
	if v.handshakeRecords == 0 {
		t.Error("no record was opened with the server handshake secret")
	}
}

// checkChain asserts that a decrypted Certificate message carries wantChain.
func checkChain(t *testing.T, side string, m *handshakeMsg, wantChain [][]byte) {
	t.Helper()
	if m == nil {
		t.Fatalf("%s sent no Certificate message", side)
	}
	chain, err := certificates(m.body)
	if err != nil {
		t.Fatalf("%s: %v", side, err)
	}
	if len(chain) != len(wantChain) {
		t.Fatalf("%s: decrypted chain has %d certificates, want %d", side, len(chain), len(wantChain))
	}
	for i := range chain {
		if !bytes.Equal(chain[i], wantChain[i]) {
			t.Errorf("%s: certificate %d differs from the one sent", side, i)
		}
	}
}
