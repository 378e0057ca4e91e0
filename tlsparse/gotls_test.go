package tlsparse

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// This file runs real handshakes between crypto/tls clients and servers on
// loopback, records the bytes each side writes, and checks the decoder and
// parsers against what crypto/tls itself reports about the connection.

type testPKI struct {
	ca         *x509.Certificate
	caKey      crypto.Signer
	rsaLeaf    tls.Certificate
	ecdsaLeaf  tls.Certificate
	clientLeaf tls.Certificate
	pool       *x509.CertPool
}

var (
	pkiOnce sync.Once
	pki     testPKI
)

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "tlsparse test CA"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
		if err != nil {
			panic(err)
		}
		ca, _ := x509.ParseCertificate(der)
		pki.ca, pki.caKey = ca, caKey
		pki.pool = x509.NewCertPool()
		pki.pool.AddCert(ca)
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pki.rsaLeaf = leaf(ca, caKey, rsaKey, 2, "example.test", x509.ExtKeyUsageServerAuth)
		pki.ecdsaLeaf = leaf(ca, caKey, ecKey, 3, "example.test", x509.ExtKeyUsageServerAuth)
		pki.clientLeaf = leaf(ca, caKey, clientKey, 4, "client.test", x509.ExtKeyUsageClientAuth)
	})
	return &pki
}

func leaf(ca *x509.Certificate, caKey crypto.Signer, key crypto.Signer, serial int64, name string, eku x509.ExtKeyUsage) tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{eku},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// teeConn records everything written to the connection.
type teeConn struct {
	net.Conn
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (c teeConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(b)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

type recorded struct {
	client, server []byte // bytes written by each side
	state          tls.ConnectionState
}

// runTLS performs one handshake plus a ping/pong exchange and close_notify
// over loopback TCP and returns the bytes each side wrote.
func runTLS(t testing.TB, ccfg, scfg *tls.Config) recorded {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var cbuf, sbuf bytes.Buffer
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		srv := tls.Server(teeConn{c, &mu, &sbuf}, scfg)
		if err := srv.Handshake(); err != nil {
			srvErr <- err
			return
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(srv, buf); err != nil {
			srvErr <- err
			return
		}
		if _, err := srv.Write([]byte("pong")); err != nil {
			srvErr <- err
			return
		}
		io.Copy(io.Discard, srv) // until the client's close_notify
		srvErr <- srv.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cli := tls.Client(teeConn{raw, &mu, &cbuf}, ccfg)
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v (server: %v)", err, <-srvErr)
	}
	if _, err := cli.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(cli, buf); err != nil {
		t.Fatal(err)
	}
	state := cli.ConnectionState()
	cli.Close()
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	raw.Close()
	mu.Lock()
	defer mu.Unlock()
	return recorded{client: bytes.Clone(cbuf.Bytes()), server: bytes.Clone(sbuf.Bytes()), state: state}
}

// item is an Item with its Body copied and its error as text, so items from
// different runs compare with ==-like equality.
type item struct {
	Kind          ItemKind
	Start, End    int64
	Record        RecordHeader
	HandshakeType HandshakeType
	Body          string
	Alert         Alert
	Encrypted     bool
	NonTLS        string
	Err           string
	Unconfirmed   bool
}

func snapshot(it Item) item {
	s := item{Kind: it.Kind, Start: it.Start, End: it.End, Record: it.Record, HandshakeType: it.HandshakeType,
		Body: string(it.Body), Alert: it.Alert, Encrypted: it.Encrypted, NonTLS: it.NonTLS, Unconfirmed: it.Unconfirmed}
	if it.Err != nil {
		s.Err = it.Err.Error()
	}
	return s
}

// decode feeds stream in chunks of the sizes that split returns and collects
// every item.
func decode(stream []byte, split func(remaining int) int, setup func(*Decoder)) []item {
	var d Decoder
	if setup != nil {
		setup(&d)
	}
	var out []item
	for len(stream) > 0 {
		n := min(split(len(stream)), len(stream))
		d.Feed(stream[:n])
		stream = stream[n:]
		for {
			it, ok := d.Next()
			if !ok {
				break
			}
			out = append(out, snapshot(it))
		}
	}
	return out
}

func whole(n int) int { return n }
func oneByte(int) int { return 1 }

// checkSplits decodes stream whole, byte by byte and in random chunks and
// fails unless the items are identical; it returns the items.
func checkSplits(t *testing.T, name string, stream []byte) []item {
	t.Helper()
	items := sameUnderSplits(t, name, stream)
	checkTiling(t, name, items, len(stream))
	return items
}

func sameUnderSplits(t *testing.T, name string, stream []byte) []item {
	t.Helper()
	want := decode(stream, whole, nil)
	if got := decode(stream, oneByte, nil); !slices.Equal(got, want) {
		t.Errorf("%s: 1-byte feeds give %d items, whole stream %d\n got %+v\nwant %+v", name, len(got), len(want), got, want)
	}
	rng := newRand(int64(len(stream)))
	for i := 0; i < 5; i++ {
		got := decode(stream, func(int) int { return 1 + rng.Intn(700) }, nil)
		if !slices.Equal(got, want) {
			t.Errorf("%s: random feeds (round %d) differ from whole stream", name, i)
		}
	}
	return want
}

func checkTiling(t *testing.T, name string, want []item, size int) {
	t.Helper()
	// Items are in stream order and do not overlap; record items start
	// where the previous item ended, handshake messages after their record
	// header (5 bytes) at most.
	var at int64
	for _, it := range want {
		gap := it.Start - at
		if gap < 0 || gap > 0 && (it.Kind != KindHandshake || gap != 5) {
			t.Errorf("%s: item %v at %d..%d, previous ended at %d", name, it.Kind, it.Start, it.End, at)
		}
		at = it.End
	}
	if at != int64(size) {
		t.Errorf("%s: items end at %d, stream has %d bytes", name, at, size)
	}
}

func kinds(items []item) []string {
	var ks []string
	for _, it := range items {
		switch it.Kind {
		case KindHandshake:
			ks = append(ks, it.HandshakeType.String())
		default:
			ks = append(ks, it.Kind.String())
		}
	}
	return ks
}

func findHandshake(items []item, t HandshakeType, n int) []byte {
	for _, it := range items {
		if it.Kind == KindHandshake && it.HandshakeType == t {
			if n == 0 {
				return []byte(it.Body)
			}
			n--
		}
	}
	return nil
}

// compact drops repeated application_data entries so expected sequences
// don't depend on how crypto/tls chunks writes.
func compact(ks []string) []string {
	return slices.Compact(ks)
}

func TestCryptoTLSHandshakes(t *testing.T) {
	p := getPKI(t)
	tls12Suites := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	tests := []struct {
		name       string
		client     func() *tls.Config
		server     func() *tls.Config
		wantClient []string
		wantServer []string
		hrr        bool
		clientAuth bool
	}{
		{
			name: "tls13 ecdsa alpn",
			client: func() *tls.Config {
				return &tls.Config{ServerName: "example.test", RootCAs: p.pool, NextProtos: []string{"h2", "http/1.1"}}
			},
			server: func() *tls.Config {
				return &tls.Config{Certificates: []tls.Certificate{p.ecdsaLeaf}, NextProtos: []string{"h2"}}
			},
			wantClient: []string{"client_hello", "change_cipher_spec", "application_data"},
			wantServer: []string{"server_hello", "change_cipher_spec", "application_data"},
		},
		{
			name: "tls13 hello retry request",
			client: func() *tls.Config {
				return &tls.Config{ServerName: "example.test", RootCAs: p.pool, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
			},
			server: func() *tls.Config {
				return &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, CurvePreferences: []tls.CurveID{tls.CurveP256}}
			},
			wantClient: []string{"client_hello", "change_cipher_spec", "client_hello", "application_data"},
			wantServer: []string{"server_hello", "change_cipher_spec", "server_hello", "application_data"},
			hrr:        true,
		},
		{
			name: "tls12 rsa",
			client: func() *tls.Config {
				return &tls.Config{ServerName: "example.test", RootCAs: p.pool, MaxVersion: tls.VersionTLS12, CipherSuites: tls12Suites}
			},
			server: func() *tls.Config {
				return &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}}
			},
			wantClient: []string{"client_hello", "client_key_exchange", "change_cipher_spec", "encrypted_handshake", "application_data", "alert"},
			wantServer: []string{"server_hello", "certificate", "server_key_exchange", "server_hello_done", "change_cipher_spec", "encrypted_handshake", "application_data", "alert"},
		},
		{
			name: "tls12 ecdsa client certificate",
			client: func() *tls.Config {
				return &tls.Config{ServerName: "example.test", RootCAs: p.pool, MaxVersion: tls.VersionTLS12, CipherSuites: tls12Suites,
					Certificates: []tls.Certificate{p.clientLeaf}}
			},
			server: func() *tls.Config {
				return &tls.Config{Certificates: []tls.Certificate{p.ecdsaLeaf}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
			},
			wantClient: []string{"client_hello", "certificate", "client_key_exchange", "certificate_verify", "change_cipher_spec", "encrypted_handshake", "application_data", "alert"},
			wantServer: []string{"server_hello", "certificate", "server_key_exchange", "certificate_request", "server_hello_done", "change_cipher_spec", "encrypted_handshake", "application_data", "alert"},
			clientAuth: true,
		},
		{
			name: "tls13 client certificate",
			client: func() *tls.Config {
				return &tls.Config{ServerName: "example.test", RootCAs: p.pool, Certificates: []tls.Certificate{p.clientLeaf}}
			},
			server: func() *tls.Config {
				return &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
			},
			wantClient: []string{"client_hello", "change_cipher_spec", "application_data"},
			wantServer: []string{"server_hello", "change_cipher_spec", "application_data"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ccfg, scfg := tt.client(), tt.server()
			rec := runTLS(t, ccfg, scfg)
			citems := checkSplits(t, "client", rec.client)
			sitems := checkSplits(t, "server", rec.server)
			if got := compact(kinds(citems)); !slices.Equal(got, tt.wantClient) {
				t.Errorf("client items = %q, want %q", got, tt.wantClient)
			}
			if got := compact(kinds(sitems)); !slices.Equal(got, tt.wantServer) {
				t.Errorf("server items = %q, want %q", got, tt.wantServer)
			}

			ch, err := ParseClientHello(findHandshake(citems, HandshakeTypeClientHello, 0))
			if err != nil {
				t.Fatal(err)
			}
			if ch.ServerName != "example.test" {
				t.Errorf("ServerName = %q", ch.ServerName)
			}
			if ch.Version != VersionTLS12 {
				t.Errorf("legacy Version = %v, want TLS 1.2", ch.Version)
			}
			if !slices.Equal(ch.ALPN, ccfg.NextProtos) {
				t.Errorf("ALPN = %q, want %q", ch.ALPN, ccfg.NextProtos)
			}
			if len(ch.Anomalies) != 0 {
				t.Errorf("Anomalies = %q", ch.Anomalies)
			}
			if !ch.ExtendedMasterSecret || !ch.SecureRenegotiation || len(ch.SignatureSchemes) == 0 || len(ch.SupportedGroups) == 0 {
				t.Errorf("missing standard extensions: %v", ch.Extensions)
			}
			if ccfg.MaxVersion == tls.VersionTLS12 {
				want := make([]CipherSuite, len(ccfg.CipherSuites))
				for i, c := range ccfg.CipherSuites {
					want[i] = CipherSuite(c)
				}
				// crypto/tls may add the renegotiation SCSV; compare the configured ones.
				// crypto/tls orders suites by its own preference since Go 1.17.
				got := slices.DeleteFunc(slices.Clone(ch.CipherSuites), func(c CipherSuite) bool { return c == 0x00ff })
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("CipherSuites = %v, want %v", got, want)
				}
				if ch.MaxVersion() != VersionTLS12 {
					t.Errorf("MaxVersion = %v", ch.MaxVersion())
				}
			} else {
				if ch.MaxVersion() != VersionTLS13 || !slices.Contains(ch.OfferedVersions(), VersionTLS12) {
					t.Errorf("OfferedVersions = %v", ch.OfferedVersions())
				}
				if len(ch.KeyShares) == 0 {
					t.Errorf("TLS 1.3 hello without key_share")
				}
			}
			if ccfg.CurvePreferences != nil && !slices.Equal(ch.KeyShares, []NamedGroup{NamedGroup(ccfg.CurvePreferences[0])}) {
				t.Errorf("KeyShares = %v, want the first preference %v", ch.KeyShares, ccfg.CurvePreferences[0])
			}

			sh, err := ParseServerHello(findHandshake(sitems, HandshakeTypeServerHello, 0))
			if err != nil {
				t.Fatal(err)
			}
			if sh.HelloRetryRequest != tt.hrr {
				t.Errorf("HelloRetryRequest = %v, want %v", sh.HelloRetryRequest, tt.hrr)
			}
			if tt.hrr {
				if sh.KeyShare != GroupSecp256r1 || !sh.Cookie && len(sh.Extensions) == 0 {
					t.Errorf("HRR selected group = %v, want secp256r1", sh.KeyShare)
				}
				ch2, err := ParseClientHello(findHandshake(citems, HandshakeTypeClientHello, 1))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ch2.KeyShares, []NamedGroup{GroupSecp256r1}) {
					t.Errorf("second ClientHello KeyShares = %v", ch2.KeyShares)
				}
				if sh, err = ParseServerHello(findHandshake(sitems, HandshakeTypeServerHello, 1)); err != nil {
					t.Fatal(err)
				}
				if sh.HelloRetryRequest {
					t.Error("second ServerHello is marked HelloRetryRequest")
				}
			}
			if sh.CipherSuite != CipherSuite(rec.state.CipherSuite) || sh.NegotiatedVersion() != Version(rec.state.Version) {
				t.Errorf("ServerHello says %v %v, crypto/tls negotiated %v %v", sh.NegotiatedVersion(), sh.CipherSuite,
					Version(rec.state.Version), CipherSuite(rec.state.CipherSuite))
			}
			if sh.CipherSuite.String() != tls.CipherSuiteName(rec.state.CipherSuite) {
				t.Errorf("CipherSuite name %q, crypto/tls says %q", sh.CipherSuite, tls.CipherSuiteName(rec.state.CipherSuite))
			}
			if rec.state.Version == tls.VersionTLS12 && sh.ALPN != rec.state.NegotiatedProtocol {
				t.Errorf("ALPN = %q, want %q", sh.ALPN, rec.state.NegotiatedProtocol)
			}
			if rec.state.Version == tls.VersionTLS13 && sh.KeyShare != NamedGroup(rec.state.CurveID) {
				t.Errorf("server KeyShare = %v, crypto/tls says %v", sh.KeyShare, rec.state.CurveID)
			}
			if rec.state.Version != tls.VersionTLS12 {
				return
			}
			// TLS 1.2: the rest of the server flight is plaintext.
			cert, err := ParseCertificate(findHandshake(sitems, HandshakeTypeCertificate, 0), VersionTLS12)
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.Certificates) != 1 || !bytes.Equal(cert.Certificates[0], scfg.Certificates[0].Certificate[0]) {
				t.Errorf("server certificate DER differs from the configured one")
			}
			if sh.CipherSuite.KeyExchange() != KeyExchangeECDHE {
				t.Errorf("KeyExchange = %v", sh.CipherSuite.KeyExchange())
			}
			for _, v := range []Version{0, VersionTLS12} {
				msg, err := ParseHandshake(HandshakeTypeServerKeyExchange, findHandshake(sitems, HandshakeTypeServerKeyExchange, 0), v, sh.CipherSuite)
				if err != nil {
					t.Fatal(err)
				}
				ske := msg.(*ServerKeyExchange)
				if ske.CurveType != 3 || ske.Group != NamedGroup(rec.state.CurveID) || len(ske.PublicKey) == 0 || ske.SignatureScheme == 0 || len(ske.Signature) == 0 {
					t.Errorf("version %v: ServerKeyExchange = %+v, curve %v", v, ske, rec.state.CurveID)
				}
			}
			if tt.clientAuth {
				cr, err := ParseCertificateRequest(findHandshake(sitems, HandshakeTypeCertificateRequest, 0), VersionTLS12)
				if err != nil {
					t.Fatal(err)
				}
				if len(cr.CANames) != 1 || !bytes.Equal(cr.CANames[0], p.ca.RawSubject) || len(cr.SignatureSchemes) == 0 ||
					!slices.Contains(cr.CertificateTypes, 64) {
					t.Errorf("CertificateRequest = %+v", cr)
				}
				cc, err := ParseCertificate(findHandshake(citems, HandshakeTypeCertificate, 0), VersionTLS12)
				if err != nil {
					t.Fatal(err)
				}
				if len(cc.Certificates) != 1 || !bytes.Equal(cc.Certificates[0], p.clientLeaf.Certificate[0]) {
					t.Error("client certificate DER differs")
				}
				cv, err := ParseCertificateVerify(findHandshake(citems, HandshakeTypeCertificateVerify, 0), VersionTLS12)
				if err != nil || cv.SignatureScheme != SignatureScheme(tls.ECDSAWithP256AndSHA256) {
					t.Errorf("CertificateVerify = %+v, %v", cv, err)
				}
			}
			// Every plaintext message also goes through the dispatcher.
			for _, it := range append(slices.Clone(citems), sitems...) {
				if it.Kind != KindHandshake {
					continue
				}
				m, err := ParseHandshake(it.HandshakeType, []byte(it.Body), VersionTLS12, sh.CipherSuite)
				if err != nil || m.Type() != it.HandshakeType {
					t.Errorf("ParseHandshake(%v) = %T, %v", it.HandshakeType, m, err)
				}
			}
			// Alerts after ChangeCipherSpec are encrypted.
			last := sitems[len(sitems)-1]
			if last.Kind != KindAlert || !last.Encrypted {
				t.Errorf("last server item = %+v, want an encrypted alert", last)
			}
		})
	}
}

func TestCryptoTLSResumption(t *testing.T) {
	p := getPKI(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(Version(v).String(), func(t *testing.T) {
			cache := tls.NewLRUClientSessionCache(4)
			ccfg := &tls.Config{ServerName: "example.test", RootCAs: p.pool, MaxVersion: v, ClientSessionCache: cache}
			scfg := &tls.Config{Certificates: []tls.Certificate{p.ecdsaLeaf}}
			first := runTLS(t, ccfg, scfg)
			second := runTLS(t, ccfg, scfg)
			if first.state.DidResume || !second.state.DidResume {
				t.Fatalf("DidResume = %v, %v; want false, true", first.state.DidResume, second.state.DidResume)
			}
			if v == tls.VersionTLS12 {
				// The first, full handshake issued the ticket in plaintext.
				items := checkSplits(t, "first server", first.server)
				nst, err := ParseNewSessionTicket(findHandshake(items, HandshakeTypeNewSessionTicket, 0), VersionTLS12)
				if err != nil || len(nst.Ticket) == 0 { // crypto/tls leaves lifetime_hint 0 (unspecified)
					t.Errorf("NewSessionTicket = %+v, %v", nst, err)
				}
			}
			citems := checkSplits(t, "client", second.client)
			sitems := checkSplits(t, "server", second.server)
			ch, err := ParseClientHello(findHandshake(citems, HandshakeTypeClientHello, 0))
			if err != nil {
				t.Fatal(err)
			}
			sh, err := ParseServerHello(findHandshake(sitems, HandshakeTypeServerHello, 0))
			if err != nil {
				t.Fatal(err)
			}
			if v == tls.VersionTLS13 {
				if !ch.PreSharedKey || !sh.PreSharedKey || ch.Extensions[len(ch.Extensions)-1].Type != ExtPreSharedKey {
					t.Errorf("PSK resumption not visible: client %v server %v", ch.PreSharedKey, sh.PreSharedKey)
				}
				return
			}
			if !ch.SessionTicket || ch.SessionTicketLen == 0 {
				t.Errorf("resuming TLS 1.2 hello carries no ticket: %v %d", ch.SessionTicket, ch.SessionTicketLen)
			}
			// Abbreviated handshake: the server's Finished follows its CCS
			// encrypted, and must not be mistaken for a plaintext hello.
			want := []string{"server_hello", "new_session_ticket", "change_cipher_spec", "encrypted_handshake", "application_data", "alert"}
			if got := compact(kinds(sitems)); !slices.Equal(got, want) {
				t.Errorf("server items = %q, want %q", got, want)
			}
		})
	}
}
