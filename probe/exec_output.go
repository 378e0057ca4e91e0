package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tlsdiag/tlsdiag/internal/attribution"
	"github.com/tlsdiag/tlsdiag/internal/textsafe"
	"github.com/tlsdiag/tlsdiag/report"
)

// ExecDocument is what `tlsdiag exec --format json` writes.
//
//   - command (list of strings), exit_code (number).
//   - stderr_tail (list of strings): the program's last standard error
//     lines; error_class, error_line (strings): the class the last
//     recognisable line names and that line ("" when none does).
//   - keylog (string): the SSLKEYLOGFILE the program was given;
//     keylog_lines (number): the secrets it wrote.
//   - attribution (object): method ("cgroup": exact, "sampling": the
//     program's sockets sampled from /proc, short connections may be
//     missed) and fallback (why not "cgroup"; "" when it is).
//   - flows (list of strings): the flows the program started,
//     "tcp local -> remote".
//   - connections (list of objects): connection (as `tlsdiag read` writes
//     it, with its verdict) and correlation (agreement, summary, cause,
//     fix, notes) with the program's error. The error is correlated with
//     the connections it is about (agree, or disagree on one connection
//     when none agrees); the others have agreement "unrelated" and their
//     verdict alone.
//   - unseen (object or null): the correlation of the program's error
//     alone (agreement client_only) when the capture shows none of its
//     connections.
//   - capture (object): interface, filter, error, frames, notes.
type ExecDocument struct {
	Command     []string             `json:"command"`
	ExitCode    int                  `json:"exit_code"`
	StderrTail  []string             `json:"stderr_tail"`
	ErrorClass  string               `json:"error_class"`
	ErrorLine   string               `json:"error_line"`
	KeyLog      string               `json:"keylog"`
	KeyLogLines int                  `json:"keylog_lines"`
	Attribution AttributionView      `json:"attribution"`
	Flows       []string             `json:"flows"`
	Connections []ExecConnectionView `json:"connections"`
	Unseen      *CorrelationView     `json:"unseen"`
	Capture     CaptureView          `json:"capture"`
}

// AttributionView is how the program's flows were found.
type AttributionView struct {
	Method   string `json:"method"`
	Fallback string `json:"fallback"`
}

// ExecConnectionView is one of the program's connections in JSON.
type ExecConnectionView struct {
	Connection  report.Connection `json:"connection"`
	Correlation CorrelationView   `json:"correlation"`
}

// NewExecDocument converts an exec result to its JSON form.
func NewExecDocument(r *ExecResult) ExecDocument {
	d := ExecDocument{Command: r.Command, ExitCode: r.ExitCode, StderrTail: nonNil(r.StderrTail), ErrorClass: string(r.Class),
		ErrorLine: r.ErrorLine, KeyLog: r.KeyLog, KeyLogLines: r.KeyLogLines, Flows: []string{}, Connections: []ExecConnectionView{},
		Attribution: AttributionView{Method: string(r.Attribution)},
		Capture:     CaptureView{Interface: r.Wire.Interface, Filter: r.Wire.Filter, Frames: r.Wire.Frames, Notes: nonNil(r.Wire.Notes)}}
	if r.Wire.Err != nil {
		d.Capture.Error = r.Wire.Err.Error()
	}
	if r.Fallback != nil {
		d.Attribution.Fallback = r.Fallback.Error()
	}
	for _, f := range r.Flows {
		d.Flows = append(d.Flows, f.String())
	}
	for _, c := range r.Connections {
		d.Connections = append(d.Connections, ExecConnectionView{Connection: report.NewConnection(c.Result), Correlation: correlationView(c.Correlation)})
	}
	if r.Unseen != nil {
		v := correlationView(*r.Unseen)
		d.Unseen = &v
	}
	return d
}

func correlationView(c Correlation) CorrelationView {
	return CorrelationView{Agreement: string(c.Agreement), Summary: c.Summary, Client: c.Client, Wire: c.Wire,
		Cause: c.Cause, Fix: c.Fix, Notes: nonNil(c.Notes)}
}

// WriteExec writes an exec result as a table or JSON.
func WriteExec(w io.Writer, f report.Format, r *ExecResult) error {
	if f == report.FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(NewExecDocument(r))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Program %s\n", textsafe.Cut(strings.Join(r.Command, " "), textsafe.NameWidth))
	wrapped(&b, "exit status: ", fmt.Sprint(r.ExitCode))
	if r.ErrorLine != "" {
		wrapped(&b, "error: ", fmt.Sprintf("%s (%s)", r.ErrorLine, r.Class))
	}
	keys := fmt.Sprintf("%s: %d secrets written", r.KeyLog, r.KeyLogLines)
	if r.KeyLogLines == 0 {
		keys = r.KeyLog + ": no secrets written (the program does not honour SSLKEYLOGFILE, or no handshake got that far): TLS 1.3 stays encrypted"
	}
	wrapped(&b, "SSLKEYLOGFILE: ", keys)
	how := "exact: the program ran in a cgroup of its own"
	if r.Attribution != attribution.Cgroup {
		how = "sampled from /proc, connections shorter than a sample are missed"
		if r.Fallback != nil {
			how += ": " + r.Fallback.Error()
		}
	}
	wrapped(&b, "flows: ", fmt.Sprintf("%d flow(s) of the program found (%s)", len(r.Flows), how))
	b.WriteString("\nWire")
	if r.Wire.Err == nil {
		fmt.Fprintf(&b, " (%s, %q, %d frames)", textsafe.Text(r.Wire.Interface), r.Wire.Filter, r.Wire.Frames)
	}
	b.WriteString("\n")
	if r.Wire.Err != nil {
		wrapped(&b, "no wire view: ", r.Wire.Err.Error()+" (capturing needs root or CAP_NET_RAW; without it only the program's exit status and error are reported)")
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	b.Reset()
	for _, c := range r.Connections {
		s, err := report.NewStream(w, report.FormatTable, report.Options{CaptureStart: r.Wire.Start})
		if err != nil {
			return err
		}
		if err := s.Connection(c.Result); err != nil {
			return err
		}
		fmt.Fprintf(&b, "   correlation: %s\n", textsafe.Text(string(c.Correlation.Agreement)))
		wrapped(&b, "", c.Correlation.Summary)
		if c.Correlation.Fix != "" && c.Correlation.Fix != c.Result.Verdict.Fix {
			wrapped(&b, "fix: ", c.Correlation.Fix)
		}
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
		b.Reset()
	}
	if c := r.Unseen; c != nil {
		fmt.Fprintf(&b, "\nProgram's error alone\n   correlation: %s\n", textsafe.Text(string(c.Agreement)))
		wrapped(&b, "", c.Summary)
		if c.Cause != "" {
			wrapped(&b, "cause: ", c.Cause)
		}
		if c.Fix != "" {
			wrapped(&b, "fix: ", c.Fix)
		}
	}
	for _, n := range r.Wire.Notes {
		wrapped(&b, "note: ", n)
	}
	_, err := w.Write(b.Bytes())
	return err
}
