package diagnose

import (
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// clientDataBefore reports whether the client sent application data
// before frame f, after the server's Finished of a TLS ≤ 1.2 handshake:
// a client sends data only once it has accepted the server's flight (and
// sent its own Finished), so an encrypted alert of the client after it
// is no refusal of the server's certificate.
func (d *diagnosis) clientDataBefore(f int64) bool {
	c := d.c
	data := c.ClientSide.AppData
	return !c.Version.IsTLS13() && !c.IsQUIC() && data.Records > 0 && data.First.Number < f &&
		c.ServerSide.Finished.Number != 0 && data.First.Number > c.ServerSide.Finished.Number
}

// finishedUnseen explains a TLS ≤ 1.2 handshake established although the
// capture lacks the client's Finished (analysis.Connection.FinishedImplied):
// the client sent data after the server's Finished, and the server
// answered it, so the Finished was lost or garbled in the capture. An
// encrypted alert of the client after the answer is as a rule its
// close_notify.
func (d *diagnosis) finishedUnseen() (Verdict, bool) {
	c := d.c
	if !c.FinishedImplied() {
		return Verdict{}, false
	}
	cd, sd := c.ClientSide.AppData, c.ServerSide.AppData
	var closing capture.Frame
	for _, a := range c.Alerts {
		if a.Sender == client && !a.Known() {
			closing = a.Frame
			break
		}
	}
	why := "is not in the capture"
	if slices.Contains(c.Anomalies, tlsparse.AnomalyMalformedRecord) {
		why = "is not readable in the capture (a malformed record stands in its place)"
	}
	if d.addrProb != nil {
		// init counted the address the leaf does not cover among the
		// chain's problems, the handshake looking unfinished; the
		// client accepted it, which the warnings say.
		d.probs = slices.DeleteFunc(d.probs, func(p CertProblem) bool { return p.Address != "" })
	}
	v := d.ok()
	v.Summary += fmt.Sprintf("; the client's Finished %s, but the client sent application data after the server's Finished (%s) and the server answered it (%s), which both do only once the handshake is complete",
		why, frameRef(cd.First.Number), frameRef(sd.First.Number))
	if closing.Number != 0 {
		v.Summary += fmt.Sprintf("; the client's encrypted alert (%s) that followed is most likely its close_notify", frameRef(closing.Number))
	}
	v.Evidence = frameNumbers([]capture.Frame{d.helloFrame, c.ServerHelloFrame, c.ServerSide.Finished, cd.First, sd.First, closing})
	return v, true
}
