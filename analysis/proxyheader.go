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

// proxyHeader records the PROXY protocol header item it of direction d,
// in frame f. A server's stream that begins like one is not TLS: it is
// the server side's NonTLS.
func (t *tracker) proxyHeader(d capture.Direction, it *tlsparse.Item, f capture.Frame) {
	c := t.c
	if d != capture.ClientToServer {
		if side := c.Side(d); side.NonTLS == nil {
			side.NonTLS = &NonTLS{Frame: f, Looks: tlsparse.DescribeNonTLS(it.Body)}
		}
		return
	}
	if c.ProxyHeader != nil {
		return
	}
	h, err := tlsparse.ParseProxyHeader(it.Body)
	p := &ProxyHeader{ProxyHeader: h, Frame: f}
	if err != nil {
		p.Malformed = err.Error()
	}
	c.ProxyHeader = p
}
