package diagnose

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestFieldResumeCaptures runs the captures of resumed and otherwise
// unusual handshakes (testdata/field/resume, see its README): TLS 1.2
// session-ID and ticket resumption, TLS 1.3 PSK, tickets refused,
// HelloRetryRequest, 0-RTT and renegotiation, from Go, curl, openssl,
// gnutls-cli and Chromium against nginx, openssl s_server and Go. Each row
// names the capture, the server port, the category the verdict must have,
// one connection to the port (its place among them, from 1, or * for
// all), whether the record must say it was resumed (yes/no), a phrase of
// the summary or a warning (with a leading ^, the summary's beginning)
// and optionally a phrase of the fix. The connections are judged together, as `read` does
// (All): a resumed connection may be explained by an earlier one.
// expected-keylog.tsv lists the same captures read with their key logs.
func TestFieldResumeCaptures(t *testing.T) {
	dir := testdataDir + "/field/resume"
	checkResumeRows(t, dir, "expected.tsv", false)
	checkResumeRows(t, dir, "expected-keylog.tsv", true)
}

func checkResumeRows(t *testing.T, dir, list string, withKeys bool) {
	data, err := os.ReadFile(filepath.Join(dir, list))
	if err != nil {
		t.Fatal(err)
	}
	roots := rootsFile(t, filepath.Join(dir, "root.pem"))
	rows := 0
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 && len(f) != 7 {
			t.Fatalf("%s:%d: want 6 or 7 tab-separated fields, got %q", list, n+1, line)
		}
		port, err := strconv.ParseUint(f[1], 10, 16)
		if err != nil {
			t.Fatalf("%s:%d: %v", list, n+1, err)
		}
		// Columns: capture, port, category (third, as in every field
		// list: fieldCategories), connection, resumed, phrase, [fix].
		f = []string{f[0], f[1], f[3], f[4], f[2], f[5], f[len(f)-1]}[:len(f)]
		nth := 0
		if f[2] != "*" {
			if nth, err = strconv.Atoi(f[2]); err != nil || nth < 1 {
				t.Fatalf("%s:%d: connection %q: a number from 1, or *", list, n+1, f[2])
			}
		}
		if f[3] != "yes" && f[3] != "no" {
			t.Fatalf("%s:%d: resumed %q: yes or no", list, n+1, f[3])
		}
		rows++
		t.Run(f[0]+"#"+f[2], func(t *testing.T) {
			path := filepath.Join(dir, f[0])
			opts := analysis.Options{TLSPorts: []uint16{uint16(port)}}
			if withKeys {
				opts.KeyLog = readKeyLog(t, strings.TrimSuffix(path, filepath.Ext(path))+".keylog")
			}
			conns := analyseCaptureWith(t, path, opts)
			vs := All(conns, Config{Roots: roots}, 1)
			seen, got := 0, 0
			for i, c := range conns {
				if c.Server.Port() != uint16(port) {
					continue
				}
				seen++
				if nth != 0 && seen != nth {
					continue
				}
				got++
				v := vs[i]
				if c.Resumed != (f[3] == "yes") {
					t.Errorf("%s → %s: resumed %v, want %s", c.Client, c.Server, c.Resumed, f[3])
				}
				said := v.Summary + "\n" + strings.Join(v.Warnings, "\n")
				phrase, atStart := strings.CutPrefix(f[5], "^")
				if string(v.Category) != f[4] || !strings.Contains(said, phrase) || atStart && !strings.HasPrefix(v.Summary, phrase) {
					t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, said, f[4], f[5])
				}
				if len(f) == 7 && !strings.Contains(v.Fix, f[6]) {
					t.Errorf("%s → %s: fix %q\nwant %q in it", c.Client, c.Server, v.Fix, f[6])
				}
				if v.Category != OK && len(v.Evidence) == 0 {
					t.Errorf("%s without evidence frames", v.Category)
				}
			}
			if got == 0 {
				t.Errorf("no connection %s to port %d (%d there)", f[2], port, seen)
			}
		})
	}
	if rows == 0 {
		t.Fatalf("%s has no rows", list)
	}
}
