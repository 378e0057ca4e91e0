package analysis

import (
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// ProxyHeader is the PROXY protocol header (HAProxy's proxy-protocol.txt)
// that began the client's stream: a load balancer (HAProxy send-proxy,
// nginx stream proxy_protocol, an AWS NLB with proxy_protocol_v2.enabled)
// or the client itself (curl --haproxy-protocol) named in it the client
// it stands for. The record's Client is then the load balancer; Source
// is the original client.
type ProxyHeader struct {
	tlsparse.ProxyHeader
	// Frame carried the header's last byte.
	Frame capture.Frame
	// Malformed says what is wrong with a header that began like one
	// (a bad signature, length or field, or cut short); "" when whole
	// and well-formed. The fields above are then what could be read.
	Malformed string
}

// ProxyHeader returns the PROXY protocol header the client's stream
// began with, nil without one. It rides on the client side's NonTLS (the
// plaintext before TLS), which becomes its Prelude at the ClientHello, as
// any plaintext before TLS does: the record stays the size it was.
func (c *Connection) ProxyHeader() *ProxyHeader {
	for _, n := range []*NonTLS{c.ClientSide.Prelude, c.ClientSide.NonTLS} {
		if n != nil && n.Proxy != nil {
			return n.Proxy
		}
	}
	return nil
}

// proxyHeader records the PROXY protocol header item it of direction d,
// in frame f, as the side's NonTLS with what it says. A server's stream
// that begins like one is not TLS either, but says nothing of a client.
func (t *tracker) proxyHeader(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	side := c.Side(d)
	n := &NonTLS{Frame: f, Looks: tlsparse.DescribeNonTLS(it.Body)}
	ti.NonTLS = n.Looks
	if side.NonTLS != nil || side.Prelude != nil {
		return
	}
	side.NonTLS = n
	if d != capture.ClientToServer {
		return
	}
	h, err := tlsparse.ParseProxyHeader(it.Body)
	n.Proxy = &ProxyHeader{ProxyHeader: h, Frame: f}
	if err != nil {
		n.Proxy.Malformed = err.Error()
	}
}
