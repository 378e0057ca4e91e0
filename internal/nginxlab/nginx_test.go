package nginxlab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/probe"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The nginx tests need nginx, curl and tcpdump, and root for the captures
// (CI runs as root and installs all three: scripts/install-deps.sh).
func needAll(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("capturing on the loopback interface needs root (CI runs as root)")
	}
	for _, p := range []string{"nginx", "curl", "tcpdump"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", p, err)
		}
	}
}

// files writes the lab's certificates and keys as nginx reads them.
func files(t *testing.T, lab *tlslab.Lab, dir string) {
	t.Helper()
	if err := lab.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*tlslab.Cert{
		"good": lab.Good, "goodrsa": lab.GoodRSA, "leafonly": lab.LeafOnly,
		"expired": lab.Expired, "other": lab.WrongName, "client": lab.Client,
	} {
		key, err := c.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), c.PEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tlsServer is a server block serving name with cert on port, with extra
// directives; TLS 1.2 and 1.3 unless extra sets ssl_protocols (nginx's
// default before 1.23.4 is TLS 1.0 to 1.2).
func tlsServer(port int, dir, name, cert, extra string) string {
	if !strings.Contains(extra, "ssl_protocols") {
		extra = "ssl_protocols TLSv1.2 TLSv1.3; " + extra
	}
	return fmt.Sprintf(`    listen 127.0.0.1:%d ssl;
    server_name %s;
    ssl_certificate %s/%s.pem;
    ssl_certificate_key %s/%s.key;
    %s
    location / { return 200 "hello\n"; }`, port, name, dir, cert, dir, cert, extra)
}

// nginxCase is one misconfiguration and what tlsdiag must say about it.
type nginxCase struct {
	name string
	// servers are the server blocks; %[1]d is the port, %[2]s the
	// directory with the certificates.
	servers func(port int, dir string) []string
	scheme  string // "https" unless set
	sni     string // the name asked for; tlslab.GoodName unless set
	// goClient adjusts the probe's configuration; curl are curl's extra
	// arguments (nil: the case has no curl client).
	goClient func(*probe.Config)
	curl     []string
	category diagnose.Category
	// status is the HTTP status the probe reads, 0 for none.
	status int
	// curlStatus is the status the capture of curl shows (TLS 1.3
	// decrypted with curl's key log), 0 when not readable.
	curlStatus int
	// directive must appear in the fix (nginx recognised or in the list).
	directive string
	// probeSays must appear in the probe's correlation summary.
	probeSays string
}

func cases() []nginxCase {
	one := func(name, cert, extra string) func(int, string) []string {
		return func(port int, dir string) []string { return []string{tlsServer(port, dir, name, cert, extra)} }
	}
	tls12 := "ssl_protocols TLSv1.2;"
	return []nginxCase{
		{
			name: "client certificate required TLS 1.3", servers: one(tlslab.GoodName, "good", "ssl_verify_client on; ssl_client_certificate %[2]s/client-ca.pem;"),
			curl: []string{"--tlsv1.3"}, category: diagnose.ClientCertRequired, status: 400, curlStatus: 400, directive: "ssl_verify_client",
		},
		{
			name: "client certificate required TLS 1.2", servers: one(tlslab.GoodName, "good", tls12+" ssl_verify_client on; ssl_client_certificate %[2]s/client-ca.pem;"),
			curl: []string{}, category: diagnose.ClientCertRequired, status: 400, directive: "ssl_verify_client",
		},
		{
			name: "default server", sni: tlslab.UnknownName,
			servers: func(port int, dir string) []string {
				return []string{
					strings.Replace(tlsServer(port, dir, tlslab.OtherName, "other", ""), "ssl;", "ssl default_server;", 1),
					tlsServer(port, dir, tlslab.GoodName, "good", ""),
				}
			},
			curl: []string{}, category: diagnose.CertHostnameMismatch, directive: "server_name",
		},
		{
			name: "TLS 1.3 only", servers: one(tlslab.GoodName, "good", "ssl_protocols TLSv1.3;"),
			goClient: func(c *probe.Config) { c.MaxVersion = tls.VersionTLS12 },
			curl:     []string{"--tls-max", "1.2"}, category: diagnose.VersionMismatch, directive: "ssl_protocols",
		},
		{
			name: "RSA key exchange only", servers: one(tlslab.GoodName, "goodrsa", tls12+" ssl_ciphers AES128-SHA;"),
			curl: []string{"--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}, category: diagnose.NoSharedCipher, directive: "ssl_ciphers",
		},
		{
			name: "missing intermediate", servers: one(tlslab.GoodName, "leafonly", tls12),
			curl: []string{}, category: diagnose.CertIncompleteChain, directive: "fullchain.pem",
		},
		{
			name: "h2 only client", servers: one(tlslab.GoodName, "good", ""),
			goClient: func(c *probe.Config) { c.ALPN = []string{"h2"} },
			// curl cannot offer h2 alone: it always adds http/1.1.
			category: diagnose.ALPNMismatch, directive: "listen 443 ssl http2",
		},
		{
			name: "expired certificate", servers: one(tlslab.GoodName, "expired", tls12),
			curl: []string{}, category: diagnose.CertExpired, directive: "nginx -s reload",
		},
		{
			name: "https to a plain port",
			servers: func(port int, dir string) []string {
				return []string{fmt.Sprintf("    listen 127.0.0.1:%d;\n    location / { return 200 \"plain\\n\"; }", port)}
			},
			curl: []string{}, category: diagnose.NotTLSServer, directive: "listen 443 ssl",
		},
		{
			name: "http to an HTTPS port", servers: one(tlslab.GoodName, "good", ""), scheme: "http",
			curl: []string{}, category: diagnose.NotTLSClient, status: 400, directive: "error_page 497",
			probeSays: "speaks TLS",
		},
	}
}

func TestNginxCases(t *testing.T) {
	needAll(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files(t, lab, dir)
			port := freePort(t)
			var blocks []string
			for _, b := range tc.servers(port, dir) {
				blocks = append(blocks, strings.ReplaceAll(b, "%[2]s", dir))
			}
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			srv, err := Start(ctx, dir, Config(dir, blocks...), addr)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			sni := tc.sni
			if sni == "" {
				sni = tlslab.GoodName
			}
			scheme := "https"
			if tc.scheme != "" {
				scheme = tc.scheme
			}
			t.Run("go", func(t *testing.T) { goClient(t, ctx, lab, tc, scheme, sni, port, dir, srv) })
			if tc.curl != nil {
				t.Run("curl", func(t *testing.T) { curlClient(t, ctx, tc, scheme, sni, port, dir, srv) })
			}
		})
	}
}

func goClient(t *testing.T, ctx context.Context, lab *tlslab.Lab, tc nginxCase, scheme, sni string, port int, dir string, srv *Server) {
	target, err := probe.ParseTarget(fmt.Sprintf("%s://%s:%d/", scheme, sni, port))
	if err != nil {
		t.Fatal(err)
	}
	cfg := probe.Config{
		Target:    target,
		RootCAs:   lab.RootPool(),
		WireRoots: lab.RootPool(),
		Resolve:   []probe.Resolve{{Host: sni, Port: uint16(port), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}},
		MaxTime:   10 * time.Second,
	}
	if tc.goClient != nil {
		tc.goClient(&cfg)
	}
	res, err := probe.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Wire.Result == nil {
		t.Fatalf("no wire view: %v %v", res.Wire.Err, res.Wire.Notes)
	}
	v := res.Wire.Result.Verdict
	if c := res.Wire.Result.Conn; true {
		t.Logf("conn: CR %d ccerts %d appdata %+v/%+v fin %+v rst %+v resp %+v flight %v", c.CertificateRequestFrame.Number, c.ClientCertificates, c.ClientSide.AppData, c.ServerSide.AppData, c.TCP.FIN, c.TCP.RST, c.Response, c.ClientFlightRecords)
	}
	t.Logf("client: %v\nwire: %s: %s\nfix: %s\ncorrelation: %+v", res.Client.Err, v.Category, v.Summary, v.Fix, res.Correlation)
	if v.Category != tc.category {
		t.Errorf("category %s, want %s (nginx: %s)", v.Category, tc.category, srv.ErrorLog())
	}
	if !strings.Contains(v.Fix, tc.directive) {
		t.Errorf("the fix does not name %q: %s", tc.directive, v.Fix)
	}
	if tc.probeSays != "" && !strings.Contains(res.Correlation.Summary, tc.probeSays) {
		t.Errorf("the correlation does not say %q: %+v", tc.probeSays, res.Correlation)
	}
	if tc.status != 0 {
		if res.Client.HTTP == nil || res.Client.HTTP.StatusCode != tc.status {
			t.Errorf("HTTP response %+v, want status %d", res.Client.HTTP, tc.status)
		}
		all := res.Correlation.Summary + " " + res.Correlation.Cause
		if !strings.Contains(all, fmt.Sprint(tc.status)) {
			t.Errorf("the correlation does not give the status %d: %+v", tc.status, res.Correlation)
		}
		if res.OK() {
			t.Errorf("a %d is reported as success", tc.status)
		}
	}
}

func curlClient(t *testing.T, ctx context.Context, tc nginxCase, scheme, sni string, port int, dir string, srv *Server) {
	var (
		pcap, keylog string
		out          []byte
		cerr         error
	)
	// A busy machine can keep tcpdump from reading the last packets
	// before it is stopped (Stop says so): run the case again.
	for attempt := 1; ; attempt++ {
		work := t.TempDir()
		pcap, keylog = filepath.Join(work, "curl.pcap"), filepath.Join(work, "curl.keylog")
		td, err := tlslab.StartTcpdump(ctx, "", "lo", pcap, fmt.Sprintf("tcp port %d", port))
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
			"--cacert", filepath.Join(dir, tlslab.CAFile), "--resolve", fmt.Sprintf("%s:%d:127.0.0.1", sni, port)}, tc.curl...)
		args = append(args, fmt.Sprintf("%s://%s:%d/", scheme, sni, port))
		cmd := exec.CommandContext(ctx, "curl", args...)
		cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+keylog)
		out, cerr = cmd.CombinedOutput()
		time.Sleep(300 * time.Millisecond) // the last packets reach tcpdump
		err = td.Stop()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v: again", attempt, err)
	}
	t.Logf("curl: %s (%v)", out, cerr)
	c := analyse(t, pcap, keylog, uint16(port))
	v := diagnose.Diagnose(c, diagnose.Config{Roots: mustRoots(t, dir)})
	t.Logf("conn: CR %d ccerts %d appdata %+v/%+v fin %+v rst %+v alerts %+v", c.CertificateRequestFrame.Number, c.ClientCertificates, c.ClientSide.AppData, c.ServerSide.AppData, c.TCP.FIN, c.TCP.RST, c.Alerts)
	t.Logf("wire: %s: %s\nfix: %s", v.Category, v.Summary, v.Fix)
	switch {
	case tc.category == diagnose.ClientCertRequired && tc.curlStatus == 0 && v.Category == diagnose.OK && serverClosedAfterClient(c):
		// No key opened the response, and curl closed before nginx did
		// (a race, see below): ok with the client-certificate warning.
		if !strings.Contains(strings.Join(v.Warnings, " "), "for want of a certificate") {
			t.Errorf("the client closing first: ok without the client-certificate warning: %q", v.Warnings)
		}
	case v.Category != tc.category:
		t.Errorf("category %s, want %s", v.Category, tc.category)
	case !strings.Contains(v.Fix, tc.directive):
		t.Errorf("the fix does not name %q: %s", tc.directive, v.Fix)
	}
	if tc.curlStatus != 0 {
		// Without the key log the status is sealed, but the empty
		// Certificate record before the Finished still shows the request.
		sealed := analyse(t, pcap, "", uint16(port))
		sv := diagnose.Diagnose(sealed, diagnose.Config{Roots: mustRoots(t, dir)})
		t.Logf("without keys: %s: %s", sv.Category, sv.Summary)
		// Which side closes first after nginx's 400 is a race between
		// nginx and curl. When the server closed first the refusal is
		// the verdict; when curl did, the wire cannot tell a refusal from
		// an optional certificate and a short reply: ok, with a warning.
		switch {
		case sv.Category == tc.category:
			if !strings.Contains(sv.Fix, tc.directive) || !strings.Contains(sv.Summary, "empty Certificate") {
				t.Errorf("without the key log: %s: %s; fix %s", sv.Category, sv.Summary, sv.Fix)
			}
		case sv.Category == diagnose.OK && serverClosedAfterClient(c):
			if !strings.Contains(strings.Join(sv.Warnings, " "), "for want of a certificate") {
				t.Errorf("without the key log, the client closing first: ok without the client-certificate warning: %q", sv.Warnings)
			}
		default:
			t.Errorf("without the key log: %s: %s; fix %s", sv.Category, sv.Summary, sv.Fix)
		}
		if c.Response == nil || c.Response.Status != tc.curlStatus {
			t.Errorf("the capture's response %+v, want status %d", c.Response, tc.curlStatus)
		}
		if !strings.Contains(v.Summary, fmt.Sprint(tc.curlStatus)) {
			t.Errorf("the summary does not give the status %d", tc.curlStatus)
		}
	}
}

func mustRoots(t *testing.T, dir string) *diagnose.Roots {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, tlslab.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := diagnose.LoadRoots(false, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// analyse runs a capture file through the pipeline and returns the one
// connection to port.
func analyse(t *testing.T, pcap, keylog string, port uint16) *analysis.Connection {
	t.Helper()
	var kl *decrypt.KeyLog
	if f, err := os.Open(keylog); keylog != "" && err == nil {
		kl, err = decrypt.ParseKeyLog(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	src, err := capture.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := analysis.NewBuilder(analysis.Options{KeyLog: kl, TLSPorts: []uint16{port}})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{IdleTimeout: -1}); err != nil {
		t.Fatal(err)
	}
	conns := b.Connections()
	if len(conns) != 1 {
		t.Fatalf("%d connections in the capture, want 1", len(conns))
	}
	return conns[0]
}

// serverClosedAfterClient reports whether, in the decrypted record c, the
// client's close_notify or FIN came before the server's.
func serverClosedAfterClient(c *analysis.Connection) bool {
	first := func(dir capture.Direction) int64 {
		n := c.TCP.FIN[dir].Number
		for _, a := range c.Alerts {
			if a.Sender == dir && a.Description == tlsparse.AlertCloseNotify && (n == 0 || a.Frame.Number < n) {
				n = a.Frame.Number
			}
		}
		return n
	}
	cl, sv := first(capture.ClientToServer), first(capture.ServerToClient)
	return cl != 0 && (sv == 0 || cl < sv)
}
