package analysis

import (
	"net/netip"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// MaxDTLSFlows bounds the address pairs remembered as carrying DTLS; the
// Builders of a capture share it.
const MaxDTLSFlows = 4096

// DTLSStats is the DTLS a capture carried, which is not analysed: a note
// says it was there, so that a capture of DTLS alone does not read as
// holding no TLS.
type DTLSStats struct {
	// Flows counts the address pairs on which a DTLS handshake began (a
	// ClientHello, HelloVerifyRequest or ServerHello in the clear), at
	// most MaxDTLSFlows; FlowsCapped says more were seen, and that
	// Datagrams leaves theirs out.
	Flows       int
	FlowsCapped bool
	// Datagrams counts the UDP datagrams of those pairs that carried
	// DTLS, from the first hello on.
	Datagrams int
	// First is the earliest hello's frame, sent by Client to Server.
	First          capture.Frame
	Client, Server netip.AddrPort
}

// dtlsFlows is what one Builder saw of DTLS. The datagrams of an address
// pair all go to one Builder, in frame order.
type dtlsFlows struct {
	flows map[[2]netip.AddrPort]bool // pairs on which a DTLS handshake began
	max   int                        // pairs kept at most
	stats DTLSStats
}

// datagram counts payload, a datagram from src to dst in frame f, if it
// is on a pair known to carry DTLS or it begins a DTLS handshake.
func (d *dtlsFlows) datagram(src, dst netip.AddrPort, payload []byte, f capture.Frame) {
	key := pairKey(src, dst)
	if d.flows[key] {
		// WebRTC sends STUN and RTP on the same pair; DTLS begins with
		// a byte from 20 to 63 (RFC 7983, Section 7).
		if len(payload) > 0 && payload[0] >= 20 && payload[0] <= 63 {
			d.stats.Datagrams++
		}
		return
	}
	if _, hello := tlsparse.LooksDTLS(payload); !hello {
		return
	}
	st := &d.stats
	if len(d.flows) >= d.max {
		st.FlowsCapped = true
		return
	}
	if d.flows == nil {
		d.flows = make(map[[2]netip.AddrPort]bool)
	}
	d.flows[key] = true
	st.Flows++
	st.Datagrams++
	if st.First.Number == 0 {
		st.First, st.Client, st.Server = f, src, dst
	}
}

// add adds what another Builder saw.
func (st *DTLSStats) add(o DTLSStats) {
	if o.Flows > 0 && (st.First.Number == 0 || o.First.Number < st.First.Number) {
		st.First, st.Client, st.Server = o.First, o.Client, o.Server
	}
	st.Flows += o.Flows
	st.Datagrams += o.Datagrams
	st.FlowsCapped = st.FlowsCapped || o.FlowsCapped
}
