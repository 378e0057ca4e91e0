package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/csv"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/textsafe"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/probe"
	"github.com/tlsdiag/tlsdiag/report"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// hostileCaptures are lab captures whose verdicts quote what the network
// chose: the server name and the certificate's names (hostname mismatch,
// incomplete chain, untrusted CA), what a non-TLS server answered, the
// server name a server did not recognise.
var hostileCaptures = []string{
	"cert_hostname_mismatch", "cert_incomplete_chain", "cert_untrusted_ca", "cert_self_signed",
	"not_tls_server", "sni_unrecognized", "alpn_mismatch", "ok",
}

// loadConnections reads lab captures into connection records.
func loadConnections(tb testing.TB, names []string) []*analysis.Connection {
	tb.Helper()
	var conns []*analysis.Connection
	for _, n := range names {
		data, err := os.ReadFile("../../testdata/captures/" + n + ".pcap")
		if err != nil {
			tb.Fatal(err)
		}
		src, err := capture.NewReader(n+".pcap", bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		b := analysis.NewBuilder(analysis.Options{Trace: true})
		if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, b.Connections()...)
	}
	return conns
}

// hostileFields are the strings the network chooses, one per field that
// carries a name into the output.
type hostileFields struct {
	SNI, ALPN, Subject, Issuer, SAN, Looks, Err, Status, Body, Source string
}

// withFields returns a copy of c whose server name, ALPN, certificate
// names and non-TLS reply are h's.
func withFields(c *analysis.Connection, h hostileFields) *analysis.Connection {
	d := *c
	if c.ClientHello != nil {
		ch := *c.ClientHello
		ch.ServerName, ch.ALPN = h.SNI, []string{h.ALPN, "h2"}
		d.ClientHello = &ch
	}
	if d.ALPN != "" {
		d.ALPN = h.ALPN
	}
	d.Certificates = make([]analysis.Certificate, len(c.Certificates))
	for i, cert := range c.Certificates {
		d.Certificates[i] = cert
		if cert.X509 != nil {
			d.Certificates[i].X509 = hostileCert(cert.X509, h)
		}
	}
	for _, dir := range []capture.Direction{capture.ClientToServer, capture.ServerToClient} {
		if n := c.Side(dir).NonTLS; n != nil {
			nn := *n
			nn.Looks = h.Looks
			d.Side(dir).NonTLS = &nn
		}
	}
	d.Trace = append([]analysis.TraceFrame(nil), c.Trace...)
	for i, tf := range d.Trace {
		items := append([]analysis.TraceItem(nil), tf.Items...)
		for j := range items {
			if items[j].Kind == tlsparse.KindNonTLS {
				items[j].NonTLS = h.Looks
			}
		}
		d.Trace[i].Items = items
	}
	return &d
}

func hostileCert(c *x509.Certificate, h hostileFields) *x509.Certificate {
	x := *c
	x.Subject.CommonName, x.Subject.Organization = h.Subject, []string{h.Issuer}
	x.Issuer.CommonName = h.Issuer
	x.DNSNames = []string{h.SAN, h.SNI}
	return &x
}

// textOutputs writes conns, with h in every name-carrying field, in every
// format of read, live and probe, and the messages of cmd. It returns the
// outputs by name.
func textOutputs(tb testing.TB, conns []*analysis.Connection, h hostileFields) map[string]string {
	tb.Helper()
	var results []pipeline.Result
	for _, c := range conns {
		d := withFields(c, h)
		results = append(results, pipeline.Result{Conn: d, Verdict: diagnose.Diagnose(d, diagnose.Config{}), Source: h.Source})
	}
	out := map[string]string{}
	for _, f := range report.Formats {
		// read
		var b bytes.Buffer
		w, err := report.NewWriter(&b, f, report.Options{Notes: []string{h.Looks}}, 2)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range results {
			if err := w.Connection(r); err != nil {
				tb.Fatal(err)
			}
		}
		if err := w.Close([]string{h.Err}); err != nil {
			tb.Fatal(err)
		}
		out["read "+string(f)] = b.String()
		// live
		b.Reset()
		s, err := report.NewStream(&b, f, report.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range results {
			if err := s.Connection(r); err != nil {
				tb.Fatal(err)
			}
		}
		if err := s.Close([]string{h.Looks}); err != nil {
			tb.Fatal(err)
		}
		out["live "+string(f)] = b.String()
	}
	// The table format fitted to 80 columns and coloured: once its own
	// colour escapes are taken out, the same rule holds, and every line
	// fits (checkTextOutputs checks the widths of "fit" outputs).
	var fit bytes.Buffer
	if err := report.Write(&fit, report.FormatTable, results, report.Options{Width: 80, Color: true, Notes: []string{h.Looks, h.Err}}); err != nil {
		tb.Fatal(err)
	}
	out["read table fit"] = sgr.ReplaceAllString(fit.String(), "")
	for i, r := range results {
		res := hostileProbe(r, h)
		for _, f := range []report.Format{report.FormatTable, report.FormatTrace} {
			var b bytes.Buffer
			if err := probe.Write(&b, f, res, probe.WriteOptions{Names: probeSettingFlags}); err != nil {
				tb.Fatal(err)
			}
			out[fmt.Sprintf("probe %s %d", f, i)] = b.String()
		}
	}
	var b bytes.Buffer
	failure(&b, fmt.Errorf("reading %s: %w", h.Source, fmt.Errorf("%s", h.Err)))
	usageError(&b, "unknown verdict category "+h.SNI, h.Looks)
	say(&b, "warning: --keylog %s: %s", h.Source, h.Body)
	out["messages"] = b.String()
	return out
}

// hostileProbe is a probe's result for r whose client saw h: an error and
// a certificate chain with h's names, a response with h's status and body.
func hostileProbe(r pipeline.Result, h hostileFields) *probe.Result {
	target, _ := probe.ParseTarget("https://lab.test/")
	err := fmt.Errorf("tls: failed to verify certificate: x509: certificate is valid for %s, not %s: %s", h.SAN, h.SNI, h.Err)
	o := probe.Outcome{
		Err: err, Class: probe.Classify(err), Phase: probe.PhaseTLS, ServerName: h.SNI,
		Remote: netip.MustParseAddrPort("127.0.0.1:443"), Proxy: h.Source, ProxyFrom: "HTTPS_PROXY",
		HTTP: &probe.Response{Proto: "HTTP/1.1", StatusCode: 200, Status: "200 " + h.Status, Body: []byte(h.Body)},
	}
	for _, c := range r.Conn.Certificates {
		if c.X509 != nil {
			o.PeerCertificates = append(o.PeerCertificates, c.X509)
		}
	}
	w := probe.Wire{Interface: "lo", Filter: "tcp port 443", Result: &r, Notes: []string{h.Looks}}
	res := &probe.Result{Target: target, Insecure: true, Client: o, Wire: w}
	res.Correlation = probe.Correlate(target, &res.Client, &res.Wire, true, probeSettingFlags)
	return res
}

// checkTextOutputs asserts textsafe's rule on every human output, the
// csv and markdown rules on theirs, and a bound on every output's size.
func checkTextOutputs(t *testing.T, out map[string]string, inputBytes int) {
	t.Helper()
	for name, s := range out {
		if f := strings.Fields(name); len(f) > 1 && report.Format(f[1]).IsJSON() {
			continue // JSON escapes itself and keeps values whole
		}
		if strings.HasSuffix(name, " fit") {
			checkFits(t, s, 80)
		}
		if i := textsafe.Find(s, true); i >= 0 {
			t.Errorf("%s: forbidden %q at %d: …%q…", name, s[i:min(i+4, len(s))], i, s[max(0, i-40):min(len(s), i+40)])
		}
		tsv := false
		if f := strings.Fields(name); len(f) > 1 {
			tsv = report.Format(f[1]).TabSeparated()
		}
		if strings.Contains(s, "\t") && !strings.HasPrefix(name, "probe") && !tsv {
			// Only a response body keeps its tabs (textsafe.Lines).
			t.Errorf("%s: holds a raw tab", name)
		}
		// Long values are cut: whatever the input, a connection's text
		// stays within a bound (the csv keeps values whole).
		if !strings.HasSuffix(name, "csv") && len(s) > 256<<10 && len(s) > 4*inputBytes {
			t.Errorf("%s: %d bytes of output for %d bytes of input", name, len(s), inputBytes)
		}
		switch {
		case strings.HasSuffix(name, "csv"):
			checkCSV(t, name, s)
		case strings.HasSuffix(name, "markdown"):
			checkMarkdown(t, name, s)
		}
	}
}

func checkCSV(t *testing.T, name, s string) {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	for _, rec := range records {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !isNumber(cell) {
				t.Errorf("%s: cell %q would be a formula", name, cell)
			}
		}
	}
}

func isNumber(s string) bool {
	_, err := fmt.Sscanf(s, "%g", new(float64))
	return err == nil && strings.Trim(s, "+-0123456789.") == ""
}

// checkMarkdown asserts that nothing in a markdown output can become
// HTML, a link or a new cell: every < > & ` and every pipe inside a cell
// is escaped by a backslash that is not itself escaped.
func checkMarkdown(t *testing.T, name, s string) {
	t.Helper()
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "|") {
			// The cell separators are " | " pairs the writer made.
			line = strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |")
			line = strings.ReplaceAll(line, " | ", " ")
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if !strings.ContainsRune("<>&`|", rune(c)) && !(c == '(' && i > 0 && line[i-1] == ']') {
				continue
			}
			n := 0
			for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 && !(c == '|' && strings.HasPrefix(line, "---")) {
				t.Errorf("%s: unescaped %q in %q", name, c, line)
				return
			}
		}
	}
}

// hostileNames are the strings of a hostile server and client: terminal
// escapes (CSI, OSC 0 title, OSC 8 hyperlink, OSC 52 clipboard), BEL,
// CR/LF, bidi overrides, invalid UTF-8, formulas and HTML.
var hostileNames = hostileFields{
	SNI:     "evil\x1b[2J\x1b[H.test\u202e",
	ALPN:    "h2\x07\r\n",
	Subject: "\x1b]0;owned\x07CN\u202egnp.exe",
	Issuer:  "=HYPERLINK(\"http://x\",\"ca\")",
	SAN:     "\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",
	Looks:   "HTTP/1.1 400 <img src=x onerror=alert(1)>\r\nX: \x1b]52;c;aGk=\x07",
	Err:     "+cmd|' /C calc'!A0\x9b31m\xff\xfe",
	Status:  "OK\x1b[31m\u2066red\u2069",
	Body:    "<script>\x1b[5m|`x`|</script>\r\n\x00end",
	Source:  "@SUM(1)\u2028[x](javascript:alert(1)).pcap",
}

func TestTextOutputsHostile(t *testing.T) {
	conns := loadConnections(t, hostileCaptures)
	out := textOutputs(t, conns, hostileNames)
	checkTextOutputs(t, out, 0)
	// The names are there, escaped, not dropped.
	for _, want := range []string{`evil\x1b[2J\x1b[H.test\u202e`, `owned\x07CN\u202egnp.exe`} {
		if !strings.Contains(out["probe table 0"], want) {
			t.Errorf("probe table lacks %q:\n%s", want, out["probe table 0"])
		}
	}
	if !strings.Contains(out["read table"], `evil\x1b[2J\x1b[H.test\u202e`) {
		t.Errorf("read table lacks the escaped SNI:\n%s", out["read table"])
	}
	if !strings.Contains(out["read csv"], `'@SUM(1)\u2028`) {
		t.Errorf("read csv did not neutralise the source:\n%s", out["read csv"])
	}
	if !strings.Contains(out["probe table 0"], `\<script\>`) && !strings.Contains(out["probe table 0"], "<script>") {
		t.Errorf("probe table lost the body:\n%s", out["probe table 0"])
	}
}

// TestTextOutputsLong: a 60 KB server name and certificate name make a
// bounded table, trace and markdown, and a csv and json that keep them.
func TestTextOutputsLong(t *testing.T) {
	long := strings.Repeat("a", 60000) + ".test"
	h := hostileNames
	h.SNI, h.Subject = long, long
	conns := loadConnections(t, []string{"cert_hostname_mismatch"})
	out := textOutputs(t, conns, h)
	checkTextOutputs(t, out, 0)
	for _, name := range []string{"read table", "read trace", "read markdown", "live table", "probe table 0"} {
		if len(out[name]) > 16<<10 || !strings.Contains(out[name], "…(60005 bytes)") {
			t.Errorf("%s: %d bytes, cut mark present %v", name, len(out[name]), strings.Contains(out[name], "…(60005 bytes)"))
		}
	}
	for _, name := range []string{"read csv", "read json", "read ndjson", "read ecs"} {
		if !strings.Contains(out[name], long) {
			t.Errorf("%s does not keep the 60 KB name whole", name)
		}
	}
}

// FuzzTextOutputs drives arbitrary strings through every name-carrying
// field (server name, ALPN, certificate subject, issuer and SAN, a non-TLS
// reply, a client error, an HTTP status and body, a file name) into every
// format of read and live, probe's text, and cmd's messages, and checks
// that no forbidden character reaches a human output, no csv cell is a
// formula and no markdown turns into HTML.
func FuzzTextOutputs(f *testing.F) {
	h := hostileNames
	f.Add(h.SNI, h.ALPN, h.Subject, h.Issuer, h.SAN, h.Looks, h.Err, h.Status, h.Body, h.Source)
	f.Add("good.test", "h2", "lab.test", "Lab CA", "lab.test", "HTTP response", "EOF", "OK", "hello\n", "a.pcap")
	f.Add("", "", "", "", "", "", "", "", "", "")
	conns := loadConnections(f, hostileCaptures)
	f.Fuzz(func(t *testing.T, sni, alpn, subject, issuer, san, looks, errText, status, body, source string) {
		h := hostileFields{sni, alpn, subject, issuer, san, looks, errText, status, body, source}
		n := len(sni) + len(alpn) + len(subject) + len(issuer) + len(san) + len(looks) + len(errText) + len(status) + len(body) + len(source)
		checkTextOutputs(t, textOutputs(t, conns, h), n)
	})
}
