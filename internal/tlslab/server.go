// Package tlslab runs loopback TLS servers with known misconfigurations for
// tests and captures.
//
// A Lab holds the certificates, generated at run time relative to an instant.
// Start runs one Scenario on an address (127.0.0.1:0 unless WithAddr says
// otherwise, so the same scenarios serve inside network namespaces). Servers
// are crypto/tls behind net/http, plain net/http, raw TCP behaviours, and in
// one case (SNIUnrecognizedOpenSSL) an external openssl s_server.
//
// Nothing here logs or prints: servers discard their own errors, since the
// client's view is what tests and captures are about.
package tlslab

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Option configures Start.
type Option func(*options)

type options struct {
	addr string
	lab  *Lab
}

// WithAddr makes the server listen on addr ("host:port"; port 0 picks one)
// instead of 127.0.0.1:0.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithLab makes the server use l's certificates instead of the default lab.
func WithLab(l *Lab) Option { return func(o *options) { o.lab = l } }

// DefaultLab returns the lab Start uses without WithLab: generated once per
// process, for the time of the first call.
var DefaultLab = sync.OnceValues(func() (*Lab, error) { return NewLab(time.Now()) })

// Server is a running scenario.
type Server struct {
	scenario Scenario
	lab      *Lab
	addr     netip.AddrPort

	mu      sync.Mutex
	closers []func() error
	closed  bool
}

// Start runs scenario s and returns once it accepts connections (or, for
// ConnectionRefused, once its port is known to be closed).
//
// Sockets belong to the network namespace of the calling thread; so does the
// external process of SNIUnrecognizedOpenSSL.
func Start(s Scenario, opts ...Option) (*Server, error) {
	o := options{addr: "127.0.0.1:0"}
	for _, opt := range opts {
		opt(&o)
	}
	sp, ok := specs[s]
	if !ok {
		return nil, fmt.Errorf("tlslab: unknown scenario %q", s)
	}
	lab := o.lab
	if lab == nil {
		var err error
		if lab, err = DefaultLab(); err != nil {
			return nil, fmt.Errorf("tlslab: default lab: %w", err)
		}
	}
	srv := &Server{scenario: s, lab: lab}
	var err error
	if sp.config != nil {
		err = srv.startHTTP(o.addr, sp.config(lab))
	} else {
		err = sp.start(srv, o.addr)
	}
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("tlslab: start %s on %s: %w", s, o.addr, err)
	}
	return srv, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Scenario returns the scenario the server runs.
func (s *Server) Scenario() Scenario { return s.scenario }

// Lab returns the lab whose certificates the server uses.
func (s *Server) Lab() *Lab { return s.lab }

// Close stops the server and closes its connections. Calling it again does
// nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	closers := s.closers
	s.closers, s.closed = nil, true
	s.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	return errors.Join(errs...)
}

func (s *Server) onClose(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, f)
}

// listen listens on addr and records the address it got.
func (s *Server) listen(addr string) (*net.TCPListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.addr = ln.Addr().(*net.TCPAddr).AddrPort()
	return ln.(*net.TCPListener), nil
}

// Body is what the lab's HTTP servers answer every request with.
const Body = "hello from tlslab\n"

// startHTTP serves HTTP/1.1, over TLS with config cfg or, if cfg is nil, in
// plaintext.
func (s *Server) startHTTP(addr string, cfg *tls.Config) error {
	ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, Body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		// No h2: the listener's tls.Config decides ALPN, and HTTP/1.1 keeps
		// captures small.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	var l net.Listener = ln
	if cfg != nil {
		l = tls.NewListener(ln, cfg)
	}
	served := make(chan struct{})
	go func() {
		hs.Serve(l)
		close(served)
	}()
	s.onClose(func() error {
		// hs.Close misses a listener Serve has not registered yet: close
		// it here too, and wait, so that the port is closed on return.
		err := hs.Close()
		ln.Close()
		<-served
		return err
	})
	return nil
}

func startPlainHTTP(s *Server, addr string) error { return s.startHTTP(addr, nil) }

// serveRaw runs handle on every accepted connection until Close, which
// closes the listener and the connections and waits for the handlers.
func (s *Server) serveRaw(ln *net.TCPListener, handle func(*net.TCPConn)) {
	var (
		mu     sync.Mutex
		conns  = map[*net.TCPConn]bool{}
		closed bool
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = true
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				handle(c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	s.onClose(func() error {
		err := ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		return err
	})
}

// serveEach listens on addr and hands each connection to handle, as
// serveRaw does.
func serveEach(s *Server, addr string, handle func(*net.TCPConn)) error {
	ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	s.serveRaw(ln, handle)
	return nil
}

// startSilent reads whatever the client sends and never answers; it closes
// its end only after the client closed its own.
func startSilent(s *Server, addr string) error {
	return serveEach(s, addr, func(c *net.TCPConn) {
		io.Copy(io.Discard, c)
		c.Close()
	})
}

// startTLSSilent completes the TLS handshake with OK's configuration, then
// reads whatever the client sends and never answers; it closes its end only
// after the client closed its own.
func startTLSSilent(s *Server, addr string) error {
	cfg := serverConfig(s.lab.Good)
	return serveEach(s, addr, func(c *net.TCPConn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			io.Copy(io.Discard, tc)
		}
		c.Close()
	})
}

// startTLSCloser completes each TLS handshake and closes the connection
// at once (close_notify, then FIN).
func startTLSCloser(s *Server, addr string) error {
	cfg := serverConfig(s.lab.Good)
	return serveEach(s, addr, func(c *net.TCPConn) {
		tc := tls.Server(c, cfg)
		tc.Handshake()
		tc.Close()
	})
}

// startAcceptClose closes each connection as soon as it is accepted.
func startAcceptClose(s *Server, addr string) error {
	return serveEach(s, addr, func(c *net.TCPConn) { c.Close() })
}

// startReset reads one TLS record, then aborts the connection: with
// SO_LINGER 0, close sends a RST instead of a FIN.
func startReset(s *Server, addr string) error {
	return serveEach(s, addr, func(c *net.TCPConn) {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var hdr [5]byte
		if _, err := io.ReadFull(c, hdr[:]); err == nil {
			io.CopyN(io.Discard, c, int64(hdr[3])<<8|int64(hdr[4]))
		}
		c.SetLinger(0)
		c.Close()
	})
}

// startRefused finds the address free and leaves it so.
func startRefused(s *Server, addr string) error {
	ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// startOpenSSLSNI runs openssl s_server with the Good certificate for
// GoodName; any other server name in a ClientHello gets a fatal
// unrecognized_name alert (-servername_fatal).
func startOpenSSLSNI(s *Server, addr string) error {
	key, err := s.lab.Good.KeyPEM()
	if err != nil {
		return err
	}
	// -cert_chain would apply to -cert only, not to -cert2 (the context
	// for good.test): build both chains from a CA file instead.
	chain := &Cert{Cert: s.lab.Intermediate.Cert, Chain: []*x509.Certificate{s.lab.Root.Cert}}
	files := map[string][]byte{"cert.pem": (&Cert{Cert: s.lab.Good.Cert}).PEM(), "chain.pem": chain.PEM(), "key.pem": key}
	return startOpenSSL(s, addr, files, "-cert", "{cert.pem}", "-key", "{key.pem}", "-cert2", "{cert.pem}", "-key2", "{key.pem}",
		"-chainCAfile", "{chain.pem}", "-CAfile", "{chain.pem}", "-build_chain",
		"-servername", GoodName, "-servername_fatal", "-www")
}

// startOpenSSLDirectRoot serves DirectRoot alone over TLS 1.2.
func startOpenSSLDirectRoot(s *Server, addr string) error {
	key, err := s.lab.DirectRoot.KeyPEM()
	if err != nil {
		return err
	}
	files := map[string][]byte{"cert.pem": (&Cert{Cert: s.lab.DirectRoot.Cert}).PEM(), "key.pem": key}
	return startOpenSSL(s, addr, files, "-cert", "{cert.pem}", "-key", "{key.pem}", "-no_tls1_3", "-www")
}

// startOpenSSLRSAKex serves GoodRSA over TLS 1.2 with RSA key exchange
// suites only.
func startOpenSSLRSAKex(s *Server, addr string) error {
	return startOpenSSLGoodRSA(s, addr, "-no_tls1_3", "-cipher", "AES256-GCM-SHA384:AES128-GCM-SHA256:AES128-SHA")
}

// startOpenSSLDHE serves GoodRSA over TLS 1.2 with DHE suites only.
func startOpenSSLDHE(s *Server, addr string) error {
	return startOpenSSLGoodRSA(s, addr, "-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305")
}

// startOpenSSLSHA1 serves GoodRSA over TLS 1.2 with ECDHE suites, signing
// only with SHA-1 (security level 0 allows it).
func startOpenSSLSHA1(s *Server, addr string) error {
	return startOpenSSLGoodRSA(s, addr, "-no_tls1_3", "-sigalgs", "RSA+SHA1", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0")
}

// startOpenSSLCBCSHA384 serves GoodRSA over TLS 1.2 with AES-256-CBC
// suites whose MACs are SHA-384 or SHA-256, which crypto/tls does not
// implement.
func startOpenSSLCBCSHA384(s *Server, addr string) error {
	return startOpenSSLGoodRSA(s, addr, "-no_tls1_3", "-cipher", "ECDHE-RSA-AES256-SHA384:AES256-SHA256")
}

// startOpenSSLGoodRSA runs `openssl s_server -www` with GoodRSA's chain and
// the options given.
func startOpenSSLGoodRSA(s *Server, addr string, options ...string) error {
	key, err := s.lab.GoodRSA.KeyPEM()
	if err != nil {
		return err
	}
	files := map[string][]byte{"cert.pem": (&Cert{Cert: s.lab.GoodRSA.Cert}).PEM(), "chain.pem": (&Cert{Cert: s.lab.Intermediate.Cert}).PEM(), "key.pem": key}
	args := append([]string{"-cert", "{cert.pem}", "-key", "{key.pem}", "-cert_chain", "{chain.pem}"}, options...)
	return startOpenSSL(s, addr, files, append(args, "-www")...)
}

// startOpenSSLX448 runs `openssl s_server` with Good's chain, TLS 1.3
// only and the group X448 only.
func startOpenSSLX448(s *Server, addr string) error {
	key, err := s.lab.Good.KeyPEM()
	if err != nil {
		return err
	}
	files := map[string][]byte{"cert.pem": (&Cert{Cert: s.lab.Good.Cert}).PEM(), "chain.pem": (&Cert{Cert: s.lab.Intermediate.Cert}).PEM(), "key.pem": key}
	return startOpenSSL(s, addr, files, "-cert", "{cert.pem}", "-key", "{key.pem}", "-cert_chain", "{chain.pem}",
		"-tls1_3", "-groups", "X448", "-www")
}

// startOpenSSL runs `openssl s_server -accept addr` with files written to
// a temporary directory; "{name}" in args is the path of files[name].
func startOpenSSL(s *Server, addr string, files map[string][]byte, args ...string) error {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("openssl needs a numeric address: %w", err)
	}
	if ap.Port() == 0 {
		// s_server cannot report the port it got: take a free one.
		if err := startRefused(s, addr); err != nil {
			return err
		}
		ap = s.addr
	}
	s.addr = ap
	dir, err := os.MkdirTemp("", "tlslab-openssl-")
	if err != nil {
		return err
	}
	s.onClose(func() error { return os.RemoveAll(dir) })
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	argv := []string{"s_server", "-accept", ap.String()}
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "{"); ok {
			a = filepath.Join(dir, strings.TrimSuffix(name, "}"))
		}
		argv = append(argv, a)
	}
	cmd := exec.Command(openssl, argv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.onClose(func() error {
		cmd.Process.Kill()
		<-exited
		return nil
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ACCEPT" {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(exited)
	}()
	select {
	case <-ready:
		return nil
	case <-exited:
		return fmt.Errorf("openssl s_server exited before listening: %s", strings.TrimSpace(stderr.String()))
	case <-time.After(10 * time.Second):
		return errors.New("openssl s_server did not print ACCEPT within 10s")
	}
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
