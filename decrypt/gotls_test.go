package decrypt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

const testServerName = "tlsdiag.test"

// newTestCert returns a self-signed ECDSA P-256 certificate for
// testServerName and 127.0.0.1.
func newTestCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: testServerName, Organization: []string{"tlsdiag decrypt test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{testServerName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tapConn records what passes through a connection in each direction, as a
// capture at that end would.
type tapConn struct {
	net.Conn
	mu          sync.Mutex
	sent, recvd bytes.Buffer
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.recvd.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.sent.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) streams() (sent, recvd []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.sent.Bytes()), bytes.Clone(c.recvd.Bytes())
}

// listenLoopback returns a listener on an ephemeral loopback port.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// goConversation runs one crypto/tls connection over loopback: the server
// writes serverMsg after the handshake, the client answers clientMsg, and
// both close with close_notify. The client's KeyLogWriter is the key log,
// as tlsdiag probe will do. Each direction is taken from its sender, as a
// capture on the wire would see it even when the peer stopped reading.
func goConversation(t *testing.T, serverCfg, clientCfg *tls.Config, serverMsg, clientMsg []byte) (conversation, tls.ConnectionState, error, error) {
	t.Helper()
	ln := listenLoopback(t)
	type result struct {
		got []byte
		err error
	}
	done := make(chan result, 1)
	serverTap := &tapConn{}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		serverTap.Conn = conn
		srv := tls.Server(serverTap, serverCfg)
		if err := srv.Handshake(); err != nil {
			done <- result{nil, err}
			return
		}
		if _, err := srv.Write(serverMsg); err != nil {
			done <- result{nil, err}
			return
		}
		got, err := io.ReadAll(srv) // until the client's close_notify
		if err == nil {
			err = srv.Close()
		}
		done <- result{got, err}
	}()

	var keyLog bytes.Buffer
	clientCfg.KeyLogWriter = &keyLog
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	tap := &tapConn{Conn: raw}
	cli := tls.Client(tap, clientCfg)
	clientErr := cli.Handshake()
	if clientErr == nil {
		buf := make([]byte, len(serverMsg))
		if _, clientErr = io.ReadFull(cli, buf); clientErr == nil && !bytes.Equal(buf, serverMsg) {
			clientErr = errors.New("client read something else than the server wrote")
		}
	}
	if clientErr == nil {
		if _, clientErr = cli.Write(clientMsg); clientErr == nil {
			clientErr = cli.CloseWrite()
		}
	}
	if clientErr == nil {
		_, clientErr = io.Copy(io.Discard, cli) // the server's close_notify
	}
	state := cli.ConnectionState()
	if clientErr != nil {
		// The client gave up; what it sent is on the wire. Let the
		// server finish reading before the tap is read.
		cli.Close()
	}
	res := <-done
	raw.Close()
	if res.err == nil && !bytes.Equal(res.got, clientMsg) {
		res.err = errors.New("server read something else than the client wrote")
	}
	kl, err := ParseKeyLog(&keyLog)
	if err != nil {
		t.Fatalf("parsing crypto/tls key log: %v", err)
	}
	clientSent, _ := tap.streams()
	serverSent, _ := serverTap.streams()
	return conversation{clientToServer: clientSent, serverToClient: serverSent, keyLog: kl}, state, clientErr, res.err
}

// TestGoClientServer decrypts a crypto/tls TLS 1.3 connection with the key
// log its client wrote. Go picks TLS_AES_128_GCM_SHA256 with AES hardware
// and TLS_CHACHA20_POLY1305_SHA256 without; TLS 1.3 suites cannot be chosen
// in crypto/tls, so the OpenSSL tests force the others.
func TestGoClientServer(t *testing.T) {
	cert := newTestCert(t)
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	serverMsg := []byte("hello from the crypto/tls server")
	clientMsg := []byte("and hello from the crypto/tls client")
	conv, state, clientErr, serverErr := goConversation(t,
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13},
		// A session cache makes the client offer resumption, so the
		// server sends NewSessionTicket under its application secret.
		&tls.Config{RootCAs: roots, ServerName: testServerName, MinVersion: tls.VersionTLS13,
			ClientSessionCache: tls.NewLRUClientSessionCache(1)},
		serverMsg, clientMsg)
	if clientErr != nil || serverErr != nil {
		t.Fatalf("connection failed: client %v, server %v", clientErr, serverErr)
	}
	cv := conv.read(t)
	if cv.suite != state.CipherSuite {
		t.Errorf("ServerHello suite 0x%04X, crypto/tls negotiated 0x%04X", cv.suite, state.CipherSuite)
	}
	t.Logf("negotiated %s", tls.CipherSuiteName(cv.suite))
	if want := os.Getenv(wantSuiteEnv); want != "" && tls.CipherSuiteName(cv.suite) != want {
		t.Fatalf("negotiated %s, the parent test wants %s", tls.CipherSuiteName(cv.suite), want)
	}

	checkServerFlight(t, cv.server, fullFlight, [][]byte{cert.Leaf.Raw})
	// crypto/tls sends NewSessionTicket after the handshake, under the
	// application traffic secret.
	if m := cv.server.messages[len(cv.server.messages)-1]; m.typ != msgNewSessionTicket {
		t.Errorf("last server message type %d, want NewSessionTicket", m.typ)
	}
	if !bytes.Equal(cv.server.appData, serverMsg) {
		t.Errorf("server application data %q, want %q", cv.server.appData, serverMsg)
	}
	if got := cv.client.types(); !bytes.Equal(got, []uint8{msgClientHello, msgFinished}) {
		t.Errorf("client handshake messages %v, want ClientHello, Finished", got)
	}
	if !bytes.Equal(cv.client.appData, clientMsg) {
		t.Errorf("client application data %q, want %q", cv.client.appData, clientMsg)
	}
	closeNotify := []alert{{1, 0, true}}
	if !equalAlerts(cv.client.alerts, closeNotify) || !equalAlerts(cv.server.alerts, closeNotify) {
		t.Errorf("alerts client %v server %v, want one encrypted close_notify each", cv.client.alerts, cv.server.alerts)
	}
	if cv.client.handshakeRecords != 1 {
		t.Errorf("client sent %d records under its handshake secret, want 1 (Finished)", cv.client.handshakeRecords)
	}

	// The fallback pattern: a record tried with the wrong secret fails
	// without moving the sequence number, and the right one still opens.
	firstEncrypted := firstEncryptedRecord(t, cv.serverRecs)
	for _, label := range []string{LabelClientHandshakeTraffic, LabelServerApplicationTraffic} {
		secret, _ := conv.keyLog.Lookup(cv.clientRandom, label)
		wrong, err := NewTLS13(cv.suite, secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := wrong.Open(firstEncrypted.header, firstEncrypted.body); !errors.Is(err, ErrAuthFailed) {
			t.Errorf("%s opened the server's first encrypted record: %v", label, err)
		}
		if wrong.Seq() != 0 {
			t.Errorf("failed Open moved Seq to %d", wrong.Seq())
		}
	}
}

func equalAlerts(a, b []alert) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstEncryptedRecord(t *testing.T, recs []record) record {
	t.Helper()
	for _, r := range recs {
		if r.header[0] == typeApplicationData {
			return r
		}
	}
	t.Fatal("no encrypted record")
	return record{}
}

// TestGoClientRejectsCertificate decrypts the alert a crypto/tls client
// sends, encrypted under its handshake secret, when it does not trust the
// server's certificate.
func TestGoClientRejectsCertificate(t *testing.T) {
	cert := newTestCert(t)
	conv, _, clientErr, serverErr := goConversation(t,
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13},
		&tls.Config{RootCAs: x509.NewCertPool(), ServerName: testServerName, MinVersion: tls.VersionTLS13},
		[]byte("unused"), []byte("unused"))
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(clientErr, &unknownAuthority) {
		t.Fatalf("client error %v, want an unknown authority error", clientErr)
	}
	if serverErr == nil {
		t.Fatal("server handshake succeeded")
	}
	cv := conv.read(t)
	checkServerFlight(t, cv.server, fullFlight, [][]byte{cert.Leaf.Raw})
	if len(cv.client.alerts) != 1 {
		t.Fatalf("client alerts %v, want one", cv.client.alerts)
	}
	a := cv.client.alerts[0]
	if !a.encrypted || a.level != 2 {
		t.Errorf("alert %+v, want an encrypted fatal alert", a)
	}
	// The server reports the alert it received; its text must name the
	// description we decrypted.
	names := map[uint8]string{42: "bad certificate", 48: "unknown certificate authority"}
	name, ok := names[a.description]
	if !ok {
		t.Fatalf("alert description %d, want bad_certificate(42) or unknown_ca(48)", a.description)
	}
	if !strings.Contains(serverErr.Error(), name) {
		t.Errorf("server error %q does not name the decrypted alert %q", serverErr, name)
	}
	t.Logf("decrypted alert %d (%s); server said: %v", a.description, name, serverErr)
	if _, ok := conv.keyLog.Lookup(cv.clientRandom, LabelClientApplicationTraffic); ok {
		t.Error("key log has application secrets for a failed handshake")
	}
}

// wantSuiteEnv tells a TestGoClientServer run in a child process which
// suite its parent expects.
const wantSuiteEnv = "DECRYPT_TEST_WANT_SUITE"

// TestGoClientServerWithoutAES runs TestGoClientServer again in a child
// process where Go believes the CPU has no AES instructions
// (GODEBUG=cpu.aes=off), so both crypto/tls ends prefer
// TLS_CHACHA20_POLY1305_SHA256: the one way to make crypto/tls negotiate
// another TLS 1.3 suite without patching it.
func TestGoClientServerWithoutAES(t *testing.T) {
	want := "TLS_CHACHA20_POLY1305_SHA256"
	if os.Getenv(wantSuiteEnv) != "" {
		t.Skip("already in the child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGoClientServer$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=cpu.aes=off", wantSuiteEnv+"="+want)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("negotiated "+want)) || !bytes.Contains(out, []byte("--- PASS: TestGoClientServer")) {
		t.Fatalf("child did not pass with %s:\n%s", want, out)
	}
}

// TestGoClientCertificate decrypts a handshake with client authentication:
// the server's CertificateRequest, then the client's Certificate,
// CertificateVerify and Finished under the client handshake secret. When
// the server does not trust the client's certificate, its alert comes
// after its own Finished, so it is opened with SERVER_TRAFFIC_SECRET_0.
func TestGoClientCertificate(t *testing.T) {
	serverCert, clientCert := newTestCert(t), newTestCert(t)
	serverRoots, clientRoots := x509.NewCertPool(), x509.NewCertPool()
	serverRoots.AddCert(serverCert.Leaf)
	clientRoots.AddCert(clientCert.Leaf)
	for _, tt := range []struct {
		name      string
		clientCAs *x509.CertPool
		accepted  bool
	}{
		{"accepted", clientRoots, true},
		{"rejected", x509.NewCertPool(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conv, _, clientErr, serverErr := goConversation(t,
				&tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS13,
					ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: tt.clientCAs},
				&tls.Config{RootCAs: serverRoots, ServerName: testServerName, MinVersion: tls.VersionTLS13,
					Certificates: []tls.Certificate{clientCert}},
				[]byte("welcome"), []byte("thanks"))
			if tt.accepted && (clientErr != nil || serverErr != nil) {
				t.Fatalf("connection failed: client %v, server %v", clientErr, serverErr)
			}
			cv := conv.read(t)
			checkServerFlight(t, cv.server, authFlight, [][]byte{serverCert.Leaf.Raw})
			want := []uint8{msgClientHello, msgCertificate, msgCertificateVerify, msgFinished}
			if got := cv.client.types(); !bytes.Equal(got, want) {
				t.Fatalf("client handshake messages %v, want %v", got, want)
			}
			checkChain(t, "client", cv.client.first(msgCertificate), [][]byte{clientCert.Leaf.Raw})
			if cv.client.handshakeRecords == 0 {
				t.Error("no client record opened with the client handshake secret")
			}
			if tt.accepted {
				if string(cv.server.appData) != "welcome" || string(cv.client.appData) != "thanks" {
					t.Errorf("application data: server %q, client %q", cv.server.appData, cv.client.appData)
				}
				return
			}
			if clientErr == nil || serverErr == nil {
				t.Fatalf("rejected client certificate, yet client %v, server %v", clientErr, serverErr)
			}
			if len(cv.server.alerts) != 1 {
				t.Fatalf("server alerts %v, want one", cv.server.alerts)
			}
			a := cv.server.alerts[0]
			if !a.encrypted || a.level != 2 || cv.server.appRecords == 0 {
				t.Errorf("alert %+v opened with the application secret: %v; want an encrypted fatal alert there",
					a, cv.server.appRecords != 0)
			}
			names := map[uint8]string{42: "bad certificate", 48: "unknown certificate authority"}
			if name, ok := names[a.description]; !ok || !strings.Contains(clientErr.Error(), name) {
				t.Errorf("decrypted alert %d; the client reports %q", a.description, clientErr)
			}
			t.Logf("decrypted server alert %d; client said: %v", a.description, clientErr)
		})
	}
}
