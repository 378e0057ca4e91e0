package main

import (
	"crypto/tls"
	"encoding/csv"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/textsafe"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// hostileSNIs are server names a client may send: terminal escapes,
// a right-to-left override, CR/LF, a spreadsheet formula, HTML and
// Markdown, and a name of 4,000 bytes.
var hostileSNIs = []string{
	"evil\x1b[2J\x1b]0;title\x07.test",
	"\u202egnp.exe.test",
	"=HYPERLINK(\"http://evil.test\",\"ok\")",
	"<img src=x onerror=alert(1)>|`x`|[a](javascript:x)&#x202e;",
	"a\r\nCorrelation: agree\x1b]8;;http://e/\x1b\\l\x1b]52;c;aGk=\x07",
	strings.Repeat("long", 1000) + ".test",
}

// TestHostileSNICapture captures on lo (root; under the test lock) with
// tlsdiag live -w while crypto/tls clients send the hostile server names
// to a lab server, then reads the capture in every text format: no format
// writes a forbidden character, the csv neutralises the formula, the
// markdown the HTML, and the long name is cut in the text formats.
func TestHostileSNICapture(t *testing.T) {
	requireRoot(t)
	srv, err := tlslab.Start(tlslab.OK)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	if err := srv.Lab().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	caFile, pcap := filepath.Join(dir, tlslab.CAFile), filepath.Join(dir, "hostile_sni.pcap")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"live", "-i", "lo", "-f", fmt.Sprintf("tcp port %d", srv.Addr().Port()), "--duration", "4s",
			"--user", "", "--cacert", caFile, "-w", pcap}, &stdout, &stderr)
	}()
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on lo") })
	for _, sni := range hostileSNIs {
		cfg := srv.Lab().ClientConfig()
		cfg.ServerName = sni
		d := &net.Dialer{Timeout: 2 * time.Second}
		if c, err := tls.DialWithDialer(d, "tcp", srv.Addr().String(), cfg); err == nil {
			c.Close()
		}
	}
	if status := <-done; status != 1 {
		t.Errorf("live: exit status %d, want 1 (the names do not match the certificate); stderr:\n%s", status, stderr.String())
	}
	outputs := map[string]string{"live table": stdout.String(), "live stderr": stderr.String()}
	for _, f := range []string{"table", "trace", "csv", "markdown"} {
		var out, errOut syncBuffer
		if status := run([]string{"read", "--format", f, "--cacert", caFile, pcap}, &out, &errOut); status != 1 {
			t.Errorf("read %s: exit status %d; stderr:\n%s", f, status, errOut.String())
		}
		outputs["read "+f], outputs["read "+f+" stderr"] = out.String(), errOut.String()
	}
	for name, out := range outputs {
		if i := textsafe.Find(out, true); i >= 0 {
			t.Errorf("%s: forbidden %q at %d:\n%s", name, out[i:min(i+4, len(out))], i, out)
		}
		if !strings.HasSuffix(name, "stderr") && !strings.HasPrefix(name, "read csv") && len(out) > 64<<10 {
			t.Errorf("%s: %d bytes for %d connections: long names are not cut", name, len(out), len(hostileSNIs))
		}
	}
	for _, want := range []string{`evil\x1b[2J\x1b]0;title\x07.test`, `\u202egnp.exe.test`, "…(4005 bytes)"} {
		for _, name := range []string{"live table", "read table", "read trace"} {
			if !strings.Contains(outputs[name], want) {
				t.Errorf("%s lacks %q:\n%s", name, want, outputs[name])
			}
		}
	}
	records, err := csv.NewReader(strings.NewReader(outputs["read csv"])).ReadAll()
	if err != nil || len(records) != len(hostileSNIs)+1 {
		t.Fatalf("read csv: %v, %d records", err, len(records))
	}
	sniCol := 4
	got := map[string]bool{}
	for _, r := range records[1:] {
		got[r[sniCol]] = true
	}
	for _, want := range []string{`'=HYPERLINK("http://evil.test","ok")`, strings.Repeat("long", 1000) + ".test"} {
		if !got[want] {
			t.Errorf("read csv: no SNI cell %.60q (neutralised, whole) among %d", want, len(got))
		}
	}
	md := outputs["read markdown"]
	checkMarkdown(t, "read markdown", md)
	if !strings.Contains(md, `\<img src=x onerror=alert(1)\>\|\`+"`x\\`"+`\|[a]\(javascript:x)\&#x202e;`) {
		t.Errorf("read markdown does not show the HTML name escaped:\n%s", md)
	}
}
