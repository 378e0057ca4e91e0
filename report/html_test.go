package report

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	nethtml "golang.org/x/net/html"

	"github.com/tlsdiag/tlsdiag/internal/webtest"
)

// htmlHostile is network text meant to run in the page or load from the
// network: a script, an event handler, an image, a style, an SVG end.
const htmlHostile = `"><script>window.pwned=1</script><img src="https://example.invalid/x.png" onerror="window.pwned=2"></svg><style>body{display:none}</style>'` + "\n"

// selfTest is put at the start of the page's head for the browser test:
// it records errors (script errors, console.error, Content-Security-Policy
// violations: a request the page tried to make), then once the page is
// loaded counts the table's rows, filters by text and by verdict, sorts
// by a column, and writes what it saw as JSON into <pre id="selftest">.
const selfTest = `<script>
window.errors = [];
window.addEventListener("error", function (e) { errors.push("error: " + e.message); });
document.addEventListener("securitypolicyviolation", function (e) { errors.push("csp: " + e.violatedDirective + " " + e.blockedURI); });
(function () { var ce = console.error; console.error = function () { errors.push("console: " + Array.prototype.join.call(arguments, " ")); ce.apply(console, arguments); }; }());
document.addEventListener("DOMContentLoaded", function () { setTimeout(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#connections tbody tr"));
  var visible = function () { return rows.filter(function (r) { return !r.hidden; }).length; };
  var out = {errors: errors, rows: rows.length, visible: visible()};
  var f = document.getElementById("filter");
  f.value = FILTER; f.dispatchEvent(new Event("input"));
  out.filtered = visible();
  out.shown = document.getElementById("shown").textContent;
  f.value = ""; f.dispatchEvent(new Event("input"));
  var v = document.getElementById("verdict");
  v.value = VERDICT; v.dispatchEvent(new Event("change"));
  out.byVerdict = visible();
  v.value = ""; v.dispatchEvent(new Event("change"));
  var th = document.querySelectorAll("#connections thead th")[0];
  th.click(); th.click();
  out.firstAfterSort = document.querySelector("#connections tbody tr").cells[0].textContent;
  out.ladders = document.querySelectorAll("svg.ladder").length;
  out.arrows = document.querySelectorAll("svg.ladder .step line").length;
  out.validity = document.querySelectorAll(".validity").length;
  out.injected = document.querySelectorAll("td script, td img, td b, details img, svg.ladder script").length;
  out.pwned = window.pwned || 0;
  var pre = document.createElement("pre"); pre.id = "selftest"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 0); });
</script>`

type selfTestResult struct {
	Errors         []string
	Rows, Visible  int
	Filtered       int
	Shown          string
	ByVerdict      int
	FirstAfterSort string
	Ladders        int
	Arrows         int
	Validity       int
	Injected       int
	Pwned          int
}

var selfTestOut = regexp.MustCompile(`(?s)<pre id="selftest">(.*?)</pre>`)

// TestHTMLInBrowser writes the html format of the fixtures and of two
// hostile connections, loads it in a headless Chromium and checks what a
// person would see: no errors and no request leaving the page, one table
// row and one ladder per connection, a filter by text and by verdict that
// leaves the right rows, sorting, and no network text run as markup. It
// also takes a screenshot.
func TestHTMLInBrowser(t *testing.T) {
	chromium := webtest.Chromium(t, "the html format is loaded in a real browser")
	rs := append(fixtures(t), hostileResult(), hostileWith(htmlHostile))
	var b bytes.Buffer
	if err := Write(&b, FormatHTML, rs, Options{CaptureStart: captureStart}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>window.pwned") || strings.Contains(page, `<img src="https://`) {
		t.Fatal("network text reached the page unescaped")
	}
	// Expected counts, from the records.
	const filter = "2001:db8"
	const verdict = "cert_expired"
	wantFiltered, wantVerdict, wantArrows := 0, 0, 0
	for _, r := range rs {
		c := NewConnection(r)
		if strings.Contains(c.Client+c.Server, filter) {
			wantFiltered++
		}
		if c.Verdict.Category == verdict {
			wantVerdict++
		}
		for _, s := range ladderSteps(r) {
			if !s.isRemark() {
				wantArrows++
			}
		}
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "report.html")
	if err := os.WriteFile(plain, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := strings.NewReplacer("FILTER", jsString(filter), "VERDICT", jsString(verdict)).Replace(selfTest)
	tested := filepath.Join(dir, "selftest.html")
	if err := os.WriteFile(tested, []byte(strings.Replace(page, "<head>", "<head>"+script, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile")}
	cmd := exec.Command(chromium, append(base, "--dump-dom", "--virtual-time-budget=5000", "file://"+tested)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v: %s", err, stderr.String())
	}
	m := selfTestOut.FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the page's self test wrote nothing (did a script fail?); stderr: %s", stderr.String())
	}
	var got selfTestResult
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
		t.Fatalf("self test output %q: %v", m[1], err)
	}
	t.Logf("browser: %+v", got)
	switch {
	case len(got.Errors) > 0:
		t.Errorf("errors in the browser: %q", got.Errors)
	case got.Rows != len(rs) || got.Visible != len(rs):
		t.Errorf("table has %d rows, %d visible; want %d", got.Rows, got.Visible, len(rs))
	case got.Filtered != wantFiltered || wantFiltered == 0:
		t.Errorf("filter %q left %d rows, want %d", filter, got.Filtered, wantFiltered)
	case got.Shown != strings.Join([]string{itoa(wantFiltered), "of", itoa(len(rs)), "shown"}, " "):
		t.Errorf("the count says %q", got.Shown)
	case got.ByVerdict != wantVerdict || wantVerdict == 0:
		t.Errorf("verdict %s left %d rows, want %d", verdict, got.ByVerdict, wantVerdict)
	case got.FirstAfterSort != itoa(len(rs)):
		t.Errorf("sorted by # descending, the first row is %q, want %d", got.FirstAfterSort, len(rs))
	case got.Ladders != len(rs) || got.Arrows != wantArrows:
		t.Errorf("%d ladders with %d arrows, want %d with %d", got.Ladders, got.Arrows, len(rs), wantArrows)
	case got.Validity == 0:
		t.Error("no certificate validity bar")
	case got.Injected != 0 || got.Pwned != 0:
		t.Errorf("network text became markup: %d elements, pwned %d", got.Injected, got.Pwned)
	}
	shot := filepath.Join(dir, "report.png")
	cmd = exec.Command(chromium, append(base, "--hide-scrollbars", "--window-size=1200,1000", "--screenshot="+shot, "file://"+plain)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v: %s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 10000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestHTMLEscapes checks, without a browser, that network text cannot
// change the page's markup: a page whose records and notes carry hostile
// text (markup, quotes, an SVG end, an event handler) has the same
// elements and attributes, in the same order, as the page of the same
// records carrying plain words, and every hostile text reads back
// whole from the page's text and attribute values.
func TestHTMLEscapes(t *testing.T) {
	page := func(text string) string {
		rs := append(fixtures(t), hostileWith(text))
		var b bytes.Buffer
		if err := Write(&b, FormatHTML, rs, Options{CaptureStart: captureStart, Notes: []string{text}}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	plain := markupOf(t, page("plain words"))
	for _, hostile := range []string{htmlHostile, hostileText, `</title></textarea></svg></details><plaintext>x`, `' onmouseover='alert(1)' "x=" & &amp; &lt;b&gt;`} {
		p := page(hostile)
		if got := markupOf(t, p); !slices.Equal(got, plain) {
			t.Errorf("text %q changed the markup:\n%s", hostile, lineDiff(strings.Join(plain, "\n"), strings.Join(got, "\n")))
		}
		// The SNI and the file name are single words of the page: cut
		// only if long, cleaned of control characters.
		want := clean(hostile)
		if !strings.Contains(textOf(t, p), want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
}

// markupOf lists the page's tags with their attribute names, in order.
func markupOf(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	z := nethtml.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return out
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken, nethtml.EndTagToken:
			tok := z.Token()
			tag := tok.Data
			if tok.Type == nethtml.EndTagToken {
				tag = "/" + tag
			}
			for _, a := range tok.Attr {
				tag += " " + a.Key
			}
			out = append(out, tag)
		}
	}
}

// textOf returns the page's text and attribute values, decoded.
func textOf(t *testing.T, page string) string {
	t.Helper()
	var b strings.Builder
	z := nethtml.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			return b.String()
		case nethtml.TextToken:
			b.WriteString(z.Token().Data)
		case nethtml.StartTagToken:
			for _, a := range z.Token().Attr {
				b.WriteString(a.Val + "\n")
			}
		}
	}
}
