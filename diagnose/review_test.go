package diagnose

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// diagnoseFile runs a capture (with its key log when keylog is set)
// through the pipeline with the lab's root trusted; it wants exactly one
// connection.
func diagnoseFile(t *testing.T, pcap string, keylog bool) (*analysis.Connection, Verdict) {
	t.Helper()
	roots := rootsFile(t, labCAFile)
	opt := analysis.Options{}
	if keylog {
		f, err := os.Open(strings.TrimSuffix(pcap, ".pcap") + ".keylog")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if opt.KeyLog, err = decrypt.ParseKeyLog(f); err != nil {
			t.Fatal(err)
		}
	}
	conns := analyseWith(t, pcap, opt)
	if len(conns) != 1 {
		t.Fatalf("%s: %d connections, want 1", pcap, len(conns))
	}
	return conns[0], Diagnose(conns[0], Config{Roots: roots})
}

// tsharkFrames returns the numbers of the frames tshark's display filter
// matches, in order.
func tsharkFrames(t *testing.T, pcap, filter string, extra ...string) []int64 {
	t.Helper()
	tsharktest.Path(t, "the evidence frames are compared with its")
	args := append([]string{"-n", "-r", pcap}, extra...)
	args = append(args, "-Y", filter, "-T", "fields", "-e", "frame.number")
	out := tsharktest.Output(t, args...)
	var ns []int64
	for _, f := range strings.Fields(string(out)) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	return ns
}

// TestRequestUnanswered reads a Go net/http client whose server completes
// the handshake and never answers the request, over TLS 1.3 and 1.2: the
// verdict stays ok but says plainly that the server application did not
// answer, with the request and the client's FIN as evidence — the frames
// tshark finds independently.
func TestRequestUnanswered(t *testing.T) {
	for _, tt := range []struct {
		file    string
		keylog  bool
		request string // tshark's filter for the request
		line    string // in the summary
		close   string // tshark's filter for the client's close
		how     string // and how the summary names it
	}{
		// TLS 1.2: the client's only application data record is the request.
		// Its close_notify is an encrypted alert record.
		{"ok_no_http_answer_tls12", false, "tcp.srcport != 4468 && tls.record.content_type == 23", "",
			"tcp.srcport != 4468 && tls.record.content_type == 21", "an encrypted alert, close_notify as a rule"},
		// TLS 1.3 without the key log: the client's application data
		// records after its Finished (which travels with its
		// change_cipher_spec) are the request and its close_notify.
		// Its close_notify looks like data: the FIN is the close.
		{"ok_no_http_answer", false, "tcp.srcport != 4467 && tls.app_data && !tls.change_cipher_spec", "",
			"tcp.flags.fin == 1", "FIN"},
		// TLS 1.3 with it: tshark decrypts the HTTP request too.
		{"ok_no_http_answer", true, "http.request", `"GET / HTTP/1.1"`,
			"tls.alert_message", "alert close_notify (decrypted)"},
	} {
		t.Run(fmt.Sprintf("%s/keylog=%v", tt.file, tt.keylog), func(t *testing.T) {
			pcap := capturesDir + "/" + tt.file + ".pcap"
			var extra []string
			if tt.keylog {
				extra = []string{"-o", "tls.keylog_file:" + strings.TrimSuffix(pcap, ".pcap") + ".keylog"}
			}
			reqs := tsharkFrames(t, pcap, tt.request, extra...)
			fins := tsharkFrames(t, pcap, tt.close, extra...)
			if len(reqs) == 0 || len(fins) == 0 {
				t.Fatalf("tshark finds requests %v and FINs %v", reqs, fins)
			}
			c, v := diagnoseFile(t, pcap, tt.keylog)
			req, fin := c.Afterwards().Request.Number, fins[0]
			if req != reqs[0] {
				t.Errorf("request in frame %d, tshark %v", req, reqs)
			}
			if c.Afterwards().Response.Number != 0 {
				t.Errorf("answer in frame %d, want none", c.Afterwards().Response.Number)
			}
			if v.Category != OK {
				t.Errorf("%s: %s; want ok (TLS was fine)", v.Category, v.Summary)
			}
			var closed capture.Frame
			for _, f := range []capture.Frame{c.TCP.FIN[client], c.TCP.FIN[server]} {
				if f.Number == fin {
					closed = f
				}
			}
			for _, a := range c.Alerts {
				if a.Frame.Number == fin {
					closed = a.Frame
				}
			}
			silence := closed.Time.Sub(c.Afterwards().Request.Time)
			line := ""
			if tt.line != "" {
				line = tt.line + " "
			}
			want := fmt.Sprintf("TLS is fine; the server sent nothing after the client's request %s(frame %d) for %.1f s, then the client closed (%s, frame %d): the server application did not answer — look at the server, not at TLS",
				line, req, silence.Seconds(), tt.how, fin)
			if !strings.HasPrefix(v.Summary, want) {
				t.Errorf("summary\n  %s\nwant it to begin\n  %s", v.Summary, want)
			}
			// A table shows what happened, not "TLS is fine".
			if v.Headline != "no answer to request" {
				t.Errorf("headline %q, want %q", v.Headline, "no answer to request")
			}
			if silence.Seconds() < 2.9 {
				t.Errorf("silence %v, want the client's 3 s timeout", silence)
			}
			for _, f := range []int64{req, fin} {
				if !slices.Contains(v.Evidence, f) {
					t.Errorf("evidence %v lacks frame %d", v.Evidence, f)
				}
			}
			if !slices.ContainsFunc(v.Warnings, func(w string) bool {
				return strings.HasPrefix(w, fmt.Sprintf("no answer to the client's request (frame %d)", req)) && strings.Contains(w, "awaiting headers")
			}) {
				t.Errorf("warnings %q lack the unanswered request", v.Warnings)
			}
		})
	}
}

// TestRequestAnsweredWithKeyLog reads curl's two answered GETs with the key
// log: the TLS 1.3 connection's request line, status line and time to first
// byte, against tshark's decryption of the same capture.
func TestRequestAnsweredWithKeyLog(t *testing.T) {
	pcap := capturesDir + "/ok.pcap"
	kl := []string{"-o", "tls.keylog_file:" + capturesDir + "/ok.keylog"}
	reqs := tsharkFrames(t, pcap, "http.request", kl...)
	resps := tsharkFrames(t, pcap, "http.response", kl...)
	if len(reqs) == 0 || len(resps) == 0 {
		t.Fatalf("tshark finds requests %v, responses %v", reqs, resps)
	}
	roots := rootsFile(t, labCAFile)
	f, err := os.Open(capturesDir + "/ok.keylog")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := decrypt.ParseKeyLog(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range analyseWith(t, pcap, analysis.Options{KeyLog: keys}) {
		v := Diagnose(c, Config{Roots: roots})
		a := c.Afterwards()
		if a.Request.Number != reqs[i] {
			t.Errorf("connection %d: request frame %d, tshark %d", i, a.Request.Number, reqs[i])
		}
		if ttfb, ok := c.TimeToFirstByte(); a.Response.Number != resps[i] || !ok || ttfb <= 0 {
			t.Errorf("connection %d: answer frame %d (time to first byte %v, known %v), tshark %d", i, a.Response.Number, ttfb, ok, resps[i])
		}
		if !c.Decrypted {
			continue // TLS 1.2: the key log opens TLS 1.3 only
		}
		if a.RequestLine != "GET / HTTP/1.1" || a.ResponseLine != "HTTP/1.1 200 OK" {
			t.Errorf("connection %d: request %q, answer %q", i, a.RequestLine, a.ResponseLine)
		}
		if want := fmt.Sprintf("request \"GET / HTTP/1.1\" (frame %d) answered \"HTTP/1.1 200 OK\"", reqs[i]); v.Category != OK || !strings.Contains(v.Summary, want) {
			t.Errorf("connection %d: %s: %s; want ok mentioning %s", i, v.Category, v.Summary, want)
		}
	}
}

func analyseWith(t *testing.T, path string, opt analysis.Options) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := analysis.NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Connections()
}

// TestConnectedByAddress reads a Go client fetching https://127.0.0.1:PORT/
// from a server whose certificate names good.test only. Over TLS 1.2 the
// chain verifies with the lab's root, the client sent no SNI and rejected
// the certificate: the address is the cause. Over TLS 1.3 without the key
// log only the likely cause can be named; with it, the cause is shown.
func TestConnectedByAddress(t *testing.T) {
	for _, tt := range []struct {
		file     string
		keylog   bool
		want     Category
		summary  []string
		fix      string
		evidence string // tshark filter for the evidence frames
	}{
		{"cert_hostname_mismatch_ip", false, CertHostnameMismatch,
			[]string{"alert bad_certificate", "the client connected to 127.0.0.1 by address", "has no IP address among its names (good.test)", "the chain itself verifies, so this is the likely reason"},
			"connect by a name the certificate covers, or add IP:127.0.0.1 to its subjectAltName",
			"tls.handshake.type == 11 || tls.alert_message.desc == 42"},
		{"cert_rejected_ip_tls13", false, CertRejected,
			[]string{"the client sent no SNI, so it most likely connected by address (127.0.0.1)", "IP:127.0.0.1"},
			"if the certificate lacks IP:127.0.0.1", ""},
		{"cert_rejected_ip_tls13", true, CertHostnameMismatch,
			[]string{"bad_certificate (decrypted)", "the client connected to 127.0.0.1 by address"},
			"add IP:127.0.0.1 to its subjectAltName", ""},
	} {
		t.Run(fmt.Sprintf("%s/keylog=%v", tt.file, tt.keylog), func(t *testing.T) {
			pcap := capturesDir + "/" + tt.file + ".pcap"
			c, v := diagnoseFile(t, pcap, tt.keylog)
			if c.ClientHello == nil || c.ClientHello.ServerName != "" {
				t.Fatalf("the client sent SNI %q; the capture must show a client by address", c.ClientHello.ServerName)
			}
			if v.Category != tt.want {
				t.Errorf("%s: %s; want %s", v.Category, v.Summary, tt.want)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary %q lacks %q", v.Summary, s)
				}
			}
			if !strings.Contains(v.Fix, tt.fix) {
				t.Errorf("fix %q lacks %q", v.Fix, tt.fix)
			}
			if tt.evidence != "" {
				if want := tsharkFrames(t, pcap, tt.evidence); !slices.Equal(v.Evidence, want) {
					t.Errorf("evidence %v, tshark's certificate and alert frames %v", v.Evidence, want)
				}
			}
			if slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.Contains(w, "names were not checked") }) {
				t.Errorf("warnings %q still say the names were not checked", v.Warnings)
			}
		})
	}
}

// TestAddressProblem checks a leaf against addresses directly.
func TestAddressProblem(t *testing.T) {
	c, _ := diagnoseFile(t, capturesDir+"/cert_hostname_mismatch_ip.pcap", false)
	leaf := c.Certificates[0].X509
	if p := AddressProblem(leaf, c.Server.Addr()); p == nil || p.Category != CertHostnameMismatch || p.Address != "127.0.0.1" {
		t.Errorf("AddressProblem(127.0.0.1) = %+v", p)
	}
	if p := AddressProblem(nil, c.Server.Addr()); p != nil {
		t.Errorf("AddressProblem(nil leaf) = %+v", p)
	}
}

// TestSSLv2Server reads Zeek's pure SSLv2 session: the connection is
// reported as SSL 2.0 with the cipher the client chose, and warned about.
func TestSSLv2Server(t *testing.T) {
	conns := analyseWith(t, testdataDir+"/public/zeek/ssl-v2.pcap", analysis.Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != OK || !strings.HasPrefix(v.Summary, "SSL 2.0 handshake completed in ") || !strings.Contains(v.Summary, "SSL2_DES_192_EDE3_CBC_WITH_MD5") {
		t.Errorf("%s: %s", v.Category, v.Summary)
	}
	if !slices.Equal(v.Evidence, []int64{4, 6, 11}) {
		t.Errorf("evidence %v, want the CLIENT-HELLO (4), SERVER-HELLO (6) and SERVER-FINISHED (11)", v.Evidence)
	}
	if !slices.ContainsFunc(v.Warnings, func(w string) bool {
		return strings.Contains(w, "the server answered in SSLv2 (SERVER-HELLO, frame 6)") && strings.Contains(w, "RFC 6176")
	}) {
		t.Errorf("warnings %q lack RFC 6176", v.Warnings)
	}
}
