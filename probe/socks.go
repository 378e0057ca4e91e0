package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/proxyparse"
)

// RFC 1928 and RFC 1929 code points the client sends or reads.
const (
	socksVersion5       = 5
	socksMethodNone     = 0x00 // no authentication required
	socksMethodPassword = 0x02 // user name/password (RFC 1929)
	socksNoAcceptable   = 0xFF
	socksCmdConnect     = 1
	socksAddrIPv4       = 1
	socksAddrName       = 3
	socksAddrIPv6       = 4
	socksPasswordV1     = 1 // RFC 1929's subnegotiation version
)

// socksRefusal is a SOCKS5 proxy's refusal of the tunnel: none of the
// authentication methods offered, rejected credentials, or a reply code
// other than success. Its text is net/http's for the same refusal, so
// that the report quotes what a Go program would print.
type socksRefusal struct {
	// Outcome is the refusal as the wire analysis names it.
	Outcome proxyparse.Outcome
	text    string
}

func (e *socksRefusal) Error() string { return e.text }

// hostPort is the tunnel's target as a net.Addr, for the error of a
// failed negotiation ("socks connect tcp PROXY->TARGET: …").
type hostPort string

func (hostPort) Network() string  { return "tcp" }
func (h hostPort) String() string { return string(h) }

// socksConnect asks a SOCKS5 proxy for a tunnel to the target (RFC 1928)
// over conn, as net/http's Transport does for socks5:// and socks5h://
// alike: the target's name goes to the proxy unresolved (an address
// literal as an address), and a proxy URL with user information offers
// user name/password authentication (RFC 1929) besides none. A failure is
// wrapped, as Go's SOCKS dialer wraps it, in a "socks connect"
// *net.OpError.
func (c *client) socksConnect(ctx context.Context, conn net.Conn, proxy *url.URL) error {
	target := c.cfg.Target.HostPort()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err := socksNegotiate(conn, proxy.User, target)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		return &net.OpError{Op: "socks connect", Net: "tcp", Source: conn.RemoteAddr(), Addr: hostPort(target), Err: err}
	}
	return nil
}

// socksNegotiate is the SOCKS5 exchange itself: greeting, method choice,
// the optional user name/password subnegotiation, CONNECT and its reply.
func socksNegotiate(rw io.ReadWriter, user *url.Userinfo, target string) error {
	host, portText, err := net.SplitHostPort(target)
	if err != nil {
		return err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return errors.New("port number out of range " + portText)
	}
	greeting := []byte{socksVersion5, 1, socksMethodNone}
	if user != nil {
		greeting = []byte{socksVersion5, 2, socksMethodNone, socksMethodPassword}
	}
	if _, err := rw.Write(greeting); err != nil {
		return err
	}
	var b [4]byte
	if _, err := io.ReadFull(rw, b[:2]); err != nil {
		return err
	}
	if b[0] != socksVersion5 {
		return errors.New("unexpected protocol version " + strconv.Itoa(int(b[0])))
	}
	if b[1] == socksNoAcceptable {
		return &socksRefusal{Outcome: proxyparse.AuthRequired, text: "no acceptable authentication methods"}
	}
	// Without user information net/http goes on whatever the method
	// chosen; with it, it answers the method the proxy chose.
	if user != nil && b[1] != socksMethodNone {
		if err := socksAuthenticate(rw, user, b[1]); err != nil {
			return err
		}
	}
	req, err := socksRequest(host, uint16(port))
	if err != nil {
		return err
	}
	if _, err := rw.Write(req); err != nil {
		return err
	}
	if _, err := io.ReadFull(rw, b[:4]); err != nil {
		return err
	}
	switch {
	case b[0] != socksVersion5:
		return errors.New("unexpected protocol version " + strconv.Itoa(int(b[0])))
	case b[1] != 0:
		return &socksRefusal{Outcome: proxyparse.SOCKS5ReplyOutcome(b[1]), text: "unknown error " + socksReplyText(b[1])}
	case b[2] != 0:
		return errors.New("non-zero reserved field")
	}
	// The bound address, which a CONNECT's client does not need.
	n := 2
	switch b[3] {
	case socksAddrIPv4:
		n += net.IPv4len
	case socksAddrIPv6:
		n += net.IPv6len
	case socksAddrName:
		if _, err := io.ReadFull(rw, b[:1]); err != nil {
			return err
		}
		n += int(b[0])
	default:
		return errors.New("unknown address type " + strconv.Itoa(int(b[3])))
	}
	_, err = io.ReadFull(rw, make([]byte, n))
	return err
}

// socksAuthenticate answers the method the proxy chose (RFC 1929 for
// user name/password).
func socksAuthenticate(rw io.ReadWriter, user *url.Userinfo, method byte) error {
	if method != socksMethodPassword {
		return errors.New("unsupported authentication method " + strconv.Itoa(int(method)))
	}
	name := user.Username()
	password, _ := user.Password()
	if name == "" || len(name) > 255 || len(password) > 255 {
		return errors.New("invalid username/password")
	}
	b := append([]byte{socksPasswordV1, byte(len(name))}, name...)
	b = append(append(b, byte(len(password))), password...)
	if _, err := rw.Write(b); err != nil {
		return err
	}
	if _, err := io.ReadFull(rw, b[:2]); err != nil {
		return err
	}
	if b[0] != socksPasswordV1 {
		return errors.New("invalid username/password version")
	}
	if b[1] != 0 {
		return &socksRefusal{Outcome: proxyparse.AuthRequired, text: "username/password authentication failed"}
	}
	return nil
}

// socksRequest is the CONNECT request for host and port: an address
// literal as an address, any other name for the proxy to resolve.
func socksRequest(host string, port uint16) ([]byte, error) {
	b := []byte{socksVersion5, socksCmdConnect, 0}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if a.Is4() {
			b = append(append(b, socksAddrIPv4), a.AsSlice()...)
		} else {
			b = append(append(b, socksAddrIPv6), a.AsSlice()...)
		}
	} else {
		if len(host) > 255 {
			return nil, errors.New("FQDN too long")
		}
		b = append(append(b, socksAddrName, byte(len(host))), host...)
	}
	return append(b, byte(port>>8), byte(port)), nil
}

// socksReplyText names a reply code as net/http's SOCKS dialer does.
func socksReplyText(code byte) string {
	if t := proxyparse.SOCKS5ReplyText(code); t != "unknown" {
		return t
	}
	return "unknown code: " + strconv.Itoa(int(code))
}
