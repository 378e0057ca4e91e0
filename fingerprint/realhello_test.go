package fingerprint_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// readClientHello reads one TLS ClientHello from r as records and returns
// the records' bytes as read and the handshake message body.
func readClientHello(r io.Reader) (records, body []byte, err error) {
	var msg []byte
	for len(msg) < 4 || len(msg) < 4+int(msg[1])<<16|int(msg[2])<<8|int(msg[3]) {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, nil, fmt.Errorf("record header: %w", err)
		}
		if hdr[0] != 22 {
			return nil, nil, fmt.Errorf("record type %d, want handshake", hdr[0])
		}
		frag := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
		if _, err := io.ReadFull(r, frag); err != nil {
			return nil, nil, fmt.Errorf("record body: %w", err)
		}
		records = append(append(records, hdr[:]...), frag...)
		msg = append(msg, frag...)
	}
	if msg[0] != 1 {
		return nil, nil, fmt.Errorf("handshake type %d, want ClientHello", msg[0])
	}
	return records, msg[4:], nil
}

var errSeen = errors.New("seen")

// helloInfo has crypto/tls's server read the ClientHello records and
// returns what it made of them: an independent parse of the same hello.
func helloInfo(t *testing.T, records []byte) *tls.ClientHelloInfo {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	go func() {
		c.Write(records)
		io.Copy(io.Discard, c) // the server's alert
	}()
	var info *tls.ClientHelloInfo
	srv := tls.Server(s, &tls.Config{GetConfigForClient: func(i *tls.ClientHelloInfo) (*tls.Config, error) {
		info = i
		return nil, errSeen
	}})
	err := srv.Handshake()
	s.Close()
	if info == nil {
		t.Fatalf("crypto/tls did not read the ClientHello: %v", err)
	}
	return info
}

// oracle computes JA3 and JA4 from crypto/tls's ClientHelloInfo with a
// plain, slow rendering of the definitions: a second implementation to
// compare with. crypto/tls's client sends no GREASE and neither openssl nor
// gnutls does, so it has no GREASE filter.
func oracle(info *tls.ClientHelloInfo, legacy uint16) (ja3 string, ja4 fingerprint.JA4Result) {
	dec := func(vs []uint16) string {
		var s []string
		for _, v := range vs {
			s = append(s, strconv.Itoa(int(v)))
		}
		return strings.Join(s, "-")
	}
	var curves, points []uint16
	for _, c := range info.SupportedCurves {
		curves = append(curves, uint16(c))
	}
	for _, p := range info.SupportedPoints {
		points = append(points, uint16(p))
	}
	ja3 = fmt.Sprintf("%d,%s,%s,%s,%s", legacy, dec(info.CipherSuites), dec(info.Extensions), dec(curves), dec(points))

	hexs := func(vs []uint16) string {
		var s []string
		for _, v := range vs {
			s = append(s, fmt.Sprintf("%04x", v))
		}
		return strings.Join(s, ",")
	}
	hash := func(s string) string {
		if s == "" {
			return "000000000000"
		}
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:12]
	}
	version := map[uint16]string{0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}[slices.Max(info.SupportedVersions)]
	sni := "i"
	if slices.Contains(info.Extensions, 0) {
		sni = "d"
	}
	alpn := "00"
	if len(info.SupportedProtos) > 0 {
		p := info.SupportedProtos[0]
		alpn = p[:1] + p[len(p)-1:]
	}
	a := fmt.Sprintf("t%s%s%02d%02d%s", version, sni, len(info.CipherSuites), len(info.Extensions), alpn)
	var sigs []uint16
	for _, s := range info.SignatureSchemes {
		sigs = append(sigs, uint16(s))
	}
	sigPart := ""
	if len(sigs) > 0 {
		sigPart = "_" + hexs(sigs)
	}
	var rest []uint16
	for _, e := range info.Extensions {
		if e != 0 && e != 16 {
			rest = append(rest, e)
		}
	}
	ciphers := slices.Sorted(slices.Values(info.CipherSuites))
	extSorted := hexs(slices.Sorted(slices.Values(rest))) + sigPart
	extOrig := hexs(info.Extensions) + sigPart
	extHash, extOrigHash := "000000000000", "000000000000"
	if len(rest) > 0 {
		extHash, extOrigHash = hash(extSorted), hash(extOrig)
	}
	ja4 = fingerprint.JA4Result{
		JA4:   a + "_" + hash(hexs(ciphers)) + "_" + extHash,
		JA4R:  a + "_" + hexs(ciphers) + "_" + extSorted,
		JA4O:  a + "_" + hash(hexs(info.CipherSuites)) + "_" + extOrigHash,
		JA4RO: a + "_" + hexs(info.CipherSuites) + "_" + extOrig,
	}
	return ja3, ja4
}

// checkHello parses a real ClientHello with tlsparse and compares this
// package's fingerprints with the oracle's reading of crypto/tls's parse.
func checkHello(t *testing.T, records, body []byte) {
	t.Helper()
	ch, err := tlsparse.ParseClientHello(body)
	if err != nil {
		t.Fatalf("tlsparse: %v", err)
	}
	info := helloInfo(t, records)
	wantJA3, wantJA4 := oracle(info, uint16(ch.Version))
	if full, hash := fingerprint.JA3(ch); full != wantJA3 || hash != md5Of(wantJA3) {
		t.Errorf("JA3\n got %s %s\nwant %s %s", hash, full, md5Of(wantJA3), wantJA3)
	}
	if got := fingerprint.JA4(ch, fingerprint.TCP); got != wantJA4 {
		t.Errorf("JA4\n got %+v\nwant %+v", got, wantJA4)
	}
	t.Logf("JA3 %s, JA4 %s", md5Of(wantJA3), wantJA4.JA4)
}

// goClientHello returns the ClientHello that crypto/tls's client sends
// with cfg.
func goClientHello(t testing.TB, cfg *tls.Config) (records, body []byte) {
	t.Helper()
	c, s := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tls.Client(c, cfg).Handshake() // fails when s closes
	}()
	records, body, err := readClientHello(s)
	s.Close()
	c.Close()
	<-done
	if err != nil {
		t.Fatalf("reading crypto/tls's ClientHello: %v", err)
	}
	return records, body
}

// TestCryptoTLSHellos checks JA3 and JA4 on ClientHellos from crypto/tls.
func TestCryptoTLSHellos(t *testing.T) {
	configs := map[string]*tls.Config{
		"TLS 1.3 with SNI and ALPN": {ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}},
		"TLS 1.2 only, no SNI":      {InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12},
		"TLS 1.0 to 1.1":            {ServerName: "old.example", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11, NextProtos: []string{"http/1.1"}},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			records, body := goClientHello(t, cfg)
			checkHello(t, records, body)
		})
	}
}

// TestToolHellos checks JA3 and JA4 on ClientHellos from openssl s_client
// and gnutls-cli, sent to a listener on the loopback address.
func TestToolHellos(t *testing.T) {
	tools := map[string]func(port string) []string{
		"openssl": func(port string) []string {
			return []string{"s_client", "-connect", "127.0.0.1:" + port, "-servername", "tools.example", "-alpn", "h2,http/1.1"}
		},
		"gnutls-cli": func(port string) []string {
			return []string{"--insecure", "--alpn=http/1.1", "-p", port, "127.0.0.1"}
		},
	}
	for tool, args := range tools {
		t.Run(tool, func(t *testing.T) {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s is not installed (CI installs it): %v", tool, err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tool, args(port)...)
			cmd.Stdin = strings.NewReader("")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			conn, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			records, body, err := readClientHello(conn)
			conn.Close()
			if err != nil {
				t.Fatalf("reading %s's ClientHello: %v", tool, err)
			}
			checkHello(t, records, body)
		})
	}
}
