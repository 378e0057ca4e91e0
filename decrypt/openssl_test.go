package decrypt

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The TLS 1.3 suites by their OpenSSL -ciphersuites names.
var openSSLSuites = []struct {
	id   uint16
	name string
}{
	{0x1301, "TLS_AES_128_GCM_SHA256"},
	{0x1302, "TLS_AES_256_GCM_SHA384"},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
	{0x1304, "TLS_AES_128_CCM_SHA256"},
	{0x1305, "TLS_AES_128_CCM_8_SHA256"},
}

func needOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (CI has it): cannot force TLS 1.3 suites crypto/tls will not choose")
	}
	return path
}

// TestOpenSSLClientGoServer forces each suite crypto/tls supports by
// offering only that one from openssl s_client to a crypto/tls server; the
// server's KeyLogWriter writes the key log.
func TestOpenSSLClientGoServer(t *testing.T) {
	openssl := needOpenSSL(t)
	cert := newTestCert(t)
	for _, s := range openSSLSuites[:3] {
		t.Run(s.name, func(t *testing.T) {
			ln := listenLoopback(t)
			var keyLog bytes.Buffer
			cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, KeyLogWriter: &keyLog}
			clientMsg := "ping from openssl s_client\n"
			serverMsg := []byte("pong from the crypto/tls server\n")

			type result struct {
				tap   *tapConn
				state tls.ConnectionState
				got   string
				err   error
			}
			done := make(chan result, 1)
			go func() {
				var r result
				defer func() { done <- r }()
				conn, err := ln.Accept()
				if r.err = err; err != nil {
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				r.tap = &tapConn{Conn: conn}
				srv := tls.Server(r.tap, cfg)
				if r.err = srv.Handshake(); r.err != nil {
					return
				}
				r.state = srv.ConnectionState()
				if r.got, r.err = bufio.NewReader(srv).ReadString('\n'); r.err != nil {
					return
				}
				if _, r.err = srv.Write(serverMsg); r.err != nil {
					return
				}
				if r.err = srv.CloseWrite(); r.err != nil {
					return
				}
				// Read to the client's close_notify so the tap holds
				// every record the client sent.
				_, r.err = io.Copy(io.Discard, srv)
			}()

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", ln.Addr().String(),
				"-servername", testServerName, "-tls1_3", "-ciphersuites", s.name, "-quiet")
			cmd.Stdin = strings.NewReader(clientMsg)
			out, cmdErr := cmd.CombinedOutput()
			r := <-done
			if r.err != nil {
				t.Fatalf("server: %v (s_client: %v)\n%s", r.err, cmdErr, out)
			}
			if r.state.CipherSuite != s.id {
				t.Fatalf("negotiated 0x%04X, want %s", r.state.CipherSuite, s.name)
			}
			if r.got != clientMsg {
				t.Errorf("server read %q, want %q", r.got, clientMsg)
			}
			kl, err := ParseKeyLog(&keyLog)
			if err != nil {
				t.Fatal(err)
			}
			recvd, sent := r.tap.streams()
			cv := conversation{clientToServer: sent, serverToClient: recvd, keyLog: kl}.read(t)
			if cv.suite != s.id {
				t.Errorf("ServerHello suite 0x%04X, want 0x%04X", cv.suite, s.id)
			}
			checkServerFlight(t, cv.server, fullFlight, [][]byte{cert.Leaf.Raw})
			if !bytes.Equal(cv.server.appData, serverMsg) {
				t.Errorf("server application data %q, want %q", cv.server.appData, serverMsg)
			}
			if string(cv.client.appData) != clientMsg {
				t.Errorf("client application data %q, want %q", cv.client.appData, clientMsg)
			}
			if f := cv.client.first(msgFinished); f == nil || !f.encrypted {
				t.Error("client Finished not decrypted")
			}
		})
	}
}

// TestOpenSSLBothEnds runs openssl s_client against openssl s_server through
// a loopback relay that records both directions, for every TLS 1.3 suite
// including the two CCM ones nothing in Go speaks. The key log is OpenSSL's
// own (-keylogfile), so ParseKeyLog also reads a second implementation's
// output.
func TestOpenSSLBothEnds(t *testing.T) {
	openssl := needOpenSSL(t)
	cert := newTestCert(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", cert.Leaf.Raw)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	request := "GET / HTTP/1.0\r\n\r\n"

	for _, s := range openSSLSuites {
		t.Run(s.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			server := exec.CommandContext(ctx, openssl, "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
				"-cert", certFile, "-key", keyFile, "-tls1_3", "-ciphersuites", s.name, "-www")
			serverOut, err := server.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			server.Stderr = server.Stdout
			if err := server.Start(); err != nil {
				t.Fatal(err)
			}
			defer server.Wait()
			defer cancel()
			addr, rest := acceptAddress(t, serverOut)
			go io.Copy(io.Discard, rest)

			ln := listenLoopback(t)
			relayed := make(chan [2][]byte, 1)
			go relay(t, ln, addr, relayed)

			keyLogFile := filepath.Join(dir, s.name+".keylog")
			client := exec.CommandContext(ctx, openssl, "s_client", "-connect", ln.Addr().String(),
				"-servername", testServerName, "-tls1_3", "-ciphersuites", s.name, "-quiet",
				"-keylogfile", keyLogFile)
			client.Stdin = strings.NewReader(request)
			out, err := client.CombinedOutput()
			if err != nil {
				t.Logf("s_client: %v\n%s", err, out)
			}
			streams := <-relayed
			f, err := os.Open(keyLogFile)
			if err != nil {
				t.Fatalf("s_client wrote no key log: %v\n%s", err, out)
			}
			defer f.Close()
			kl, err := ParseKeyLog(f)
			if err != nil {
				t.Fatalf("parsing OpenSSL key log: %v", err)
			}

			cv := conversation{clientToServer: streams[0], serverToClient: streams[1], keyLog: kl}.read(t)
			if cv.suite != s.id {
				t.Fatalf("ServerHello suite 0x%04X, want 0x%04X", cv.suite, s.id)
			}
			checkServerFlight(t, cv.server, fullFlight, [][]byte{cert.Leaf.Raw})
			if string(cv.client.appData) != request {
				t.Errorf("client application data %q, want %q", cv.client.appData, request)
			}
			// s_server -www answers with a status page naming the suite.
			if !bytes.HasPrefix(cv.server.appData, []byte("HTTP/1.0 200 ok")) ||
				!bytes.Contains(cv.server.appData, []byte(s.name)) {
				t.Errorf("server application data does not look like the s_server -www page for %s:\n%.300s",
					s.name, cv.server.appData)
			}
			if cv.server.appRecords == 0 {
				t.Error("no record opened with SERVER_TRAFFIC_SECRET_0")
			}
		})
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// acceptAddress reads s_server's output up to its "ACCEPT host:port" line
// and returns the address and a reader for the rest.
func acceptAddress(t *testing.T, r io.Reader) (string, io.Reader) {
	t.Helper()
	br := bufio.NewReader(r)
	var seen strings.Builder
	for {
		line, err := br.ReadString('\n')
		seen.WriteString(line)
		if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ACCEPT "); ok {
			return addr, br
		}
		if err != nil {
			t.Fatalf("s_server did not report its address: %v\n%s", err, seen.String())
		}
	}
}

// relay accepts one connection on ln, connects it to addr and copies both
// ways until both sides are done, then sends what each side sent: [0] from
// the client, [1] from the server.
func relay(t *testing.T, ln net.Listener, addr string, out chan<- [2][]byte) {
	var streams [2]bytes.Buffer
	defer func() { out <- [2][]byte{streams[0].Bytes(), streams[1].Bytes()} }()
	c, err := ln.Accept()
	if err != nil {
		t.Errorf("relay accept: %v", err)
		return
	}
	defer c.Close()
	s, err := net.Dial("tcp", addr)
	if err != nil {
		t.Errorf("relay dial %s: %v", addr, err)
		return
	}
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn, rec *bytes.Buffer) {
		defer wg.Done()
		io.Copy(io.MultiWriter(dst, rec), src)
		dst.(*net.TCPConn).CloseWrite()
	}
	wg.Add(2)
	go pipe(s, c, &streams[0])
	go pipe(c, s, &streams[1])
	wg.Wait()
}
