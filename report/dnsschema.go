package report

import (
	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// DNSAnswer is the DNS answer that gave a connection its server address;
// see Connection.
type DNSAnswer struct {
	Name        string `json:"name"`
	Resolver    string `json:"resolver"`
	QueryFrame  *int64 `json:"query_frame"`
	AnswerFrame int64  `json:"answer_frame"`
}

// DNSFailure is a failed lookup; see Connection.
type DNSFailure struct {
	Name         string   `json:"name"`
	Types        []string `json:"types"`
	RCode        string   `json:"rcode"`
	TCP          bool     `json:"tcp"`
	QueryFrames  []int64  `json:"query_frames"`
	AnswerFrames []int64  `json:"answer_frames"`
}

func newDNSAnswer(a *analysis.DNSAnswer) *DNSAnswer {
	if a == nil {
		return nil
	}
	out := &DNSAnswer{Name: a.Name, Resolver: a.Resolver.String(), AnswerFrame: a.AnswerFrame.Number}
	if a.QueryFrame.Number != 0 {
		n := a.QueryFrame.Number
		out.QueryFrame = &n
	}
	return out
}

func newDNSFailure(f *analysis.DNSFailure) *DNSFailure {
	if f == nil {
		return nil
	}
	out := &DNSFailure{Name: f.Name, Types: make([]string, len(f.Types)), TCP: f.TCP,
		QueryFrames: frameNumbers(f.Queries), AnswerFrames: frameNumbers(f.Answers)}
	for i, t := range f.Types {
		out.Types[i] = t.String()
	}
	if f.Answered {
		out.RCode = f.RCode.String()
	}
	return out
}

func frameNumbers(fs []capture.Frame) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.Number
	}
	return out
}
