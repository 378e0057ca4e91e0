package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zeekCommon are the ssl.log columns tlsdiag and Zeek both fill in, and
// that the baselines do not mask.
var zeekCommon = []string{"version", "cipher", "curve", "server_name", "resumed", "last_alert",
	"next_protocol", "established", "cert_chain_fps", "sni_matches_cert"}

// readZeekTSV reads a Zeek TSV log: its #fields and its rows.
func readZeekTSV(t *testing.T, r io.Reader) []map[string]string {
	t.Helper()
	var fields []string
	var rows []map[string]string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(rest, "\t")
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		vals := strings.Split(line, "\t")
		if len(vals) != len(fields) {
			t.Fatalf("row with %d values for %d fields: %q", len(vals), len(fields), line)
		}
		row := map[string]string{}
		for i, f := range fields {
			row[f] = vals[i]
		}
		rows = append(rows, row)
	}
	return rows
}

func zeekKey(r map[string]string) string {
	return r["id.orig_h"] + ":" + r["id.orig_p"] + " → " + r["id.resp_h"] + ":" + r["id.resp_p"]
}

// zeekKnownDifferences are baseline cells tlsdiag reads differently from
// Zeek, each with the reason; anything else that differs fails the test.
var zeekKnownDifferences = map[string]string{
	// tlsdiag's handshake reassembly flags the Certificate message, sent
	// in many small records, as oversized_handshake_message and does not
	// read it; Zeek reassembles it.
	"scripts.base.protocols.ssl.fragment.ssl.log 192.168.6.86:61454 → 104.236.167.107:4433 cert_chain_fps":   "tlsdiag does not reassemble this fragmented Certificate message",
	"scripts.base.protocols.ssl.fragment.ssl.log 192.168.6.86:61454 → 104.236.167.107:4433 sni_matches_cert": "no certificate read, as above",
	// Chrome's TLS 1.3 experiment version 0x7E01 resumes with a PSK that
	// tlsdiag does not recognise as a resumption under that version.
	"scripts.base.protocols.ssl.tls13-experiment.ssl.log 192.168.0.2:62873 → 104.196.219.53:443 resumed": "PSK resumption under the 0x7E01 experiment version is not recognised",
	// The client's Finished is garbled in the capture, but data flowed
	// both ways after the server's Finished: the handshake completed.
	"scripts.base.protocols.ssl.tls-1.2-late-protocol-error.ssl.log 10.0.0.80:56637 → 68.233.76.12:443 established": "the client's Finished is garbled, but application data flowed both ways after the server's Finished: the handshake completed",
}

// On the captures that come with Zeek's own ssl.log baselines, the columns
// both fill in are equal, row for row (rows matched by the connection's
// addresses and ports). DTLS runs over UDP, which tlsdiag does not read:
// those baselines' rows are listed and left out.
func TestZeekSSLLogMatchesZeekBaselines(t *testing.T) {
	dir := "../testdata/public/zeek"
	index, err := os.ReadFile(filepath.Join(dir, "ssl-log-baselines", "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	compared, cells := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n")[1:] {
		baseline, pcaps, _ := strings.Cut(line, "\t")
		f, err := os.Open(filepath.Join(dir, "ssl-log-baselines", baseline))
		if err != nil {
			t.Fatal(err)
		}
		want := readZeekTSV(t, f)
		f.Close()
		ours := map[string]map[string]string{}
		for _, p := range strings.Fields(pcaps) {
			if strings.HasPrefix(p, "dtls") || p == "webrtc-stun.pcap" {
				t.Logf("%s: %s is DTLS over UDP, not read by tlsdiag", baseline, p)
				continue
			}
			var b bytes.Buffer
			if err := Write(&b, FormatZeek, pipelineResults(t, filepath.Join(dir, p)), Options{}); err != nil {
				t.Fatal(err)
			}
			for _, r := range readZeekTSV(t, &b) {
				ours[zeekKey(r)] = r
			}
		}
		if len(ours) == 0 {
			continue
		}
		for _, w := range want {
			key := zeekKey(w)
			got, ok := ours[key]
			if !ok {
				if reason, known := zeekKnownDifferences[baseline+" "+key]; known {
					t.Logf("%s %s: not in tlsdiag's log: %s", baseline, key, reason)
				} else {
					t.Errorf("%s: Zeek logs %s, tlsdiag does not", baseline, key)
				}
				continue
			}
			compared++
			for _, col := range zeekCommon {
				wv, ok := w[col]
				if !ok {
					continue
				}
				cells++
				if got[col] != wv {
					if reason, known := zeekKnownDifferences[baseline+" "+key+" "+col]; known {
						t.Logf("%s %s %s: Zeek %q, tlsdiag %q: %s", baseline, key, col, wv, got[col], reason)
						continue
					}
					t.Errorf("%s %s %s: Zeek %q, tlsdiag %q", baseline, key, col, wv, got[col])
				}
			}
		}
	}
	if compared < 15 {
		t.Errorf("compared %d connections, want the baselines' (at least 15)", compared)
	}
	t.Logf("%d connections, %d cells compared with Zeek's baselines", compared, cells)
}

// The zeek-json form carries the same values as the TSV form, with Zeek's
// JSON conventions: unset fields left out, times as epoch seconds, sets as
// arrays; and x509.log lists each server certificate once.
func TestZeekJSONAndX509(t *testing.T) {
	rs := pipelineResults(t, "../testdata/public/zeek/tls1.2.pcap")
	files := map[string]*bytes.Buffer{}
	open := func(name string) (io.Writer, error) {
		files[name] = &bytes.Buffer{}
		return files[name], nil
	}
	var tsv bytes.Buffer
	if err := Write(&tsv, FormatZeek, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(io.Discard, FormatZeekJSON, rs, Options{OpenLog: open}); err != nil {
		t.Fatal(err)
	}
	rows := readZeekTSV(t, &tsv)
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(files["ssl.log"].String()), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("ssl.log line %q: %v", l, err)
		}
		objs = append(objs, o)
	}
	if len(objs) != len(rows) || len(rows) == 0 {
		t.Fatalf("%d JSON rows, %d TSV rows", len(objs), len(rows))
	}
	for i, o := range objs {
		for col, v := range rows[i] {
			jv, present := o[col]
			switch {
			case v == "-":
				if present {
					t.Errorf("row %d %s: unset in TSV, %v in JSON", i, col, jv)
				}
			case !present:
				t.Errorf("row %d %s: %q in TSV, missing in JSON", i, col, v)
			case col == "established" || col == "resumed":
				if jv != (v == "T") {
					t.Errorf("row %d %s: TSV %q, JSON %v", i, col, v, jv)
				}
			case col == "version" || col == "cipher" || col == "uid" || col == "community_id":
				if jv != v {
					t.Errorf("row %d %s: TSV %q, JSON %v", i, col, v, jv)
				}
			}
		}
	}
	x := files["x509.log"].String()
	var certs int
	for _, l := range strings.Split(strings.TrimSpace(x), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("x509.log line %q: %v", l, err)
		}
		certs++
		if o["certificate.subject"] == nil || o["fingerprint"] == nil || o["certificate.sig_alg"] == nil {
			t.Errorf("x509 row without subject, fingerprint or sig_alg: %v", o)
		}
	}
	if want := strings.Count(rows[0]["cert_chain_fps"], ",") + 1; certs != want {
		t.Errorf("x509.log has %d certificates, the chain %d", certs, want)
	}
}

func TestZeekStringEscaping(t *testing.T) {
	for _, tc := range []struct {
		in    string
		inSet bool
		want  string
	}{
		{"a\tb", false, `a\x09b`},
		{"a,b", false, "a,b"},
		{"a,b", true, `a\x2cb`},
		{"évil\u202e", false, `\xc3\xa9vil\xe2\x80\xae`},
		{`back\slash`, false, `back\x5cslash`},
		{"-", false, `\x2d`},
		{"(empty)", false, `\x28empty)`},
		{"", false, "(empty)"},
	} {
		if got := zeekString(tc.in, tc.inSet); got != tc.want {
			t.Errorf("zeekString(%q, %v) = %q, want %q", tc.in, tc.inSet, got, tc.want)
		}
	}
}
