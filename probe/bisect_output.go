package probe

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tlsdiag/tlsdiag/internal/textsafe"

	"github.com/tlsdiag/tlsdiag/internal/prose"
)

// BisectView is a bisection in JSON.
//
//   - attempts (list of objects): every request made, the failing one
//     first (factor "baseline"): factor, value (strings), ok (bool),
//     outcome ("ok" or the client's error class), phase, verdict (the
//     wire's category, "" without a wire view), time_ms, client_hello_bytes,
//     mss, client_hello_segments (numbers, 0 when unknown), probe (the
//     attempt's whole probe document, as without --bisect, bisect null).
//   - skipped (list of strings): factors chosen with nothing to vary.
//   - stopped (string): why bisection ended before every factor, "" when
//     it tried them all.
//   - conclusion (object): kind ("no_failure", "factor",
//     "client_hello_split", "large_segments_dropped", "no_factor"), factor
//     ("" for none), values (the factor's values that worked), works (every
//     "factor=value" that worked), summary, fix (strings), interception
//     (null, or when the server's leaf through the proxy and directly
//     differ: proxy, server_name, proxy_issuer, direct_issuer (strings,
//     the issuers as RFC 4514 names), direct_trusted (bool)).
type BisectView struct {
	Attempts   []BisectAttemptView `json:"attempts"`
	Skipped    []string            `json:"skipped"`
	Stopped    string              `json:"stopped"`
	Conclusion ConclusionView      `json:"conclusion"`
}

// BisectAttemptView is one attempt in JSON.
type BisectAttemptView struct {
	Factor        string   `json:"factor"`
	Value         string   `json:"value"`
	OK            bool     `json:"ok"`
	Outcome       string   `json:"outcome"`
	Phase         string   `json:"phase"`
	Verdict       string   `json:"verdict"`
	TimeMS        float64  `json:"time_ms"`
	HelloBytes    int      `json:"client_hello_bytes"`
	MSS           int      `json:"mss"`
	HelloSegments int      `json:"client_hello_segments"`
	Probe         Document `json:"probe"`
}

// ConclusionView is a bisection's conclusion in JSON.
type ConclusionView struct {
	Kind    string   `json:"kind"`
	Factor  string   `json:"factor"`
	Values  []string `json:"values"`
	Works   []string `json:"works"`
	Summary string   `json:"summary"`
	Fix     string   `json:"fix"`

	Interception *InterceptionView `json:"interception"`
}

// InterceptionView is a proxy's interception in JSON.
type InterceptionView struct {
	Proxy         string `json:"proxy"`
	ServerName    string `json:"server_name"`
	ProxyIssuer   string `json:"proxy_issuer"`
	DirectIssuer  string `json:"direct_issuer"`
	DirectTrusted bool   `json:"direct_trusted"`
}

func newBisectView(b *Bisection) *BisectView {
	v := &BisectView{Attempts: []BisectAttemptView{}, Skipped: []string{}, Stopped: b.Stopped,
		Conclusion: ConclusionView{Kind: string(b.Conclusion.Kind), Factor: string(b.Conclusion.Factor),
			Values: nonNil(b.Conclusion.Values), Works: nonNil(b.Conclusion.Works), Summary: b.Conclusion.Summary, Fix: b.Conclusion.Fix}}
	if ic := b.Conclusion.Interception; ic != nil {
		v.Conclusion.Interception = &InterceptionView{Proxy: ic.Proxy, ServerName: ic.ServerName,
			ProxyIssuer: ic.ProxyIssuer, DirectIssuer: ic.DirectIssuer, DirectTrusted: ic.DirectTrusted}
	}
	for _, f := range b.Skipped {
		v.Skipped = append(v.Skipped, string(f))
	}
	for i := range b.Attempts {
		a := &b.Attempts[i]
		r := *a.Result // the baseline is the result holding the bisection
		r.Bisect = nil
		v.Attempts = append(v.Attempts, BisectAttemptView{
			Factor: string(a.Factor), Value: a.Value, OK: a.OK(), Outcome: a.Outcome(), Phase: string(a.Result.Client.Phase),
			Verdict: a.Verdict(), TimeMS: msFloat(attemptTime(a)), HelloBytes: a.HelloBytes, MSS: a.MSS,
			HelloSegments: a.Segments(), Probe: NewDocument(&r),
		})
	}
	return v
}

// writeBisect writes the attempts as a table, then the conclusion.
func writeBisect(b *bytes.Buffer, bs *Bisection) {
	fmt.Fprintf(b, "\nBisect (%s, one change each)\n", prose.Count(len(bs.Attempts)-1, "attempt"))
	rows := [][]string{{"factor", "value", "client", "wire", "ClientHello", "time"}}
	for i := range bs.Attempts {
		a := &bs.Attempts[i]
		hello := ""
		if a.HelloBytes > 0 {
			hello = prose.Thousands(a.HelloBytes) + " B"
			if n := a.Segments(); n > 0 {
				hello += fmt.Sprintf(" / %d seg", n)
			}
		}
		verdict := a.Verdict()
		if verdict == "" {
			verdict = "-"
		}
		rows = append(rows, []string{string(a.Factor), a.Value, a.Outcome(), verdict, hello, ms(attemptTime(a))})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		line.WriteString(textIndent)
		for i, c := range r {
			if i == len(r)-1 {
				line.WriteString(c)
				break
			}
			line.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))+2))
		}
		b.WriteString(textsafe.Text(strings.TrimRight(line.String(), " ")) + "\n")
	}
	if len(bs.Skipped) > 0 {
		var names []string
		for _, f := range bs.Skipped {
			names = append(names, string(f))
		}
		wrapped(b, "skipped: ", strings.Join(names, ", ")+" (nothing to vary)")
	}
	if bs.Stopped != "" {
		wrapped(b, "", bs.Stopped)
	}
	c := bs.Conclusion
	wrapped(b, "conclusion: ", fmt.Sprintf("[%s] %s", c.Kind, c.Summary))
	if c.Fix != "" {
		wrapped(b, "fix: ", c.Fix)
	}
}
