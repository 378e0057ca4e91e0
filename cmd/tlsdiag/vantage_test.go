package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReadVantage runs read --vantage on the lab's SNI filter captured at
// the client and at the server at once: without --tls-port (the port of
// the dropped hello carries TLS only in the client's capture), the two
// connections pair by addresses and ISN, the dropped one with hello_lost;
// exit status 1 because something was lost between the two points. The
// text names the captures; a bad combination of flags is a usage error.
func TestReadVantage(t *testing.T) {
	const a, b = "../../testdata/vantage/sni_filter_client.pcap", "../../testdata/vantage/sni_filter_server.pcap"
	var stdout, stderr bytes.Buffer
	if status := run([]string{"read", "--vantage", "--format", "json", a, b}, &stdout, &stderr); status != 1 {
		t.Fatalf("exit status %d, want 1: %s", status, stderr.String())
	}
	var doc struct {
		Captures   struct{ A, B string }
		ClientSide string `json:"client_side"`
		Pairs      []struct {
			A, B *struct {
				Connection int
				Server     string
				SNI        string
				Verdict    string
			}
			Match       string
			Differences []struct {
				Kind    string
				AFrames []int64 `json:"a_frames"`
				BFrames []int64 `json:"b_frames"`
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if doc.Captures.A != a || doc.Captures.B != b || doc.ClientSide != "a" || len(doc.Pairs) != 2 {
		t.Fatalf("document: %s", stdout.String())
	}
	p := doc.Pairs[0]
	if p.A == nil || p.B == nil || p.Match != "same_connection" || p.A.SNI != "good.test" || p.B.Verdict != "middlebox_drop" ||
		len(p.Differences) != 1 || p.Differences[0].Kind != "hello_lost" || len(p.Differences[0].AFrames) == 0 {
		t.Errorf("first pair: %+v", p)
	}
	if q := doc.Pairs[1]; q.Match != "same_connection" || len(q.Differences) != 0 {
		t.Errorf("second pair: %+v", q)
	}

	stdout.Reset()
	if status := run([]string{"read", "--vantage", a, b}, &stdout, &stderr); status != 1 ||
		!strings.Contains(stdout.String(), "A: "+a+" (nearer the client)") || !strings.Contains(stdout.String(), "hello_lost: the ClientHello for 'good.test'") {
		t.Errorf("text (status %d):\n%s", status, stdout.String())
	}
	for _, args := range [][]string{
		{"read", "--vantage", a},
		{"read", "--vantage", a, a},
		{"read", "--vantage", "--format", "csv", a, b},
		{"read", "--vantage", "--failed", a, b},
	} {
		stderr.Reset()
		if status := run(args, &stdout, &stderr); status != 2 || !strings.Contains(stderr.String(), "vantage") {
			t.Errorf("%q: status %d, stderr %s", args, status, stderr.String())
		}
	}
}
