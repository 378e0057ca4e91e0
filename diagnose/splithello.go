package diagnose

// A ClientHello larger than one segment whose first segment arrived and
// whose continuation never did: middleboxes that read only the first
// segment of a hello drop the rest. Post-quantum key shares (1,216 bytes
// for X25519MLKEM768) made hellos of ~1.8 KB common, more than one
// segment on an Ethernet path.

import (
	"fmt"
	"strings"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// ClientHelloSplitDropped: the ClientHello spans several segments; the
// first was acknowledged, the continuation never was.
const ClientHelloSplitDropped Category = "clienthello_split_dropped"

var clientHelloSplitDroppedCategory = categorySpec{
	name:          ClientHelloSplitDropped,
	meaning:       "the ClientHello spans more than one segment; the server acknowledged the first and never the continuation, which the client retransmitted; names a post-quantum key share (X25519MLKEM768, 1,216 bytes) when that is what made it large",
	serverFix:     "— (the middlebox; client stop-gaps below)",
	clientClasses: []string{"timeout"},
}

var _ = registerPathRule(ClientHelloSplitDropped, (*diagnosis).clientHelloSplitDropped)

// largeKeyShares are the sizes of the key shares that make hellos big.
var largeKeyShares = map[tlsparse.NamedGroup]int{
	tlsparse.GroupX25519MLKEM768: 1216,
	0x11eb:                       1249, // SecP256r1MLKEM768
	0x11ed:                       1665, // SecP384r1MLKEM1024
	0x6399:                       1216, // X25519Kyber768Draft00
}

func (d *diagnosis) clientHelloSplitDropped() (Verdict, bool) {
	c, p := d.c, d.c.Path
	acked := p.Acked[client]
	if c.ClientHello == nil || c.ServerHello != nil || c.HelloRetry != nil || c.ServerSide.Bytes > 0 ||
		p.HelloEnd == 0 || acked <= p.HelloStart || acked >= p.HelloEnd {
		return Verdict{}, false
	}
	rs := resentIn(p, client, acked, p.HelloEnd)
	if len(rs) == 0 {
		return Verdict{}, false
	}
	last := lastResend(rs)
	size := p.HelloEnd - p.HelloStart
	why := ""
	for _, g := range c.ClientHello.KeyShares {
		if n, ok := largeKeyShares[g]; ok {
			why = fmt.Sprintf("; its post-quantum key share %s (%s) is what makes it that large", g, prose.Count(n, "byte"))
			break
		}
	}
	name := ""
	if sni := c.ClientHello.ServerName; sni != "" {
		name = fmt.Sprintf(" for '%s'", sni)
	}
	summary := fmt.Sprintf("the ClientHello%s (%s) spans more than one segment and the path drops its continuation: the server acknowledged its first %s (%s, acknowledged in %s) and nothing after, while the client sent the rest %s more (%s to %s) over %s%s "+
		"(likely: the server's TCP stack acknowledges what arrives, so the continuation never arrived — a middlebox that inspects only a hello's first segment; less likely, loss of exactly those segments on the path)",
		name, prose.Count(int(size), "byte"), prose.Count(int(acked-p.HelloStart), "byte"), frameRef(p.HelloFirst.Number), frameRef(p.AckedFrame[client].Number),
		prose.Count(resendCount(rs), "time"), frameRef(rs[0].First.Number), frameRef(last.Number), d.waitFrom(p.HelloFirst, last), why)
	return verdict(ClientHelloSplitDropped, summary, splitHelloFix(d, why != ""),
		p.HelloFirst, p.AckedFrame[client], c.ClientHelloFrame, rs[0].First, last), true
}

// splitHelloFix names the middlebox fix first, then the client's
// stop-gap, for the client the hello came from when it tells.
func splitHelloFix(d *diagnosis, postQuantum bool) string {
	fix := "update (or reconfigure) the firewall, IPS or proxy between the client and the server so that it reassembles ClientHellos that span several TCP segments — the vendors fixed this for post-quantum hellos"
	if !postQuantum {
		return fix + "; as a stop-gap, make the client's hello smaller (fewer cipher suites, extensions or key shares)"
	}
	stopGaps := []string{
		"Go: GODEBUG=tlsmlkem=0, or tls.Config.CurvePreferences without X25519MLKEM768",
		"OpenSSL and curl: -groups X25519:P-256 / --curves X25519:P-256",
		"Chrome and Edge: the PostQuantumKeyAgreementEnabled policy set to false",
	}
	if d.client().Stack == fingerprint.StackGo {
		stopGaps = stopGaps[:1]
	}
	return fix + "; as a stop-gap, leave out the post-quantum key share on the client (" + strings.Join(stopGaps, "; ") + ")"
}
