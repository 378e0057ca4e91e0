package diagnose

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestFieldRevproxyCaptures reads the captures of curl through an nginx
// reverse proxy to HTTPS upstreams (testdata/field/revproxy, see its
// README), as `read` does, across the capture's connections: captured on
// the proxy, the upstream connection's client is the server of the front
// leg whose request came just before, so the verdict says the client is
// likely a reverse proxy and its fix names the proxy's settings first
// (proxy_ssl_server_name, proxy_ssl_trusted_certificate, proxy_ssl_name);
// on the upstream's link alone, the proxies' SNI settings come as a
// possibility. The controls (expected-controls.tsv) read as before, and
// none of their texts calls the client a proxy.
func TestFieldRevproxyCaptures(t *testing.T) {
	dir := testdataDir + "/field/revproxy"
	checkExpectedAll(t, dir, "expected.tsv", false, false)
	checkExpectedAll(t, dir, "expected-controls.tsv", false, true)
	// With curl's key log, which opens the front leg: the upstream
	// connection's verdict names the proxy's 502 to that request.
	checkExpectedAll(t, dir, "expected-keylog.tsv", true, false)
	checkExpectedAll(t, dir, "expected-controls-keylog.tsv", true, true)
}

// checkExpectedAll is checkExpected with the verdicts of All, which look
// across the capture's connections, with the key log beside each capture
// when withKeys; with controls, no text of a matched connection may speak
// of a reverse proxy.
func checkExpectedAll(t *testing.T, dir, list string, withKeys, controls bool) {
	roots := rootsFile(t, filepath.Join(dir, "root.pem"))
	data, err := os.ReadFile(filepath.Join(dir, list))
	if err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 && len(f) != 5 {
			t.Fatalf("%s:%d: want 4 or 5 tab-separated fields, got %q", list, n+1, line)
		}
		port, err := strconv.ParseUint(f[1], 10, 16)
		if err != nil {
			t.Fatalf("%s:%d: %v", list, n+1, err)
		}
		t.Run(list+"/"+f[0]+"/"+f[1], func(t *testing.T) {
			path := filepath.Join(dir, f[0])
			opts := analysis.Options{TLSPorts: []uint16{uint16(port)}}
			if withKeys {
				opts.KeyLog = readKeyLog(t, strings.TrimSuffix(path, filepath.Ext(path))+".keylog")
			}
			conns := analyseCaptureWith(t, path, opts)
			vs := All(conns, Config{Roots: roots}, 1)
			got := 0
			for i, c := range conns {
				if c.Server.Port() != uint16(port) {
					continue
				}
				got++
				v := vs[i]
				said := v.Summary + "\n" + strings.Join(v.Warnings, "\n")
				if string(v.Category) != f[2] || !strings.Contains(said, f[3]) {
					t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, v.Summary, f[2], f[3])
				}
				if len(f) == 5 && !strings.Contains(v.Fix, f[4]) {
					t.Errorf("%s → %s: fix %q\nwant %q in it", c.Client, c.Server, v.Fix, f[4])
				}
				if v.Category != OK && len(v.Evidence) == 0 {
					t.Errorf("%s without evidence frames", v.Category)
				}
				if controls && strings.Contains(said+v.Fix, "reverse proxy") {
					t.Errorf("%s → %s: a control called a reverse proxy: %s", c.Client, c.Server, v.Summary)
				}
			}
			if got == 0 {
				t.Errorf("no connection to port %d", port)
			}
		})
	}
}
