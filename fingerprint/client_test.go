package fingerprint_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestRecognizeGo checks crypto/tls's own hellos: its defaults, and the
// suites a GODEBUG=tlsrsakex=1 or tls3des=1 client adds.
func TestRecognizeGo(t *testing.T) {
	for _, tt := range []struct {
		name         string
		cfg          *tls.Config
		rsaKex, tdes bool
		hybrid       bool // TLS 1.3 offered: Go ≥ 1.24 adds its hybrid groups
	}{
		{"defaults", &tls.Config{ServerName: "example.com"}, false, false, true},
		{"RSA key exchange and 3DES listed", &tls.Config{ServerName: "example.com", CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}}, true, true, true},
		{"TLS 1.2 only", &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, body := goClientHello(t, tt.cfg)
			ch, err := tlsparse.ParseClientHello(body)
			if err != nil {
				t.Fatal(err)
			}
			got := fingerprint.Recognize(ch)
			if got.Stack != fingerprint.StackGo || got.Certainty != fingerprint.Sure {
				t.Fatalf("Recognize = %+v, want Go, sure", got)
			}
			if got.Go.RSAKeyExchange != tt.rsaKex || got.Go.TripleDES != tt.tdes {
				t.Errorf("Go defaults = %+v, want RSA kex %v, 3DES %v", got.Go, tt.rsaKex, tt.tdes)
			}
			// This test binary's Go release offers the hybrids with TLS 1.3.
			if got.Go.MLKEM != tt.hybrid || tt.hybrid && got.Go.MinVersion < 24 {
				t.Errorf("Go defaults = %+v: the hybrid groups of Go ≥ 1.24 not seen", got.Go)
			}
		})
	}
}

// TestRecognizeTools sends real hellos from the command-line clients to a
// loopback listener and checks that each is recognised, and as nothing
// else.
func TestRecognizeTools(t *testing.T) {
	tools := []struct {
		name string
		want fingerprint.Stack
		argv func(port string) []string
		also fingerprint.Stack // the second program the hello may be
	}{
		{"openssl", fingerprint.StackOpenSSL, func(p string) []string {
			return []string{"openssl", "s_client", "-connect", "127.0.0.1:" + p, "-servername", "good.test"}
		}, fingerprint.StackUnknown},
		{"curl", fingerprint.StackCurl, func(p string) []string {
			return []string{"curl", "-sk", "--max-time", "3", "https://127.0.0.1:" + p + "/"}
		}, fingerprint.StackUnknown},
		// Without h2, curl's hello is urllib3's on a Python that keeps
		// OpenSSL's cipher list: both named, Python first.
		{"curl --http1.1", fingerprint.StackPython, func(p string) []string {
			return []string{"curl", "-sk", "--http1.1", "--max-time", "3", "https://127.0.0.1:" + p + "/"}
		}, fingerprint.StackCurl},
		{"gnutls-cli", fingerprint.StackGnuTLS, func(p string) []string {
			return []string{"gnutls-cli", "--insecure", "-p", p, "127.0.0.1"}
		}, fingerprint.StackUnknown},
		// Limited to TLS 1.2 it offers none of TLS 1.3's suites.
		{"gnutls-cli TLS 1.2", fingerprint.StackGnuTLS, func(p string) []string {
			return []string{"gnutls-cli", "--insecure", "--priority", "NORMAL:-VERS-TLS1.3", "-p", p, "127.0.0.1"}
		}, fingerprint.StackUnknown},
		{"python3", fingerprint.StackPython, func(p string) []string {
			return []string{"python3", "-c", "import ssl,socket;s=socket.create_connection(('127.0.0.1'," + p + "),timeout=3);ssl.create_default_context().wrap_socket(s,server_hostname='good.test')"}
		}, fingerprint.StackUnknown},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			argv := tool.argv("0")
			if _, err := exec.LookPath(argv[0]); err != nil {
				t.Skipf("%s is not installed (CI installs it): %v", argv[0], err)
			}
			ch := toolHello(t, tool.argv)
			got := fingerprint.Recognize(ch)
			if got.Stack != tool.want || got.Also != tool.also {
				t.Fatalf("Recognize = %+v, want %s (also %s)", got, tool.want, tool.also)
			}
			if got.Reason == "" || got.Certainty == 0 {
				t.Errorf("no reason or certainty: %+v", got)
			}
		})
	}
}

// TestRecognizeJava checks JSSE's hellos when a JDK is installed: its
// defaults, and limited to TLS 1.3 or to TLS 1.2.
func TestRecognizeJava(t *testing.T) {
	if _, err := exec.LookPath("java"); err != nil {
		t.Skipf("java is not installed (CI installs it): %v", err)
	}
	src := filepath.Join(t.TempDir(), "Hello.java")
	if err := os.WriteFile(src, []byte(`import javax.net.ssl.*;
public class Hello { public static void main(String[] a) throws Exception {
  SSLSocket s = (SSLSocket) SSLSocketFactory.getDefault().createSocket("127.0.0.1", Integer.parseInt(a[0]));
  s.setSoTimeout(3000);
  try { s.startHandshake(); } catch (Exception e) { System.err.println(e); }
}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Limited to TLS 1.3, JSSE sends neither status_request_v2 nor DSA
	// schemes: its signature_algorithms order alone tells.
	for _, protocols := range []string{"", "TLSv1.3", "TLSv1.2"} {
		t.Run("protocols "+protocols, func(t *testing.T) {
			ch := toolHello(t, func(p string) []string {
				if protocols == "" {
					return []string{"java", src, p}
				}
				return []string{"java", "-Djdk.tls.client.protocols=" + protocols, src, p}
			})
			if got := fingerprint.Recognize(ch); got.Stack != fingerprint.StackJava {
				t.Fatalf("Recognize = %+v, want Java", got)
			}
		})
	}
}

// toolHello runs a client against a loopback listener and parses the
// ClientHello it sends.
func toolHello(t *testing.T, argv func(port string) []string) *tlsparse.ClientHello {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := argv(port)
	cmd := exec.CommandContext(ctx, a[0], a[1:]...)
	cmd.Stdin = strings.NewReader("")
	// What the client said goes into a failure's message: a client that
	// hangs up without a hello says why there, if anywhere.
	var said bytes.Buffer
	cmd.Stdout, cmd.Stderr = &said, &said
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		cancel()
		cmd.Wait()
		t.Fatalf("%s did not connect: %v; it said: %q", a[0], err, said.String())
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, body, err := readClientHello(conn)
	conn.Close()
	if err != nil {
		cmd.Wait() // the client is done: the connection is closed
		t.Fatalf("reading %s's ClientHello: %v; it said: %q", a[0], err, said.String())
	}
	ch, err := tlsparse.ParseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestRecognizeNothing: a hello without any characteristic trait is not
// attributed to anyone.
func TestRecognizeNothing(t *testing.T) {
	if got := fingerprint.Recognize(&tlsparse.ClientHello{CipherSuites: []tlsparse.CipherSuite{0x002F}}); got.Stack != fingerprint.StackUnknown {
		t.Errorf("Recognize(bare hello) = %+v", got)
	}
	if got := fingerprint.Recognize(nil); got.Stack != fingerprint.StackUnknown {
		t.Errorf("Recognize(nil) = %+v", got)
	}
}
