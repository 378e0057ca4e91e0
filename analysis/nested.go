package analysis

// An https:// proxy's tunnel: the client's TLS to the target, nested in
// the TLS to the proxy that a key log opened, is read as the TLS of a
// tunnel through a plaintext proxy is.

import (
	"slices"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// ProxyTLS is an https:// proxy's own TLS handshake with the client, for a
// record whose TLS fields describe the target's handshake that ran nested
// inside it (Proxy.TLS).
type ProxyTLS struct {
	Version tlsparse.Version
	Cipher  tlsparse.CipherSuite
	// ServerName is the SNI the client sent the proxy.
	ServerName string
	// Subject is the subject of the proxy's leaf certificate ("" when no
	// certificate was seen: a resumed handshake).
	Subject string
	// Established is set when the handshake with the proxy completed, in
	// frame HandshakeDone.
	Established   bool
	HandshakeDone capture.Frame
}

// nestedTracker makes the tracker that reads what went through the
// tunnel p an https:// proxy granted inside t's decrypted TLS: directions
// are the record's, its record's frames are t's, and it never reports a
// connection itself (t merges its record, mergeNested).
func (t *tracker) nestedTracker(p *Proxy) *tracker {
	o := t.c
	n := &tracker{b: t.b, conn: t.conn, now: t.now, keyLog: t.keyLog, nested: true,
		// The outer connection told the sequencer about its TLS; the
		// tunnel opens with no proxy negotiation of its own.
		sawTLS: true, proxyOff: true,
		// One level: a CONNECT inside the tunnel's own TLS (a chain of
		// https:// proxies) is not followed, so that a capture cannot
		// nest trackers without end.
		late: &lateState{inTLSOff: true}}
	n.c = &Connection{Client: o.Client, Server: o.Server, First: o.First, Last: o.Last,
		Roles: RolesFromSYN, ClientCertificates: -1, Proxy: p}
	n.dirs = new([2]direction)
	for i := range n.dirs {
		n.dirs[i].chunks = n.dirs[i].small[:0]
		if n.keyLog {
			n.dirs[i].dec.KeepPayloads()
		}
	}
	return n
}

// tunnelData hands the nested tracker n the plaintext b that direction d
// of the outer TLS carried through the tunnel, in the record of frame f.
func (n *tracker) tunnelData(d capture.Direction, b []byte, f capture.Frame) {
	if len(b) == 0 {
		return
	}
	if d == capture.ServerToClient && n.dirs[d].offset == 0 {
		n.tunnelFirst(b, f)
	}
	n.Data(d, b, f)
}

// mergeNested returns the record of a connection to an https:// proxy
// whose tunnel n read: the target's TLS as n read it, with the TCP and
// path facts of the connection (t's), and the proxy's own handshake in
// Proxy.TLS. Without anything through the tunnel it is t's record.
func (t *tracker) mergeNested(n *tracker) *Connection {
	o := t.c
	if n.dirs[capture.ClientToServer].offset == 0 && n.dirs[capture.ServerToClient].offset == 0 {
		return o
	}
	r := n.c
	// What the tunnel's end needs to be judged by is the TCP
	// connection's: its FIN, RST and losses.
	r.TCP, r.Last, r.CaptureEnd = o.TCP, o.Last, o.CaptureEnd
	n.now = max(n.now, t.now)
	n.drainPending(capture.ClientToServer, true)
	n.drainPending(capture.ServerToClient, true)
	n.unfinishedTail(capture.ClientToServer)
	n.unfinishedTail(capture.ServerToClient)
	n.finalize()
	r.Client, r.Server, r.Roles, r.Partial = o.Client, o.Server, o.Roles, o.Partial
	r.First, r.Tunnel = o.First, o.Tunnel
	r.Path, r.DNS, r.DNSFailure, r.OtherNames, r.OtherChains = o.Path, o.DNS, o.DNSFailure, o.OtherNames, o.OtherChains
	r.ClientSide.Bytes, r.ServerSide.Bytes = o.ClientSide.Bytes, o.ServerSide.Bytes
	p := *o.ProxyInTLS
	p.TLS = &ProxyTLS{Version: o.Version, Cipher: o.Cipher, Established: o.Established, HandshakeDone: o.HandshakeDone}
	if o.ClientHello != nil {
		p.TLS.ServerName = o.ClientHello.ServerName
	}
	if len(o.Certificates) > 0 && o.Certificates[0].X509 != nil {
		p.TLS.Subject = o.Certificates[0].X509.Subject.String()
	}
	r.Proxy, r.ProxyInTLS = &p, nil
	if k := r.KeyLogFacts; k != nil && k.Reason != "" {
		k.Reason = "the target's handshake in the https:// proxy's tunnel: " + k.Reason
	}
	anomalies := slices.Clone(o.Anomalies)
	for _, a := range r.Anomalies {
		if !slices.Contains(anomalies, a) {
			anomalies = appendCapped(anomalies, a, maxAnomalies)
		}
	}
	r.Anomalies = anomalies
	r.Trace, r.TraceOmitted = mergeTrace(o.Trace, r.Trace), o.TraceOmitted+r.TraceOmitted
	if over := len(r.Trace) - t.b.opt.MaxTraceFrames; over > 0 {
		r.Trace, r.TraceOmitted = r.Trace[:t.b.opt.MaxTraceFrames], r.TraceOmitted+over
	}
	return r
}

// mergeTrace puts the frames of the tunnel's trace in among the outer
// connection's: a frame both list shows what the tunnel's bytes in it
// were, in place of the outer records that carried them.
func mergeTrace(outer, inner []TraceFrame) []TraceFrame {
	if len(inner) == 0 {
		return outer
	}
	out := make([]TraceFrame, 0, len(outer)+len(inner))
	i := 0
	for _, f := range outer {
		for i < len(inner) && inner[i].Frame.Number < f.Frame.Number {
			out = append(out, inner[i])
			i++
		}
		if i < len(inner) && inner[i].Frame.Number == f.Frame.Number && inner[i].Dir == f.Dir {
			out = append(out, inner[i])
			i++
			continue
		}
		out = append(out, f)
	}
	return append(out, inner[i:]...)
}
