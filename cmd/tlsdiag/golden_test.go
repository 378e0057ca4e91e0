package main

import (
	"bytes"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

var update = flag.Bool("update", false, "update .golden files")

// goldenFormats are the formats checked against golden files for every
// capture in testdata/captures; demo.pcap is checked in allFormats. The
// table format is checked at 80 columns ("table"), and for demo.pcap at
// 120 ("table-120") and at 80 in colour ("table-color").
var (
	goldenFormats = []string{"table", "wide", "json", "trace"}
	allFormats    = []string{"table", "table-120", "table-color", "wide", "json", "csv", "markdown", "trace", "ndjson"}
)

// goldenArgs are the flags and environment of a golden variant.
func goldenArgs(t *testing.T, variant string) []string {
	format, how, _ := strings.Cut(variant, "-")
	columns := "80"
	var args []string
	switch how {
	case "120":
		columns = "120"
	case "color":
		args = append(args, "--color", "always")
	}
	if format == "table" {
		t.Setenv("COLUMNS", columns)
	}
	return append(args, "--format", format)
}

// TestReadGolden runs `tlsdiag read` on every lab capture (each made by
// real TLS stacks for one verdict category) in every format and compares
// the output with testdata/golden/NAME.FORMAT.golden. Run with -update to
// rewrite them, and read the diff before committing.
func TestReadGolden(t *testing.T) {
	captures, err := filepath.Glob("../../testdata/captures/*.pcap")
	if err != nil || len(captures) == 0 {
		t.Fatalf("no captures in ../../testdata/captures (%v)", err)
	}
	captures = append(captures, "../../testdata/demo.pcap")
	ports := labPorts(t)
	for _, pcap := range captures {
		name := strings.TrimSuffix(filepath.Base(pcap), ".pcap")
		formats := goldenFormats
		if name == "demo" {
			formats = allFormats
		}
		for _, format := range formats {
			t.Run(name+"/"+format, func(t *testing.T) {
				args := append([]string{"read", "--no-system-roots", "--cacert", "../../testdata/certs/ca.pem"}, goldenArgs(t, format)...)
				for _, p := range ports {
					args = append(args, "--tls-port", p)
				}
				if kl := strings.TrimSuffix(pcap, ".pcap") + ".keylog"; format == "json" && fileExists(kl) {
					// JSON shows what the key log reveals; the other formats
					// show the wire as it is.
					args = append(args, "--keylog", kl)
				}
				var stdout, stderr bytes.Buffer
				status := run(append(args, pcap), &stdout, &stderr)
				if status == 2 {
					t.Fatalf("exit status 2: %s", stderr.String())
				}
				checkGolden(t, filepath.Join("testdata", "golden", name+"."+format+".golden"), stdout.Bytes())
			})
		}
	}
}

// labPorts are the lab's server ports: its refused, silent and plaintext
// connections carry no TLS, so read must be told they were meant to.
func labPorts(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/captures/expected.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var ports []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) >= 3 && !strings.HasPrefix(line, "#") {
			ports = append(ports, f[1])
		}
	}
	return ports
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  - %s\n  + %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// TestReadPublicGolden reads every public capture in testdata/public (from
// Zeek, FoxIO's JA4, ssldump and Arkime) and compares the table output with
// testdata/golden/shared/DIR_NAME.wide.golden (the wide table: every
// column, nothing cut). Chains are validated at each
// capture's own time against a fixed trust store — the NSS roots of the
// pinned golang.org/x/crypto/x509roots/fallback module — instead of this
// machine's, so the output does not change with the system's CA bundle.
// Roots NSS has since removed make some old chains untrusted; that is the
// honest answer for today's trust store.
func TestReadPublicGolden(t *testing.T) {
	const shared = "../../testdata/public"
	files, _ := filepath.Glob(filepath.Join(shared, "*", "*.pcap*"))
	if len(files) == 0 {
		t.Fatalf("no captures under %s", shared)
	}
	roots := nssRootsFile(t)
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "_" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run([]string{"read", "--format", "wide", "--no-system-roots", "--cacert", roots, f}, &stdout, &stderr)
			if status == 2 {
				t.Fatalf("exit status 2: %s", stderr.String())
			}
			out := bytes.ReplaceAll(stdout.Bytes(), []byte(shared+"/"), nil)
			checkGolden(t, filepath.Join("testdata", "golden", "shared", name+".wide.golden"), out)
		})
	}
}

// nssRootsFile writes the pinned NSS root bundle as a PEM file.
func nssRootsFile(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint == nil { // distrust-after roots would need the constraint
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
		}
	}
	path := filepath.Join(t.TempDir(), "nss-roots.pem")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
