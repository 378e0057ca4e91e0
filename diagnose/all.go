package diagnose

import (
	"net/netip"
	"sync"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// All diagnoses every connection, with up to workers goroutines; the
// verdicts are in the order of conns, and each is what Diagnose returns,
// except where an earlier connection tells what a later one alone cannot
// (a resumed session refused for want of a client certificate, see
// resumedRefusals).
func All(conns []*analysis.Connection, cfg Config, workers int) []Verdict {
	var cs Capture
	return cs.All(conns, cfg, workers)
}

// Capture diagnoses the connections of one capture given in batches, in
// the capture's order, as read streams them: it remembers of the
// connections judged what the rules that look across connections need,
// so that the verdicts do not depend on where the batches break. The
// zero value is ready to use.
type Capture struct {
	refused map[clientServer]refusal
	// served are the recent connections by server address, to find the
	// front leg of a reverse proxy's upstream connection (revproxy.go).
	served map[netip.Addr][]frontLeg
}

// All is the package's All for the next batch of the capture's
// connections.
func (cs *Capture) All(conns []*analysis.Connection, cfg Config, workers int) []Verdict {
	vs := all(conns, cfg, workers)
	if fronts := cs.frontLegs(conns); fronts != nil {
		d := &diagnosis{texts: new(textMemo)}
		for i, f := range fronts {
			if f != nil {
				vs[i] = d.diagnoseFront(conns[i], cfg, f)
			}
		}
	}
	cs.resumedRefusals(conns, vs, cfg)
	return vs
}

// all is All without the rules that look across connections.
func all(conns []*analysis.Connection, cfg Config, workers int) []Verdict {
	vs := make([]Verdict, len(conns))
	workers = min(workers, len(conns)/16) // a goroutine is worth a few connections
	// Each goroutine diagnoses its connections in one diagnosis.
	if workers <= 1 {
		d := &diagnosis{texts: new(textMemo)}
		for i, c := range conns {
			vs[i] = d.diagnose(c, cfg)
		}
		return vs
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			d := &diagnosis{texts: new(textMemo)}
			for i := w; i < len(conns); i += workers {
				vs[i] = d.diagnose(conns[i], cfg)
			}
		})
	}
	wg.Wait()
	return vs
}
