package tlslab

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// InterceptCAName is the name of the Interceptor's CA: the name mitmproxy
// gives the CA it generates on first start (its organisation too), so
// that the lab's interception looks on the wire as a default mitmproxy
// deployment does.
const InterceptCAName = "mitmproxy"

// Interceptor is a transparent TLS-inspecting proxy, as firewalls and
// secure web gateways run one: connections redirected to it (iptables
// REDIRECT) are answered with a certificate it mints for the name the
// client asked for, signed by its own CA, while it opens its own TLS
// connection to the original destination (SO_ORIGINAL_DST), verifies the
// server there, and relays the bytes between the two.
type Interceptor struct {
	ln    net.Listener
	ns    string
	ca    *Cert
	roots *x509.CertPool
	wg    sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// StartInterceptor listens on port in network namespace ns (all
// addresses) and verifies the servers it connects to against roots. Its
// CA is new at every start, valid for a year around now.
func StartInterceptor(ns string, port int, roots *x509.CertPool, now time.Time) (*Interceptor, error) {
	ca, err := interceptCA(now)
	if err != nil {
		return nil, err
	}
	it := &Interceptor{ns: ns, ca: ca, roots: roots, conns: map[net.Conn]bool{}}
	err = InNetns(ns, func() error {
		var err error
		it.ln, err = net.Listen("tcp4", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tlslab: interceptor in %s: %w", ns, err)
	}
	it.wg.Add(1)
	go it.serve()
	return it, nil
}

// CA is the interceptor's CA certificate.
func (it *Interceptor) CA() *x509.Certificate { return it.ca.Cert }

func interceptCA(now time.Time) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(0x1717),
		Subject:               pkix.Name{Organization: []string{InterceptCAName}, CommonName: InterceptCAName},
		NotBefore:             now.Add(-365 * 24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tlslab: interception CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key}, nil
}

func (it *Interceptor) serve() {
	defer it.wg.Done()
	for {
		c, err := it.ln.Accept()
		if err != nil {
			return
		}
		it.track(c, true)
		it.wg.Add(1)
		go func() {
			defer it.wg.Done()
			defer it.track(c, false)
			it.handle(c.(*net.TCPConn))
		}()
	}
}

func (it *Interceptor) track(c net.Conn, on bool) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if on {
		it.conns[c] = true
	} else {
		delete(it.conns, c)
		c.Close()
	}
}

// handle intercepts one connection: the upstream handshake first, so that
// the minted certificate copies the server's names (as inspection
// products do), then the client's.
func (it *Interceptor) handle(c *net.TCPConn) {
	c.SetDeadline(time.Now().Add(20 * time.Second))
	dst, err := originalDst(c)
	if err != nil {
		return
	}
	var up *tls.Conn
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == "" {
				return nil, errors.New("no SNI")
			}
			var raw net.Conn
			err := InNetns(it.ns, func() error {
				var err error
				raw, err = net.DialTimeout("tcp4", dst.String(), 5*time.Second)
				return err
			})
			if err != nil {
				return nil, err
			}
			up = tls.Client(raw, &tls.Config{ServerName: hello.ServerName, RootCAs: it.roots})
			up.SetDeadline(time.Now().Add(20 * time.Second))
			if err := up.HandshakeContext(hello.Context()); err != nil {
				raw.Close()
				return nil, err
			}
			return it.mint(up.ConnectionState().PeerCertificates[0])
		},
	}
	down := tls.Server(c, cfg)
	err = down.Handshake()
	if up != nil {
		defer up.Close()
	}
	if err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, down); up.CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(down, up); down.CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

// mint issues a leaf with the upstream leaf's subject and names, signed
// by the interceptor's CA and sent with it.
func (it *Interceptor) mint(upstream *x509.Certificate) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: upstream.Subject.CommonName, Organization: upstream.Subject.Organization},
		DNSNames:              upstream.DNSNames,
		IPAddresses:           upstream.IPAddresses,
		NotBefore:             upstream.NotBefore,
		NotAfter:              upstream.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, it.ca.Cert, key.Public(), it.ca.Key)
	if err != nil {
		return nil, fmt.Errorf("tlslab: mint a certificate for %q: %w", upstream.Subject.CommonName, err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, it.ca.Cert.Raw}, PrivateKey: key}, nil
}

// originalDst is where a connection redirected by iptables REDIRECT was
// going: getsockopt SO_ORIGINAL_DST returns it as a sockaddr_in (Linux
// netfilter; IPv4).
func originalDst(c *net.TCPConn) (netip.AddrPort, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var dst netip.AddrPort
	var serr error
	err = raw.Control(func(fd uintptr) {
		// The 16 bytes of a sockaddr_in fit the IPv6Mreq getter: the
		// usual way to read SO_ORIGINAL_DST from Go.
		m, err := unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, unix.SO_ORIGINAL_DST)
		if err != nil {
			serr = err
			return
		}
		b := m.Multiaddr
		port := binary.BigEndian.Uint16(b[2:4])
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}), port)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("tlslab: SO_ORIGINAL_DST: %w", err)
	}
	return dst, nil
}

// Close stops the interceptor and ends its connections.
func (it *Interceptor) Close() {
	it.ln.Close()
	it.mu.Lock()
	for c := range it.conns {
		c.Close()
	}
	it.mu.Unlock()
	it.wg.Wait()
}

// Intercept redirects the connections the client's side of the router
// forwards to port to an interceptor the router runs on proxyPort, which
// verifies servers against roots; Close stops it.
func (p *RoutedPath) Intercept(ctx context.Context, port, proxyPort int, roots *x509.CertPool, now time.Time) (*Interceptor, error) {
	it, err := StartInterceptor(p.RouterNS, proxyPort, roots, now)
	if err != nil {
		return nil, err
	}
	p.interceptors = append(p.interceptors, it)
	if err := p.Router(ctx, "-t", "nat", "-A", "PREROUTING", "-i", p.RouterClientIface, "-p", "tcp", "--dport", strconv.Itoa(port),
		"-j", "REDIRECT", "--to-ports", strconv.Itoa(proxyPort)); err != nil {
		return nil, err
	}
	return it, nil
}
