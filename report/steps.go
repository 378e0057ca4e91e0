package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The ladder, mermaid and html formats draw one connection as a sequence
// diagram: the steps below, one arrow per frame that carried TLS or a TCP
// event, are their common model. They are built from the same record as
// the trace (its TLS frames and TCP events, worded as Wireshark's Info
// column), plus what the path facts know of the ClientHello: the segment
// that carried its first bytes when it spanned several, and its
// retransmissions.

// step is one row of a connection's sequence diagram: an arrow, or (dir
// remarkDir) a remark between the two lifelines.
type step struct {
	frame capture.Frame
	dir   capture.Direction
	// info is the Info column's text, straight from the record: escape
	// it for the format being written.
	info string
	mark stepMark
}

// stepMark says what the verdict makes of a step.
type stepMark uint8

const (
	markNone     stepMark = iota
	markEvidence          // one of the verdict's evidence frames
	markFailing           // the failing step: the last evidence frame drawn, of a failed verdict
)

// maxSteps bounds the arrows drawn per connection: the record's trace cap
// bounds its TLS frames already; this keeps a picture a picture.
const maxSteps = 200

// ladderSteps returns the steps of r's connection in frame order, marked
// from its verdict.
func ladderSteps(r pipeline.Result) []step {
	c := r.Conn
	var steps []step
	for _, l := range traceLines(c) {
		steps = append(steps, step{frame: l.frame, dir: l.dir, info: l.info})
	}
	steps = append(steps, helloSteps(c, steps)...)
	steps = append(steps, ackSteps(c, r.Verdict.Evidence, steps)...)
	slices.SortStableFunc(steps, func(x, y step) int {
		return cmp.Compare(x.frame.Number, y.frame.Number)
	})
	steps = withSilences(steps)
	if len(steps) > maxSteps {
		cut := len(steps) - maxSteps
		steps = append(steps[:maxSteps:maxSteps], step{dir: remarkDir, info: "… " + prose.Count(cut, "more frame") + " not drawn"})
	}
	if c.TraceOmitted > 0 {
		steps = append(steps, step{dir: remarkDir, info: "… " + prose.Count(c.TraceOmitted, "more TLS frame") + " not listed (trace cap)"})
	}
	markSteps(steps, r)
	return steps
}

// helloSteps are the frames of the client's first ClientHello that carry
// no item of the trace: the segment with its first bytes, when the hello
// spanned several and the record's last byte came later, and its
// retransmissions (the first and the last of each resent segment, the ones
// between counted in a remark), which is how a dropped hello looks.
func helloSteps(c *analysis.Connection, have []step) []step {
	p := c.Path
	if p == nil || p.HelloEnd <= p.HelloStart {
		return nil
	}
	drawn := func(f capture.Frame) bool {
		return slices.ContainsFunc(have, func(s step) bool { return s.frame.Number == f.Number })
	}
	var out []step
	if f := p.HelloFirst; f.Number != 0 && f.Number != c.ClientHelloFrame.Number && !drawn(f) {
		// Wireshark's words for a segment whose bytes complete later.
		out = append(out, step{frame: f, dir: capture.ClientToServer, info: "[TCP segment of a reassembled PDU]"})
	}
	for _, rs := range p.Resent[capture.ClientToServer] {
		if rs.Offset+int64(rs.Len) <= p.HelloStart || rs.Offset >= p.HelloEnd {
			continue
		}
		const resent = "[TCP Retransmission] of the Client Hello"
		out = append(out, step{frame: rs.First, dir: capture.ClientToServer, info: resent})
		if rs.Count > 2 {
			// A remark between the first and the last, sorted by the
			// first's frame number (stable: it stays after it).
			out = append(out, step{frame: rs.First, dir: remarkDir, info: fmt.Sprintf("⋮ %d more %s", rs.Count-2, prose.Plural(rs.Count-2, "retransmission"))})
		}
		if rs.Count > 1 {
			out = append(out, step{frame: rs.Last, dir: capture.ClientToServer, info: fmt.Sprintf("%s (%d of %d)", resent, rs.Count, rs.Count)})
		}
	}
	return out
}

// silence is the shortest wait between two frames a diagram remarks on:
// a peer's stacks answer within milliseconds, so a pause of this length
// is someone waiting — a timeout, a retransmission timer, a person.
const silence = 500 * time.Millisecond

// withSilences puts a remark where the connection was silent for at least
// silence between two arrows.
func withSilences(steps []step) []step {
	out := make([]step, 0, len(steps)+2)
	for i, s := range steps {
		if i > 0 && !s.isRemark() && !steps[i-1].isRemark() {
			if gap := s.frame.Time.Sub(steps[i-1].frame.Time); gap >= silence {
				out = append(out, step{frame: steps[i-1].frame, dir: remarkDir, info: "⋮ " + durationWords(gap) + " of silence"})
			}
		}
		out = append(out, s)
	}
	return out
}

// durationWords words a pause for a remark: "2.0 s", "750 ms".
func durationWords(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// remarkDir marks a step that is a remark between the lifelines, not an
// arrow: its frame is only where it sorts.
const remarkDir capture.Direction = 2

// isRemark reports whether s is a remark rather than an arrow.
func (s step) isRemark() bool { return s.dir == remarkDir }

// markSteps marks the evidence frames among the steps and, for a failed
// verdict, the failing step: the last evidence frame drawn.
func markSteps(steps []step, r pipeline.Result) {
	last := -1
	for i, s := range steps {
		if s.isRemark() || !slices.Contains(r.Verdict.Evidence, s.frame.Number) {
			continue
		}
		steps[i].mark = markEvidence
		last = i
	}
	if last >= 0 && r.Verdict.Failed() {
		steps[last].mark = markFailing
	}
}

// ackSteps draws the acknowledgment of each side's bytes (the frame that
// first acknowledged as far as the other side ever did), and that of the
// ClientHello, when the verdict cites it: how far the server took a hello
// in is how a dropped continuation shows, and a server silent after
// acknowledging its hello is not a path problem. The label is Wireshark's
// relative Ack number where it is known.
func ackSteps(c *analysis.Connection, evidence []int64, have []step) []step {
	p := c.Path
	if p == nil {
		return nil
	}
	var out []step
	for _, d := range []capture.Direction{capture.ClientToServer, capture.ServerToClient} {
		f := p.AckedFrame[d]
		if f.Number == 0 || p.Acked[d] < 0 || !slices.Contains(evidence, f.Number) ||
			slices.ContainsFunc(have, func(s step) bool { return s.frame.Number == f.Number }) {
			continue
		}
		// Wireshark's relative Ack counts the SYN: one past the offset.
		out = append(out, step{frame: f, dir: d.Reverse(), info: fmt.Sprintf("[ACK] Ack=%d", p.Acked[d]+1)})
	}
	if f := p.HelloAcked; f.Number != 0 && slices.Contains(evidence, f.Number) &&
		!slices.ContainsFunc(have, func(s step) bool { return s.frame.Number == f.Number }) &&
		!slices.ContainsFunc(out, func(s step) bool { return s.frame.Number == f.Number }) {
		out = append(out, step{frame: f, dir: capture.ServerToClient, info: "[ACK]"})
	}
	return out
}
