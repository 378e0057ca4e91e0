// Command quiclab regenerates tlsdiag's QUIC test captures in
// testdata/quic: QUIC handshakes between quic-go (in this process) and
// ngtcp2's example client and server (gtlsclient, gtlsserver: Debian's
// ngtcp2-client and ngtcp2-server), on 127.0.0.1, recorded by tcpdump,
// with the clients' TLS key logs. It is its own module so that quic-go
// is not a dependency of tlsdiag.
//
// Run from the repository root, as root (tcpdump):
//
//	cd internal/quiclab && go run . -out ../../testdata/quic
//
// -only REGEXP remakes just the captures whose name matches.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
)

type lab struct {
	out      string
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	leaf     tls.Certificate // for "localhost" and 127.0.0.1, issued by ca
	selfLeaf tls.Certificate // self-signed, trusted by no one
	pool     *x509.CertPool
	keyFile  string // leaf's key and chain as PEM, for gtlsserver
	certFile string
}

// scenario is one capture: run does the traffic on port.
type scenario struct {
	name string
	port int
	run  func(l *lab, port int, keylog io.Writer) error
}

func main() {
	out := flag.String("out", "../../testdata/quic", "output directory")
	only := flag.String("only", "", "remake only the captures whose name matches this regular expression")
	flag.Parse()
	if err := run(*out, *only); err != nil {
		fmt.Fprintln(os.Stderr, "quiclab:", err)
		os.Exit(1)
	}
}

func run(out, only string) error {
	re, err := regexp.Compile(only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	l, err := newLab(out)
	if err != nil {
		return err
	}
	for _, s := range scenarios {
		if !re.MatchString(s.name) {
			continue
		}
		fmt.Fprintln(os.Stderr, "quiclab:", s.name)
		if err := l.capture(s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

var scenarios = []scenario{
	{"quicgo_ok", 4431, func(l *lab, p int, kl io.Writer) error { return l.quicGo(p, kl, quicGoCase{}) }},
	{"quicgo_v2_ok", 4432, func(l *lab, p int, kl io.Writer) error {
		return l.quicGo(p, kl, quicGoCase{versions: []quic.Version{quic.Version2}})
	}},
	{"quicgo_alpn_refused", 4433, func(l *lab, p int, kl io.Writer) error {
		return l.quicGo(p, kl, quicGoCase{serverALPN: "hq-interop", wantFail: true})
	}},
	{"quicgo_untrusted_cert", 4434, func(l *lab, p int, kl io.Writer) error {
		return l.quicGo(p, kl, quicGoCase{selfSigned: true, wantFail: true})
	}},
	{"quicgo_version_negotiation", 4435, func(l *lab, p int, kl io.Writer) error {
		return l.quicGo(p, kl, quicGoCase{versions: []quic.Version{quic.Version2}, serverVersions: []quic.Version{quic.Version1}, wantFail: true})
	}},
	{"quicgo_retry", 4436, func(l *lab, p int, kl io.Writer) error { return l.quicGo(p, kl, quicGoCase{retry: true}) }},
	{"quicgo_udp_blocked", 4437, func(l *lab, p int, kl io.Writer) error { return l.blocked(p, kl, false) }},
	{"quicgo_udp_blocked_fallback", 4438, func(l *lab, p int, kl io.Writer) error { return l.blocked(p, kl, true) }},
	{"quicgo_port_unreachable", 4439, func(l *lab, p int, kl io.Writer) error { return l.unreachable(p, kl) }},
	{"ngtcp2_ok", 4441, func(l *lab, p int, kl io.Writer) error { return l.ngtcp2(p, kl) }},
	{"ngtcp2_retry", 4442, func(l *lab, p int, kl io.Writer) error { return l.ngtcp2(p, kl, "server:-V") }},
	{"ngtcp2_version_negotiation", 4443, func(l *lab, p int, kl io.Writer) error {
		return l.ngtcp2(p, kl, "client:-v", "client:0x1a2a3a4a")
	}},
	{"ngtcp2_quicgo_alpn_refused", 4444, func(l *lab, p int, kl io.Writer) error { return l.ngtcp2ToQuicGo(p, kl) }},
}

// capture runs s with tcpdump recording, and writes NAME.pcap and
// NAME.keys (the client's key log).
func (l *lab) capture(s scenario) error {
	pcap := filepath.Join(l.out, s.name+".pcap")
	keys := filepath.Join(l.out, s.name+".keys")
	kl, err := os.Create(keys)
	if err != nil {
		return err
	}
	defer kl.Close()
	port := strconv.Itoa(s.port)
	dump := exec.Command("tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-s", "0", "-w", pcap, "udp port "+port+" or tcp port "+port+" or icmp")
	stderr, err := dump.StderrPipe()
	if err != nil {
		return err
	}
	if err := dump.Start(); err != nil {
		return fmt.Errorf("tcpdump: %w", err)
	}
	// tcpdump says "listening on lo" once it captures.
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		return errors.New("tcpdump did not start")
	}
	time.Sleep(200 * time.Millisecond)
	runErr := s.run(l, s.port, kl)
	time.Sleep(500 * time.Millisecond)
	_ = dump.Process.Signal(syscall.SIGINT)
	_ = dump.Wait()
	if runErr != nil {
		return runErr
	}
	if fi, err := kl.Stat(); err == nil && fi.Size() == 0 {
		kl.Close()
		os.Remove(keys)
	}
	return nil
}

// quicGoCase varies the quic-go handshake.
type quicGoCase struct {
	versions, serverVersions []quic.Version
	serverALPN               string
	selfSigned, retry        bool
	wantFail                 bool
}

func (l *lab) quicGo(port int, keylog io.Writer, c quicGoCase) error {
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	udp, err := net.ListenUDP("udp", addr)
	if err != nil {
		return err
	}
	tr := &quic.Transport{Conn: udp}
	if c.retry {
		tr.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	defer tr.Close()
	cert := l.leaf
	if c.selfSigned {
		cert = l.selfLeaf
	}
	alpn := "h3"
	if c.serverALPN != "" {
		alpn = c.serverALPN
	}
	sv := c.serverVersions
	if sv == nil {
		sv = c.versions
	}
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}, &quic.Config{Versions: sv})
	if err != nil {
		return err
	}
	defer ln.Close()
	go serveEcho(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conf := &tls.Config{ServerName: "localhost", RootCAs: l.pool, NextProtos: []string{"h3"}, KeyLogWriter: keylog}
	conn, err := quic.DialAddr(ctx, addr.String(), conf, &quic.Config{Versions: c.versions, HandshakeIdleTimeout: 3 * time.Second})
	if err != nil {
		if c.wantFail {
			fmt.Fprintln(os.Stderr, "  failed as planned:", err)
			return nil
		}
		return err
	}
	if c.wantFail {
		conn.CloseWithError(0, "")
		return errors.New("the handshake succeeded")
	}
	if err := echo(ctx, conn); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	return conn.CloseWithError(0, "")
}

func serveEcho(ln *quic.Listener) {
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			return
		}
		go func() {
			st, err := conn.AcceptStream(context.Background())
			if err != nil {
				return
			}
			_, _ = io.Copy(st, st)
			st.Close()
		}()
	}
}

func echo(ctx context.Context, conn *quic.Conn) error {
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if _, err := st.Write([]byte("hello over quic")); err != nil {
		return err
	}
	st.Close()
	b, err := io.ReadAll(st)
	if err != nil {
		return err
	}
	if string(b) != "hello over quic" {
		return fmt.Errorf("echo %q", b)
	}
	return nil
}

// blocked sends a quic-go client's Initials to a UDP socket that never
// answers (a firewall that drops them looks the same on the client's
// side); with fallback, the client then does TLS over TCP to the same
// port, as browsers do.
func (l *lab) blocked(port int, keylog io.Writer, fallback bool) error {
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	hole, err := net.ListenUDP("udp", addr)
	if err != nil {
		return err
	}
	defer hole.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conf := &tls.Config{ServerName: "localhost", RootCAs: l.pool, NextProtos: []string{"h3"}, KeyLogWriter: keylog}
	_, err = quic.DialAddr(ctx, addr.String(), conf, &quic.Config{HandshakeIdleTimeout: 2 * time.Second})
	if err == nil {
		return errors.New("the handshake succeeded")
	}
	fmt.Fprintln(os.Stderr, "  QUIC failed as planned:", err)
	if !fallback {
		return nil
	}
	tln, err := tls.Listen("tcp", addr.String(), &tls.Config{Certificates: []tls.Certificate{l.leaf}, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		return err
	}
	defer tln.Close()
	go func() {
		c, err := tln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(c, c)
		c.Close()
	}()
	c, err := tls.Dial("tcp", addr.String(), &tls.Config{ServerName: "localhost", RootCAs: l.pool, NextProtos: []string{"h2", "http/1.1"}, KeyLogWriter: keylog})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello over tcp")); err != nil {
		return err
	}
	buf := make([]byte, 14)
	_, err = io.ReadFull(c, buf)
	return err
}

// unreachable dials a UDP port nothing listens on: the kernel answers
// each Initial with ICMP port unreachable, which quic-go's unconnected
// socket never sees, so it tries until its handshake timeout.
func (l *lab) unreachable(port int, keylog io.Writer) error {
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conf := &tls.Config{ServerName: "localhost", RootCAs: l.pool, NextProtos: []string{"h3"}, KeyLogWriter: keylog}
	_, err := quic.DialAddr(ctx, addr.String(), conf, &quic.Config{HandshakeIdleTimeout: 2 * time.Second})
	if err == nil {
		return errors.New("the handshake succeeded")
	}
	fmt.Fprintln(os.Stderr, "  QUIC failed as planned:", err)
	return nil
}

// ngtcp2 runs gtlsserver and gtlsclient; extra arguments are
// "server:ARG" or "client:ARG".
func (l *lab) ngtcp2(port int, keylog io.Writer, extra ...string) error {
	var sargs, cargs []string
	for _, e := range extra {
		if v, ok := cut(e, "server:"); ok {
			sargs = append(sargs, v)
		} else if v, ok := cut(e, "client:"); ok {
			cargs = append(cargs, v)
		}
	}
	dir, err := os.MkdirTemp("", "quiclab")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello over quic\n"), 0o644); err != nil {
		return err
	}
	p := strconv.Itoa(port)
	srv := exec.Command("gtlsserver", append(append([]string{"-q", "-d", dir}, sargs...), "127.0.0.1", p, l.keyFile, l.certFile)...)
	if err := srv.Start(); err != nil {
		return fmt.Errorf("gtlsserver: %w", err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	time.Sleep(300 * time.Millisecond)
	return l.gtlsClient(p, keylog, cargs)
}

func (l *lab) gtlsClient(port string, keylog io.Writer, args []string) error {
	kf, err := os.CreateTemp("", "quiclab-keys")
	if err != nil {
		return err
	}
	defer os.Remove(kf.Name())
	kf.Close()
	cli := exec.Command("gtlsclient", append(append([]string{"-q", "--exit-on-all-streams-close", "--timeout=3s"}, args...), "127.0.0.1", port, "https://localhost:"+port+"/index.html")...)
	cli.Env = append(os.Environ(), "SSLKEYLOGFILE="+kf.Name())
	cli.Stdout, cli.Stderr = io.Discard, io.Discard
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	if err := cli.Start(); err != nil {
		return fmt.Errorf("gtlsclient: %w", err)
	}
	go func() { done <- cli.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cli.Process.Kill()
		err = <-done
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "  gtlsclient:", err)
	}
	b, rerr := os.ReadFile(kf.Name())
	if rerr != nil {
		return rerr
	}
	_, werr := keylog.Write(b)
	return werr
}

// ngtcp2ToQuicGo has ngtcp2's client (ALPN h3) ask a quic-go server that
// speaks only hq-interop.
func (l *lab) ngtcp2ToQuicGo(port int, keylog io.Writer) error {
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	ln, err := quic.ListenAddr(addr.String(), &tls.Config{Certificates: []tls.Certificate{l.leaf}, NextProtos: []string{"hq-interop"}}, nil)
	if err != nil {
		return err
	}
	defer ln.Close()
	go serveEcho(ln)
	return l.gtlsClient(strconv.Itoa(port), keylog, nil)
}

func cut(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// newLab makes a CA, a leaf it issues for localhost and 127.0.0.1, and a
// self-signed leaf; it writes the CA as ca.pem for the tests. The
// certificates are made anew each run.
func newLab(out string) (*lab, error) {
	l := &lab{out: out}
	if err := l.loadOrMakeCA(); err != nil {
		return nil, err
	}
	var err error
	if l.leaf, err = l.issue("localhost", l.ca, l.caKey, 2); err != nil {
		return nil, err
	}
	if l.selfLeaf, err = l.issue("localhost", nil, nil, 3); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "quiclab-certs")
	if err != nil {
		return nil, err
	}
	l.keyFile, l.certFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	kder, err := x509.MarshalPKCS8PrivateKey(l.leaf.PrivateKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(l.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, err
	}
	var chain []byte
	for _, c := range l.leaf.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	return l, os.WriteFile(l.certFile, chain, 0o644)
}

// loadOrMakeCA reads ca.pem and ca-key.pem from the output directory,
// or makes and writes them: remaking some captures (-only) keeps the CA
// of the others.
func (l *lab) loadOrMakeCA() error {
	certFile, keyFile := filepath.Join(l.out, "ca.pem"), filepath.Join(l.out, "ca-key.pem")
	if pair, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return errors.New("ca-key.pem: not an ECDSA key")
		}
		l.caKey = key
		if l.ca, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return err
		}
	} else {
		if l.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return err
		}
		now := time.Now().Add(-time.Hour)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsdiag QUIC lab CA"},
			NotBefore: now, NotAfter: now.Add(20 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &l.caKey.PublicKey, l.caKey)
		if err != nil {
			return err
		}
		if l.ca, err = x509.ParseCertificate(der); err != nil {
			return err
		}
		kder, err := x509.MarshalECPrivateKey(l.caKey)
		if err != nil {
			return err
		}
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
			return err
		}
	}
	l.pool = x509.NewCertPool()
	l.pool.AddCert(l.ca)
	return nil
}

// issue makes a leaf for name; with a nil parent it is self-signed.
func (l *lab) issue(name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, serial int64) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: now, NotAfter: now.Add(20 * 365 * 24 * time.Hour),
		DNSNames: []string{name}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	signer, signerKey := parent, parentKey
	if parent == nil {
		signer, signerKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
