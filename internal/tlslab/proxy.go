package tlslab

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// ProxyUser and ProxyPassword are the credentials ProxyAuthRequired and
// ProxySOCKS5Password accept.
const (
	ProxyUser     = "lab"
	ProxyPassword = "secret"
)

// proxyMode says how a lab proxy answers a tunnel request.
type proxyMode int

const (
	proxyForbid    proxyMode = iota // 403 to every CONNECT
	proxyAuth                       // 407 (keeping the connection) unless the lab's credentials come; then tunnel
	proxyNegotiate                  // 407 offering Negotiate and NTLM only, whatever comes
	proxyTunnel                     // tunnel, 502 when the target cannot be reached
	proxyChunked                    // tunnel, its 200 carrying Transfer-Encoding: chunked
	proxyBlockPage                  // 200, then a 403 block page in the tunnel
	proxyIntercept                  // 200, then TLS terminated with the lab's Intercepted leaf and relayed
	proxyIdleCut                    // tunnel, cut with a bare close after idleCut without data either way
)

// blockPage is what proxyBlockPage writes into the tunnel it granted.
const blockPage = "<html><body>Blocked by the lab's web policy</body></html>\n"

func startProxy(mode proxyMode) func(*Server, string) error {
	return func(s *Server, addr string) error {
		ln, err := s.listen(addr)
		if err != nil {
			return err
		}
		go s.serveRaw(ln, func(c *net.TCPConn) { serveConnect(c, mode, s.lab) })
		return nil
	}
}

// startTLSProxy is startProxy behind TLS, an https:// proxy: its own
// handshake with the lab's Proxy leaf, then the CONNECT inside it.
func startTLSProxy(mode proxyMode) func(*Server, string) error {
	return func(s *Server, addr string) error {
		ln, err := s.listen(addr)
		if err != nil {
			return err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{s.lab.Proxy.TLS()}, NextProtos: []string{"http/1.1"}}
		go s.serveRaw(ln, func(c *net.TCPConn) {
			tc := tls.Server(c, cfg)
			defer tc.Close()
			tc.SetDeadline(time.Now().Add(30 * time.Second))
			if err := tc.Handshake(); err != nil {
				return
			}
			serveConnect(tc, mode, s.lab)
		})
		return nil
	}
}

// proxyConn is the client's connection to a lab proxy: TCP, or TLS for
// an https:// proxy.
type proxyConn interface {
	net.Conn
	CloseWrite() error
}

// loopbackTarget resolves a tunnel's target, which the lab keeps on
// loopback: the lab never opens connections elsewhere.
func loopbackTarget(hostport string) (string, bool) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", false
	}
	switch host {
	case GoodName, OtherName, UnknownName, "localhost":
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.IsLoopback() {
		return "", false
	}
	return net.JoinHostPort(a.String(), port), true
}

// serveConnect answers one HTTP CONNECT (RFC 9110, Section 9.3.6) as mode
// says, and tunnels when it grants it; lab's certificates serve
// proxyIntercept.
func serveConnect(c proxyConn, mode proxyMode, lab *Lab) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	reply := func(status string, headers ...string) {
		fmt.Fprintf(c, "HTTP/1.1 %s\r\n", status)
		for _, h := range headers {
			fmt.Fprintf(c, "%s\r\n", h)
		}
		io.WriteString(c, "Content-Length: 0\r\n\r\n")
	}
	if req.Method != http.MethodConnect {
		reply("405 Method Not Allowed", "Allow: CONNECT")
		return
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(ProxyUser+":"+ProxyPassword))
	// A 407 keeps the connection, as Squid's does: a client that answers
	// the challenge (curl --proxy-anyauth) sends its next CONNECT on it.
	for mode == proxyAuth && req.Method == http.MethodConnect && req.Header.Get("Proxy-Authorization") != want {
		reply("407 Proxy Authentication Required", `Proxy-Authenticate: Basic realm="tlslab"`)
		if req.Close {
			return
		}
		if req, err = http.ReadRequest(br); err != nil {
			return
		}
	}
	switch {
	case mode == proxyForbid:
		reply("403 Forbidden")
		return
	case mode == proxyNegotiate:
		reply("407 Proxy Authentication Required", "Proxy-Authenticate: Negotiate", "Proxy-Authenticate: NTLM")
		return
	case mode == proxyBlockPage:
		// Two writes, as a filtering proxy makes them: the grant, then
		// the page, both before the client's ClientHello.
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(blockPage), blockPage)
		io.Copy(io.Discard, br) // until the client gives up
		return
	}
	target, ok := loopbackTarget(req.Host)
	if !ok {
		reply("403 Forbidden")
		return
	}
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		reply("502 Bad Gateway")
		return
	}
	defer up.Close()
	if mode == proxyChunked {
		// RFC 9110, Section 9.3.6: a 2xx answer to CONNECT has no body,
		// whatever its header says; clients must ignore the header.
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\nTransfer-Encoding: chunked\r\n\r\n")
	} else {
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	}
	if mode == proxyIntercept {
		intercept(c, br, up, req.URL.Hostname(), lab)
		return
	}
	c.SetDeadline(time.Time{})
	if mode == proxyIdleCut {
		idleSplice(c, br, up, idleCut)
		return
	}
	splice(c, br, up.(*net.TCPConn))
}

// intercept answers the client's handshake in the tunnel with the lab's
// Intercepted leaf, makes its own handshake with the target, verified
// against Root for the name the client asked for, and relays the
// plaintext between the two, as a TLS-inspecting proxy does. Either
// handshake failing ends both connections.
func intercept(c net.Conn, br *bufio.Reader, up net.Conn, target string, lab *Lab) {
	down := tls.Server(&bufferedConn{Conn: c, r: br}, &tls.Config{
		Certificates: []tls.Certificate{lab.Intercepted.TLS()},
		NextProtos:   []string{"http/1.1"},
	})
	defer down.Close()
	if err := down.Handshake(); err != nil {
		return
	}
	name := down.ConnectionState().ServerName
	if name == "" {
		name = target
	}
	upTLS := tls.Client(up, &tls.Config{ServerName: name, RootCAs: lab.RootPool(), NextProtos: []string{"http/1.1"}})
	defer upTLS.Close()
	if err := upTLS.Handshake(); err != nil {
		return
	}
	splice(down, down, upTLS)
}

// bufferedConn is a connection whose first bytes were read into r (after
// the CONNECT request).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// idleCut is how long proxyIdleCut lets a tunnel carry nothing.
const idleCut = time.Second

// idleSplice copies both ways until neither has carried a byte for idle,
// then closes both sides without a word, as a proxy's idle or read
// timeout does.
func idleSplice(c net.Conn, br io.Reader, up net.Conn, idle time.Duration) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	pipe := func(dst io.Writer, src io.Reader) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				last.Store(time.Now().UnixNano())
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(up, br)
	go pipe(c, up)
	for time.Since(time.Unix(0, last.Load())) < idle {
		time.Sleep(idle / 20)
	}
	c.Close()
	up.Close()
}

// halfCloser is a connection whose sending side closes alone: TCP's,
// TLS's.
type halfCloser interface {
	io.ReadWriter
	CloseWrite() error
}

// splice copies both ways, br (c's bytes, perhaps buffered) to up and up
// to c, until both sides are done.
func splice(c halfCloser, br io.Reader, up halfCloser) {
	done := make(chan struct{})
	go func() {
		io.Copy(up, br)
		up.CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	c.CloseWrite()
	<-done
}

// socksAuth says which authentication a lab SOCKS5 proxy asks for.
type socksAuth int

const (
	socksNoAuth       socksAuth = iota // none
	socksNoAcceptable                  // refuses every method offered (0xFF)
	socksPassword                      // user name/password (RFC 1929): ProxyUser, ProxyPassword
)

func startSOCKS5(auth socksAuth) func(*Server, string) error {
	return func(s *Server, addr string) error {
		ln, err := s.listen(addr)
		if err != nil {
			return err
		}
		go s.serveRaw(ln, func(c *net.TCPConn) { serveSOCKS5(c, auth) })
		return nil
	}
}

// serveSOCKS5 is a SOCKS5 proxy (RFC 1928) for CONNECT requests to
// loopback, with the authentication auth says: reply 0x05 (connection
// refused) when the target refuses, 0x02 (not allowed) for a target off
// loopback.
func serveSOCKS5(c *net.TCPConn, auth socksAuth) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return
	}
	switch {
	case auth == socksNoAuth:
		c.Write([]byte{5, 0})
	case auth == socksPassword && bytes.IndexByte(methods, 2) >= 0:
		c.Write([]byte{5, 2})
		if !socksCheckPassword(c, br) {
			return
		}
	default:
		// RFC 1928, Section 3: the client must then close the connection.
		c.Write([]byte{5, 0xFF})
		io.Copy(io.Discard, br)
		return
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil || req[0] != 5 || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		var a [4]byte
		if _, err := io.ReadFull(br, a[:]); err != nil {
			return
		}
		host = netip.AddrFrom4(a).String()
	case 3:
		n, err := br.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(br, name); err != nil {
			return
		}
		host = string(name)
	case 4:
		var a [16]byte
		if _, err := io.ReadFull(br, a[:]); err != nil {
			return
		}
		host = netip.AddrFrom16(a).String()
	default:
		c.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return
	}
	reply := func(code byte) { c.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0}) }
	target, ok := loopbackTarget(net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))))
	if !ok {
		reply(2)
		return
	}
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		reply(5)
		return
	}
	defer up.Close()
	reply(0)
	c.SetDeadline(time.Time{})
	splice(c, br, up.(*net.TCPConn))
}

// socksCheckPassword reads a user name/password subnegotiation (RFC 1929)
// and answers it: success for ProxyUser and ProxyPassword, failure (after
// which the server must close the connection) for anything else.
func socksCheckPassword(c *net.TCPConn, br *bufio.Reader) bool {
	field := func() (string, bool) {
		n, err := br.ReadByte()
		if err != nil {
			return "", false
		}
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		return string(b), err == nil
	}
	ver, err := br.ReadByte()
	if err != nil || ver != 1 {
		return false
	}
	user, ok := field()
	if !ok {
		return false
	}
	password, ok := field()
	if !ok {
		return false
	}
	if user != ProxyUser || password != ProxyPassword {
		c.Write([]byte{1, 1})
		return false
	}
	c.Write([]byte{1, 0})
	return true
}
