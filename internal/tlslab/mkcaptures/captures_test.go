package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// testdata is the repository's testdata directory, which the generator
// writes.
const testdata = "../../../testdata"

func needTshark(t *testing.T) {
	t.Helper()
	tsharktest.Path(t, "the committed captures are read with it")
}

// framesOf caches tshark's reading of each committed capture: tshark is
// the slow part of these tests.
var framesOf sync.Map // file → func() ([]frame, error)

// committedFrames reads a committed capture with tshark.
func committedFrames(t *testing.T, c capture) []frame {
	t.Helper()
	path := filepath.Join(testdata, c.file)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not committed: %v", c.file, err)
	}
	read, _ := framesOf.LoadOrStore(c.file, sync.OnceValues(func() ([]frame, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return readFrames(ctx, path, c.serverPorts())
	}))
	frames, err := read.(func() ([]frame, error))()
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// TestCommittedCaptures re-checks every committed capture against what its
// category needs, as the generator did before writing the README.
func TestCommittedCaptures(t *testing.T) {
	needTshark(t)
	var total int64
	for _, c := range plan() {
		fi, err := os.Stat(filepath.Join(testdata, c.file))
		if err != nil {
			t.Errorf("%s is not committed: %v", c.file, err)
			continue
		}
		total += fi.Size()
		if c.file == "demo.pcap" && fi.Size() > maxDemoSize {
			t.Errorf("demo.pcap is %d bytes, more than %d", fi.Size(), maxDemoSize)
		}
		t.Run(strings.TrimSuffix(filepath.Base(c.file), ".pcap"), func(t *testing.T) {
			t.Parallel()
			if err := verify(committedFrames(t, c), c.checks); err != nil {
				t.Error(err)
			}
		})
	}
	if total > maxTotalSize {
		t.Errorf("captures total %d bytes, more than %d", total, maxTotalSize)
	}
}

func TestExpectedListMatchesPlan(t *testing.T) {
	var results []result
	for _, c := range plan() {
		results = append(results, result{capture: c})
	}
	path := filepath.Join(t.TempDir(), "expected.tsv")
	if err := writeExpected(path, results); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(testdata, "captures", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("testdata/captures/expected.tsv does not match the plan: regenerate.\ngot:\n%s\nwant:\n%s", got, want)
	}
	// Every category has a capture.
	categories := map[string]bool{}
	for _, r := range results {
		categories[r.category] = true
		for _, c := range r.conns {
			categories[c.category] = true
		}
	}
	for _, s := range tlslab.Scenarios {
		if !categories[s.Category()] {
			t.Errorf("no capture of category %s", s.Category())
		}
	}
	if !categories["incomplete_capture"] {
		t.Error("no capture of category incomplete_capture")
	}
}

func readPEMFile(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "certs", name))
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: want exactly one PEM block", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serverCertificates returns the first certificate list a server sent in
// plaintext, and when.
func serverCertificates(t *testing.T, file string) ([]*x509.Certificate, time.Time) {
	t.Helper()
	var c capture
	for _, p := range plan() {
		if p.file == file {
			c = p
		}
	}
	for _, f := range committedFrames(t, c) {
		if f.FromServer && len(f.Certificates) > 0 {
			var certs []*x509.Certificate
			for _, der := range f.Certificates {
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatalf("%s frame %d: %v", file, f.Number, err)
				}
				certs = append(certs, cert)
			}
			return certs, f.Time
		}
	}
	t.Fatalf("%s: no plaintext Certificate from the server", file)
	return nil, time.Time{}
}

// TestCommittedCertificates checks that certs/ca.pem belongs to the
// committed captures: what each certificate capture's category claims holds
// when validating with it at the capture's own time.
func TestCommittedCertificates(t *testing.T) {
	needTshark(t)
	roots := x509.NewCertPool()
	roots.AddCert(readPEMFile(t, tlslab.CAFile))
	intermediate := readPEMFile(t, tlslab.IntermediateFile)
	tests := []struct {
		file  string
		extra *x509.Certificate // added to the intermediates
		check func(error) bool
	}{
		{"captures/ok.pcap", nil, func(err error) bool { return err == nil }},
		{"captures/ok_mtu576.pcap", nil, func(err error) bool { return err == nil }},
		{"captures/cert_expired.pcap", nil, func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired && strings.Contains(e.Detail, "is after")
		}},
		{"captures/cert_not_yet_valid.pcap", nil, func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired && strings.Contains(e.Detail, "is before")
		}},
		{"captures/cert_self_signed.pcap", nil, func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
		{"captures/cert_untrusted_ca.pcap", nil, func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
		{"captures/cert_hostname_mismatch.pcap", nil, func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		}},
		{"captures/cert_incomplete_chain.pcap", nil, func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
		{"captures/cert_incomplete_chain.pcap", intermediate, func(err error) bool { return err == nil }},
	}
	for _, tt := range tests {
		name := filepath.Base(tt.file)
		if tt.extra != nil {
			name += " with intermediate.pem"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			certs, at := serverCertificates(t, tt.file)
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			if tt.extra != nil {
				inter.AddCert(tt.extra)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{DNSName: tlslab.GoodName, Roots: roots, Intermediates: inter, CurrentTime: at})
			if !tt.check(err) {
				t.Errorf("verifying the leaf at %v: %v", at, err)
			}
		})
	}
}

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    frame
		wantErr bool
	}{
		{
			name: "alert",
			line: "6\t1795925765.192464000\t73\t4499\t52340\t0x0018\t7\t21\t\t112\t15030300020270\t\t\t63\t\t\t\t\t",
			want: frame{Number: 6, Time: time.Unix(1795925765, 192464000).UTC(), Len: 73, SrcPort: 4499, DstPort: 52340,
				Flags: 0x18, PayloadLen: 7, ContentTypes: []int{21}, Alerts: []int{112}, Payload: []byte{0x15, 3, 3, 0, 2, 2, 0x70}, TTL: 63},
		},
		{
			name: "TLS 1.3 records and a certificate",
			line: "6\t1.5\t100\t4431\t5000\t0x0018\t34\t22,20\t2\t\t\tde:ad,be:ef\t23,23\t64\t1\t\t\t\t",
			want: frame{Number: 6, Time: time.Unix(1, 500000000).UTC(), Len: 100, SrcPort: 4431, DstPort: 5000, Flags: 0x18,
				PayloadLen: 34, ContentTypes: []int{22, 20, 23, 23}, Handshakes: []int{2}, Payload: []byte{}, TTL: 64, Retransmit: true,
				Certificates: [][]byte{{0xde, 0xad}, {0xbe, 0xef}}},
		},
		{
			name: "DNS answer",
			line: "3\t1.5\t120\t\t\t\t\t\t\t\t\t\t\t64\t\tgood.test\t1\t0\t10.0.0.9,10.0.0.10",
			want: frame{Number: 3, Time: time.Unix(1, 500000000).UTC(), Len: 120, Payload: []byte{}, TTL: 64,
				DNSName: "good.test", DNSResponse: true, DNSA: []string{"10.0.0.9", "10.0.0.10"}},
		},
		{name: "too few fields", line: "1\t2", wantErr: true},
		{name: "bad number", line: "x\t1.0\t1\t1\t1\t0x0002\t0\t\t\t\t\t\t\t\t\t\t\t\t", wantErr: true},
		{name: "bad payload", line: "1\t1.0\t1\t1\t1\t0x0002\t0\t\t\t\tzz\t\t\t\t\t\t\t\t", wantErr: true},
		{name: "bad TTL", line: "1\t1.0\t1\t1\t1\t0x0002\t0\t\t\t\t\t\t\tx\t\t\t\t\t", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFrame(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Number != tt.want.Number || !got.Time.Equal(tt.want.Time) || got.Len != tt.want.Len ||
				got.SrcPort != tt.want.SrcPort || got.DstPort != tt.want.DstPort || got.Flags != tt.want.Flags ||
				got.PayloadLen != tt.want.PayloadLen || !slices.Equal(got.ContentTypes, tt.want.ContentTypes) ||
				!slices.Equal(got.Handshakes, tt.want.Handshakes) || !slices.Equal(got.Alerts, tt.want.Alerts) ||
				!bytes.Equal(got.Payload, tt.want.Payload) ||
				!slices.EqualFunc(got.Certificates, tt.want.Certificates, bytes.Equal) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	frames := []frame{
		{Number: 1, Flags: flagSYN},
		{Number: 2, Flags: flagSYN | flagACK, FromServer: true},
		{Number: 4, Handshakes: []int{hsClientHello}, ContentTypes: []int{recordHandshake}},
		{Number: 6, Alerts: []int{70}, ContentTypes: []int{recordAlert}, FromServer: true},
	}
	tests := []struct {
		name   string
		checks []check
		bad    []string // labels that must be reported
	}{
		{"all hold", []check{
			exactly("SYN", 1, syn), exactly("SYN/ACK", 1, synAck), atLeast("ClientHello", 1, hs(hsClientHello)),
			exactly("alert 70 from server", 1, fromServer(alert(70))), exactly("RST", 0, rst),
		}, nil},
		{"wrong counts", []check{
			exactly("alert 70 from client", 1, fromClient(alert(70))), atLeast("two SYNs", 2, syn),
			exactly("no alert", 0, anyAlert), exactly("SYN", 1, syn),
		}, []string{"alert 70 from client", "two SYNs", "no alert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(frames, tt.checks)
			if (err != nil) != (len(tt.bad) > 0) {
				t.Fatalf("verify: %v, want failures %q", err, tt.bad)
			}
			for _, label := range tt.bad {
				if !strings.Contains(err.Error(), label+":") {
					t.Errorf("error %q does not name %q", err, label)
				}
			}
			if err != nil && strings.Contains(err.Error(), "SYN: ") {
				t.Errorf("error %q names a check that holds", err)
			}
		})
	}
}

// TestCutBefore cuts a small synthetic capture by time.
func TestCutBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 5 {
		data := []byte{byte(i), 1, 2, 3}
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Second), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	dropped, err := cutBefore(path, base.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 2 {
		t.Errorf("dropped %d frames, want 2", dropped)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet || r.Snaplen() != 65535 {
		t.Errorf("header: link type %v snaplen %d, want Ethernet 65535", r.LinkType(), r.Snaplen())
	}
	var firsts []byte
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		firsts = append(firsts, data[0])
		if ci.Timestamp.Before(base.Add(2 * time.Second)) {
			t.Errorf("kept a frame from %v", ci.Timestamp)
		}
	}
	if !bytes.Equal(firsts, []byte{2, 3, 4}) {
		t.Errorf("kept frames %v, want 2, 3, 4", firsts)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"curl", "--resolve", "good.test:4431:127.0.0.1", "https://good.test:4431/"}, "curl --resolve good.test:4431:127.0.0.1 https://good.test:4431/"},
		{[]string{"openssl", "-cipher", "DEFAULT:@SECLEVEL=0"}, "openssl -cipher DEFAULT:@SECLEVEL=0"},
		{[]string{"echo", "it's", ""}, `echo 'it'\''s' ''`},
		{[]string{"a b"}, "'a b'"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.argv); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.argv, got, tt.want)
		}
	}
}

// TestPlanIsConsistent catches plan mistakes before a root run does.
func TestPlanIsConsistent(t *testing.T) {
	files := map[string]bool{}
	ports := map[uint16]string{}
	for _, c := range plan() {
		if files[c.file] {
			t.Errorf("%s planned twice", c.file)
		}
		files[c.file] = true
		if (c.category == "") == (len(c.conns) == 0) {
			t.Errorf("%s: want either a category or per-connection categories", c.file)
		}
		if len(c.checks) == 0 || len(c.servers) == 0 || len(c.clients) == 0 {
			t.Errorf("%s: needs servers, clients and checks", c.file)
		}
		for _, s := range c.servers {
			if other, ok := ports[s.port]; ok {
				t.Errorf("%s and %s both use port %d", other, c.file, s.port)
			}
			ports[s.port] = c.file
			if s.port < 4430 || s.port > 4599 {
				t.Errorf("%s: port %d outside the capture range 4430-4599", c.file, s.port)
			}
			if s.scenario.Category() == "" {
				t.Errorf("%s: unknown scenario %q", c.file, s.scenario)
			}
		}
		for _, cl := range c.clients {
			if cl.server >= len(c.servers) {
				t.Errorf("%s: client for server %d of %d", c.file, cl.server, len(c.servers))
			}
		}
	}
}

// TestGoErrorTable checks the README's table of Go errors against the
// captures: every row's error is what a Go client in a capture of that
// row's verdict returned (testdata/README.md records it), except the rows
// a unit test covers.
func TestGoErrorTable(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "### Go's errors and what they mean")
	if !ok {
		t.Fatal("README.md has no Go error table")
	}
	table, _, _ = strings.Cut(table, "\n### ")
	captures, err := os.ReadFile(filepath.Join(testdata, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// verdict → the text of each capture section expecting it.
	sections := map[string][]string{}
	for _, sec := range strings.Split(string(captures), "\n### ")[1:] {
		_, rest, ok := strings.Cut(sec, "Expected verdict: `")
		if !ok {
			continue
		}
		cat, _, _ := strings.Cut(rest, "`")
		sections[cat] = append(sections[cat], sec)
	}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`") {
			continue
		}
		rows++
		_, goErr, _ := strings.Cut(cells[1], "`")
		goErr, _, _ = strings.Cut(goErr, "`")
		goErr, _, _ = strings.Cut(goErr, "…")
		goErr = strings.TrimSpace(goErr)
		_, cat, _ := strings.Cut(cells[2], "`")
		cat, _, _ = strings.Cut(cat, "`")
		if strings.Contains(goErr, "negative serial number") {
			continue // diagnose's unit test: no CA issues such certificates any more
		}
		if !slices.ContainsFunc(sections[cat], func(sec string) bool { return strings.Contains(sec, "Go's error: ") && strings.Contains(sec, goErr) }) &&
			!certPolicyRecords(t, goErr, cat) {
			t.Errorf("README row %q → %s: no capture expecting %s records that Go error", goErr, cat, cat)
		}
	}
	if rows < 6 {
		t.Errorf("the Go error table has %d rows, want at least 6", rows)
	}
}

// certPolicyRecords reports whether a Go client's capture of
// testdata/field/certpolicy or testdata/field/goerr records goErr (its
// README's table) and is expected to read as cat (its expected.tsv).
func certPolicyRecords(t *testing.T, goErr, cat string) bool {
	t.Helper()
	return fieldDirRecords(t, "certpolicy", goErr, cat) || fieldDirRecords(t, "goerr", goErr, cat)
}

// fieldDirRecords is certPolicyRecords for one directory of
// testdata/field.
func fieldDirRecords(t *testing.T, sub, goErr, cat string) bool {
	t.Helper()
	dir := filepath.Join(testdata, "field", sub)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	expected, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	category := map[string]string{}
	for _, line := range strings.Split(string(expected), "\n") {
		if f := strings.Split(line, "\t"); len(f) >= 3 && !strings.HasPrefix(line, "#") {
			category[f[0]] = f[2]
		}
	}
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(line, goErr) {
			continue
		}
		for _, name := range strings.FieldsFunc(cells[1], func(r rune) bool { return r == ',' || r == ' ' }) {
			if (strings.HasSuffix(name, "_go.pcapng") || strings.HasSuffix(name, "_go.pcap")) && category[name] == cat {
				return true
			}
		}
	}
	return false
}
