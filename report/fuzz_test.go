package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/internal/textsafe"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// FuzzWrite feeds wire-controlled strings (server name, ALPN, what a
// non-TLS peer sent) and verdict text through every format and checks
// that each stays well-formed: valid JSON that keeps the strings, one
// NDJSON line, one CSV record and one Markdown row per connection, and no
// control character in any text format.
func FuzzWrite(f *testing.F) {
	f.Add("good.test", "h2", "HTTP response (HTTP/1.1 400 Bad Request)", "summary", "fix", "a.pcap")
	f.Add("evil\x1b[2J.test", "h2\n", "<html>|</html>\r\n", "a | b\nc", "\u202efix", "dir/\"x\".pcap")
	f.Add("\xff\xfe", "", "\x00\x01", "", "", "")
	chain := loadChain(f)
	f.Fuzz(func(t *testing.T, sni, alpn, looks, summary, fix, source string) {
		r := tls12Expired(t)
		c := *r.Conn
		c.Certificates = chain
		h := *c.ClientHello
		h.ServerName, h.ALPN = sni, []string{alpn}
		c.ClientHello, c.ALPN = &h, alpn
		c.ServerSide.NonTLS = &analysis.NonTLS{Frame: fr(26, 0), Looks: looks}
		c.Trace = append(c.Trace, traceFrame(fr(26, 0), s2c, analysis.TraceItem{Kind: tlsparse.KindNonTLS, NonTLS: looks}))
		r.Conn, r.Source = &c, source
		r.Verdict.Summary, r.Verdict.Fix, r.Verdict.Warnings = summary, fix, []string{summary}
		rs := []pipeline.Result{r}

		out := map[Format]string{}
		for _, f := range Formats {
			var b bytes.Buffer
			if err := Write(&b, f, rs, Options{Notes: []string{looks}}); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[f] = b.String()
		}

		var doc Document
		if err := json.Unmarshal([]byte(out[FormatJSON]), &doc); err != nil {
			t.Fatalf("json: %v\n%s", err, out[FormatJSON])
		}
		got := doc.Connections[0]
		if got.SNI != jsonString(sni) || got.NonTLS.Server != jsonString(looks) ||
			got.Verdict.Fix != jsonString(fix) || got.Source != jsonString(source) {
			t.Errorf("json lost a string: %+v", got)
		}
		if n := strings.Count(out[FormatNDJSON], "\n"); n != 1 || !json.Valid([]byte(out[FormatNDJSON])) {
			t.Errorf("ndjson is not one valid line: %q", out[FormatNDJSON])
		}
		records, err := csv.NewReader(strings.NewReader(out[FormatCSV])).ReadAll()
		if err != nil || len(records) != 2 || len(records[1]) != len(csvHeader) {
			t.Errorf("csv: %v, %d records: %q", err, len(records), out[FormatCSV])
		}
		rows := 0
		for _, l := range strings.Split(out[FormatMarkdown], "\n") {
			if strings.HasPrefix(l, "| 1 |") {
				rows++
			}
		}
		if rows != 1 {
			t.Errorf("markdown has %d rows for the connection:\n%s", rows, out[FormatMarkdown])
		}
		for _, f := range []Format{FormatTable, FormatCSV, FormatMarkdown, FormatTrace} {
			if i := textsafe.Find(out[f], true); i >= 0 {
				t.Errorf("%s output holds control character %q at %d", f, out[f][i], i)
			}
		}
	})
}

// jsonString is s as encoding/json writes it: each invalid UTF-8 byte
// becomes U+FFFD.
func jsonString(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		b.WriteRune(r)
		s = s[n:]
	}
	return b.String()
}
