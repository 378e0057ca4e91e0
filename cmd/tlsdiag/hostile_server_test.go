package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/textsafe"
)

// Hostile names: terminal escapes (CSI, OSC 0 window title, OSC 8
// hyperlink, OSC 52 clipboard), BEL, CR/LF and a right-to-left override.
// A SAN must be IA5 (ASCII), so the override goes in the UTF-8 names.
const (
	hostileCN     = "\x1b]0;owned\x07evil\u202egnp.exe\r\nCorrelation: agree"
	hostileOrg    = "\x1b]52;c;aGVsbG8=\x07Org\x1b[2J"
	hostileIssuer = "\x1b]8;;http://evil.test/\x1b\\Issuer CA\x1b]8;;\x1b\\\u202e"
	hostileSAN    = "x\x1b[31m.evil.test\x07"
	hostileStatus = "200 \x1b]0;title\x07OK\u202e\x1b[2K"
	// crypto/tls's HTTP client refuses these (its error quotes them).
	hostileHeaders = "X-Evil: \x1b]0;header\x07\u202e\r\nSet-Cookie: \x1b[2J=1\r\n"
	hostileBody    = "body \x1b[5mblink\x1b[0m \u202eright\r\nline2\n"
)

// hostileServerCert makes a CA and a leaf whose subject, issuer and SAN
// carry the hostile names.
func hostileServerCert(t *testing.T) tls.Certificate {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: hostileIssuer, Organization: []string{hostileOrg}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hostileCN, Organization: []string{hostileOrg}},
		DNSNames:  []string{hostileSAN},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}
}

// startHostileServer runs a crypto/tls server on loopback with the
// hostile chain that answers every request with a hostile status line,
// headers and body, written raw (net/http would refuse to send them).
func startHostileServer(t *testing.T) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{hostileServerCert(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				request, _ := r.ReadString('\n')
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				headers := ""
				if strings.HasPrefix(request, "GET /headers ") {
					headers = hostileHeaders
				}
				c.Write([]byte("HTTP/1.1 " + hostileStatus + "\r\n" + headers +
					"Content-Length: " + strconv.Itoa(len(hostileBody)) + "\r\nConnection: close\r\n\r\n" + hostileBody))
			}(c)
		}
	}()
	return ln.Addr().String()
}

// TestProbeHostileServer probes (-k) a real server whose certificate
// subject, issuer and SAN and whose HTTP status and headers are full of
// terminal escapes: the text formats show every one escaped, the json
// keeps them exact, and the body is written raw only because stdout is
// not a terminal here. Captures on loopback (root; run under the test
// lock).
func TestProbeHostileServer(t *testing.T) {
	addr := startHostileServer(t)
	for _, format := range []string{"table", "trace"} {
		t.Run(format, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run([]string{"probe", "-k", "--show-body", "-m", "5", "-o", format, "https://" + addr + "/"}, &stdout, &stderr)
			if status != 0 {
				t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout.String(), stderr.String())
			}
			out := stdout.String()
			text, body, found := strings.Cut(out, "\nBody\n")
			if !found || body != hostileBody {
				t.Errorf("the body is not written raw to a stdout that is not a terminal: %q", body)
			}
			if i := textsafe.Find(text, true); i >= 0 {
				t.Errorf("forbidden %q at %d:\n%s", text[i:min(i+4, len(text))], i, text)
			}
			if i := textsafe.Find(stderr.String(), true); i >= 0 {
				t.Errorf("stderr: forbidden at %d: %q", i, stderr.String())
			}
			for _, want := range []string{
				textsafe.Text(hostileStatus),
				`owned\x07evil\u202egnp.exe\x0d\x0aCorrelation: agree`, // in the Client section's certificate line
				`Issuer CA\x1b]8`,
			} {
				if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
					t.Errorf("the output lacks %q:\n%s", want, text)
				}
			}
			if format == "trace" && !strings.Contains(text, "Server Hello") {
				t.Errorf("the trace lacks the server's frames:\n%s", text)
			}
		})
	}
	t.Run("headers", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		status := run([]string{"probe", "-k", "-m", "5", "https://" + addr + "/headers"}, &stdout, &stderr)
		if status != 1 || !strings.Contains(stdout.String(), "http_error") {
			t.Fatalf("status %d, want 1 with http_error\nstdout:\n%s\nstderr:\n%s", status, stdout.String(), stderr.String())
		}
		for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
			if i := textsafe.Find(out, true); i >= 0 {
				t.Errorf("%s: forbidden at %d:\n%s", name, i, out)
			}
		}
		if !strings.Contains(stdout.String(), `header`) {
			t.Errorf("the client's error quoting the header is not shown:\n%s", stdout.String())
		}
	})
	t.Run("json", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if status := run([]string{"probe", "-k", "-m", "5", "-o", "json", "https://" + addr + "/"}, &stdout, &stderr); status != 0 {
			t.Fatalf("status %d: %s", status, stderr.String())
		}
		var doc struct {
			Client struct {
				PeerCertificates []struct{ Subject, Issuer string } `json:"peer_certificates"`
				HTTP             struct{ Status string }            `json:"http"`
			} `json:"client"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Client.PeerCertificates) != 2 || !strings.Contains(doc.Client.PeerCertificates[0].Subject, "\x07evil\u202egnp.exe\r\nCorrelation") ||
			!strings.Contains(doc.Client.PeerCertificates[0].Issuer, "\x1b]8\\;\\;http://evil.test/\x1b") || doc.Client.HTTP.Status != hostileStatus {
			t.Errorf("json does not keep the names exactly: %+v", doc.Client)
		}
	})
}
