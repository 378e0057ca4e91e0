package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var fixtureCapture = CaptureStats{
	Interface: "eth0", Path: "AF_PACKET TPACKET_V3, fan-out by flow over 2 sockets",
	Received: 1500, Dropped: 7, Sockets: []SocketStats{{Received: 700, Dropped: 0}, {Received: 800, Dropped: 7}},
	Frames: 1493, TCPSegments: 1400, TCPConnections: 40,
}

// streamCapture writes rs in format f through a Stream closed with the
// capture's statistics, as live does.
func streamCapture(t *testing.T, f Format, cs CaptureStats) (string, *Stream) {
	t.Helper()
	var b bytes.Buffer
	s, err := NewStream(&b, f, Options{CaptureStart: captureStart})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fixtures(t) {
		if err := s.Connection(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CloseCapture(fixtureNotes, cs); err != nil {
		t.Fatal(err)
	}
	return b.String(), s
}

// TestNDJSONSummaryLine: closed with the capture's statistics, ndjson
// ends with one summary line that carries the summary of the lines
// before it and the statistics, per socket and in total.
func TestNDJSONSummaryLine(t *testing.T) {
	out, _ := streamCapture(t, FormatNDJSON, fixtureCapture)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	rs := fixtures(t)
	if len(lines) != len(rs)+1 {
		t.Fatalf("%d lines, want %d connections and a summary", len(lines), len(rs))
	}
	for i, l := range lines[:len(rs)] {
		if strings.Contains(l, `"type":"summary"`) {
			t.Errorf("line %d, a connection, reads as a summary: %s", i+1, l)
		}
	}
	var got struct {
		Type string `json:"type"`
		Summary
		Capture CaptureStats `json:"capture"`
	}
	dec := json.NewDecoder(strings.NewReader(lines[len(rs)]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("summary line %s: %v", lines[len(rs)], err)
	}
	want := Summarize(rs)
	want.Notes = fixtureNotes
	if got.Type != "summary" || !reflect.DeepEqual(got.Summary, want) || !reflect.DeepEqual(got.Capture, fixtureCapture) {
		t.Errorf("summary line %s\nwant type summary, %+v, %+v", lines[len(rs)], want, fixtureCapture)
	}
	var generic map[string]any
	json.Unmarshal([]byte(lines[len(rs)]), &generic)
	checkFields(t, "capture", generic["capture"].(map[string]any), map[string][]string{
		"interface": {"string"}, "path": {"string"}, "received": {"number"}, "dropped": {"number"},
		"dropped_by_interface": {"number"}, "sockets": {"array"}, "frames": {"number"},
		"tcp_segments": {"number"}, "tcp_connections": {"number"},
	}, true)

	// Without the statistics (read), no summary line.
	var b bytes.Buffer
	if err := Write(&b, FormatNDJSON, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `"type"`) {
		t.Errorf("ndjson without capture statistics has a summary line:\n%s", b.String())
	}
}

// TestJSONCapture: the capture's statistics are the document's "capture",
// byte for byte what encoding/json makes of the Document; sockets is []
// when none were given.
func TestJSONCapture(t *testing.T) {
	for _, cs := range []CaptureStats{fixtureCapture, {Interface: "lo", Path: "libpcap"}} {
		out, _ := streamCapture(t, FormatJSON, cs)
		rs := fixtures(t)
		doc := Document{Summary: Summarize(rs), Capture: &cs}
		if cs.Sockets == nil {
			cs.Sockets = []SocketStats{}
		}
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
		if out != want.String() {
			t.Errorf("json output is not the indented Document (- want, + got):\n%s", lineDiff(want.String(), out))
		}
		if !strings.Contains(out, `"sockets": [`) {
			t.Errorf("sockets is not a list:\n%s", out[strings.Index(out, `"capture"`):])
		}
	}
}

// TestStreamSummary: after Close a Stream says the summary it wrote, for
// the formats that have no place for it.
func TestStreamSummary(t *testing.T) {
	_, s := streamCapture(t, FormatCSV, fixtureCapture)
	want := Summarize(fixtures(t))
	want.Notes = fixtureNotes
	if got := s.Summary(); !reflect.DeepEqual(got, want) {
		t.Errorf("Summary() = %+v, want %+v", got, want)
	}
}
