package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/webtest"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// mermaidDir holds Mermaid's parser (package.json, installed by npm ci)
// and check.mjs, which runs it.
const mermaidDir = "testdata/mermaid"

// parsedDiagram is what Mermaid read of one diagram.
type parsedDiagram struct {
	Error  string `json:"error"`
	Type   string `json:"type"`
	Actors []struct {
		Name, Alias string
	} `json:"actors"`
	Messages []struct {
		From, To, Text string
		Type           int
	} `json:"messages"`
}

// parseMermaid has Mermaid's own parser read each diagram.
func parseMermaid(t *testing.T, diagrams []string) []parsedDiagram {
	t.Helper()
	node := webtest.Mermaid(t, mermaidDir, "the mermaid format is checked with Mermaid's parser")
	in, err := json.Marshal(diagrams)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "check.mjs")
	cmd.Dir = mermaidDir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node check.mjs: %v: %s", err, stderr.String())
	}
	var parsed []parsedDiagram
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatalf("node check.mjs: %v: %s", err, out)
	}
	if len(parsed) != len(diagrams) {
		t.Fatalf("node check.mjs read %d diagrams of %d", len(parsed), len(diagrams))
	}
	return parsed
}

var mermaidBlock = regexp.MustCompile("(?s)```mermaid\n(.*?)```\n")

// mermaidBlocks returns the diagrams of a mermaid format output.
func mermaidBlocks(s string) []string {
	var out []string
	for _, m := range mermaidBlock.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// hostileText is network text meant to break out of a Mermaid message:
// a statement end, an entity, a comment, arrows, a note, HTML, quotes, a
// line break and a directive.
const hostileText = `a;b #35; c%%d -->> e ->> f --x g "q" 'r' <b>bold</b><br/>&amp; end
Note over C,S: injected` + "\r\n%%{init: {\"theme\":\"dark\"}}%% `x` | y \\ z"

// hostileResult is a connection whose server name, plaintext answer,
// verdict and fix carry hostileText.
func hostileResult() pipeline.Result { return hostileWith(hostileText) }

// hostileWith is a connection whose server name, plaintext answer,
// verdict, fix, warning and file name carry hostileText.
func hostileWith(hostileText string) pipeline.Result {
	c := &analysis.Connection{
		Client: netip.MustParseAddrPort("192.0.2.1:40000"), Server: netip.MustParseAddrPort("[2001:db8::1]:443"),
		First: fr(1, 0), Last: fr(4, 900),
		ClientHello: &tlsparse.ClientHello{ServerName: hostileText},
		Trace: []analysis.TraceFrame{
			traceFrame(fr(2, 100), c2s, analysis.TraceItem{Kind: tlsparse.KindHandshake, Handshake: tlsparse.HandshakeTypeClientHello, SNI: hostileText}),
			traceFrame(fr(3, 400), s2c, analysis.TraceItem{Kind: tlsparse.KindNonTLS, NonTLS: hostileText}),
		},
	}
	c.TCP.FIN[capture.ServerToClient] = fr(4, 900)
	return pipeline.Result{Conn: c, Source: hostileText, Verdict: diagnose.Verdict{
		Category: diagnose.NotTLSServer, Summary: hostileText, Evidence: []int64{2, 3}, Fix: hostileText,
		Warnings: []string{hostileText},
	}}
}

// TestMermaidParses has Mermaid's parser read the mermaid format of the
// fixtures, of a connection whose every network text is hostile, and of
// every lab capture's golden: each must be one sequence diagram with the
// two participants, every message must read back exactly as the ladder
// labels it (entities decoded), and no text may have become a statement.
func TestMermaidParses(t *testing.T) {
	rs := append(fixtures(t), hostileResult())
	var b bytes.Buffer
	if err := Write(&b, FormatMermaid, rs, Options{CaptureStart: captureStart}); err != nil {
		t.Fatal(err)
	}
	diagrams := mermaidBlocks(b.String())
	if len(diagrams) != len(rs) {
		t.Fatalf("%d diagrams for %d connections:\n%s", len(diagrams), len(rs), b.String())
	}
	goldens, _ := filepath.Glob("../cmd/tlsdiag/testdata/golden/*.mermaid.golden")
	if len(goldens) == 0 {
		t.Fatal("no mermaid goldens in ../cmd/tlsdiag/testdata/golden")
	}
	for _, g := range goldens {
		s, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		diagrams = append(diagrams, mermaidBlocks(string(s))...)
	}
	parsed := parseMermaid(t, diagrams)
	sorted := append([]pipeline.Result(nil), rs...)
	SortResults(sorted)
	for i, p := range parsed {
		if p.Error != "" || p.Type != "sequence" {
			t.Errorf("diagram %d: Mermaid: %q (type %q):\n%s", i, p.Error, p.Type, diagrams[i])
			continue
		}
		if len(p.Actors) != 2 || p.Actors[0].Name != "C" || p.Actors[1].Name != "S" ||
			!strings.HasPrefix(p.Actors[0].Alias, "client ") || !strings.HasPrefix(p.Actors[1].Alias, "server ") {
			t.Errorf("diagram %d: participants %+v, want C (client …) and S (server …)", i, p.Actors)
		}
		for _, m := range p.Messages {
			if (m.From != "C" && m.From != "S") || (m.To != "C" && m.To != "S") {
				t.Errorf("diagram %d: message %+v between unknown participants", i, m)
			}
		}
		if i >= len(sorted) {
			continue
		}
		// The connections written here: each arrow and note must read
		// back as the text it was written from.
		r := sorted[i]
		var want []string
		for _, s := range ladderSteps(r) {
			want = append(want, clean(s.info))
		}
		var got []string
		for _, m := range p.Messages {
			got = append(got, m.Text)
		}
		if len(got) < len(want) {
			t.Errorf("diagram %d: %d messages, want at least %d: %q", i, len(got), len(want), got)
			continue
		}
		for j, w := range want {
			if w := strings.Join(strings.Fields(w), " "); got[j] != w && !strings.HasSuffix(got[j], " "+w) {
				t.Errorf("diagram %d message %d: Mermaid read %q, want it to end with %q", i, j, got[j], w)
			}
		}
		notes := strings.Join(got[len(want):], " ")
		notes = strings.Join(strings.Fields(strings.ReplaceAll(notes, "<br/>", " ")), " ")
		if sum := strings.Join(strings.Fields(strings.ReplaceAll(clean(r.Verdict.Summary), "<br/>", " ")), " "); !strings.Contains(notes, sum) {
			t.Errorf("diagram %d: the notes %q do not carry the verdict %q", i, notes, sum)
		}
	}
}
