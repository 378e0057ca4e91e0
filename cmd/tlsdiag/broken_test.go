package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readBytes runs `tlsdiag read --format csv` on data written to a file
// named name.
func readBytes(t *testing.T, name string, data []byte) (status int, stdout, stderr string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	status = run([]string{"read", "--format", "csv", "--tls-port", "4476", path}, &out, &errOut)
	return status, out.String(), errOut.String()
}

// TestBrokenFiles checks that damaged captures give a clear error naming
// the file (and, where there is one, the frame and byte offset), exit
// status 2, and still report the connections analysed before the damage.
func TestBrokenFiles(t *testing.T) {
	demo, err := os.ReadFile("../../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	withLinkType := bytes.Clone(demo)
	le.PutUint32(withLinkType[20:], 147) // LINKTYPE_USER0
	hugeCaplen := bytes.Clone(demo)
	le.PutUint32(hugeCaplen[24+8:], 0x7fffffff) // the first record's caplen
	tests := []struct {
		name   string
		data   []byte
		stderr []string
	}{
		{"empty", nil, []string{"empty.pcap", "empty file"}},
		{"wrong magic", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []string{"wrong_magic.pcap", "text, not a capture"}},
		{"header cut", demo[:13], []string{"header_cut.pcap"}},
		{"unsupported link type", withLinkType, []string{"unsupported_link_type.pcap", "link type", "147"}},
		{"absurd caplen", hugeCaplen, []string{"absurd_caplen.pcap", "frame 1", "offset 24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, stderr := readBytes(t, strings.ReplaceAll(tt.name, " ", "_")+".pcap", tt.data)
			if status != 2 {
				t.Errorf("exit status %d, want 2; stderr %q", status, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not mention %q", stderr, want)
				}
			}
		})
	}
}

// TestTruncatedAnywhere cuts demo.pcap at many offsets (every record
// boundary region and points inside records): each cut is an error naming
// the frame and offset, never a panic, and every connection that ended
// before the cut is still reported with the verdict it has in the whole
// file.
func TestTruncatedAnywhere(t *testing.T) {
	demo, err := os.ReadFile("../../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	_, full, _ := readBytes(t, "full.pcap", demo)
	fullRows := strings.Split(strings.TrimSpace(full), "\n")
	if len(fullRows) != 7 { // header + six connections
		t.Fatalf("demo.pcap gave %d CSV rows, want 7:\n%s", len(fullRows), full)
	}
	step := 53 // a prime, so cuts fall at every position within records
	if testing.Short() {
		step = 501
	}
	for cut := 24; cut < len(demo); cut += step {
		status, out, stderr := readBytes(t, "cut.pcap", demo[:cut])
		if status == 2 && !strings.Contains(stderr, "offset") {
			t.Errorf("cut at %d: error %q does not name the offset", cut, stderr)
		}
		if status != 2 && stderr != "" {
			t.Errorf("cut at %d (a record boundary) printed %q", cut, stderr)
		}
		// The first connection ends (frame 15) well inside the file: once
		// the cut is past it, its row must be the full file's row.
		if cut > len(demo)/2 && !strings.Contains(out, fullRows[1][strings.Index(fullRows[1], ",127.0.0.1"):]) {
			t.Errorf("cut at %d: the first connection is missing or changed:\n%s", cut, out)
		}
	}
}

// TestCapsAreReported checks that what a memory cap cuts is reported, not
// dropped silently: FoxIO's tls-sni.pcapng holds dozens of concurrent
// connections, and with room for two at a time the others are closed early
// and counted in a note.
func TestCapsAreReported(t *testing.T) {
	const pcap = "../../testdata/public/ja4/tls-sni.pcapng"
	var out, errOut bytes.Buffer
	run([]string{"read", "--max-connections", "2", pcap}, &out, &errOut)
	if !regexp.MustCompile(`note: [0-9]+ connections closed early by the connection cap`).Match(out.Bytes()) {
		t.Errorf("no note about the connection cap in:\n%s", out.String())
	}
	out.Reset()
	run([]string{"read", pcap}, &out, &errOut)
	if strings.Contains(out.String(), "connection cap") {
		t.Errorf("a note about the connection cap without one being hit:\n%s", out.String())
	}
}

// TestReadErrorInReport: the error that stopped reading part way is in the
// report too, as a note, so that a program reading the JSON knows the
// connections are those before it; a file that could not be opened has
// only its error on stderr.
func TestReadErrorInReport(t *testing.T) {
	demo, err := os.ReadFile("../../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, demo[:5000], 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "capture.txt")
	if err := os.WriteFile(text, []byte("12:00:00.000000 IP 10.0.0.1.443 > 10.0.0.2.5000: Flags [S]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path  string
		conns int
		note  string
	}{
		{cut, 2, cut + ": reading stopped at frame 21 (offset 4527): truncated record: caplen 1617, 457 bytes left; the connections seen before it are reported"},
		{text, 0, ""},
	} {
		var out, errOut bytes.Buffer
		if status := run([]string{"read", "--format", "json", tt.path}, &out, &errOut); status != 2 {
			t.Errorf("%s: exit status %d, want 2", tt.path, status)
		}
		var doc struct {
			Connections []json.RawMessage
			Summary     struct{ Notes []string }
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", tt.path, err, out.String())
		}
		if len(doc.Connections) != tt.conns {
			t.Errorf("%s: %d connections, want %d", tt.path, len(doc.Connections), tt.conns)
		}
		switch {
		case tt.note == "" && (len(doc.Summary.Notes) != 0 || !strings.Contains(errOut.String(), text+": text, not a capture")):
			t.Errorf("%s: notes %q, stderr %q; want no note, the error on stderr", tt.path, doc.Summary.Notes, errOut.String())
		case tt.note != "" && (len(doc.Summary.Notes) != 1 || !strings.HasPrefix(doc.Summary.Notes[0], tt.note)):
			t.Errorf("%s: notes %q, want one: %q", tt.path, doc.Summary.Notes, tt.note)
		}
	}
}
