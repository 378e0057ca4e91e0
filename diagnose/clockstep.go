package diagnose

import (
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// A capture whose clock stepped back (an NTP step while capturing, files
// of two hosts joined with mergecap -a) gives the connection's frames
// times that may be early by as much as the step: analysis records how far
// a frame of the connection lay behind the capture's latest time before it
// (TCPFacts.ClockBehind). Which of the two clocks was right, the capture
// does not say. A certificate date problem that holds at the frame's time
// but not at the capture's time before the step rests on that unknown: it
// is not judged, and a warning says so. A date problem that holds at both
// times (a certificate expired years ago) is judged as ever.

// acrossClockStep moves out of d.probs the date problems that the capture
// time before a step back of the capture's clock does not confirm; probs
// is what the chain check gave at the frame's time, alt what it gives
// that much later.
func (d *diagnosis) acrossClockStep(alt []CertProblem) {
	confirmed := func(p CertProblem) bool {
		return slices.ContainsFunc(alt, func(q CertProblem) bool { return q.Category == p.Category && q.Cert == p.Cert })
	}
	d.probs = slices.DeleteFunc(d.probs, func(p CertProblem) bool {
		if p.Category != CertExpired && p.Category != CertNotYetValid || confirmed(p) {
			return false
		}
		d.clockDoubts = append(d.clockDoubts, p)
		return true
	})
}

// clockWarnings say which certificate dates were not judged because the
// capture's clock stepped back, and by how much.
func (d *diagnosis) clockWarnings() []string {
	tcp := d.c.TCP
	var ws []string
	if tcp.ClockBehind >= analysis.ClockStep && tcp.ClockBack.Number > d.c.First.Number {
		ws = append(ws, fmt.Sprintf("the capture's clock stepped back during this connection (from %s on, its frames are timestamped up to %s before earlier frames of the capture): the time from its frames before %s to those from it on is not known",
			frameRef(tcp.ClockBack.Number), span(tcp.ClockBehind), frameRef(tcp.ClockBack.Number)))
	}
	if len(d.clockDoubts) == 0 {
		return ws
	}
	what := d.clockDoubts[0].Detail
	if n := len(d.clockDoubts) - 1; n > 0 {
		what += fmt.Sprintf(" (and %d more such dates)", n)
	}
	return append(ws, fmt.Sprintf("%s; not judged: the capture's clock stepped back (this connection's frames are timestamped up to %s before earlier frames of the capture), and by the capture's time before the step the dates were valid",
		what, span(tcp.ClockBehind)))
}

// waitFrom formats the time from frame a to frame b as wait does, or says
// it is not known when the capture's clock stepped back between them (a
// warning says where: clockWarnings).
func (d *diagnosis) waitFrom(a, b capture.Frame) string {
	if d.c.SteppedBetween(a, b) {
		return "an unknown time"
	}
	return wait(b.Time.Sub(a.Time))
}
