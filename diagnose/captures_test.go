package diagnose

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The real captures of testdata/captures are made by
// internal/tlslab/mkcaptures: one scenario each, named after the category
// every connection in it must get (testdata/README.md), with the lab's
// root in testdata/certs/ca.pem.
const (
	testdataDir  = "../testdata"
	capturesDir  = testdataDir + "/captures"
	expectedFile = capturesDir + "/expected.tsv"
	labCAFile    = testdataDir + "/certs/ca.pem"
)

// fileCategory returns the category a capture's name starts with:
// "cert_expired_tls13.pcap" is cert_expired. The longest match wins, so
// that no category is mistaken for another's prefix.
func fileCategory(name string) (Category, bool) {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	var best Category
	for _, c := range Categories {
		if (base == string(c) || strings.HasPrefix(base, string(c)+"_")) && len(c) > len(best) {
			best = c
		}
	}
	return best, best != ""
}

func TestFileCategory(t *testing.T) {
	for name, want := range map[string]Category{
		"ok.pcap": OK, "ok_mtu576.pcap": OK, "cert_expired_tls13.pcap": CertExpired,
		"cert_rejected_go.pcap": CertRejected, "not_tls_client.pcap": NotTLSClient,
		"version_mismatch_tls10.pcap": VersionMismatch, "handshake_failure_tls12.pcap": HandshakeFailure,
	} {
		if got, _ := fileCategory(name); got != want {
			t.Errorf("fileCategory(%q) = %q, want %q", name, got, want)
		}
	}
	if got, ok := fileCategory("okay.pcap"); ok {
		t.Errorf("okay.pcap has category %q", got)
	}
}

// expectation is one line of testdata/captures/expected.tsv: every
// connection to port in file must get category.
type expectation struct {
	file     string // relative to testdata
	port     uint16
	category Category
}

// readExpected reads testdata/captures/expected.tsv.
func readExpected(t *testing.T) []expectation {
	t.Helper()
	data, err := os.ReadFile(expectedFile)
	if err != nil {
		t.Fatalf("the captures come with %s: %v", expectedFile, err)
	}
	var es []expectation
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("%s:%d: want 3 tab-separated fields, got %q", expectedFile, n+1, line)
		}
		port, err := strconv.ParseUint(f[1], 10, 16)
		if err != nil {
			t.Fatalf("%s:%d: port: %v", expectedFile, n+1, err)
		}
		cat := Category(f[2])
		if !slices.Contains(Categories, cat) {
			t.Fatalf("%s:%d: unknown category %q", expectedFile, n+1, f[2])
		}
		es = append(es, expectation{file: f[0], port: uint16(port), category: cat})
	}
	return es
}

// TestCaptures runs every capture listed in expected.tsv through capture,
// analysis and Diagnose: each connection must get the category listed for
// its server port, every listed port must have a connection, and every
// category must be covered.
func TestCaptures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(capturesDir, "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no captures in %s yet (go run ./internal/tlslab/mkcaptures makes them)", capturesDir)
	}
	roots := rootsFile(t, labCAFile)
	expected := readExpected(t)
	byFile := map[string]map[uint16]Category{}
	var order []string
	seen := map[Category]bool{}
	for _, e := range expected {
		if byFile[e.file] == nil {
			byFile[e.file] = map[uint16]Category{}
			order = append(order, e.file)
		}
		byFile[e.file][e.port] = e.category
		seen[e.category] = true
		// A capture named after a category holds only that category.
		if strings.HasPrefix(e.file, "captures/") {
			if c, ok := fileCategory(filepath.Base(e.file)); !ok || c != e.category {
				t.Errorf("%s is listed as %s but named %q", e.file, e.category, c)
			}
		}
	}
	for _, f := range files {
		if byFile["captures/"+filepath.Base(f)] == nil {
			t.Errorf("%s is not listed in %s", f, expectedFile)
		}
	}
	for _, c := range quicLabCategories() {
		seen[c] = true // testdata/quic: TestQUICCaptures
	}
	for _, c := range fieldCategories(t) {
		seen[c] = true // testdata/field: TestFieldCaptures
	}
	for _, c := range publicCategories {
		seen[c] = true // testdata/public: their own tests
	}
	for _, c := range Categories {
		if !seen[c] {
			t.Errorf("no capture for category %s", c)
		}
	}
	for _, file := range order {
		want := byFile[file]
		t.Run(strings.TrimSuffix(file, ".pcap"), func(t *testing.T) {
			got := map[uint16]int{}
			// The lab's ports are not IANA TLS ports: say that every listed
			// port was meant to be TLS, as a user would (the refused and
			// plaintext connections carry no TLS to show it).
			ports := slices.Sorted(maps.Keys(want))
			for i, c := range analyseCapture(t, filepath.Join(testdataDir, file), ports) {
				v := Diagnose(c, Config{Roots: roots})
				if testing.Verbose() {
					t.Logf("connection %d %s → %s: %s: %s | fix: %s | evidence %v | warnings %q", i, c.Client, c.Server, v.Category, v.Summary, v.Fix, v.Evidence, v.Warnings)
				}
				cat, ok := want[c.Server.Port()]
				if !ok {
					t.Errorf("connection %d (%s → %s) to a port %s does not list: %s", i, c.Client, c.Server, expectedFile, v.Category)
					continue
				}
				got[c.Server.Port()]++
				if v.Category != cat {
					t.Errorf("connection %d (%s → %s) is %s, want %s: %s", i, c.Client, c.Server, v.Category, cat, v.Summary)
				}
				if cat != OK && len(v.Evidence) == 0 {
					t.Errorf("connection %d: %s without evidence frames", i, v.Category)
				}
				// Frames of other connections a verdict names as support
				// (other names to the same host) may come later.
				other := func(n int64) bool {
					return slices.ContainsFunc(c.OtherNames, func(o analysis.OtherName) bool { return o.First.Number == n })
				}
				if j := slices.IndexFunc(v.Evidence, func(n int64) bool { return n > c.Last.Number && !other(n) }); j >= 0 {
					t.Errorf("connection %d: evidence frame %d is after the connection's last frame %d", i, v.Evidence[j], c.Last.Number)
				}
			}
			for _, port := range ports {
				if got[port] == 0 {
					t.Errorf("no connection to port %d reported (want %s)", port, want[port])
				}
			}
		})
	}
}

// publicCategories are the categories whose cases are captures of
// testdata/public (other people's traffic, such as Zeek's test traces of
// attacks), read by tests of their own; each adds itself from an init
// function.
var publicCategories []Category

// analyseCapture runs one capture file through capture and the Builder.
func analyseCapture(t *testing.T, path string, tlsPorts []uint16) []*analysis.Connection {
	t.Helper()
	return analyseCaptureWith(t, path, analysis.Options{TLSPorts: tlsPorts})
}

// analyseCaptureWith is analyseCapture with the analysis options given.
func analyseCaptureWith(t *testing.T, path string, opts analysis.Options) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	b := analysis.NewBuilder(opts)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatalf("analyse %s: %v", path, err)
	}
	return b.Connections()
}

// TestDerivedCaptures runs the captures testdata/derived/make.sh derives
// from the real ones (frames dropped, cut by a snap length, merged,
// compressed): each connection to the listed port must get the listed
// category, with the listed phrase in its summary.
func TestDerivedCaptures(t *testing.T) {
	checkExpected(t, testdataDir+"/derived", "expected.tsv", labCAFile, false)
}

// TestFieldCaptures runs the hand-made captures of testdata/field (see its
// README) as TestDerivedCaptures does.
func TestFieldCaptures(t *testing.T) {
	checkExpected(t, testdataDir+"/field", "expected.tsv", labCAFile, false)
}

// TestFieldCapturesWithKeyLogs runs the field captures that have a key
// log beside them (the capture's name with .keylog) read with it, as
// `read --keylog` does: testdata/field/expected-keylog.tsv lists what the
// decrypted handshake must say (the alert and certificate TLS 1.3 hides).
func TestFieldCapturesWithKeyLogs(t *testing.T) {
	checkExpected(t, testdataDir+"/field", "expected-keylog.tsv", labCAFile, true)
}

// TestFieldCertPolicyCaptures runs the captures of chains that break a
// certificate rule (testdata/field/certpolicy, see its README), made by
// curl and Go clients that trust the private root next to them.
func TestFieldCertPolicyCaptures(t *testing.T) {
	dir := testdataDir + "/field/certpolicy"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
}

// TestFieldMatrixCaptures runs the client x failure matrix captures
// (testdata/field/matrix, see its README): the commonest failures, each
// met by Go, curl, wget, openssl, gnutls-cli, Python, Node.js, Java and
// Chromium against nginx; kept are the cells a fix changed and one or two
// of each row that were already right, from different clients.
func TestFieldMatrixCaptures(t *testing.T) {
	dir := testdataDir + "/field/matrix"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
}

// TestFieldSysrootsCaptures reads the captures of clients that do not
// read the system trust store (testdata/field/sysroots, see its README):
// with their root in the system store of the machine reading them, the
// verdict says the client read another store, or none, and its fix gives
// the client the system's roots (a container's CA certificates, requests'
// REQUESTS_CA_BUNDLE, curl without --cacert); with the root given as the
// user's own, the advice to make the client trust it stays.
func TestFieldSysrootsCaptures(t *testing.T) {
	dir := testdataDir + "/field/sysroots"
	t.Run("system", func(t *testing.T) {
		t.Setenv("SSL_CERT_FILE", dir+"/root.pem")
		t.Setenv("SSL_CERT_DIR", t.TempDir())
		roots, err := LoadRoots(true)
		if err != nil {
			t.Fatal(err)
		}
		checkExpectedRoots(t, dir, "expected.tsv", roots, false)
	})
	t.Run("own", func(t *testing.T) {
		checkExpected(t, dir, "expected-own.tsv", dir+"/root.pem", false)
	})
}

// TestFieldProxyprotoCaptures reads the captures of TLS through load
// balancers that speak the PROXY protocol (testdata/field/proxyproto, see
// its README): at a backend that expects the header the handshake reads
// as any other; a header that the backend does not expect is named, with
// certainty, as the cause; a backend that expects a header and got none
// (a bare reset or close after the ClientHello) names that as a possible
// cause, with nginx's "broken header" log line to confirm it. The record
// of each connection names the client the header carries
// (expected-proxy.tsv; version 0: no header).
func TestFieldProxyprotoCaptures(t *testing.T) {
	dir := testdataDir + "/field/proxyproto"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
	data, err := os.ReadFile(filepath.Join(dir, "expected-proxy.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			t.Fatalf("expected-proxy.tsv:%d: %q", n+1, line)
		}
		port, _ := strconv.ParseUint(f[1], 10, 16)
		t.Run("record/"+f[0], func(t *testing.T) {
			conns := analyseCaptureWith(t, filepath.Join(dir, f[0]), analysis.Options{TLSPorts: []uint16{uint16(port)}})
			if len(conns) != 1 {
				t.Fatalf("%d connections, want 1", len(conns))
			}
			p := conns[0].ProxyHeader()
			if f[2] == "0" {
				if p != nil {
					t.Errorf("a PROXY header where there is none: %+v", p)
				}
				return
			}
			if p == nil {
				t.Fatal("no PROXY header read")
			}
			var tlvs []string
			for _, x := range p.TLVs {
				tlvs = append(tlvs, tlsparse.ProxyTLVName(x))
			}
			got := []string{strconv.Itoa(p.Version), p.Source.String(), p.Destination.String(), strings.Join(tlvs, ",")}
			want := append(f[2:5:5], "")
			if len(f) > 5 {
				want[3] = f[5]
			}
			if !slices.Equal(got, want) || p.Malformed != "" || p.Frame.Number == 0 {
				t.Errorf("got %q (malformed %q, frame %d), want %q", got, p.Malformed, p.Frame.Number, want)
			}
		})
	}
}

// TestFieldDualstackCaptures reads the dual-stack captures
// (testdata/field/dualstack, see its README): a name with IPv6 and IPv4
// addresses, one family broken (dropped, rejected by ICMP, reset, or not
// served) or both, met by curl, Node.js, Python requests, Chromium and Go.
// A client that fell back to the other family got its answer: the failed
// attempt keeps its verdict, but says that the client fell back and got
// through, and its fix is the broken family's path or record, not a
// server that was down; when both families failed, each attempt says the
// client tried both. Rows name the server address (with its port, which
// is read as a TLS port): every connection to it must match each of its
// rows. A SYN sent again after an ICMP error that rejected it must not be
// read as a client that gave up at the error.
func TestFieldDualstackCaptures(t *testing.T) {
	dir := testdataDir + "/field/dualstack"
	data, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	roots := rootsFile(t, dir+"/root.pem")
	type row struct{ category, phrase, fix string }
	want := map[string]map[netip.AddrPort][]row{}
	var order []string
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 && len(f) != 5 {
			t.Fatalf("expected.tsv:%d: want 4 or 5 tab-separated fields, got %q", n+1, line)
		}
		server, err := netip.ParseAddrPort(f[1])
		if err != nil {
			t.Fatalf("expected.tsv:%d: %v", n+1, err)
		}
		if want[f[0]] == nil {
			want[f[0]] = map[netip.AddrPort][]row{}
			order = append(order, f[0])
		}
		r := row{category: f[2], phrase: f[3]}
		if len(f) == 5 {
			r.fix = f[4]
		}
		want[f[0]][server] = append(want[f[0]][server], r)
	}
	for _, name := range order {
		t.Run(name, func(t *testing.T) {
			rows := want[name]
			var port uint16
			for s := range rows {
				port = s.Port()
			}
			seen := map[netip.AddrPort]bool{}
			for _, c := range analyseCaptureWith(t, filepath.Join(dir, name), analysis.Options{TLSPorts: []uint16{port}}) {
				rs, ok := rows[c.Server]
				if !ok {
					t.Errorf("%s → %s: no row for this server", c.Client, c.Server)
					continue
				}
				seen[c.Server] = true
				v := Diagnose(c, Config{Roots: roots})
				said := v.Summary + "\n" + strings.Join(v.Warnings, "\n")
				for _, r := range rs {
					if string(v.Category) != r.category || !strings.Contains(said, r.phrase) {
						t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, v.Summary, r.category, r.phrase)
					}
					if r.fix != "" && !strings.Contains(v.Fix, r.fix) {
						t.Errorf("%s → %s: fix %q\nwant %q in it", c.Client, c.Server, v.Fix, r.fix)
					}
				}
				if v.Category != OK && len(v.Evidence) == 0 {
					t.Errorf("%s without evidence frames", v.Category)
				}
			}
			for s := range rows {
				if !seen[s] {
					t.Errorf("no connection to %s", s)
				}
			}
		})
	}
}

// TestFieldDualstackSpareAttempt reads Chromium's capture of a dropped
// IPv6: it made three IPv6 attempts and two IPv4 connections; each IPv4
// connection is the fallback of one attempt, and the third attempt, which
// fell back to a connection an earlier one had, must not claim the delay
// between the two as its cost.
func TestFieldDualstackSpareAttempt(t *testing.T) {
	conns := analyseCaptureWith(t, testdataDir+"/field/dualstack/v6drop_chromium.pcap", analysis.Options{TLSPorts: []uint16{8480}})
	fallbacks := map[int64]int{}
	shared := 0
	for _, c := range conns {
		o := c.OtherFamily
		if c.Server.Addr().Is4() || o == nil || !o.Later {
			continue
		}
		fallbacks[o.First.Number]++
		if o.Shared {
			shared++
			if v := Diagnose(c, Config{}); !strings.Contains(v.Summary, "see the earlier attempt that fell back to the same connection") || strings.Contains(v.Summary, "(here ") {
				t.Errorf("%s → %s: %s", c.Client, c.Server, v.Summary)
			}
		}
	}
	if len(fallbacks) != 2 || shared != 1 {
		t.Errorf("fallbacks %v, %d shared: want the two IPv4 connections each linked first, one attempt sharing", fallbacks, shared)
	}
}

// TestFieldShapesCaptures checks captures taken the ways people take
// them on real hosts (testdata/field/shapes): tcpdump -i any on a
// Docker-like host, where each packet is seen on the bridge, its port and
// the client's link, before and after a NAT; a sender's capture with TSO
// and checksum offload, a receiver's with GRO; one direction; IPv6; IPv4
// fragments; dumpcap on two interfaces. A connection seen on several
// interfaces, under other addresses past the NAT, must be listed once,
// with the verdict of its packets, never a second time as a capture of
// one direction.
func TestFieldShapesCaptures(t *testing.T) {
	dir := testdataDir + "/field/shapes"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
	for _, name := range []string{"any_bridge_curl.pcap", "any_nat_curl.pcap", "any_nat_go.pcap", "any_nano.pcap", "dumpcap_two_if.pcapng", "dumpcap_two_if_commented.pcapng", "dumpcap_two_if_nsec.pcap", "any_sll1_curl.pcap"} {
		if conns := analyseCapture(t, filepath.Join(dir, name), nil); len(conns) != 3 {
			for _, c := range conns {
				t.Logf("%s: %s → %s", name, c.Client, c.Server)
			}
			t.Errorf("%s: %d connections, want the 3 made, each once", name, len(conns))
		}
	}
}

// TestFieldServersCaptures runs the server x failure captures
// (testdata/field/servers, see its README): the failures of the matrix
// and those a server decides (client certificates, ALPN, SNI, plain
// HTTP), met by Go, Node.js, Python, gnutls-serv, openssl s_server and
// Java servers, each failing in its own way on the wire; the fixes must
// name the server the capture shows, or none, never nginx's setting for
// another server.
func TestFieldServersCaptures(t *testing.T) {
	dir := testdataDir + "/field/servers"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
}

// TestFieldH2Captures checks HTTP/2 and gRPC failures that live in TLS
// details (testdata/field/h2, see its README): gRPC clients other than
// gRPC-Go (grpc-js, grpcio on gRPC's C core) against servers that select
// no ALPN protocol, speak HTTP/1.1 only or h2c; HTTP/2 over TLS 1.2 with a
// suite RFC 9113 forbids, which Chromium refuses and Go, curl and Node.js
// accept; h2-only clients against servers without h2. The key-logged
// rows read the clients' own key logs.
func TestFieldH2Captures(t *testing.T) {
	dir := testdataDir + "/field/h2"
	checkExpected(t, dir, "expected.tsv", dir+"/roots.pem", false)
	checkExpected(t, dir, "expected-keylog.tsv", dir+"/roots.pem", true)
}

// TestFieldReuseCaptures checks requests sent on a kept-alive
// connection just as the server closed it for being idle
// (testdata/field/reuse, see its README): nginx's keepalive_timeout met
// by Go, Python requests, curl and Go over HTTP/2 (GOAWAY), captured at
// the client's end (the close crosses the request: it comes less than a
// round trip after it) and at the server's (the close comes first). Each
// must stay ok — TLS is fine — and say that the server closed the idle
// connection as the client reused it, with the fix on both sides, never
// that the server dropped the request. The controls (nginx's
// keepalive_requests, which announces its close) must say nothing of
// the kind.
func TestFieldReuseCaptures(t *testing.T) {
	dir := testdataDir + "/field/reuse"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
	checkExpected(t, dir, "expected-keylog.tsv", dir+"/root.pem", true)
	roots := rootsFile(t, dir+"/root.pem")
	for _, tc := range []struct {
		name  string
		port  uint16
		races int
	}{
		// curl met the close on its third POST, and retried on a new
		// connection ("Connection died, retrying a fresh connect").
		{"curl_post_idle_timeout.pcap", 8494, 1},
		{"go_h2_max_requests.pcap", 8493, 0},
		{"go_keepalive_requests.pcap", 8491, 0},
		// nginx closing on reading the request ("return 444"): its
		// close came a round trip after the request, in answer to it.
		{"go_post_dropped.pcap", 8496, 0},
	} {
		races, conns := 0, 0
		for _, c := range analyseCapture(t, filepath.Join(dir, tc.name), []uint16{tc.port}) {
			conns++
			v := Diagnose(c, Config{Roots: roots})
			if v.Category != OK {
				t.Errorf("%s: %s → %s: %s: %s, want ok", tc.name, c.Client, c.Server, v.Category, v.Summary)
			}
			if strings.Contains(v.Summary, "the server closed the idle connection as the client reused it") {
				races++
				if v.Headline != "request hit idle close" {
					t.Errorf("%s: %s: headline %q, want the idle close's", tc.name, c.Client, v.Headline)
				}
			} else if v.Headline != "" {
				t.Errorf("%s: %s: headline %q for %s", tc.name, c.Client, v.Headline, v.Summary)
			}
			if strings.Contains(v.Summary, "the server application dropped the request") {
				t.Errorf("%s: %s: %s", tc.name, c.Client, v.Summary)
			}
		}
		if races != tc.races || conns == 0 {
			t.Errorf("%s: %d of %d connections read as an idle close, want %d", tc.name, races, conns, tc.races)
		}
	}
	// At the server's end, where the tickets (frames 11, 12) left before
	// the request (13) arrived: the short answer right after the request
	// (14) is the answer, not a third ticket, and the close_notify an
	// idle second later (17) is not the answer.
	conns := analyseCapture(t, dir+"/go_post_idle_srvside_tickets_first.pcap", []uint16{8490})
	if len(conns) != 1 {
		t.Fatalf("go_post_idle_srvside_tickets_first.pcap: %d connections, want 1", len(conns))
	}
	if a := conns[0].Afterwards(); a.Request.Number != 13 || a.Response.Number != 14 || a.Tickets != 0 || a.ServerFirst != 2 {
		t.Errorf("go_post_idle_srvside_tickets_first.pcap: request %d, response %d, %d tickets after it, %d records before it; want 13, 14, 0, 2",
			a.Request.Number, a.Response.Number, a.Tickets, a.ServerFirst)
	}
	v := Diagnose(conns[0], Config{Roots: rootsFile(t, dir+"/tickets_first_root.pem")})
	if v.Category != OK || !strings.Contains(v.Summary, "the server had closed the connection") {
		t.Errorf("go_post_idle_srvside_tickets_first.pcap: %s: %s", v.Category, v.Summary)
	}
}

// TestFieldNodePyCaptures checks the keep-alive race against Node.js
// and Python servers (testdata/field/nodepy): a Go client's POST on a
// connection the server closed for being idle, at each end, with Node's
// default keepAliveTimeout and a short one, and Python's http.server.
// With the client's key log the answers are read: Node, which sends no
// Server header, is told by its Keep-Alive header, whose timeout the
// idle close quotes, and the fix names its setting and no other
// server's; without it the fix gives the short list, which leaves Node
// and Python out.
func TestFieldNodePyCaptures(t *testing.T) {
	dir := testdataDir + "/field/nodepy"
	checkExpected(t, dir, "expected.tsv", dir+"/root.pem", false)
	checkExpected(t, dir, "expected-keylog.tsv", dir+"/root.pem", true)
	roots := rootsFile(t, dir+"/root.pem")
	for _, tc := range []struct {
		name  string
		port  uint16
		races int
		srv   Server // recognised with the key log
	}{
		{"node_post_idle_timeout.pcap", 9502, 1, ServerNode},
		{"node_post_idle_timeout_srvside.pcap", 9502, 1, ServerNode},
		{"node_default_idle_timeout.pcap", 9501, 1, ServerNode},
		{"node_reused_in_time.pcap", 9502, 0, ServerNode},
		{"python_httpserver_idle_timeout.pcap", 9503, 1, ServerPython},
	} {
		path := filepath.Join(dir, tc.name)
		for _, keys := range []bool{false, true} {
			opts := analysis.Options{TLSPorts: []uint16{tc.port}}
			if keys {
				opts.KeyLog = readKeyLog(t, strings.TrimSuffix(path, ".pcap")+".keylog")
			}
			races, conns := 0, 0
			for _, c := range analyseCaptureWith(t, path, opts) {
				conns++
				v := Diagnose(c, Config{Roots: roots})
				if v.Category != OK {
					t.Errorf("%s: %s: %s, want ok", tc.name, v.Category, v.Summary)
				}
				if !strings.Contains(v.Summary, "the server closed the idle connection as the client reused it") {
					continue
				}
				races++
				srv := RecognizeServer(c.Response)
				switch {
				case keys && srv != tc.srv:
					t.Errorf("%s with its key log: server %q, want %q", tc.name, srv, tc.srv)
				case !keys && srv != ServerUnknown:
					t.Errorf("%s without keys: server %q recognised from encrypted answers", tc.name, srv)
				}
				for _, other := range AllServers {
					named := strings.Contains(v.Fix, other.Name()+": ")
					switch {
					case keys && other != tc.srv && named:
						t.Errorf("%s with its key log: the fix names %s too: %s", tc.name, other.Name(), v.Fix)
					case keys && other == tc.srv && !named:
						t.Errorf("%s with its key log: the fix lacks %s: %s", tc.name, other.Name(), v.Fix)
					}
				}
			}
			if races != tc.races || conns == 0 {
				t.Errorf("%s (key log %v): %d of %d connections read as an idle close, want %d", tc.name, keys, races, conns, tc.races)
			}
		}
	}
}

// TestFieldGoErrCaptures checks the failures of a Go net/http client in
// testdata/field/goerr: chains refused for their purpose or shape, whose
// verdict must name the certificate at fault and a fix that changes it,
// not the leaf alone; and a server's renegotiation the client refused,
// read with and without the client's key log.
func TestFieldGoErrCaptures(t *testing.T) {
	dir := testdataDir + "/field/goerr"
	checkExpected(t, dir, "expected.tsv", dir+"/roots.pem", false)
	checkExpected(t, dir, "expected-keylog.tsv", dir+"/roots.pem", true)
}

// TestFieldCrossSignCaptures checks a chain that reaches an old root
// through a cross-signed new root (testdata/field/xsign): with the
// cross-sign or the old root expired, clients that trust only the old
// root fail, and the fix is the new root in their trust store, then the
// cross-sign out of the server's chain, never a renewed intermediate or
// the client's clock; clients that trust the new root succeed and stay
// ok. Each list is read with other roots: the old root, the new one, the
// old root's expired edition, and roots that have nothing to do with the
// chain.
func TestFieldCrossSignCaptures(t *testing.T) {
	dir := testdataDir + "/field/xsign"
	checkExpected(t, dir, "expected.tsv", dir+"/roots.pem", false)
	checkExpected(t, dir, "expected-new.tsv", dir+"/roots-new.pem", false)
	checkExpected(t, dir, "expected-old-expired.tsv", dir+"/roots-old-expired.pem", false)
	checkExpected(t, dir, "expected-unknown-roots.tsv", labCAFile, false)
}

// fieldCategories are the categories of the field captures' expected
// verdicts (testdata/field/expected*.tsv and those of its directories,
// each checked by a TestField test): real traffic the lab does not make,
// such as ICMP errors from a router.
func fieldCategories(t *testing.T) []Category {
	lists, err := filepath.Glob(testdataDir + "/field/expected*.tsv")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob(testdataDir + "/field/*/expected*.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var cs []Category
	for _, list := range append(lists, more...) {
		data, err := os.ReadFile(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Split(line, "\t"); len(f) >= 3 && !strings.HasPrefix(line, "#") {
				cs = append(cs, Category(f[2]))
			}
		}
	}
	return cs
}

// rootsFile loads the roots in the PEM file path.
func rootsFile(t *testing.T, path string) *Roots {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := LoadRoots(false, pem)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return roots
}

// checkExpected checks the captures dir/list names, read with the root in
// caFile and, when withKeys, with the key log beside each capture:
// capture, server port, category, a phrase the summary or a warning must
// have, and optionally a phrase the fix must have.
func checkExpected(t *testing.T, dir, list, caFile string, withKeys bool) {
	checkExpectedRoots(t, dir, list, rootsFile(t, caFile), withKeys)
}

// checkExpectedRoots is checkExpected with the trust store roots.
func checkExpectedRoots(t *testing.T, dir, list string, roots *Roots, withKeys bool) {
	checkExpectedWith(t, dir, list, expectedRead{roots: roots, withKeys: withKeys})
}

// expectedRead is how checkExpectedWith reads the captures of a list.
type expectedRead struct {
	roots    *Roots
	withKeys bool // with the key log beside each capture
	// whole judges the capture's connections together with All, as read
	// does, rather than each alone with Diagnose: some readings look
	// across connections.
	whole bool
	// never is a phrase no text of a listed connection may have (for
	// control lists); "" for none.
	never string
}

// checkExpectedWith checks the captures dir/list names as e says: each
// line has a capture, a server port, a category, a phrase the summary or
// a warning must have, and optionally a phrase the fix must have.
func checkExpectedWith(t *testing.T, dir, list string, e expectedRead) {
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
		t.Run(f[0], func(t *testing.T) {
			path := filepath.Join(dir, f[0])
			opts := analysis.Options{TLSPorts: []uint16{uint16(port)}}
			if e.withKeys {
				opts.KeyLog = readKeyLog(t, strings.TrimSuffix(path, filepath.Ext(path))+".keylog")
			}
			conns := analyseCaptureWith(t, path, opts)
			cfg := Config{Roots: e.roots}
			var vs []Verdict
			if e.whole {
				vs = All(conns, cfg, 1)
			}
			got := 0
			for i, c := range conns {
				if c.Server.Port() != uint16(port) {
					continue
				}
				got++
				var v Verdict
				if e.whole {
					v = vs[i]
				} else {
					v = Diagnose(c, cfg)
				}
				said := v.Summary + "\n" + strings.Join(v.Warnings, "\n")
				if string(v.Category) != f[2] || !strings.Contains(said, f[3]) {
					t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, v.Summary, f[2], f[3])
				}
				if len(f) == 5 && !strings.Contains(v.Fix, f[4]) {
					t.Errorf("%s → %s: fix %q\nwant %q in it", c.Client, c.Server, v.Fix, f[4])
				}
				if e.never != "" && strings.Contains(said+"\n"+v.Fix, e.never) {
					t.Errorf("%s → %s: a text says %q: %s", c.Client, c.Server, e.never, v.Summary)
				}
				if v.Category != OK && len(v.Evidence) == 0 {
					t.Errorf("%s without evidence frames", v.Category)
				}
				if v.Category == OK && c.ServerHello == nil {
					t.Errorf("ok without a ServerHello")
				}
			}
			if got == 0 {
				t.Errorf("no connection to port %d", port)
			}
		})
	}
}

// TestLossWarningNotOnGoodClose holds that a close_notify lost at the
// end of an answered request, and sent again after the FIN, is not
// taken for a client that gave up on a lost request.
func TestLossWarningNotOnGoodClose(t *testing.T) {
	// The capture, and the same with every frame twice (each segment's
	// copy, microseconds later, is no loss).
	for _, path := range []string{"/field/loss_close_notify_resent.pcap", "/derived/loss_close_notify_resent_dup.pcap"} {
		conns := analyseCapture(t, testdataDir+path, []uint16{443})
		if len(conns) != 1 {
			t.Fatalf("%s: %d connections, want 1", path, len(conns))
		}
		v := Diagnose(conns[0], Config{})
		if v.Category != OK {
			t.Errorf("%s: verdict %s: %s, want ok", path, v.Category, v.Summary)
		}
		for _, w := range v.Warnings {
			if strings.Contains(w, "lost on the path") {
				t.Errorf("%s: warning on a good close: %s", path, w)
			}
		}
	}
}

// TestClockStepKeepsVerdicts reads a capture whose timestamps step back an
// hour half-way (testdata/derived/make.sh makes it from
// testdata/field/clients_node_java.pcap, as an NTP step while capturing,
// or mergecap -a of two hosts' files, does): the verdicts must be those
// of the original, and certificates minutes old must not read as not yet
// valid; the dates the step leaves in doubt are named, not judged.
func TestClockStepKeepsVerdicts(t *testing.T) {
	orig := analyseCapture(t, testdataDir+"/field/clients_node_java.pcap", nil)
	back := analyseCapture(t, testdataDir+"/derived/clients_node_java_back.pcap", nil)
	if len(orig) != len(back) || len(orig) == 0 {
		t.Fatalf("%d connections, the original has %d", len(back), len(orig))
	}
	doubted := 0
	for i := range orig {
		want, got := Diagnose(orig[i], Config{}), Diagnose(back[i], Config{})
		if got.Category != want.Category {
			t.Errorf("%s → %s: %s (%s), the original %s", back[i].Client, back[i].Server, got.Category, got.Summary, want.Category)
		}
		for _, w := range got.Warnings {
			if strings.Contains(w, "not judged: the capture's clock stepped back") {
				doubted++
			}
		}
	}
	if doubted == 0 {
		t.Errorf("no warning names the certificate dates the step left in doubt")
	}
}

// TestNodeClientFixes: Node.js clients (testdata/field/clients_node_java.pcap,
// node12_untrusted.pcap) are told Node's own switches: NODE_EXTRA_CA_CERTS
// to trust a private root, --tls-keylog for the TLS secrets; not
// openssl s_client's.
func TestNodeClientFixes(t *testing.T) {
	want := map[string][]string{
		"clients_node_java.pcap/57226": {"node --tls-keylog=keys.log"},         // TLS 1.3, rejected after the encrypted flight
		"clients_node_java.pcap/57230": {"NODE_EXTRA_CA_CERTS=/path/root.pem"}, // TLS 1.2, rejected after the handshake
		"node12_untrusted.pcap/50202":  {"NODE_EXTRA_CA_CERTS=/path/root.pem"},
	}
	seen := 0
	for _, name := range []string{"clients_node_java.pcap", "node12_untrusted.pcap"} {
		for _, c := range analyseCapture(t, testdataDir+"/field/"+name, nil) {
			phrases, ok := want[fmt.Sprintf("%s/%d", name, c.Client.Port())]
			if !ok {
				continue
			}
			seen++
			v := Diagnose(c, Config{})
			for _, p := range phrases {
				if !strings.Contains(v.Fix, p) {
					t.Errorf("%s %s: fix %q, want %q", name, c.Client, v.Fix, p)
				}
			}
			if strings.Contains(v.Fix, "openssl") {
				t.Errorf("%s %s: fix names openssl for a Node.js client: %q", name, c.Client, v.Fix)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d connections found", seen, len(want))
	}
}

// TestExplicitProxyFixes: a client given its proxy by name (a probe's
// --proxy) is not told to bypass it with NO_PROXY, which such a proxy
// ignores, but to connect without it; a client whose proxy came from the
// environment still is. testdata/captures/proxy_refused.pcap is a 403 to
// CONNECT, proxy_refused_block_page.pcap a block page inside the tunnel.
func TestExplicitProxyFixes(t *testing.T) {
	// The proxy asks for credentials: they go in the proxy URL the
	// client was given, not in HTTPS_PROXY, when it was given one.
	conns := analyseCapture(t, testdataDir+"/captures/proxy_auth_required.pcap", nil)
	if len(conns) == 0 {
		t.Fatal("proxy_auth_required.pcap: no connection")
	}
	for _, explicit := range []bool{false, true} {
		v := Diagnose(conns[0], Config{ExplicitProxy: explicit})
		if v.Category != ProxyAuthRequired {
			t.Fatalf("proxy_auth_required.pcap: %s, want %s: %s", v.Category, ProxyAuthRequired, v.Summary)
		}
		if strings.Contains(v.Fix, "HTTPS_PROXY=") == explicit || strings.Contains(v.Fix, "in the proxy URL the client was given (http://user:password@") != explicit {
			t.Errorf("proxy_auth_required.pcap, explicit proxy %v: fix %q", explicit, v.Fix)
		}
	}
	for _, name := range []string{"proxy_refused.pcap", "proxy_refused_block_page.pcap"} {
		conns := analyseCapture(t, testdataDir+"/captures/"+name, nil)
		if len(conns) == 0 {
			t.Fatalf("%s: no connection", name)
		}
		for _, explicit := range []bool{false, true} {
			v := Diagnose(conns[0], Config{ExplicitProxy: explicit})
			if v.Category != ProxyRefused {
				t.Fatalf("%s: %s, want %s: %s", name, v.Category, ProxyRefused, v.Summary)
			}
			if got := strings.Contains(v.Fix, "(NO_PROXY)"); got == explicit || strings.Contains(v.Fix, "connect without the proxy") != explicit {
				t.Errorf("%s, explicit proxy %v: fix %q", name, explicit, v.Fix)
			}
		}
	}
}

// TestProxyAuthRetry: curl --proxy-anyauth answers the proxy's 407 with a
// second CONNECT carrying (wrong) Basic credentials on the same connection
// (testdata/captures/proxy_auth_required_retry.pcap), and gets 407 again: the
// verdict is the last exchange's, credentials rejected, not the first's
// "the request carried no credentials", and its evidence is the second
// request and reply.
func TestProxyAuthRetry(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/captures/proxy_auth_required_retry.pcap", nil)
	if len(conns) != 1 {
		t.Fatalf("proxy_auth_required_retry.pcap: %d connections, want 1", len(conns))
	}
	c := conns[0]
	if p := c.Proxy; p == nil || p.Retries != 1 || !p.Credentials || p.CredentialScheme != "Basic" || p.RequestFrame.Number != 12 || p.ReplyFrame.Number != 13 {
		t.Fatalf("proxy %+v: want the second CONNECT (frame 12, Basic credentials) and its 407 (frame 13)", p)
	}
	v := Diagnose(c, Config{})
	if v.Category != ProxyAuthRequired {
		t.Fatalf("%s, want %s: %s", v.Category, ProxyAuthRequired, v.Summary)
	}
	for _, w := range []string{"asked again on the same connection, with Basic credentials (CONNECT request, frame 12)", "rejected the credentials the request carried"} {
		if !strings.Contains(v.Summary, w) {
			t.Errorf("summary %q lacks %q", v.Summary, w)
		}
	}
	if !strings.Contains(v.Fix, "check the user name and password") || strings.Contains(v.Fix, "give the client the proxy's credentials") {
		t.Errorf("fix %q: the client gave credentials, and the proxy rejected them", v.Fix)
	}
	if !slices.Equal(v.Evidence, []int64{12, 13}) {
		t.Errorf("evidence %v, want frames 12, 13", v.Evidence)
	}
}

// TestJavaClientFixes: OpenJDK 17's clients in
// testdata/field/clients_node_java.pcap, TLS 1.3 as well as TLS 1.2, and
// in java12_to_tls13_only.pcap are recognised as Java and told Java's
// switches: -Djavax.net.debug for the verification error, a key-log agent
// for the TLS secrets, keytool for a private root,
// -Djdk.tls.client.protocols for the versions; not openssl's or
// SSLKEYLOGFILE.
func TestJavaClientFixes(t *testing.T) {
	want := map[string][]string{
		"clients_node_java.pcap/54012":    nil,                                                                                // TLS 1.3, ok
		"clients_node_java.pcap/54028":    nil,                                                                                // TLS 1.2, ok
		"clients_node_java.pcap/54042":    {"-Djavax.net.debug=ssl:handshake", "-javaagent:extract-tls-secrets.jar=keys.log"}, // TLS 1.3, rejected after the encrypted flight
		"clients_node_java.pcap/36394":    {"keytool -importcert"},                                                            // TLS 1.2, untrusted root
		"clients_node_java.pcap/58800":    {"keytool -importcert"},                                                            // TLS 1.2, the server sends its root
		"java12_to_tls13_only.pcap/37722": {"run the client JVM with -Djdk.tls.client.protocols=TLSv1.2,TLSv1.3"},             // TLS 1.2 to a TLS 1.3-only server
	}
	seen := 0
	for _, name := range []string{"clients_node_java.pcap", "java12_to_tls13_only.pcap"} {
		for _, c := range analyseCapture(t, testdataDir+"/field/"+name, nil) {
			phrases, ok := want[fmt.Sprintf("%s/%d", name, c.Client.Port())]
			if !ok {
				continue
			}
			seen++
			if cl := fingerprint.Recognize(c.ClientHello); cl.Stack != fingerprint.StackJava {
				t.Errorf("%s %s (%s): recognised as %+v, want Java", name, c.Client, c.ClientHello.SupportedVersions, cl)
			}
			v := Diagnose(c, Config{})
			for _, p := range phrases {
				if !strings.Contains(v.Fix, p) {
					t.Errorf("%s %s: fix %q, want %q", name, c.Client, v.Fix, p)
				}
			}
			if strings.Contains(v.Fix, "openssl") || strings.Contains(v.Fix, "SSLKEYLOGFILE") || strings.Contains(v.Fix, "MaxVersion") {
				t.Errorf("%s %s: fix names another client's switches for a Java client: %q", name, c.Client, v.Fix)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d connections found", seen, len(want))
	}
}

// TestDurationsAcrossClockStep holds that a time from a frame before a
// step back of the capture's clock to one after it is not known: the
// original capture's time to first byte is, its copy with the answer an
// hour back (testdata/derived/make.sh) has none, where it was once
// printed as minus an hour; the handshake, before the step, keeps its
// duration.
func TestDurationsAcrossClockStep(t *testing.T) {
	for _, tt := range []struct {
		path      string
		ttfbKnown bool
	}{
		{"/field/loss_resent_3s.pcap", true},
		{"/derived/loss_resent_3s_back.pcap", false},
	} {
		conns := analyseCapture(t, testdataDir+tt.path, []uint16{443})
		if len(conns) != 1 {
			t.Fatalf("%s: %d connections, want 1", tt.path, len(conns))
		}
		c := conns[0]
		if d, ok := c.Duration(); !ok || d <= 0 {
			t.Errorf("%s: handshake duration %v, known %v: want a positive one", tt.path, d, ok)
		}
		ttfb, ok := c.TimeToFirstByte()
		if ok != tt.ttfbKnown || ok && ttfb <= 0 {
			t.Errorf("%s: time to first byte %v, known %v; want known %v and positive when known", tt.path, ttfb, ok, tt.ttfbKnown)
		}
	}
}

// TestDefectFixWithoutRoots reads curl's refusal of an intermediate that
// is not a CA (testdata/field/certpolicy) without the private root: the
// verdict's untrusted root is one reading, but trusting it would leave the
// defect every client refuses, so the fix must say to reissue that CA.
func TestDefectFixWithoutRoots(t *testing.T) {
	roots, err := LoadRoots(false)
	if err != nil {
		t.Fatal(err)
	}
	conns := analyseCapture(t, testdataDir+"/field/certpolicy/intermediate_not_ca_curl.pcap", []uint16{9415})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{Roots: roots})
	if v.Category != CertUntrustedCA || !strings.Contains(v.Fix, "whatever the client trusts, certificate 1 'CN=Audit Intermediate CA,O=Audit Lab' signed certificate 0 but is not a CA") ||
		!strings.Contains(v.Fix, "must be reissued as a CA certificate") {
		t.Errorf("%s: %s\nfix: %s", v.Category, v.Summary, v.Fix)
	}
}

// TestNameConstraintsWithoutRoots: curl refused a leaf outside its
// intermediate's name constraints (alert certificate_unknown). Read
// without the private root, the violation is still found on the chain the
// server sent, rather than the chain called untrusted; the unknown root
// is a warning.
func TestNameConstraintsWithoutRoots(t *testing.T) {
	roots, err := LoadRoots(false)
	if err != nil {
		t.Fatal(err)
	}
	conns := analyseCapture(t, testdataDir+"/field/certpolicy/name_constraints_curl.pcap", []uint16{9416})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{Roots: roots})
	if v.Category != CertRejected || !strings.Contains(v.Summary, `DNS name "www.other.test" is not permitted by any constraint`) ||
		!strings.Contains(v.Fix, "may issue only for the names its name constraints permit") ||
		!strings.Contains(strings.Join(v.Warnings, "\n"), "not among the trusted roots") {
		t.Errorf("%s: %s\nfix: %s\nwarnings: %q", v.Category, v.Summary, v.Fix, v.Warnings)
	}
}

// TestWeakKeysWithoutRoots reads curl's refusals of a 1024-bit RSA leaf
// and of a 1024-bit RSA intermediate (testdata/field/certpolicy) without
// the private root: the key, which OpenSSL at security level 2 refuses
// whatever it trusts, is the verdict, not the unknown root, which stays a
// warning.
func TestWeakKeysWithoutRoots(t *testing.T) {
	roots, err := LoadRoots(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, summary, fix string
		port               uint16
	}{
		{"rsa1024_curl.pcap", "certificate 0 'CN=good.test,O=Audit Lab' has a 1024-bit RSA key", "reissue the certificate with a 2048-bit (or larger) RSA", 9421},
		{"ca_rsa1024_curl.pcap", "the CA certificate 1 'CN=Audit Weak Intermediate CA,O=Audit Lab' has a 1024-bit RSA key", "the server must send a chain whose CAs have 2048-bit (or larger) keys", 9422},
	} {
		conns := analyseCapture(t, testdataDir+"/field/certpolicy/"+tc.file, []uint16{tc.port})
		if len(conns) != 1 {
			t.Fatalf("%s: %d connections", tc.file, len(conns))
		}
		v := Diagnose(conns[0], Config{Roots: roots})
		if v.Category != CertRejected || !strings.Contains(v.Summary, tc.summary) || !strings.Contains(v.Summary, "(likely: ") ||
			!strings.Contains(v.Fix, tc.fix) || !strings.Contains(v.Fix, "'DEFAULT@SECLEVEL=1'") ||
			!strings.Contains(strings.Join(v.Warnings, "\n"), "not among the trusted roots") {
			t.Errorf("%s: %s: %s\nfix: %s\nwarnings: %q", tc.file, v.Category, v.Summary, v.Fix, v.Warnings)
		}
	}
}

// TestNameOnIPCertificate: a Go client asked for a name (good.test) of a
// server whose certificate names only its IP address, the one the client
// connected to. The certificate is not another server block's default
// one: the fix is to connect by the address, or to get a certificate for
// the name.
func TestNameOnIPCertificate(t *testing.T) {
	dir := testdataDir + "/field/certpolicy"
	roots := rootsFile(t, dir+"/ip_only.pem")
	conns := analyseCapture(t, dir+"/name_on_ip_cert_go.pcapng", []uint16{44712})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	v := Diagnose(conns[0], Config{Roots: roots})
	if v.Category != CertHostnameMismatch || strings.Contains(v.Summary, "default certificate") || strings.Contains(v.Fix, "default") ||
		!strings.Contains(v.Fix, "connect to 127.0.0.1:44712 by address instead of by the name 'good.test'") {
		t.Errorf("%s: %s\nfix: %s", v.Category, v.Summary, v.Fix)
	}
}

// TestUnreadableCompressedCertificate: a chain that came compressed (RFC
// 8879) and did not decompress is said in a warning of its own, since its
// certificates were not checked, instead of an anomaly ID alone. The
// connection is a real good handshake given the anomaly analysis records.
func TestUnreadableCompressedCertificate(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/captures/ok.pcap", []uint16{4431})
	if len(conns) == 0 {
		t.Fatal("no connection")
	}
	c := conns[0]
	c.Anomalies = append(c.Anomalies, tlsparse.AnomalyUnreadableCompressedCertificate)
	v := Diagnose(c, Config{})
	said := strings.Join(v.Warnings, "\n")
	if v.Category != OK || !strings.Contains(said, "came compressed (RFC 8879) and did not decompress") || strings.Contains(said, "parser anomalies") {
		t.Errorf("%s, warnings %q; want ok, warned that the compressed chain was not read", v.Category, v.Warnings)
	}
}

// readKeyLog reads the SSLKEYLOGFILE-format file at path.
func readKeyLog(t *testing.T, path string) *decrypt.KeyLog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := decrypt.ParseKeyLog(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return keys
}

// portWant is what the verdict of a capture's connection from one client
// port must be: its category and a phrase of its summary.
type portWant struct {
	cat    Category
	phrase string
}

// checkByClientPort reads the capture at path, diagnoses its connections
// together (as read does) and checks those from the client ports of want;
// each must be there. It returns the connections and their verdicts for
// more checks.
func checkByClientPort(t *testing.T, path string, want map[uint16]portWant) ([]*analysis.Connection, []Verdict) {
	t.Helper()
	conns := analyseCaptureWith(t, path, analysis.Options{})
	vs := All(conns, Config{}, 1)
	seen := 0
	for i, c := range conns {
		w, ok := want[c.Client.Port()]
		if !ok {
			continue
		}
		seen++
		if v := vs[i]; v.Category != w.cat || !strings.Contains(v.Summary, w.phrase) {
			t.Errorf("%s → %s: %s: %s\nwant %s with %q", c.Client, c.Server, v.Category, v.Summary, w.cat, w.phrase)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d connections", seen, len(want))
	}
	return conns, vs
}
