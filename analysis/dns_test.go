package analysis

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/dnsparse"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// dnsCaptures are the captures with DNS: the lab's and the public ones.
var dnsCaptures = []string{
	"../testdata/captures/dns_failure_nxdomain.pcap",
	"../testdata/captures/dns_failure_refused.pcap",
	"../testdata/captures/dns_failure_servfail.pcap",
	"../testdata/captures/dns_failure_unanswered.pcap",
	"../testdata/dns_wrong_server.pcap",
	publicPcaps + "/ja4/v6.pcap",
	publicPcaps + "/ja4/latest.pcapng",
	publicPcaps + "/ssldump/tls1.3_curl_google.pcap",
	publicPcaps + "/arkime/curl-enabled-tls13.pcap",
}

// dnsReading is what one frame's DNS message says.
type dnsReading struct {
	name     string
	response bool
	rcode    int
	addrs    []string // A and AAAA of the answer section, sorted
	extra    bool     // the authority or additional section has records
}

// datagrams collects the DNS messages of a capture's UDP datagrams.
type datagrams struct {
	got map[int64]dnsReading
	t   *testing.T
}

func (d *datagrams) Open(capture.Conn) capture.Stream { return nopStream{} }
func (d *datagrams) EndDatagrams()                    {}
func (d *datagrams) Datagram(src, dst netip.AddrPort, b []byte, f capture.Frame) {
	if !isDNS(src, dst) {
		return
	}
	m, err := dnsparse.Parse(b)
	if err != nil {
		d.t.Errorf("frame %d: %v", f.Number, err)
		return
	}
	r := dnsReading{response: m.Response, rcode: int(m.RCode), extra: m.Counts[2]+m.Counts[3] > 0}
	if len(m.Questions) > 0 {
		r.name = m.Questions[0].Name
	}
	for _, a := range m.Answers {
		if a.Addr.IsValid() {
			r.addrs = append(r.addrs, a.Addr.String())
		}
	}
	slices.Sort(r.addrs)
	d.got[f.Number] = r
}

type nopStream struct{}

func (nopStream) Data(capture.Direction, []byte, capture.Frame)   {}
func (nopStream) Gap(capture.Direction, int, capture.Frame)       {}
func (nopStream) Event(capture.Event)                             {}
func (nopStream) Close(capture.CloseReason, capture.Frame, int64) {}

// TestDNSAgreesWithTshark checks every DNS message over UDP in the
// captures with DNS against tshark's reading: the question's name,
// query or answer, the response code, and the addresses (tshark lists
// those of every section; they are the same when the answer section is
// the only one with records). DNS quoted in an ICMP error is not a
// message.
func TestDNSAgreesWithTshark(t *testing.T) {
	tsharktest.Path(t, "DNS messages are compared with its reading")
	for _, path := range dnsCaptures {
		t.Run(filepath.Base(path), func(t *testing.T) {
			out := tsharktest.Output(t, "-n", "-r", path, "-Y", "udp && dns && !icmp && !icmpv6", "-T", "fields", "-E", "aggregator=,",
				"-e", "frame.number", "-e", "dns.qry.name", "-e", "dns.flags.response", "-e", "dns.flags.rcode", "-e", "dns.a", "-e", "dns.aaaa")
			want := map[int64]dnsReading{}
			for line := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
				v := strings.Split(line, "\t")
				n, err := strconv.ParseInt(v[0], 10, 64)
				if err != nil || len(v) < 6 {
					t.Fatalf("tshark line %q", line)
				}
				rc, _ := strconv.Atoi(v[3])
				r := dnsReading{name: v[1], response: v[2] == "1" || v[2] == "True", rcode: rc}
				for _, s := range strings.Split(v[4]+","+v[5], ",") {
					if s != "" {
						r.addrs = append(r.addrs, netip.MustParseAddr(s).String())
					}
				}
				slices.Sort(r.addrs)
				want[n] = r
			}
			if len(want) == 0 {
				t.Fatal("tshark shows no DNS")
			}
			src, err := capture.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			d := &datagrams{got: map[int64]dnsReading{}, t: t}
			if _, err := capture.Run(context.Background(), src, d, capture.Options{}); err != nil {
				t.Fatal(err)
			}
			for _, n := range tsharktest.Frames(want, d.got) {
				w, inT := want[n]
				g, inD := d.got[n]
				if inT != inD {
					t.Errorf("frame %d: DNS in tshark's reading %v, in ours %v", n, inT, inD)
					continue
				}
				if g.name != w.name || g.response != w.response || g.rcode != w.rcode {
					t.Errorf("frame %d: %+v, tshark %+v", n, g, w)
				}
				sub := true
				for _, a := range g.addrs {
					sub = sub && slices.Contains(w.addrs, a)
				}
				if !sub || !g.extra && !slices.Equal(g.addrs, w.addrs) {
					t.Errorf("frame %d: addresses %v, tshark %v", n, g.addrs, w.addrs)
				}
			}
		})
	}
}

// tsharkDNS returns the frames tshark shows for a name's A lookup: the
// first query, and the answer.
func tsharkDNS(t *testing.T, path, name string) (query, answer int64) {
	out := tsharktest.Output(t, "-n", "-r", path, "-Y", "dns.qry.type == 1 && dns.qry.name == "+name, "-T", "fields",
		"-e", "frame.number", "-e", "dns.flags.response")
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		num, resp, _ := strings.Cut(line, "\t")
		n, _ := strconv.ParseInt(num, 10, 64)
		if resp == "1" || resp == "True" {
			answer = n
		} else if query == 0 {
			query = n
		}
	}
	return query, answer
}

// TestDNSAnswerOfConnection checks that each connection of the lab's
// name-to-the-wrong-server capture names the DNS answer for its own name
// (SNI), although both names point at the same address, and that reading
// the capture in shards finds the same.
func TestDNSAnswerOfConnection(t *testing.T) {
	tsharktest.Path(t, "the DNS frames are found by")
	path := "../testdata/dns_wrong_server.pcap"
	for _, workers := range []int{1, 3} {
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		conns, _, err := Analyse(context.Background(), src, Options{}, capture.Options{}, workers)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(conns) != 2 {
			t.Fatalf("%d connections, want 2", len(conns))
		}
		for _, c := range conns {
			sni := c.ClientHello.ServerName
			q, a := tsharkDNS(t, path, sni)
			if c.DNS == nil {
				t.Fatalf("workers %d: connection for %s has no DNS answer", workers, sni)
			}
			if c.DNS.Name != sni || c.DNS.QueryFrame.Number != q || c.DNS.AnswerFrame.Number != a || c.DNS.Resolver.Port() != DNSPort {
				t.Errorf("workers %d: DNS of %s = %+v, want query %d answer %d", workers, sni, c.DNS, q, a)
			}
		}
	}
}

// TestDNSFailures checks the records of the lab's failed lookups: one per
// capture, with the frames tshark shows for the name, and none for the
// lookups whose name resolved (the wrong-server capture, whose resolver
// refuses the AAAA queries of names it has IPv4 addresses for) or that
// look for a service normally absent (WPAD in latest.pcapng).
func TestDNSFailures(t *testing.T) {
	tsharktest.Path(t, "the DNS frames are found by")
	for _, tt := range []struct {
		file, name string
		answered   bool
		rcode      dnsparse.RCode
	}{
		{"dns_failure_nxdomain.pcap", "missing.test", true, dnsparse.RCodeNXDomain},
		{"dns_failure_nxdomain_tcp.pcap", "missing.test", true, dnsparse.RCodeNXDomain},
		{"dns_failure_refused.pcap", "elsewhere.test", true, dnsparse.RCodeRefused},
		{"dns_failure_servfail.pcap", "signed.test", true, dnsparse.RCodeServFail},
		{"dns_failure_unanswered.pcap", "good.test", false, 0},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := "../testdata/captures/" + tt.file
			conns := analyse(t, path, Options{})
			if len(conns) != 1 || conns[0].DNSFailure == nil {
				t.Fatalf("got %d records, want one failed lookup", len(conns))
			}
			c, f := conns[0], conns[0].DNSFailure
			if f.Name != tt.name || f.Answered != tt.answered || f.RCode != tt.rcode || c.Transport() != TransportDNS {
				t.Errorf("failure %+v, want %s answered %v %s", f, tt.name, tt.answered, tt.rcode)
			}
			// Every lab client asked for A first.
			if !slices.Equal(f.Types, []dnsparse.Type{dnsparse.TypeA, dnsparse.TypeAAAA}) {
				t.Errorf("types %v, want A then AAAA", f.Types)
			}
			if tcp := strings.Contains(tt.file, "tcp"); f.TCP != tcp {
				t.Errorf("TCP %v, want %v", f.TCP, tcp)
			}
			out := tsharktest.Output(t, "-n", "-r", path, "-Y", "dns.qry.name == "+tt.name, "-T", "fields", "-e", "frame.number", "-e", "dns.flags.response")
			var queries, answers []int64
			for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
				num, resp, _ := strings.Cut(line, "\t")
				n, _ := strconv.ParseInt(num, 10, 64)
				if strings.HasPrefix(resp, "1") || strings.HasPrefix(resp, "True") {
					answers = append(answers, n)
				} else {
					queries = append(queries, n)
				}
			}
			if got := frameNums(f.Queries); !slices.Equal(got, queries) {
				t.Errorf("query frames %v, tshark %v", got, queries)
			}
			if got := frameNums(f.Answers); !slices.Equal(got, answers) {
				t.Errorf("answer frames %v, tshark %v", got, answers)
			}
			if c.First.Number != queries[0] || c.Server.Port() != DNSPort {
				t.Errorf("record %s → %s from frame %d", c.Client, c.Server, c.First.Number)
			}
		})
	}
	for _, path := range []string{"../testdata/dns_wrong_server.pcap", publicPcaps + "/ja4/latest.pcapng"} {
		for _, c := range analyse(t, path, Options{}) {
			if c.DNSFailure != nil {
				t.Errorf("%s: failed lookup %+v", path, c.DNSFailure)
			}
		}
	}
}

// TestDNSFailureTypesInOrder: a client asked over TCP for A and AAAA in
// one segment and got no answer (the lab's NXDOMAIN-over-TCP capture cut
// before the answers). Its failed lookup lists the types in the order it
// asked for them, in every run: the unanswered queries wait in a map,
// whose order is random, and share their first frame. (Go iterates a map
// of two entries in the other order about one time in eight: 100 runs.)
func TestDNSFailureTypesInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns_unanswered_tcp.pcap")
	writeFirstFrames(t, "../testdata/captures/dns_failure_nxdomain_tcp.pcap", path, 5)
	for range 100 {
		conns := analyse(t, path, Options{})
		if len(conns) != 1 || conns[0].DNSFailure == nil {
			t.Fatalf("got %d records, want one failed lookup", len(conns))
		}
		f := conns[0].DNSFailure
		if f.Answered || !f.TCP || !slices.Equal(frameNums(f.Queries), []int64{4}) {
			t.Fatalf("failure %+v, want unanswered queries over TCP in frame 4", f)
		}
		if !slices.Equal(f.Types, []dnsparse.Type{dnsparse.TypeA, dnsparse.TypeAAAA}) {
			t.Fatalf("types %v, want A then AAAA, as frame 4 asks", f.Types)
		}
	}
}

// writeFirstFrames writes the first n frames of the capture in to out.
func writeFirstFrames(t *testing.T, in, out string, n int) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for range n {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func frameNums(fs []capture.Frame) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.Number
	}
	return out
}

// TestDNSProbeNames checks which names are looked up to discover a
// service that is normally absent.
func TestDNSProbeNames(t *testing.T) {
	for name, want := range map[string]bool{"wpad.example.com": true, "isatap.corp": true, "wpadx.example.com": false, "good.test": false} {
		if probeName(name) != want {
			t.Errorf("probeName(%q) = %v", name, !want)
		}
	}
}

// TestDNSStreamBounds feeds a TCP stream to port 53 what a hostile or
// damaged one could: a message split across segments, a gap (after which
// no length can be trusted), and more messages than the cap.
func TestDNSStreamBounds(t *testing.T) {
	client, server := netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.53:53")
	query := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'g', 'o', 'o', 'd', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1}
	framed := append([]byte{0, byte(len(query))}, query...)
	book := newDNSBook()
	s := &dnsStream{book: book, client: client, server: server}
	s.Data(capture.ClientToServer, framed[:5], capture.Frame{Number: 1})
	if len(book.pending) != 0 {
		t.Fatal("a message was read before its last byte")
	}
	s.Data(capture.ClientToServer, framed[5:], capture.Frame{Number: 2})
	if len(book.pending) != 1 || len(s.buf[0]) != 0 {
		t.Fatalf("%d pending queries, %d bytes buffered after one whole message", len(book.pending), len(s.buf[0]))
	}
	// A length of 65,535 and a gap: the buffer goes, and nothing more is read.
	s.Data(capture.ClientToServer, []byte{0xff, 0xff, 1, 2, 3}, capture.Frame{Number: 3})
	s.Gap(capture.ClientToServer, 100, capture.Frame{Number: 4})
	s.Data(capture.ClientToServer, framed, capture.Frame{Number: 5})
	if s.buf[0] != nil || len(book.pending) != 1 {
		t.Errorf("after a gap: %d bytes buffered, %d pending", len(s.buf[0]), len(book.pending))
	}
	// More messages than the cap, in one segment.
	s2 := &dnsStream{book: newDNSBook(), client: client, server: server}
	var many []byte
	for range maxTCPDNS + 10 {
		many = append(many, framed...)
	}
	s2.Data(capture.ClientToServer, many, capture.Frame{Number: 6})
	if s2.messages != maxTCPDNS || s2.buf[0] != nil {
		t.Errorf("%d messages read, %d bytes kept; want %d and none", s2.messages, len(s2.buf[0]), maxTCPDNS)
	}
}

// TestDNSPendingBound checks that queries never answered stop being kept
// at maxDNSPending, and are counted.
func TestDNSPendingBound(t *testing.T) {
	book := newDNSBook()
	client, server := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddrPort("192.0.2.53:53")
	query := []byte{0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	for i := range maxDNSPending + 100 {
		query[0], query[1] = byte(i>>8), byte(i)
		book.message(netip.AddrPortFrom(client, uint16(1024+i%1000)), server, query, capture.Frame{Number: int64(i + 1)}, false)
	}
	if dropped, _ := book.counts(); len(book.pending) != maxDNSPending || dropped != 100 {
		t.Errorf("%d pending, %d dropped; want %d and 100", len(book.pending), dropped, maxDNSPending)
	}
}

// TestDNSConnectedLog checks that the connections noted while the book
// only logs them (noteConnected) answer later as the map did: the first
// frame per client and name, and past maxDNSNames names the others
// dropped and counted.
func TestDNSConnectedLog(t *testing.T) {
	client := netip.MustParseAddr("192.0.2.1")
	k := newDNSBook()
	k.noteConnected(clientName{client, "a.test"}, 50)
	k.noteConnected(clientName{client, "a.test"}, 20)
	k.noteConnected(clientName{client, "a.test"}, 70)
	if !k.later(clientName{client, "a.test"}, capture.Frame{Number: 10}) || k.later(clientName{client, "a.test"}, capture.Frame{Number: 20}) {
		t.Error("a.test: not the first connection's frame, 20")
	}
	k.noteConnected(clientName{client, "b.test"}, 30)
	if !k.later(clientName{client, "b.test"}, capture.Frame{Number: 10}) {
		t.Error("b.test: noted after a lookup, not kept")
	}

	k = newDNSBook()
	k.noteConnected(clientName{client, "a.test"}, 50)
	k.noteConnected(clientName{client, "a.test"}, 20)
	for i := range maxDNSNames + 9 {
		k.noteConnected(clientName{client, fmt.Sprintf("n%d.test", i)}, int64(100+i))
	}
	// a.test and maxDNSNames-1 others fill the map: 10 dropped.
	if !k.later(clientName{client, "n0.test"}, capture.Frame{Number: 99}) || !k.later(clientName{client, "a.test"}, capture.Frame{Number: 19}) {
		t.Error("n0.test or a.test: connection not kept")
	}
	if k.later(clientName{client, fmt.Sprintf("n%d.test", maxDNSNames-1)}, capture.Frame{Number: 1}) || k.dropped != 10 {
		t.Errorf("past the bound: %d dropped, want 10", k.dropped)
	}
}
