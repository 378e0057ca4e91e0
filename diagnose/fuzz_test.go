package diagnose

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// fuzzReader hands out bytes of the fuzz input, zeros once it is used up.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fuzzReader) bit(mask byte, v byte) bool { return v&mask != 0 }
func (r *fuzzReader) u16() uint16                { return uint16(r.byte())<<8 | uint16(r.byte()) }

// frame returns frame 0 (not seen) or 1–255, at 10 ms per frame number
// plus a jitter, so that frames and times come in any order.
func (r *fuzzReader) frame() capture.Frame {
	n := int64(r.byte())
	if n == 0 {
		return capture.Frame{}
	}
	f := fr(n)
	f.Time = f.Time.Add(time.Duration(int(r.byte())-128) * time.Millisecond)
	return f
}

// fuzzConn builds a record from arbitrary bytes: any combination of
// facts, frames in any order, including ones the builder never produces.
func fuzzConn(data []byte, chains [][]*testCert) *analysis.Connection {
	r := &fuzzReader{b: data}
	c := tcpConn()
	f1, f2, f3 := r.byte(), r.byte(), r.byte()
	c.TCP.SYN, c.TCP.SYNACK, c.TCP.RST = r.frame(), r.frame(), r.frame()
	c.TCP.SYNCount = int(r.byte() % 8)
	c.TCP.RSTFrom = capture.Direction(f1 & 1)
	c.TCP.FIN = [2]capture.Frame{r.frame(), r.frame()}
	c.TCP.Close = capture.CloseReason(r.byte() % 6)
	c.Partial, c.Established, c.Resumed = r.bit(2, f1), r.bit(4, f1), r.bit(8, f1)
	c.Roles = analysis.RoleSource(r.byte() % 4)
	c.First, c.Last = r.frame(), r.frame()
	if r.bit(1, f2) {
		h := &tlsparse.ClientHello{ServerName: []string{"", "www.example.com", "other.example"}[r.byte()%3]}
		for range r.byte() % 6 {
			h.CipherSuites = append(h.CipherSuites, tlsparse.CipherSuite(r.u16()))
		}
		for range r.byte() % 4 {
			v := tlsparse.Version(0x0300 + uint16(r.byte()%7))
			if v == 0x0306 {
				v = 0x3A3A // GREASE
			}
			h.SupportedVersions = append(h.SupportedVersions, v)
		}
		h.Version = tlsparse.Version(0x0300 + uint16(r.byte()%5))
		if r.bit(2, f2) {
			h.ALPN = []string{"h2"}
		}
		c.ClientHello, c.ClientHelloFrame = h, r.frame()
	}
	if r.bit(4, f2) {
		c.HelloRetry, c.HelloRetryFrame = &tlsparse.ServerHello{HelloRetryRequest: true, KeyShare: tlsparse.NamedGroup(r.u16())}, r.frame()
		if r.bit(8, f2) && c.ClientHello != nil {
			h := *c.ClientHello
			c.RetryClientHello, c.RetryClientHelloFrame = &h, r.frame()
		}
	}
	if r.bit(16, f2) {
		c.Version = tlsparse.Version(0x0300 + uint16(r.byte()%6))
		c.Cipher = tlsparse.CipherSuite(r.u16())
		c.ServerHello = &tlsparse.ServerHello{CipherSuite: c.Cipher}
		if r.bit(32, f2) {
			c.ServerHello.ALPN, c.ALPN = "h3", "h3"
		}
		c.ServerHelloFrame = r.frame()
	}
	if r.bit(64, f2) && len(chains) > 0 {
		for _, tc := range chains[int(r.byte())%len(chains)] {
			c.Certificates = append(c.Certificates, analysis.Certificate{DER: tc.cert.Raw, X509: tc.cert})
		}
		if r.bit(128, f2) {
			c.Certificates = append(c.Certificates, analysis.Certificate{DER: []byte{1}})
		}
		c.CertificateFrame = r.frame()
	}
	if r.bit(1, f3) {
		c.CertificateRequest, c.CertificateRequestFrame = &tlsparse.CertificateRequest{}, r.frame()
		c.ClientCertificates, c.ClientCertificateFrame = int(r.byte()%4)-1, r.frame()
	}
	c.ServerHelloDoneFrame, c.HandshakeDone = r.frame(), r.frame()
	c.ClientSide.ChangeCipherSpec, c.ServerSide.ChangeCipherSpec = r.frame(), r.frame()
	c.ClientSide.Finished, c.ServerSide.Finished = r.frame(), r.frame()
	for range r.byte() % 4 {
		v := r.byte()
		c.Alerts = append(c.Alerts, analysis.Alert{Frame: r.frame(), Sender: capture.Direction(v & 1), Encrypted: v&2 != 0,
			Level: tlsparse.AlertLevel(v >> 2 % 4), Description: tlsparse.AlertDescription(r.byte())})
	}
	looks := []string{"HTTP response (HTTP/1.1 400 Bad Request)", "SMTP greeting (220 x)", "bytes 00 01", "SSH-2.0-x", ""}
	if r.bit(2, f3) {
		c.ClientSide.NonTLS = &analysis.NonTLS{Frame: r.frame(), Looks: looks[r.byte()%5]}
	}
	if r.bit(4, f3) {
		c.ServerSide.NonTLS = &analysis.NonTLS{Frame: r.frame(), Looks: looks[r.byte()%5]}
	}
	if r.bit(8, f3) {
		c.ServerSide.Prelude = &analysis.NonTLS{Frame: r.frame(), Looks: looks[r.byte()%5]}
	}
	if r.bit(16, f3) {
		c.ClientSide.Prelude = &analysis.NonTLS{Frame: r.frame(), Looks: looks[r.byte()%5]}
	}
	for _, s := range []*analysis.Side{&c.ClientSide, &c.ServerSide} {
		s.AppData = analysis.Traffic{Records: int(r.byte() % 3), First: r.frame()}
	}
	for range r.byte() % 3 {
		c.TCP.Gaps = append(c.TCP.Gaps, analysis.Gap{Dir: capture.Direction(r.byte() & 1), Size: int(r.byte()), Frame: r.frame()})
	}
	if r.bit(32, f3) {
		c.Anomalies = []tlsparse.Anomaly{"duplicate_extension"}
	}
	return c
}

// FuzzDiagnose checks that any record, however inconsistent, gets a
// well-formed, deterministic verdict and never a panic.
func FuzzDiagnose(f *testing.F) {
	p := newPKI(f)
	chains := [][]*testCert{
		{p.leaf, p.inter},
		{p.leaf},
		{mkCert(f, certSpec{cn: "www.example.com", dns: []string{"www.example.com"}, key: testKey(f, "self")})},
		{mkCert(f, certSpec{cn: "www.example.com", issuer: p.inter, dns: []string{"www.example.com"}, notAfter: captureTime.AddDate(0, 0, -1)}), p.inter},
	}
	cache := NewChainCache(0)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0, 2, 0, 0, 1})
	f.Add([]byte{4, 0x5f, 1, 1, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 9, 0, 0})
	f.Add([]byte("\x06\xff\xff\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzConn(data, chains)
		v := Diagnose(c, Config{Roots: PoolRoots(p.roots)})
		if !slices.Contains(Categories, v.Category) {
			t.Fatalf("unknown category %q", v.Category)
		}
		if v.Summary == "" {
			t.Fatalf("%s without a summary", v.Category)
		}
		if (v.Fix == "") != (v.Category == OK) {
			t.Fatalf("%s with fix %q", v.Category, v.Fix)
		}
		if !slices.IsSorted(v.Evidence) || slices.Contains(v.Evidence, 0) || len(slices.Compact(slices.Clone(v.Evidence))) != len(v.Evidence) {
			t.Fatalf("evidence %v: want ascending distinct frame numbers", v.Evidence)
		}
		if again := Diagnose(fuzzConn(data, chains), Config{Roots: PoolRoots(p.roots), Cache: cache}); !reflect.DeepEqual(again, v) {
			t.Fatalf("not deterministic (or changed by the cache): %+v vs %+v", v, again)
		}
	})
}
