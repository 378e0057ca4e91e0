package report

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/vantage"
)

func collectFile(t *testing.T, path string) []pipeline.Result {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := pipeline.Config{}
	cfg.Analysis.TLSPorts = []uint16{4502, 4503}
	rs, _, err := pipeline.Collect(context.Background(), src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestWriteVantage writes the alignment of the lab's SNI filter, captured
// at the client and at the server, in every format --vantage takes: the
// JSON has the documented fields, the text and Markdown say the same, a
// server name with terminal escapes is shown escaped, and a format it
// does not take is an error.
func TestWriteVantage(t *testing.T) {
	a := collectFile(t, "../testdata/vantage/sni_filter_client.pcap")
	b := collectFile(t, "../testdata/vantage/sni_filter_server.pcap")
	// A hostile name, as a client could send it.
	a[1].Conn.ClientHello.ServerName = "evil\x1b[2J.test"
	r := VantageReport{Names: [2]string{"client.pcap", "server.pcap"}, Results: [2][]pipeline.Result{a, b}}
	var ca, cb []*analysis.Connection
	for _, x := range a {
		ca = append(ca, x.Conn)
	}
	for _, x := range b {
		cb = append(cb, x.Conn)
	}
	r.Alignment = vantage.Align(ca, cb)

	var out bytes.Buffer
	if err := WriteVantage(&out, FormatJSON, r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"captures", "client_side", "client_side_basis", "clock_offset_ms", "pairs"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	pairs := doc["pairs"].([]any)
	first := pairs[0].(map[string]any)
	for _, k := range []string{"a", "b", "match", "differences"} {
		if _, ok := first[k]; !ok {
			t.Errorf("pair lacks %q", k)
		}
	}
	d := first["differences"].([]any)[0].(map[string]any)
	if d["kind"] != "hello_lost" || d["a_frames"] == nil || d["b_frames"] == nil || d["summary"] == "" {
		t.Errorf("difference %v", d)
	}
	for _, f := range []Format{FormatTable, FormatMarkdown} {
		out.Reset()
		if err := WriteVantage(&out, f, r); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if !strings.Contains(s, "hello_lost") || !strings.Contains(s, "same_connection") || !strings.Contains(s, "client.pcap") {
			t.Errorf("%s:\n%s", f, s)
		}
		if strings.Contains(s, "\x1b") {
			t.Errorf("%s writes a terminal escape from the network:\n%q", f, s)
		}
	}
	if err := WriteVantage(&out, FormatCSV, r); err == nil {
		t.Error("csv: no error")
	}
}
