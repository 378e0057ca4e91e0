package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

var update = flag.Bool("update", false, "update .golden files")

// checkGolden compares got with testdata/name.golden, or rewrites the file
// with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (- golden, + got):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff is a minimal line diff (longest common subsequence), enough to
// see what changed in a golden file.
func lineDiff(a, b string) string {
	x, y := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + strings.TrimSuffix(y[j], "\n") + "\n")
			j++
		default:
			out.WriteString("- " + strings.TrimSuffix(x[i], "\n") + "\n")
			i++
		}
	}
	return out.String()
}

var fixtureNotes = []string{"2 connections dropped by the connection cap (--max-connections 10000)"}

func TestGolden(t *testing.T) {
	rs := fixtures(t)
	// Write sorts: give it the results backwards.
	slices.Reverse(rs)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, f, rs, Options{CaptureStart: captureStart, Notes: fixtureNotes}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, string(f), b.Bytes())
		})
	}
}

// TestGoldenStream checks the streaming table format (one block per
// connection) and that every other format streams exactly as Write
// writes.
func TestGoldenStream(t *testing.T) {
	rs := fixtures(t)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var written bytes.Buffer
			streamed := streamAll(t, f, rs, Options{CaptureStart: captureStart})
			if f == FormatTable || f == FormatWide {
				checkGolden(t, string(f)+"-stream", streamed.Bytes())
				return
			}
			if err := Write(&written, f, rs, Options{CaptureStart: captureStart, Notes: fixtureNotes}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(streamed.Bytes(), written.Bytes()) {
				t.Errorf("streamed output differs from Write's (- Write, + Stream):\n%s", lineDiff(written.String(), streamed.String()))
			}
		})
	}
}

// streamAll writes rs through a Stream of format f with opts, closed with
// the fixtures' notes.
func streamAll(t *testing.T, f Format, rs []pipeline.Result, opts Options) *bytes.Buffer {
	t.Helper()
	var streamed bytes.Buffer
	s, err := NewStream(&streamed, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := s.Connection(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(fixtureNotes); err != nil {
		t.Fatal(err)
	}
	return &streamed
}

// TestWriteManyConnections checks that Write, which encodes chunks of
// connections ahead on every core into pages it reuses, writes what a
// Stream given them one by one does, over enough connections to fill
// several pages and chunks.
func TestWriteManyConnections(t *testing.T) {
	var rs []pipeline.Result
	for len(rs) < 3*aheadChunk {
		rs = append(rs, fixtures(t)...)
	}
	SortResults(rs) // the order Write writes them in
	for _, f := range []Format{FormatJSON, FormatNDJSON} {
		t.Run(string(f), func(t *testing.T) {
			var written bytes.Buffer
			streamed := streamAll(t, f, rs, Options{CaptureStart: captureStart})
			if err := Write(&written, f, rs, Options{CaptureStart: captureStart, Notes: fixtureNotes}); err != nil {
				t.Fatal(err)
			}
			w, st := written.Bytes(), streamed.Bytes()
			if i := firstDifference(w, st); i >= 0 {
				t.Errorf("streamed output differs from Write's at byte %d:\nWrite:  %q\nStream: %q", i, w[max(i-100, 0):min(i+100, len(w))], st[max(i-100, 0):min(i+100, len(st))])
			}
		})
	}
}

// firstDifference returns the index of the first byte in which a and b
// differ, -1 if they are equal.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func TestEmpty(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, f, nil, Options{}); err != nil {
				t.Fatal(err)
			}
			switch f {
			case FormatJSON:
				var doc Document
				if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
					t.Fatalf("%v\n%s", err, b.String())
				}
				if doc.Connections == nil || len(doc.Connections) != 0 || doc.Summary.Connections != 0 {
					t.Errorf("empty document = %+v", doc)
				}
				if !strings.Contains(b.String(), `"connections": []`) {
					t.Errorf("empty connections not written as []:\n%s", b.String())
				}
			case FormatZeek:
				if !strings.HasPrefix(b.String(), "#separator \\x09\n") || !strings.Contains(b.String(), "\n#fields\tts\tuid\t") || strings.Count(b.String(), "\n#") != strings.Count(b.String(), "\n")-1 {
					t.Errorf("zeek of nothing = %q, want the header lines alone", b.String())
				}
			case FormatNDJSON, FormatECS, FormatZeekJSON:
				if b.Len() != 0 {
					t.Errorf("ndjson of nothing = %q, want nothing", b.String())
				}
			case FormatCSV:
				if got, want := b.String(), strings.Join(csvHeader, ",")+"\n"; got != want {
					t.Errorf("csv of nothing = %q, want the header %q", got, want)
				}
			default:
				if !strings.Contains(b.String(), "0 connections, 0 failed") {
					t.Errorf("%s of nothing lacks the summary line:\n%s", f, b.String())
				}
			}
		})
	}
}

// TestJSONFields decodes the json output generically and checks that every
// documented field is there, with the documented JSON type, in every
// connection, and that lists are never null.
func TestJSONFields(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, FormatJSON, fixtures(t), Options{CaptureStart: captureStart}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 2 {
		t.Errorf("document keys = %v, want connections and summary", keys(doc))
	}
	conns, ok := doc["connections"].([]any)
	if !ok || len(conns) != 6 {
		t.Fatalf("connections = %T of %d, want 6 objects", doc["connections"], len(conns))
	}
	const (
		str = "string"
		num = "number"
		bol = "bool"
		arr = "array"
		obj = "object"
		nul = "null"
	)
	connFields := map[string][]string{
		"client": {str}, "server": {str}, "community_id": {str}, "first_frame": {num}, "last_frame": {num}, "start": {str},
		"handshake_ms": {num, nul}, "sni": {str}, "offered_versions": {arr}, "offered_ciphers": {arr},
		"alpn_offered": {arr}, "version": {str}, "cipher": {str}, "group": {str}, "alpn": {str},
		"hello_retry": {bol}, "resumed": {bol}, "certificates": {arr}, "alerts": {arr},
		"established": {bol}, "decrypted": {bol}, "decryption": {str}, "decryption_reason": {str},
		"decrypted_messages": {arr}, "app_data_head": {obj}, "client_cert_requested": {bol}, "app_bytes": {obj}, "after_handshake": {obj, nul}, "non_tls": {obj},
		"tcp": {obj}, "partial": {bol}, "ja3": {str}, "ja3s": {str}, "ja4": {str}, "ja4_r": {str}, "anomalies": {arr}, "verdict": {obj},
	}
	nested := map[string]map[string][]string{
		"app_bytes":     {"client": {num}, "server": {num}},
		"non_tls":       {"client": {str}, "server": {str}},
		"app_data_head": {"client": {str}, "server": {str}},
		"tcp": {"syn": {num, nul}, "syn_count": {num}, "syn_ack": {num, nul}, "rst": {obj, nul},
			"fin": {arr}, "gaps": {arr}, "retransmissions": {num}, "close": {str}},
		"verdict": {"category": {str}, "summary": {str}, "evidence_frames": {arr}, "fix": {str}, "warnings": {arr}},
	}
	listItems := map[string]map[string][]string{
		"certificates": {"subject": {str}, "issuer": {str}, "sans": {arr}, "not_before": {str}, "not_after": {str},
			"key": {str}, "signature_algorithm": {str}, "sha256": {str}, "self_signed": {bol}},
		"alerts": {"frame": {num}, "sender": {str}, "level": {str}, "description": {str}, "encrypted": {bol}, "decrypted": {bol}},
	}
	seenItems := map[string]bool{}
	for i, c := range conns {
		conn := c.(map[string]any)
		checkFields(t, "connections["+itoa(i)+"]", conn, connFields, true)
		for name, fields := range nested {
			checkFields(t, "connections["+itoa(i)+"]."+name, conn[name].(map[string]any), fields, true)
		}
		for name, fields := range listItems {
			for j, it := range conn[name].([]any) {
				seenItems[name] = true
				checkFields(t, "connections["+itoa(i)+"]."+name+"["+itoa(j)+"]", it.(map[string]any), fields, true)
			}
		}
		if ah, ok := conn["after_handshake"].(map[string]any); ok {
			seenItems["after_handshake"] = true
			checkFields(t, "connections["+itoa(i)+"].after_handshake", ah, map[string][]string{
				"request_frame": {num, nul}, "response_frame": {num, nul}, "time_to_first_byte_ms": {num, nul},
				"server_records_before_request": {num}, "session_tickets_after_request": {num},
				"request_line": {str}, "response_line": {str}}, true)
		}
		tcp := conn["tcp"].(map[string]any)
		if rst, ok := tcp["rst"].(map[string]any); ok {
			seenItems["rst"] = true
			checkFields(t, "connections["+itoa(i)+"].tcp.rst", rst, map[string][]string{"frame": {num}, "sender": {str}}, true)
		}
		if text, ok := tcp["rst_text"]; ok {
			if s, isStr := text.(string); !isStr || s == "" || tcp["rst"] == nil {
				t.Errorf("connections[%d].tcp.rst_text is %#v with rst %#v: want it only beside a reset, and text", i, text, tcp["rst"])
			}
		}
		for _, f := range tcp["fin"].([]any) {
			seenItems["fin"] = true
			checkFields(t, "connections["+itoa(i)+"].tcp.fin[]", f.(map[string]any), map[string][]string{"frame": {num}, "sender": {str}}, true)
		}
		for _, g := range tcp["gaps"].([]any) {
			seenItems["gaps"] = true
			checkFields(t, "connections["+itoa(i)+"].tcp.gaps[]", g.(map[string]any),
				map[string][]string{"sender": {str}, "offset": {num}, "bytes": {num}, "frame": {num}}, true)
		}
	}
	for _, name := range []string{"certificates", "alerts", "rst", "fin", "gaps", "after_handshake"} {
		if !seenItems[name] {
			t.Errorf("the fixtures have no %s: its fields went unchecked", name)
		}
	}
	sum := doc["summary"].(map[string]any)
	checkFields(t, "summary", sum, map[string][]string{
		"connections": {num}, "failed": {num}, "verdicts": {arr}, "versions": {arr}, "ciphers": {arr},
		"version_matrix": {arr}, "failed_by_ja4": {arr}, "notes": {arr},
	}, true)
	for _, m := range sum["version_matrix"].([]any) {
		checkFields(t, "summary.version_matrix[]", m.(map[string]any),
			map[string][]string{"offered": {str}, "negotiated": {str}, "count": {num}}, true)
	}
	for _, list := range []string{"verdicts", "versions", "ciphers"} {
		for _, c := range sum[list].([]any) {
			checkFields(t, "summary."+list+"[]", c.(map[string]any), map[string][]string{"name": {str}, "count": {num}}, true)
		}
	}

	// source appears when set, and only then.
	if _, ok := conns[0].(map[string]any)["source"]; ok {
		t.Error("source written although no result has one")
	}
	rs := fixtures(t)[:1]
	rs[0].Source = "a.pcap"
	b.Reset()
	if err := Write(&b, FormatNDJSON, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"source":"a.pcap"`) {
		t.Errorf("source missing from %s", b.String())
	}
}

func checkFields(t *testing.T, where string, got map[string]any, want map[string][]string, exact bool) {
	t.Helper()
	for name, types := range want {
		v, ok := got[name]
		if !ok {
			t.Errorf("%s: field %q missing", where, name)
			continue
		}
		if !slices.Contains(types, jsonType(v)) {
			t.Errorf("%s.%s is %s, want %s", where, name, jsonType(v), strings.Join(types, " or "))
		}
	}
	if exact {
		for name := range got {
			if _, ok := want[name]; !ok && name != "source" && name != "parse_error" {
				t.Errorf("%s: undocumented field %q", where, name)
			}
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestJSONIsOneDocument checks that the json format, written in pieces, is
// what encoding/json makes of the same Document.
func TestJSONIsOneDocument(t *testing.T) {
	rs := fixtures(t)
	var b bytes.Buffer
	if err := Write(&b, FormatJSON, rs, Options{Notes: fixtureNotes}); err != nil {
		t.Fatal(err)
	}
	doc := Document{Summary: Summarize(rs)}
	doc.Summary.Notes = fixtureNotes
	for _, r := range rs {
		doc.Connections = append(doc.Connections, NewConnection(r))
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	if b.String() != want.String() {
		t.Errorf("json output is not the indented Document (- want, + got):\n%s", lineDiff(want.String(), b.String()))
	}
}

func TestNDJSON(t *testing.T) {
	rs := fixtures(t)
	var b bytes.Buffer
	if err := Write(&b, FormatNDJSON, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(rs) {
		t.Fatalf("%d lines, want %d", len(lines), len(rs))
	}
	for i, l := range lines {
		var c Connection
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		if dec.More() {
			t.Errorf("line %d holds more than one value", i+1)
		}
		if want := rs[i].Conn.Client.String(); c.Client != want {
			t.Errorf("line %d: client %q, want %q", i+1, c.Client, want)
		}
	}
}

func TestCSV(t *testing.T) {
	rs := fixtures(t)
	var b bytes.Buffer
	if err := Write(&b, FormatCSV, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != len(rs)+1 {
		t.Fatalf("%d records, want header and %d rows", len(records), len(rs))
	}
	if !slices.Equal(records[0], csvHeader) {
		t.Errorf("header = %q", records[0])
	}
	row := records[2] // the expired certificate
	col := func(name string) string { return row[slices.Index(csvHeader, name)] }
	if col("verdict") != "cert_expired" || col("evidence_frames") != "25 27" || col("cipher") != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" {
		t.Errorf("row 2 = %q", row)
	}
}

func TestMultiSourceColumn(t *testing.T) {
	rs := fixtures(t)[:2]
	rs[0].Source, rs[1].Source = "a.pcap", "b.pcap"
	for _, f := range []Format{FormatTable, FormatWide, FormatMarkdown} {
		var b bytes.Buffer
		if err := Write(&b, f, rs, Options{}); err != nil {
			t.Fatal(err)
		}
		if f == FormatTable {
			// The table format heads each file's lines with its name.
			if !strings.Contains(b.String(), "\nfile a.pcap\n") || !strings.Contains(b.String(), "\nfile b.pcap\n") {
				t.Errorf("table of two files does not name them:\n%s", b.String())
			}
			b.Reset()
			if err := Write(&b, f, rs[:1], Options{}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "\nfile ") {
				t.Errorf("table of one file names it:\n%s", b.String())
			}
			continue
		}
		if !strings.Contains(b.String(), "File") || !strings.Contains(b.String(), "b.pcap") {
			t.Errorf("%s of two files lacks the file column:\n%s", f, b.String())
		}
		b.Reset()
		if err := Write(&b, f, rs[:1], Options{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "File") {
			t.Errorf("%s of one file has a file column:\n%s", f, b.String())
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		got, err := ParseFormat(strings.ToUpper(string(f)))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", strings.ToUpper(string(f)), got, err)
		}
	}
	_, err := ParseFormat("yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) || !strings.Contains(err.Error(), "table, wide, json, ndjson, csv, markdown, trace") {
		t.Errorf("ParseFormat(yaml) error = %v", err)
	}
}

func TestStreamMisuse(t *testing.T) {
	var b bytes.Buffer
	if _, err := NewStream(&b, "yaml", Options{}); err == nil {
		t.Error("NewStream accepted an unknown format")
	}
	s, err := NewStream(&b, FormatNDJSON, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connection(pipeline.Result{}); err == nil {
		t.Error("Connection accepted a result without a connection")
	}
	if err := s.Close(nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Connection(fixtures(t)[0]); err == nil {
		t.Error("Connection after Close succeeded")
	}
	if err := s.Close(nil); err == nil {
		t.Error("second Close succeeded")
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteError(t *testing.T) {
	for _, f := range Formats {
		if err := Write(errWriter{}, f, fixtures(t), Options{}); err == nil {
			t.Errorf("%s: Write to a failing writer returned no error", f)
		}
	}
}

func TestAlertOutput(t *testing.T) {
	r := fixtures(t)[0]
	c := *r.Conn
	c.Decrypted = true
	c.Alerts = []analysis.Alert{
		{Frame: fr(12, 0), Sender: c2s, Encrypted: true},
		{Frame: fr(13, 0), Sender: s2c, Encrypted: true, Decrypted: true, Level: tlsparse.AlertLevelFatal, Description: tlsparse.AlertCertificateRequired},
		{Frame: fr(14, 0), Sender: c2s, Level: tlsparse.AlertLevelWarning, Description: tlsparse.AlertCloseNotify},
	}
	r.Conn = &c
	got := NewConnection(r).Alerts
	want := []Alert{
		{Frame: 12, Sender: "client", Encrypted: true},
		{Frame: 13, Sender: "server", Level: "fatal", Description: "certificate_required", Encrypted: true, Decrypted: true},
		{Frame: 14, Sender: "client", Level: "warning", Description: "close_notify"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts = %+v\nwant %+v", got, want)
	}
	if !NewConnection(r).Decrypted {
		t.Error("decrypted not set")
	}
}

func TestTraceSource(t *testing.T) {
	rs := fixtures(t)[:2]
	rs[0].Source, rs[1].Source = "a.pcap", "a.pcap"
	var b bytes.Buffer
	if err := Write(&b, FormatTrace, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "a.pcap") {
		t.Errorf("trace of one file names it:\n%s", b.String())
	}
	rs[1].Source = "b.pcap"
	b.Reset()
	if err := Write(&b, FormatTrace, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "(a.pcap)") || !strings.Contains(b.String(), "(b.pcap)") {
		t.Errorf("trace of two files does not name them:\n%s", b.String())
	}
}

// TestGoldenWidths checks the table format fitted to 80 and 120 columns,
// and in colour, for Write and for a Stream, and that no line passes the
// width.
func TestGoldenWidths(t *testing.T) {
	rs := fixtures(t)
	for _, tt := range []struct {
		name  string
		opts  Options
		width int
	}{
		{"table-80", Options{Width: 80}, 80},
		{"table-120", Options{Width: 120}, 120},
		{"table-80-color", Options{Width: 80, Color: true}, 80},
		{"table-40", Options{Width: 40}, 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.CaptureStart, opts.Notes = captureStart, fixtureNotes
			var written bytes.Buffer
			if err := Write(&written, FormatTable, rs, opts); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, written.Bytes())
			streamed := streamAll(t, FormatTable, rs, opts)
			checkGolden(t, tt.name+"-stream", streamed.Bytes())
			for _, out := range []string{written.String(), streamed.String()} {
				plain := strings.NewReplacer("\x1b[31m", "", "\x1b[32m", "", "\x1b[33m", "", "\x1b[0m", "").Replace(out)
				if opts.Color == (plain == out) {
					t.Errorf("colour %v, escapes present %v", opts.Color, plain != out)
				}
				for i, line := range strings.Split(plain, "\n") {
					if w := width(line); w > tt.width {
						t.Errorf("line %d is %d wide: %q", i+1, w, line)
					}
				}
			}
		})
	}
}

func TestWrapFit(t *testing.T) {
	for _, tt := range []struct {
		text string
		w    int
		want []string
	}{
		{"", 10, []string{""}},
		{"one two three", 7, []string{"one two", "three"}},
		{"a supercalifragilistic word", 6, []string{"a", "superc", "alifra", "gilist", "ic", "word"}},
		{"one  two", 0, []string{"one two"}},
		{"界界界 x", 4, []string{"界界", "界 x"}},
		// A line of zero-width characters only gives way to the next word.
		{"\u200b x yz", 4, []string{"x yz"}},
		// Text already on one line is kept; any other space is one space.
		{"TLS 1.3 in 27 µs → ok", 0, []string{"TLS 1.3 in 27 µs → ok"}},
		{" a\tb\u00a0c\u3000d ", 0, []string{"a b c d"}},
		{"a b ", -1, []string{"a b"}},
	} {
		if got := wrapFit(tt.text, tt.w); !slices.Equal(got, tt.want) {
			t.Errorf("wrapFit(%q, %d) = %q, want %q", tt.text, tt.w, got, tt.want)
		}
	}
}

func TestFitEndpoints(t *testing.T) {
	for _, tt := range []struct {
		w    int
		want string
	}{
		{0, "192.0.2.10:50001 → 198.51.100.5:443"},
		{35, "192.0.2.10:50001 → 198.51.100.5:443"},
		{34, "…:50001 → 198.51.100.5:443"},
		{20, "… → 198.51.100.5:443"},
		{12, "… → …0.5:443"},
	} {
		if got := fitEndpoints("192.0.2.10:50001", "198.51.100.5:443", tt.w); got != tt.want || tt.w > 0 && width(got) > tt.w {
			t.Errorf("fitEndpoints at %d = %q, want %q", tt.w, got, tt.want)
		}
	}
}
