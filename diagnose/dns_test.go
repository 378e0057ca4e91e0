package diagnose

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/dnsparse"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// dnsLookup is the record of a failed lookup of good.test: queries in
// frames 1 and 2 (A, AAAA), answers (when answered) in 3 and 4.
func dnsLookup(answered bool, rcode dnsparse.RCode) *analysis.Connection {
	c := &analysis.Connection{
		Client: netip.MustParseAddrPort("192.0.2.1:40000"), Server: netip.MustParseAddrPort("192.0.2.53:53"),
		First: fr(1), Last: fr(2), ClientCertificates: -1,
		DNSFailure: &analysis.DNSFailure{Name: "good.test", Types: []dnsparse.Type{dnsparse.TypeA, dnsparse.TypeAAAA},
			Queries: []capture.Frame{fr(1), fr(2)}},
	}
	if answered {
		c.DNSFailure.Answered, c.DNSFailure.RCode = true, rcode
		c.DNSFailure.Answers = []capture.Frame{fr(3), fr(4)}
		c.Last = fr(4)
	}
	return c
}

func dnsCases(t *testing.T) []diagnoseCase {
	return []diagnoseCase{
		{name: "NXDOMAIN", cat: DNSFailure,
			conn:     func(*pki) *analysis.Connection { return dnsLookup(true, dnsparse.RCodeNXDomain) },
			summary:  []string{"resolver 192.0.2.53", "'good.test' (A, AAAA; query frames 1, 2)", "NXDOMAIN (answer frames 3, 4)", "does not exist"},
			evidence: []int64{1, 2, 3, 4}, fix: []string{"typo", "A/AAAA record"}},
		{name: "SERVFAIL", cat: DNSFailure,
			conn:     func(*pki) *analysis.Connection { return dnsLookup(true, dnsparse.RCodeServFail) },
			summary:  []string{"SERVFAIL", "authoritative name servers", "DNSSEC"},
			evidence: []int64{1, 2, 3, 4}, fix: []string{"dig +trace good.test", "DNSSEC"}},
		{name: "REFUSED", cat: DNSFailure,
			conn:     func(*pki) *analysis.Connection { return dnsLookup(true, dnsparse.RCodeRefused) },
			summary:  []string{"REFUSED", "does not serve this client"},
			evidence: []int64{1, 2, 3, 4}, fix: []string{"name server", "192.0.2.53"}},
		{name: "unanswered", cat: DNSFailure,
			conn: func(*pki) *analysis.Connection {
				c := dnsLookup(false, 0)
				c.CaptureEnd = frAt(9, 5*time.Second)
				return c
			},
			summary:  []string{"no answer", "most likely", "missed"},
			evidence: []int64{1, 2}, fix: []string{"port 53", "UDP and TCP"}},
		// The capture ended before an answer was due: no sign either way.
		{name: "unanswered as the capture ended", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := dnsLookup(false, 0)
				c.CaptureEnd = frAt(3, 900*time.Millisecond)
				return c
			},
			summary:  []string{"'good.test' (A, AAAA; query frames 1, 2)", "the capture ended 890 ms after the first query", "not in the capture"},
			evidence: []int64{1, 2}, fix: []string{"capture longer"}},
	}
}

func init() { caseTables = append(caseTables, dnsCases) }

func TestDNSCases(t *testing.T) { runDiagnoseCases(t, dnsCases(t)) }

// tsharkNameFrames returns the frames tshark shows with DNS messages
// about name.
func tsharkNameFrames(t *testing.T, path, name string) []int64 {
	out := tsharktest.Output(t, "-n", "-r", path, "-Y", "dns.qry.name == "+name, "-T", "fields", "-e", "frame.number")
	var ns []int64
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		n, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			t.Fatalf("tshark line %q", line)
		}
		ns = append(ns, n)
	}
	return ns
}

// TestDNSCaptures checks the lab's DNS captures: each failed lookup's
// verdict, its evidence (every frame tshark shows for the name) and fix;
// and the host-name mismatch of a name DNS sends to a server with a
// certificate for another, which cites the DNS answer.
func TestDNSCaptures(t *testing.T) {
	tsharktest.Path(t, "the DNS frames are found by")
	for _, tt := range []struct {
		file, name string
		summary    []string
		fix        []string
	}{
		{"dns_failure_nxdomain.pcap", "missing.test", []string{"'missing.test' (A, AAAA", "NXDOMAIN"}, []string{"missing.test", "A/AAAA record"}},
		{"dns_failure_nxdomain_tcp.pcap", "missing.test", []string{"over TCP", "NXDOMAIN"}, []string{"missing.test", "A/AAAA record"}},
		{"dns_failure_refused.pcap", "elsewhere.test", []string{"REFUSED"}, []string{"name server"}},
		// The validating resolver fails the A query (SERVFAIL); its
		// upstream refuses the AAAA query, and it passes that on.
		{"dns_failure_servfail.pcap", "signed.test", []string{"SERVFAIL", "also REFUSED", "DNSSEC"}, []string{"dig +trace signed.test", "DNSSEC"}},
		{"dns_failure_unanswered.pcap", "good.test", []string{"no answer"}, []string{"port 53"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(capturesDir, tt.file)
			conns := analyseCapture(t, path, nil)
			if len(conns) != 1 {
				t.Fatalf("%d records, want 1", len(conns))
			}
			v := Diagnose(conns[0], Config{})
			if v.Category != DNSFailure {
				t.Fatalf("category %s: %s", v.Category, v.Summary)
			}
			if want := tsharkNameFrames(t, path, tt.name); !slices.Equal(v.Evidence, want) {
				t.Errorf("evidence %v, tshark's frames for %s %v", v.Evidence, tt.name, want)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary lacks %q: %s", s, v.Summary)
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(v.Fix, s) {
					t.Errorf("fix lacks %q: %s", s, v.Fix)
				}
			}
		})
	}
	// The same lookup with the capture stopped before the client asked
	// again (its first two queries, 23 µs apart) is not judged; with
	// other traffic captured for 2 s after them (a TLS connection of
	// another capture, moved in time), it is unanswered.
	for _, tt := range []struct {
		name  string
		other bool
		cat   Category
		want  string
	}{
		{"first two frames", false, IncompleteCapture, "and the capture ended 23 µs after the first query, before an answer could be expected"},
		{"first two frames, then 2 s of other traffic", true, DNSFailure, "(A, AAAA; query frames 1, 2) and the capture shows no answer"},
	} {
		t.Run("dns_failure_unanswered.pcap, "+tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := pcapgo.NewWriterNanos(&b)
			if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
				t.Fatal(err)
			}
			var last time.Time
			copyFrames := func(file string, n int, shift func(time.Time) time.Duration) {
				src, err := capture.OpenFile(file)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				for i := 0; n < 0 || i < n; i++ {
					data, ci, err := src.ReadPacketData()
					if err == io.EOF {
						break
					}
					if err != nil || src.LinkType() != layers.LinkTypeEthernet {
						t.Fatalf("%s: %v (link type %v)", file, err, src.LinkType())
					}
					ci.Timestamp = ci.Timestamp.Add(shift(ci.Timestamp))
					last = ci.Timestamp
					if err := w.WritePacket(ci, data); err != nil {
						t.Fatal(err)
					}
				}
			}
			copyFrames(filepath.Join(capturesDir, "dns_failure_unanswered.pcap"), 2, func(time.Time) time.Duration { return 0 })
			if tt.other {
				at := last.Add(2 * time.Second)
				var d time.Duration
				copyFrames(filepath.Join(capturesDir, "ok.pcap"), -1, func(ts time.Time) time.Duration {
					if d == 0 {
						d = at.Sub(ts)
					}
					return d
				})
			}
			path := filepath.Join(t.TempDir(), "cut.pcap")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, c := range analyseCapture(t, path, nil) {
				if c.DNSFailure == nil {
					continue
				}
				if v := Diagnose(c, Config{}); v.Category != tt.cat || !strings.Contains(v.Summary, tt.want) {
					t.Errorf("%s: %s\nwant %s: …%s…", v.Category, v.Summary, tt.cat, tt.want)
				}
				return
			}
			t.Error("no record of the lookup")
		})
	}
	t.Run("dns_wrong_server.pcap", func(t *testing.T) {
		path := filepath.Join(testdataDir, "dns_wrong_server.pcap")
		var mismatch *analysis.Connection
		for _, c := range analyseCapture(t, path, nil) {
			if c.ClientHello != nil && c.ClientHello.ServerName == "good.test" {
				mismatch = c
			}
		}
		if mismatch == nil || mismatch.DNS == nil {
			t.Fatal("no connection for good.test with its DNS answer")
		}
		v := Diagnose(mismatch, Config{})
		if v.Category != CertHostnameMismatch {
			t.Fatalf("category %s: %s", v.Category, v.Summary)
		}
		a := mismatch.DNS
		want := "DNS sends good.test to " + mismatch.Server.Addr().String() + " (answer in frame " + strconv.FormatInt(a.AnswerFrame.Number, 10) + "), which serves a certificate for other.test"
		if !strings.Contains(v.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, v.Summary)
		}
		dnsFrames := tsharkNameFrames(t, path, "good.test")
		if !slices.Contains(dnsFrames, a.AnswerFrame.Number) || !slices.Contains(dnsFrames, a.QueryFrame.Number) {
			t.Errorf("DNS answer %+v is not among tshark's frames for good.test %v", a, dnsFrames)
		}
		if !slices.Contains(v.Evidence, a.AnswerFrame.Number) || !slices.Contains(v.Evidence, a.QueryFrame.Number) || !slices.Contains(v.Evidence, mismatch.CertificateFrame.Number) {
			t.Errorf("evidence %v lacks the DNS query, answer or the certificate", v.Evidence)
		}
		for _, s := range []string{"correct the name's DNS record", "configure 'good.test' on that server"} {
			if !strings.Contains(v.Fix, s) {
				t.Errorf("fix lacks %q: %s", s, v.Fix)
			}
		}
	})
}

// TestDNSFragmentedAnswers reads nDPI's dns_fragmented.pcap
// (testdata/public/ndpi): DNSSEC answers larger than the path's MTU, each
// in two IPv4 or IPv6 fragments. They are answers: the lookups they
// answer are not failures, and only the one the resolver answered
// SERVFAIL is.
func TestDNSFragmentedAnswers(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/ndpi/dns_fragmented.pcap", nil)
	vs := All(conns, Config{}, 1)
	var failed []string
	for i, v := range vs {
		if v.Category == DNSFailure {
			failed = append(failed, conns[i].Server.String()+": "+v.Summary)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "'sigfail.verteiltesysteme.net' (A; query frame 30) and it answered SERVFAIL (answer frame 31)") {
		t.Errorf("failed lookups:\n%s\nwant only sigfail.verteiltesysteme.net's SERVFAIL", strings.Join(failed, "\n"))
	}
}
