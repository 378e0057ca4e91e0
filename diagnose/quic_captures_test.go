package diagnose

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/quic"
)

// The QUIC captures of testdata/quic are made by internal/quiclab:
// quic-go and ngtcp2 clients and servers on loopback, each capture with
// the client's key log (NAME.keys) when it wrote one, and the lab's root
// in ca.pem.
const quicDir = testdataDir + "/quic"

// readQUIC analyses a QUIC lab capture, with its key log when keys is set,
// the way read does (two workers).
func readQUIC(t *testing.T, name string, keys bool) []*analysis.Connection {
	t.Helper()
	var opt analysis.Options
	if keys {
		f, err := os.Open(filepath.Join(quicDir, name+".keys"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if opt.KeyLog, err = decrypt.ParseKeyLog(f); err != nil {
			t.Fatal(err)
		}
	}
	src, err := capture.OpenFile(filepath.Join(quicDir, name+".pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	conns, _, err := analysis.Analyse(context.Background(), src, opt, capture.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// quicCaptureTests are the QUIC lab captures and what every QUIC
// connection in each must get; they cover the categories that only QUIC
// shows (TestCaptures counts them).
var quicCaptureTests = []struct {
	name string
	keys bool
	// want is the QUIC connection's category; tcp the fallback TCP
	// connection's, if one is expected.
	want Category
	tcp  Category
	// summary holds words the summary must have.
	summary []string
	check   func(t *testing.T, c *analysis.Connection)
}{
	{name: "quicgo_ok", want: OK, summary: []string{"over QUIC v1"}},
	{name: "quicgo_ok", keys: true, want: OK, summary: []string{"ALPN h3"}, check: func(t *testing.T, c *analysis.Connection) {
		if len(c.Certificates) != 1 || !c.Decrypted || c.ALPN != "h3" {
			t.Errorf("with keys: %d certificates, decrypted %v, ALPN %q", len(c.Certificates), c.Decrypted, c.ALPN)
		}
	}},
	{name: "quicgo_v2_ok", want: OK, summary: []string{"over QUIC v2"}},
	{name: "quicgo_v2_ok", keys: true, want: OK, summary: []string{"over QUIC v2", "ALPN h3"}},
	{name: "ngtcp2_ok", want: OK, summary: []string{"over QUIC v1", "x25519"}},
	{name: "ngtcp2_ok", keys: true, want: OK, summary: []string{"ALPN h3"}},
	{name: "quicgo_alpn_refused", want: ALPNMismatch, summary: []string{"no_application_protocol"}},
	{name: "ngtcp2_quicgo_alpn_refused", want: ALPNMismatch, summary: []string{"'h3'"}},
	{name: "quicgo_untrusted_cert", keys: true, want: CertSelfSigned, summary: []string{"bad_certificate", "self-signed"}},
	{name: "quicgo_version_negotiation", want: VersionMismatch, summary: []string{"version v2", "lists v1"}},
	{name: "ngtcp2_version_negotiation", want: VersionMismatch, summary: []string{"grease(0x1a2a3a4a)", "lists v1"}},
	{name: "quicgo_retry", want: OK, check: retryChecked},
	{name: "ngtcp2_retry", want: OK, check: retryChecked},
	{name: "quicgo_udp_blocked", want: UDPBlocked, summary: []string{"8 QUIC Initial datagrams", "UDP port 4437"}, check: func(t *testing.T, c *analysis.Connection) {
		if c.QUIC.Fallback != nil {
			t.Errorf("fallback %+v without a TCP connection", c.QUIC.Fallback)
		}
	}},
	{name: "quicgo_udp_blocked_fallback", want: UDPBlocked, tcp: OK, summary: []string{"fell back to TCP (frame 9", "completed"}},
	{name: "quicgo_port_unreachable", want: UDPBlocked, summary: []string{"the server's host answered with ICMP \"Destination unreachable (Port unreachable)\" (frame 2): nothing listens on UDP port 4439"}},
}

// quicLabCategories are the categories quicCaptureTests check on real
// captures.
func quicLabCategories() []Category {
	var cs []Category
	for _, tt := range quicCaptureTests {
		cs = append(cs, tt.want)
	}
	return cs
}

// TestQUICCaptures checks the verdict of every QUIC connection of the lab
// captures, with and without the key log, and what the verdict rests on.
func TestQUICCaptures(t *testing.T) {
	roots := rootsFile(t, filepath.Join(quicDir, "ca.pem"))
	tests := quicCaptureTests
	for _, tt := range tests {
		name := tt.name
		if tt.keys {
			name += "+keys"
		}
		t.Run(name, func(t *testing.T) {
			var quicConns, tcp int
			for _, c := range readQUIC(t, tt.name, tt.keys) {
				v := Diagnose(c, Config{Roots: roots})
				if !c.IsQUIC() {
					tcp++
					if v.Category != tt.tcp {
						t.Errorf("TCP connection %s: %s (%s), want %s", c.Client, v.Category, v.Summary, tt.tcp)
					}
					continue
				}
				quicConns++
				if v.Category != tt.want {
					t.Errorf("%s, want %s: %s", v.Category, tt.want, v.Summary)
				}
				for _, w := range tt.summary {
					if !strings.Contains(v.Summary, w) {
						t.Errorf("summary %q lacks %q", v.Summary, w)
					}
				}
				if tt.check != nil {
					tt.check(t, c)
				}
			}
			if quicConns != 1 || (tcp == 1) != (tt.tcp != "") {
				t.Errorf("%d QUIC and %d TCP connections", quicConns, tcp)
			}
		})
	}
}

func retryChecked(t *testing.T, c *analysis.Connection) {
	r := c.QUIC.Retry
	if r == nil || !r.TagValid {
		t.Errorf("retry %+v, want one with a valid tag", r)
	}
	if c.ClientHello == nil || c.ServerHello == nil {
		t.Error("the hellos after the Retry were not read")
	}
}

// quicConn is a QUIC connection whose client sent its ClientHello in
// frame 1.
func quicConn() *analysis.Connection {
	c := &analysis.Connection{
		Client:             netip.MustParseAddrPort("192.0.2.1:51000"),
		Server:             netip.MustParseAddrPort("198.51.100.7:443"),
		Roles:              analysis.RolesFromClientHello,
		First:              fr(1),
		Last:               fr(1),
		ClientCertificates: -1,
		QUIC:               &analysis.QUIC{Version: quic.Version1, Versions: []quic.Version{quic.Version1}},
	}
	c.QUIC.Datagrams[client] = 1
	c.ClientHello, c.ClientHelloFrame = modernHello(), fr(1)
	return c
}

func quicCases(t *testing.T) []diagnoseCase {
	return []diagnoseCase{
		{name: "QUIC Initials unanswered", cat: UDPBlocked,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.QUIC.Datagrams[client], c.Last = 5, frAt(5, 3*time.Second)
				return c
			},
			summary:  []string{"5 QUIC Initial datagrams", "UDP port 443", "over 3.0 s"},
			evidence: []int64{1, 5}, fix: []string{"UDP port 443", "198.51.100.7"}},
		{name: "QUIC Initials unanswered, then TCP", cat: UDPBlocked,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.QUIC.Datagrams[client], c.Last = 3, frAt(3, time.Second)
				c.QUIC.Fallback = &analysis.Fallback{First: frAt(9, 2*time.Second), Established: true}
				return c
			},
			summary:  []string{"fell back to TCP (frame 9, 2.0 s after its first Initial)", "completed"},
			evidence: []int64{1, 3, 9}},
		{name: "one QUIC Initial, then the capture ends", cat: IncompleteCapture,
			conn:    func(*pki) *analysis.Connection { return quicConn() },
			summary: []string{"capture ended"}, evidence: []int64{1}},
		{name: "QUIC version negotiation not followed", cat: VersionMismatch,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.QUIC.Version, c.QUIC.Versions = quic.Version2, []quic.Version{quic.Version2}
				c.QUIC.Datagrams[server] = 1
				c.QUIC.VersionNegotiation = &quic.VersionNegotiation{Frame: fr(2), Versions: []quic.Version{0x1a2a3a4a, quic.Version1}}
				c.Last = fr(2)
				return c
			},
			summary:  []string{"QUIC version v2", "lists v1,", "frame 2"},
			evidence: []int64{1, 2}, fix: []string{"(v1)"}},
		{name: "QUIC transport error", cat: HandshakeFailure,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.QUIC.Datagrams[server] = 1
				c.QUIC.Closes = []quic.Close{{Frame: fr(2), Dir: server, Level: quic.LevelInitial, ErrorCode: 0x08, Reason: "bad\\x1b[31m"}}
				c.Last = fr(2)
				return c
			},
			summary:  []string{"server closed the QUIC connection with transport error TRANSPORT_PARAMETER_ERROR", "an initial packet"},
			evidence: []int64{1, 2}},
		{name: "QUIC handshake cut by the bounds", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.QUIC.CryptoCut = 70000
				c.QUIC.Errors = []quic.PacketError{{Frame: fr(1), Err: quic.ErrShort}}
				return c
			},
			summary: []string{"capture ended"}, evidence: []int64{1}, nWarn: 2,
			warnings: []string{"70000 bytes of the QUIC handshake were not read", "1 packet of the QUIC connection did not decode, the first in frame 1: packet cut short"}},
		{name: "Google QUIC", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.ClientHello, c.ClientHelloFrame = nil, capture.Frame{}
				c.QUIC.Version, c.QUIC.Versions = 0x51303436, []quic.Version{0x51303436}
				return c
			},
			summary: []string{"the client speaks Google QUIC (gQUIC, version Q046)", "(frame 1)", "nothing in it can be judged"},
			fix:     []string{"QUIC v1 or TCP"}, evidence: []int64{1}},
		{name: "QUIC of an unknown version", cat: IncompleteCapture,
			conn: func(*pki) *analysis.Connection {
				c := quicConn()
				c.ClientHello, c.ClientHelloFrame = nil, capture.Frame{}
				c.QUIC.Version, c.QUIC.Versions = 0x709a50c4, []quic.Version{0x709a50c4}
				return c
			},
			summary:  []string{"QUIC version 0x709a50c4, whose packets tlsdiag cannot decrypt (it reads v1, v2 and draft-29)"},
			evidence: []int64{1}},
		{name: "QUIC crypto error is the alert", cat: ALPNMismatch,
			conn: func(*pki) *analysis.Connection {
				c := alert(quicConn(), 2, server, 120)
				c.QUIC.Datagrams[server] = 1
				c.QUIC.Closes = []quic.Close{{Frame: fr(2), Dir: server, Level: quic.LevelInitial, ErrorCode: 0x178}}
				return c
			},
			summary: []string{"no_application_protocol"}, evidence: []int64{1, 2}},
	}
}

func TestDiagnoseQUIC(t *testing.T) { runDiagnoseCases(t, quicCases(t)) }

// TestGoogleQUICCapture reads Chrome's first Google QUIC datagram from
// tcpdump's test suite: the connection is found, named by its version as
// tshark names it (Q046), and not judged.
func TestGoogleQUICCapture(t *testing.T) {
	src, err := capture.OpenFile(filepath.Join("..", "capture", "testdata", "tcpdump", "gquic.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	conns, _, err := analysis.Analyse(context.Background(), src, analysis.Options{}, capture.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 1 || !conns[0].IsQUIC() {
		t.Fatalf("%d connections, want 1 over QUIC", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	if v.Category != IncompleteCapture || !v.NotJudged || !strings.Contains(v.Summary, "Google QUIC (gQUIC, version Q046)") {
		t.Errorf("%s (not judged %v): %s", v.Category, v.NotJudged, v.Summary)
	}
}
