package report

import (
	"reflect"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// result builds a result whose client offered the given versions (nil: no
// ClientHello; one legacy version: no supported_versions) and that
// negotiated neg with cipher cs.
func result(cat diagnose.Category, offered []tlsparse.Version, neg tlsparse.Version, cs tlsparse.CipherSuite) pipeline.Result {
	c := &analysis.Connection{Version: neg, Cipher: cs}
	switch len(offered) {
	case 0:
	case 1:
		c.ClientHello = &tlsparse.ClientHello{Version: offered[0]}
	default:
		c.ClientHello = &tlsparse.ClientHello{Version: tlsparse.VersionTLS12, SupportedVersions: offered}
	}
	return pipeline.Result{Conn: c, Verdict: diagnose.Verdict{Category: cat}}
}

// headline gives r's verdict a headline, as a request that failed after
// a good handshake has.
func headline(r pipeline.Result, h string) pipeline.Result {
	r.Verdict.Headline = h
	return r
}

const (
	ssl3   = tlsparse.VersionSSL30
	v10    = tlsparse.VersionTLS10
	v11    = tlsparse.VersionTLS11
	v12    = tlsparse.VersionTLS12
	v13    = tlsparse.VersionTLS13
	draft  = tlsparse.Version(0x7f1c) // TLS 1.3 draft 28
	grease = tlsparse.Version(0x0a0a)

	aes128  = tlsparse.CipherSuite(0x1301)
	aes256  = tlsparse.CipherSuite(0x1302)
	ecdheGC = tlsparse.CipherSuite(0xc02f)
)

func TestSummarize(t *testing.T) {
	modern := []tlsparse.Version{grease, v13, v12}
	old := []tlsparse.Version{v12, v11, v10}
	tests := []struct {
		name    string
		results []pipeline.Result
		want    Summary
	}{
		{
			name:    "nothing",
			results: nil,
			want:    Summary{Verdicts: []Count{}, Versions: []Count{}, Ciphers: []Count{}, VersionMatrix: []MatrixCell{}, FailedByJA4: []Count{}, Notes: []string{}},
		},
		{
			name: "verdicts in category order, zeros left out",
			results: []pipeline.Result{
				result(diagnose.ConnectionRefused, nil, 0, 0),
				result(diagnose.CertExpired, []tlsparse.Version{v12}, v12, ecdheGC),
				result(diagnose.OK, modern, v13, aes128),
				result(diagnose.CertExpired, []tlsparse.Version{v12}, v12, ecdheGC),
			},
			want: Summary{
				Connections: 4, Failed: 3,
				Verdicts: []Count{{"ok", 1}, {"cert_expired", 2}, {"connection_refused", 1}},
				Versions: []Count{{"TLS 1.3", 1}, {"TLS 1.2", 2}},
				Ciphers:  []Count{{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 2}, {"TLS_AES_128_GCM_SHA256", 1}},
				VersionMatrix: []MatrixCell{
					{"TLS 1.2–TLS 1.3", "TLS 1.3", 1},
					{"TLS 1.2", "TLS 1.2", 2},
				},
				FailedByJA4: []Count{}, Notes: []string{},
			},
		},
		{
			name: "unknown category counted after the known ones",
			results: []pipeline.Result{
				result("zz_future", nil, 0, 0),
				result("aa_future", nil, 0, 0),
				result(diagnose.IncompleteCapture, nil, 0, 0),
			},
			want: Summary{
				Connections: 3, Failed: 3,
				Verdicts: []Count{{"incomplete_capture", 1}, {"aa_future", 1}, {"zz_future", 1}},
				Versions: []Count{}, Ciphers: []Count{}, VersionMatrix: []MatrixCell{}, FailedByJA4: []Count{}, Notes: []string{},
			},
		},
		{
			name: "ciphers by count, then name",
			results: []pipeline.Result{
				result(diagnose.OK, modern, v13, aes256),
				result(diagnose.OK, modern, v13, aes128),
				result(diagnose.OK, modern, v13, ecdheGC),
				result(diagnose.OK, modern, v13, aes256),
			},
			want: Summary{
				Connections: 4,
				Verdicts:    []Count{{"ok", 4}},
				Versions:    []Count{{"TLS 1.3", 4}},
				Ciphers: []Count{
					{"TLS_AES_256_GCM_SHA384", 2},
					{"TLS_AES_128_GCM_SHA256", 1},
					{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 1},
				},
				VersionMatrix: []MatrixCell{{"TLS 1.2–TLS 1.3", "TLS 1.3", 4}},
				FailedByJA4:   []Count{}, Notes: []string{},
			},
		},
		{
			name: "version matrix: ranges, rejected last, drafts below TLS 1.3",
			results: []pipeline.Result{
				result(diagnose.VersionMismatch, old, 0, 0),
				result(diagnose.OK, old, v12, ecdheGC),
				result(diagnose.OK, modern, v12, ecdheGC),
				result(diagnose.HandshakeFailure, modern, 0, 0),
				result(diagnose.OK, modern, v13, aes128),
				result(diagnose.VersionMismatch, []tlsparse.Version{ssl3}, 0, 0),
				result(diagnose.OK, []tlsparse.Version{draft, v12}, draft, aes128),
				result(diagnose.NoTCPAnswer, nil, 0, 0),
			},
			want: Summary{
				Connections: 8, Failed: 4,
				Verdicts: []Count{{"ok", 4}, {"version_mismatch", 2}, {"handshake_failure", 1}, {"no_tcp_answer", 1}},
				Versions: []Count{{"TLS 1.3", 1}, {"TLS 1.3 draft 28", 1}, {"TLS 1.2", 2}},
				Ciphers:  []Count{{"TLS_AES_128_GCM_SHA256", 2}, {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 2}},
				VersionMatrix: []MatrixCell{
					{"TLS 1.2–TLS 1.3", "TLS 1.3", 1},
					{"TLS 1.2–TLS 1.3", "TLS 1.2", 1},
					{"TLS 1.2–TLS 1.3", "rejected", 1},
					{"TLS 1.2–TLS 1.3 draft 28", "TLS 1.3 draft 28", 1},
					{"TLS 1.0–TLS 1.2", "TLS 1.2", 1},
					{"TLS 1.0–TLS 1.2", "rejected", 1},
					{"SSL 3.0", "rejected", 1},
				},
				FailedByJA4: []Count{}, Notes: []string{},
			},
		},
		{
			name: "version matrix: Facebook's draft variant below TLS 1.3",
			results: []pipeline.Result{
				result(diagnose.OK, []tlsparse.Version{v13, 0xfb1a}, 0xfb1a, aes128),
			},
			want: Summary{
				Connections:   1,
				Verdicts:      []Count{{"ok", 1}},
				Versions:      []Count{{"TLS 1.3 draft 26 (Facebook)", 1}},
				Ciphers:       []Count{{"TLS_AES_128_GCM_SHA256", 1}},
				VersionMatrix: []MatrixCell{{"TLS 1.3 draft 26 (Facebook)–TLS 1.3", "TLS 1.3 draft 26 (Facebook)", 1}},
				FailedByJA4:   []Count{}, Notes: []string{},
			},
		},
		{
			name: "ok connections whose request failed after the handshake are noted, not failed",
			results: []pipeline.Result{
				headline(result(diagnose.OK, modern, v13, aes128), "no answer to request"),
				result(diagnose.OK, modern, v13, aes128),
				headline(result(diagnose.OK, modern, v13, aes128), "request hit idle close"),
			},
			want: Summary{
				Connections:   3,
				Verdicts:      []Count{{"ok", 3}},
				Versions:      []Count{{"TLS 1.3", 3}},
				Ciphers:       []Count{{"TLS_AES_128_GCM_SHA256", 3}},
				VersionMatrix: []MatrixCell{{"TLS 1.2–TLS 1.3", "TLS 1.3", 3}},
				FailedByJA4:   []Count{},
				Notes:         []string{"2 connections completed their TLS handshakes, then a request on each went unanswered or was cut short by a close: their verdicts stay ok, and each row says which"},
			},
		},
		{
			name:    "results without a connection are skipped",
			results: []pipeline.Result{{}, result(diagnose.OK, nil, 0, 0)},
			want: Summary{
				Connections: 1, Verdicts: []Count{{"ok", 1}},
				Versions: []Count{}, Ciphers: []Count{}, VersionMatrix: []MatrixCell{}, FailedByJA4: []Count{}, Notes: []string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.results)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Summarize =\n%+v\nwant\n%+v", got, tt.want)
			}
			// Pure: the order of the results does not matter, and the
			// input is left alone.
			rev := slices.Clone(tt.results)
			slices.Reverse(rev)
			if again := Summarize(rev); !reflect.DeepEqual(again, got) {
				t.Errorf("Summarize of the reversed results =\n%+v\nwant\n%+v", again, got)
			}
		})
	}
}

func TestMatrixTable(t *testing.T) {
	cells := []MatrixCell{
		{"TLS 1.2–TLS 1.3", "TLS 1.3", 5},
		{"TLS 1.2–TLS 1.3", "rejected", 1},
		{"TLS 1.0–TLS 1.2", "TLS 1.2", 2},
		{"TLS 1.0", "0x0305", 1},
	}
	header, rows := matrixTable(cells)
	wantHeader := []string{"Offered \\ Negotiated", "TLS 1.3", "TLS 1.2", "0x0305", "rejected"}
	wantRows := [][]string{
		{"TLS 1.2–TLS 1.3", "5", "", "", "1"},
		{"TLS 1.0–TLS 1.2", "", "2", "", ""},
		{"TLS 1.0", "", "", "1", ""},
	}
	if !slices.Equal(header, wantHeader) || !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("matrixTable = %q\n%q\nwant %q\n%q", header, rows, wantHeader, wantRows)
	}
}

func TestCleanKeepsOldCases(t *testing.T) {
	tests := []struct{ in, want string }{
		{"good.test", "good.test"},
		{"", ""},
		{"TLS 1.0–TLS 1.2 → ok", "TLS 1.0–TLS 1.2 → ok"},
		{"evil\x1b[31m.test", `evil\x1b[31m.test`},
		{"a\nb\tc\rd", `a\x0ab\x09c\x0dd`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"real\uFFFDreplacement", "real\uFFFDreplacement"},
		{"moc.\u202elive", `moc.\u202elive`},
		{"line\u2028sep", `line\u2028sep`},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"good.test", "good.test"},
		{"", ""},
		{"=1+2", "'=1+2"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+cmd", "'+cmd"},
		{"-cmd", "'-cmd"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", `'\x09=1`},
		{"\r=1", `'\x0d=1`},
		{"-1", "-1"},
		{"+3.5", "+3.5"},
		{"42", "42"},
		{"6 8", "6 8"},
		{"-", "'-"},
		{"-1.", "'-1."},
		{"1-2", "1-2"},
	}
	for _, tt := range tests {
		if got := csvCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdownCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"good.test", "good.test"},
		{"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
		{"[2001:db8::1]:443", "[2001:db8::1]:443"},
		{"<img src=x onerror=alert(1)>", `\<img src=x onerror=alert(1)\>`},
		{"a|b", `a\|b`},
		{`a\|b`, `a\\\|b`},
		{"&#x202e;", `\&#x202e;`},
		{"`code`", "\\`code\\`"},
		{"[x](javascript:y)", `[x]\(javascript:y)`},
		{"*b* ~s~", `\*b\* \~s\~`},
		{"a\nb\x1b", `a\\x0ab\\x1b`},
	}
	for _, tt := range tests {
		if got := markdownCell(tt.in); got != tt.want {
			t.Errorf("markdownCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
