//go:build linux

package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/attribution"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/report"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// execChildEnv makes the test binary a Go net/http client of the URL it
// names, with KeyLogWriter wired from SSLKEYLOGFILE and the lab's CA
// from TLSDIAG_EXEC_CA: the program `tlsdiag exec` watches.
const execChildEnv = "TLSDIAG_EXEC_CHILD_URL"

func TestMain(m *testing.M) {
	if u := os.Getenv(execChildEnv); u != "" {
		os.Exit(execChild(u))
	}
	os.Exit(m.Run())
}

func execChild(u string) int {
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(os.Getenv("TLSDIAG_EXEC_CA"))
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		fmt.Fprintln(os.Stderr, "child: no CA:", err)
		return 3
	}
	tc := &tls.Config{RootCAs: pool}
	if p := os.Getenv("SSLKEYLOGFILE"); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			defer f.Close()
			tc.KeyLogWriter = f
		}
	}
	addr := os.Getenv("TLSDIAG_EXEC_ADDR")
	tr := &http.Transport{TLSClientConfig: tc, DialContext: func(ctx context.Context, network, _ string) (c net.Conn, err error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Get:", err)
		return 1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return 0
}

// execCase is one run of a program under Exec against a lab server.
type execCase struct {
	name     string
	client   string // "go", "curl" or "openssl"
	scenario tlslab.Scenario
	// curlArgs are added to curl's; otherCA makes the program trust
	// another lab's root instead; filter replaces the capture's.
	curlArgs []string
	otherCA  bool
	filter   string

	exit      int
	class     Class
	category  diagnose.Category // "" when the capture must show none
	agreement Agreement
	cause     string // a substring of the correlation's cause
}

// TestExec runs a Go net/http client and curl against misconfigured lab
// servers under Exec, while this process connects to the same server all
// along: exactly the program's connection must be found (by its cgroup),
// judged as the scenario's category, correlated with the program's error,
// and its exit status passed through. Needs root (capture, cgroup,
// netfilter rules); CI runs as root.
func TestExec(t *testing.T) {
	needExec(t, "curl")
	lab, dir := labFiles(t)
	_, otherDir := labFiles(t)
	for _, tt := range []execCase{
		{name: "go/cert_expired", client: "go", scenario: tlslab.CertExpired, exit: 1, class: CertExpired, category: diagnose.CertExpired, agreement: Agree},
		// crypto/x509 says "has expired or is not yet valid" for both;
		// the detail names this one.
		{name: "go/cert_not_yet_valid", client: "go", scenario: tlslab.CertNotYetValid, exit: 1, class: CertNotYetValid, category: diagnose.CertNotYetValid, agreement: Agree},
		{name: "go/cert_untrusted_ca", client: "go", scenario: tlslab.CertUntrustedCA, exit: 1, class: CertUnknownAuthority, category: diagnose.CertUntrustedCA, agreement: Agree},
		{name: "go/cert_hostname_mismatch", client: "go", scenario: tlslab.CertHostnameMismatch, exit: 1, class: CertHostnameMismatch, category: diagnose.CertHostnameMismatch, agreement: Agree},
		{name: "go/ok_tls13", client: "go", scenario: tlslab.OKTLS13, exit: 0, class: ClassNone, category: diagnose.OK, agreement: Agree},
		{name: "curl/cert_expired", client: "curl", scenario: tlslab.CertExpired, exit: 60, class: CertExpired, category: diagnose.CertExpired, agreement: Agree},
		{name: "curl/version_mismatch", client: "curl", scenario: tlslab.VersionMismatch, curlArgs: []string{"--tls-max", "1.2"}, exit: 35,
			class: AlertClass(tlsparse.AlertProtocolVersion), category: diagnose.VersionMismatch, agreement: Agree},
		{name: "curl/ok_tls13", client: "curl", scenario: tlslab.OKTLS13, exit: 0, class: ClassNone, category: diagnose.OK, agreement: Agree},
		// The program trusts another root than the wire is judged by: the
		// wire sees curl's unknown_ca alert against a chain that verifies.
		{name: "curl/other_roots", client: "curl", scenario: tlslab.OKTLS12, otherCA: true, exit: 60, class: CertUnknownAuthority,
			category: diagnose.CertUntrustedCA, agreement: Disagree},
		// A handshake that worked, reported as `s_client -brief` reports
		// it ("Protocol version: TLSv1.2"): no error, whatever the words.
		{name: "openssl/ok_brief", client: "openssl", scenario: tlslab.OKTLS12, exit: 0, class: ClassNone, category: diagnose.OK, agreement: Agree},
		// s_client checks no name without -verify_hostname: it succeeds
		// and closes (an encrypted close_notify) where the wire sees a
		// certificate for another name. The program did not check what
		// the wire checked; no packet is missing.
		{name: "openssl/no_name_check", client: "openssl", scenario: tlslab.CertHostnameMismatch, exit: 0, class: ClassNone,
			category: diagnose.CertHostnameMismatch, agreement: Disagree, cause: "checks no name without -verify_hostname"},
		// The capture does not show the program's connection.
		{name: "curl/not_captured", client: "curl", scenario: tlslab.CertExpired, filter: "tcp port 9", exit: 60, class: CertExpired, agreement: ClientOnly},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ca := filepath.Join(dir, tlslab.CAFile)
			if tt.otherCA {
				ca = filepath.Join(otherDir, tlslab.CAFile)
			}
			srv, err := tlslab.Start(tt.scenario, tlslab.WithLab(lab))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			cmd, env := execCommand(tt, srv.Addr(), ca)
			filter := tt.filter
			if filter == "" {
				filter = fmt.Sprintf("tcp port %d", srv.Addr().Port())
			}
			noise := startNoise(srv.Addr())
			var progErr bytes.Buffer
			res, err := Exec(context.Background(), ExecConfig{Command: cmd, Env: env, Stderr: &progErr, Interface: "lo",
				Filter: filter, WireRoots: diagnose.PoolRoots(lab.RootPool())})
			noisePorts := noise()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			WriteExec(&out, report.FormatTable, res)
			t.Logf("program stderr: %s\n%s", progErr.String(), out.String())
			checkExec(t, tt, res, noisePorts)
		})
	}
}

// execCommand is the program of a case, with its environment.
func execCommand(tt execCase, addr netip.AddrPort, ca string) ([]string, []string) {
	u := fmt.Sprintf("https://%s:%d/", tlslab.GoodName, addr.Port())
	env := append(os.Environ(), "TLSDIAG_EXEC_CA="+ca, "TLSDIAG_EXEC_ADDR="+addr.String())
	switch tt.client {
	case "go":
		return []string{os.Args[0]}, append(env, execChildEnv+"="+u)
	case "openssl":
		return []string{"openssl", "s_client", "-connect", addr.String(), "-servername", tlslab.GoodName, "-CAfile", ca, "-verify_return_error", "-brief"}, env
	}
	cmd := []string{"curl", "-sS", "-o", "/dev/null", "--cacert", ca, "--resolve", fmt.Sprintf("%s:%d:%s", tlslab.GoodName, addr.Port(), addr.Addr())}
	return append(append(cmd, tt.curlArgs...), u), env
}

// startNoise connects to addr again and again from this process until the
// function it returns is called; that returns the local ports used.
func startNoise(addr netip.AddrPort) func() []uint16 {
	stop, done := make(chan struct{}), make(chan struct{})
	var ports []uint16
	go func() {
		defer close(done)
		for {
			if c, err := tls.Dial("tcp", addr.String(), &tls.Config{InsecureSkipVerify: true}); err == nil {
				ports = append(ports, c.LocalAddr().(*net.TCPAddr).AddrPort().Port())
				c.Close()
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() []uint16 {
		close(stop)
		<-done
		return ports
	}
}

func checkExec(t *testing.T, tt execCase, res *ExecResult, noise []uint16) {
	t.Helper()
	if res.Wire.Err != nil {
		t.Fatal(res.Wire.Err)
	}
	if res.Attribution != attribution.Cgroup {
		t.Errorf("attribution %s (%v), want cgroup", res.Attribution, res.Fallback)
	}
	if res.ExitCode != tt.exit || res.Class != tt.class {
		t.Errorf("exit %d, class %q; want %d, %q", res.ExitCode, res.Class, tt.exit, tt.class)
	}
	if len(noise) == 0 {
		t.Error("no other connection was made meanwhile: the test proves nothing")
	}
	for _, f := range res.Flows {
		if slices.Contains(noise, f.Local.Port()) {
			t.Errorf("flow %s is this process's, not the program's", f)
		}
	}
	if tt.category == "" {
		if len(res.Connections) != 0 || res.Unseen == nil || res.Unseen.Agreement != tt.agreement || len(res.Flows) != 1 {
			t.Fatalf("%d connections, %d flows, unseen %+v; want none shown, 1 flow, %s", len(res.Connections), len(res.Flows), res.Unseen, tt.agreement)
		}
		return
	}
	if len(res.Connections) != 1 || len(res.Flows) != 1 {
		t.Fatalf("%d connections attributed to the program (flows %v), want 1", len(res.Connections), res.Flows)
	}
	if res.Unseen != nil {
		t.Errorf("unseen correlation %+v while the capture shows the connection", res.Unseen)
	}
	c := res.Connections[0]
	if c.Result.Verdict.Category != tt.category {
		t.Errorf("verdict %s, want %s: %s", c.Result.Verdict.Category, tt.category, c.Result.Verdict.Summary)
	}
	if c.Correlation.Agreement != tt.agreement {
		t.Errorf("correlation %s, want %s: %s", c.Correlation.Agreement, tt.agreement, c.Correlation.Summary)
	}
	if !strings.Contains(c.Correlation.Cause, tt.cause) {
		t.Errorf("cause %q, want it to say %q", c.Correlation.Cause, tt.cause)
	}
	if tt.class == ClassNone && strings.Contains(c.Correlation.Client, " in ") {
		t.Errorf("client %q: a timing exec never measured", c.Correlation.Client)
	}
	if !strings.Contains(strings.Join(res.Wire.Notes, "\n"), "not the program's") {
		t.Errorf("notes %q: the other connections are not counted", res.Wire.Notes)
	}
	if tt.scenario == tlslab.OKTLS13 && (res.KeyLogLines == 0 || !c.Result.Conn.Decrypted) {
		t.Errorf("%s wrote %d secrets, decrypted %v: SSLKEYLOGFILE not honoured", tt.client, res.KeyLogLines, c.Result.Conn.Decrypted)
	}
}

// TestExecScript runs scripts that make several connections under Exec:
// the program's one error is correlated with the connection it is about
// (by its class against the verdict, by the place its line names, and the
// last before the exit), the others keep their verdict alone
// (unrelated), and a disagreement is said once. Needs root (capture,
// cgroup, netfilter rules) and curl; CI runs as root and installs curl.
func TestExecScript(t *testing.T) {
	needExec(t, "curl")
	lab, dir := labFiles(t)
	_, otherDir := labFiles(t)
	ca, otherCA := filepath.Join(dir, tlslab.CAFile), filepath.Join(otherDir, tlslab.CAFile)
	start := func(s tlslab.Scenario) netip.AddrPort { return labServer(t, lab, s) }
	ok, expired, expiredToo := start(tlslab.OKTLS13), start(tlslab.CertExpired), start(tlslab.CertExpired)
	url := func(a netip.AddrPort) string { return fmt.Sprintf("https://%s:%d/", tlslab.GoodName, a.Port()) }
	curl := func(a netip.AddrPort, ca string) string {
		return fmt.Sprintf("curl -sS -o /dev/null --cacert %s --resolve %s:%d:%s %s", ca, tlslab.GoodName, a.Port(), a.Addr(), url(a))
	}
	// goGet is the Go client (this test binary) fetching from a.
	goGet := func(a netip.AddrPort) string {
		return fmt.Sprintf("TLSDIAG_EXEC_ADDR=%s %s=%s %s", a, execChildEnv, url(a), os.Args[0])
	}
	for _, tt := range []struct {
		name   string
		script string
		// want is the agreement of the connection to each server.
		want map[netip.AddrPort]Agreement
	}{
		// A successful fetch beside a failed one is just ok.
		{"ok then expired", curl(ok, ca) + "; " + curl(expired, ca),
			map[netip.AddrPort]Agreement{ok: Unrelated, expired: Agree}},
		{"expired then ok", curl(expired, ca) + "; " + curl(ok, ca),
			map[netip.AddrPort]Agreement{ok: Unrelated, expired: Agree}},
		// The program trusts other roots for its second fetch: no
		// connection agrees with its error, and the one it is about says
		// so.
		{"ok then other roots", curl(ok, ca) + "; " + curl(ok, otherCA),
			nil},
		// Both fail alike; the error line names the first server, whose
		// second fetch kept quiet.
		{"named server", goGet(expired) + "; " + goGet(expiredToo) + " 2>/dev/null",
			map[netip.AddrPort]Agreement{expired: Agree, expiredToo: Unrelated}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := append(os.Environ(), "TLSDIAG_EXEC_CA="+ca)
			var progErr bytes.Buffer
			res, err := Exec(context.Background(), ExecConfig{Command: []string{"sh", "-c", tt.script}, Env: env, Stderr: &progErr, Interface: "lo",
				Filter: fmt.Sprintf("tcp port %d or tcp port %d or tcp port %d", ok.Port(), expired.Port(), expiredToo.Port()), WireRoots: diagnose.PoolRoots(lab.RootPool())})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			WriteExec(&out, report.FormatTable, res)
			t.Logf("program stderr: %s\n%s", progErr.String(), out.String())
			if len(res.Connections) != 2 {
				t.Fatalf("%d connections, want 2", len(res.Connections))
			}
			if tt.want == nil {
				// The first fetch is ok and unrelated, the second disagrees.
				first, second := res.Connections[0].Correlation.Agreement, res.Connections[1].Correlation.Agreement
				if first != Unrelated || second != Disagree {
					t.Errorf("agreements %s, %s; want %s, %s", first, second, Unrelated, Disagree)
				}
				return
			}
			for _, c := range res.Connections {
				want, found := tt.want[c.Result.Conn.Server]
				if got := c.Correlation.Agreement; !found || got != want {
					t.Errorf("connection to %s: %s (%s), want %s", c.Result.Conn.Server, got, c.Correlation.Summary, want)
				}
			}
		})
	}
}

// TestExecIgnoredProxy: a program whose environment names a proxy for its
// target but which went direct (Node.js's https module ignores
// HTTPS_PROXY) gets a note that says so; one that used the proxy (curl),
// or whose target NO_PROXY excludes, does not. Needs root (capture,
// cgroup, netfilter rules), curl and node; CI runs as root and installs
// both.
func TestExecIgnoredProxy(t *testing.T) {
	needExec(t, "curl", "node")
	lab, dir := labFiles(t)
	ca := filepath.Join(dir, tlslab.CAFile)
	srv, proxy := labServer(t, lab, tlslab.CertExpired), labServer(t, lab, tlslab.ProxyTunnel)
	u := fmt.Sprintf("https://%s:%d/", tlslab.GoodName, srv.Port())
	proxyEnv := "HTTPS_PROXY=http://" + proxy.String()
	node := []string{"node", "testdata/node_get.js", u}
	nodeEnv := []string{"NODE_GET_CA=" + ca, "NODE_GET_ADDR=" + srv.Addr().String(), proxyEnv}
	for _, tt := range []struct {
		name string
		cmd  []string
		env  []string
		note bool
	}{
		{"node ignores HTTPS_PROXY", node, nodeEnv, true},
		{"NO_PROXY excludes the target", node, append(nodeEnv, "NO_PROXY="+tlslab.GoodName), false},
		{"curl uses HTTPS_PROXY", []string{"curl", "-sS", "-o", "/dev/null", "--cacert", ca, u}, []string{proxyEnv}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := append(slices.DeleteFunc(os.Environ(), func(e string) bool {
				name, _, _ := strings.Cut(strings.ToUpper(e), "=")
				return strings.HasSuffix(name, "_PROXY")
			}), tt.env...)
			res, err := Exec(context.Background(), ExecConfig{Command: tt.cmd, Env: env, Interface: "lo",
				Filter: fmt.Sprintf("tcp port %d or tcp port %d", srv.Port(), proxy.Port()), WireRoots: diagnose.PoolRoots(lab.RootPool())})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			WriteExec(&out, report.FormatTable, res)
			t.Logf("%s", out.String())
			if res.Class != CertExpired || len(res.Connections) != 1 {
				t.Fatalf("class %q, %d connections; want %s, 1", res.Class, len(res.Connections), CertExpired)
			}
			noted := strings.Contains(strings.Join(res.Wire.Notes, "\n"), "HTTPS_PROXY=http://"+proxy.String()+" is set")
			if noted != tt.note {
				t.Errorf("notes %q: the ignored proxy noted %v, want %v", res.Wire.Notes, noted, tt.note)
			}
		})
	}
}

// labFiles makes a lab and writes its files (its root, keys and
// certificates) into a directory of the test's.
func labFiles(t *testing.T) (*tlslab.Lab, string) {
	t.Helper()
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := lab.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return lab, dir
}

// needExec skips a test of Exec unless it runs as root (Exec captures
// and makes a cgroup; CI runs as root), and fails when a program it runs
// is missing.
func needExec(t *testing.T, programs ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("exec captures and makes a cgroup: needs root (CI runs as root)")
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it)", p)
		}
	}
}

// labServer runs scenario s of lab on loopback until the test ends and
// returns its address.
func labServer(t *testing.T, lab *tlslab.Lab, s tlslab.Scenario) netip.AddrPort {
	t.Helper()
	srv, err := tlslab.Start(s, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

// TestExecProgramsSettings: a fix names the setting of the program exec
// ran, not that of another program with the same ClientHello: Python's
// urllib sends OpenSSL's hello with ALPN http/1.1 and post_handshake_auth,
// as curl does, and a chain it does not trust is fixed with Python's CA
// settings, not curl's --cacert. Needs root and python3.
func TestExecProgramsSettings(t *testing.T) {
	needExec(t, "python3")
	lab, dir := labFiles(t)
	addr := labServer(t, lab, tlslab.CertUntrustedCA)
	env := append(os.Environ(), "SSL_CERT_FILE="+filepath.Join(dir, tlslab.CAFile), "PYTHON_GET_ADDR="+addr.Addr().String())
	cmd := []string{"python3", "testdata/python_get.py", fmt.Sprintf("https://%s:%d/", tlslab.GoodName, addr.Port())}
	res, err := Exec(context.Background(), ExecConfig{Command: cmd, Env: env, Stderr: io.Discard, Interface: "lo",
		Filter: fmt.Sprintf("tcp port %d", addr.Port()), WireRoots: diagnose.PoolRoots(lab.RootPool())})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Connections) != 1 || res.Class != CertUnknownAuthority {
		t.Fatalf("%d connections, class %q (%s); want 1, %s", len(res.Connections), res.Class, res.ErrorLine, CertUnknownAuthority)
	}
	c := res.Connections[0]
	if c.Result.Verdict.Category != diagnose.CertUntrustedCA || c.Correlation.Agreement != Agree {
		t.Fatalf("verdict %s, correlation %s; want %s, %s", c.Result.Verdict.Category, c.Correlation.Agreement, diagnose.CertUntrustedCA, Agree)
	}
	for _, fix := range []string{c.Result.Verdict.Fix, c.Correlation.Fix} {
		if !strings.Contains(fix, "create_default_context") || strings.Contains(fix, "curl") {
			t.Errorf("fix %q: want Python's CA settings, not curl's", fix)
		}
		// requests verifies against certifi's bundle and reads neither
		// SSL_CERT_FILE nor the system store.
		if !strings.Contains(fix, "REQUESTS_CA_BUNDLE") {
			t.Errorf("fix %q: want requests' own CA setting too", fix)
		}
	}
}

// TestExecSystemRootNotRead: a program refusing a chain whose root the
// system store holds (SSL_CERT_FILE here) did not read that store; the
// fix gives it the system's roots (curl: drop its own --cacert) instead
// of telling the user to make it trust that root by hand. Needs root and
// curl.
func TestExecSystemRootNotRead(t *testing.T) {
	needExec(t, "curl")
	lab, dir := labFiles(t)
	addr := labServer(t, lab, tlslab.OKTLS12)
	t.Setenv("SSL_CERT_FILE", filepath.Join(dir, tlslab.CAFile))
	t.Setenv("SSL_CERT_DIR", t.TempDir())
	roots, err := diagnose.LoadRoots(true)
	if err != nil {
		t.Fatal(err)
	}
	cmd := []string{"curl", "-sS", "-o", "/dev/null", "--cacert", filepath.Join(dir, tlslab.UntrustedCAFile),
		"--resolve", fmt.Sprintf("%s:%d:%s", tlslab.GoodName, addr.Port(), addr.Addr()), fmt.Sprintf("https://%s:%d/", tlslab.GoodName, addr.Port())}
	res, err := Exec(context.Background(), ExecConfig{Command: cmd, Stderr: io.Discard, Interface: "lo",
		Filter: fmt.Sprintf("tcp port %d", addr.Port()), WireRoots: roots})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Connections) != 1 {
		t.Fatalf("%d connections (%s); want 1", len(res.Connections), res.ErrorLine)
	}
	v := res.Connections[0].Result.Verdict
	if v.Category != diagnose.CertUntrustedCA || !strings.Contains(v.Summary, "curl was given a CA file of its own") || !strings.Contains(v.Fix, "drop --cacert") {
		t.Errorf("verdict %s: %s\nfix %q; want %s saying curl read a CA file of its own, fixed by dropping --cacert", v.Category, v.Summary, v.Fix, diagnose.CertUntrustedCA)
	}
	// The program ran here: its store is this machine's.
	if strings.Contains(v.Summary, "comes from a machine") {
		t.Errorf("summary %q: the capture is this machine's, not another's", v.Summary)
	}
}

// TestExecWgetSettings: wget on GnuTLS sends GnuTLS's ClientHello, and a
// chain it does not trust is fixed with wget's --ca-certificate too, not
// with gnutls-cli's option alone; the chain's other problem, which wget
// names, agrees with the wire. Needs root and wget.
func TestExecWgetSettings(t *testing.T) {
	needExec(t, "wget")
	lab, dir := labFiles(t)
	addr := labServer(t, lab, tlslab.CertUntrustedCA)
	cmd := []string{"wget", "-nv", "-O", "/dev/null", "-t", "1", "-T", "5", "--ca-certificate=" + filepath.Join(dir, tlslab.CAFile), "https://" + addr.String() + "/"}
	res, err := Exec(context.Background(), ExecConfig{Command: cmd, Stderr: io.Discard, Interface: "lo",
		Filter: fmt.Sprintf("tcp port %d", addr.Port()), WireRoots: diagnose.PoolRoots(lab.RootPool())})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Connections) != 1 || res.ExitCode != 5 {
		t.Fatalf("%d connections, exit %d (%s); want 1, 5 (wget's verification failure)", len(res.Connections), res.ExitCode, res.ErrorLine)
	}
	v := res.Connections[0].Result.Verdict
	if v.Category != diagnose.CertUntrustedCA || !strings.Contains(v.Fix, "wget: --ca-certificate=") {
		t.Errorf("verdict %s, fix %q; want %s naming wget's --ca-certificate", v.Category, v.Fix, diagnose.CertUntrustedCA)
	}
	// By address, the leaf (for good.test) does not cover the name
	// either, and wget's last line says that: a second problem of the
	// same chain, which the wire shows too, not a disagreement.
	c := res.Connections[0].Correlation
	if res.Class != CertHostnameMismatch || c.Agreement != Agree || !strings.Contains(c.Fix, "wget: --ca-certificate=") || !strings.Contains(c.Fix, "covers this name") {
		t.Errorf("class %s, correlation %s (%s), fix %q; want %s, %s, fixing both", res.Class, c.Agreement, c.Summary, c.Fix, CertHostnameMismatch, Agree)
	}
}

// TestExecServerClosesAfterHello: a server that reads the ClientHello
// and closes without a word. OpenSSL 3 (s_client here, Python and curl
// alike) reports the end as "unexpected eof while reading" and answers
// the close with a decode_error alert: the wire shows the server's close
// first, so the verdict is the server's silence, and the client's
// connection_closed agrees with it. Needs root and openssl.
func TestExecServerClosesAfterHello(t *testing.T) {
	needExec(t, "openssl")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 4096))
			time.Sleep(50 * time.Millisecond)
			c.Close()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	cmd := []string{"openssl", "s_client", "-connect", addr.String(), "-servername", tlslab.GoodName, "-brief"}
	res, err := Exec(context.Background(), ExecConfig{Command: cmd, Stderr: io.Discard, Interface: "lo", Filter: fmt.Sprintf("tcp port %d", addr.Port())})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Connections) != 1 || res.Class != ConnectionClosed {
		t.Fatalf("%d connections, class %q (%s); want 1, %s", len(res.Connections), res.Class, res.ErrorLine, ConnectionClosed)
	}
	c := res.Connections[0]
	v := c.Result.Verdict
	if v.Category != diagnose.ServerNoResponse || c.Correlation.Agreement != Agree {
		t.Errorf("verdict %s (%s), correlation %s; want %s, %s", v.Category, v.Summary, c.Correlation.Agreement, diagnose.ServerNoResponse, Agree)
	}
	if len(c.Result.Conn.Alerts) != 1 || !slices.Contains(v.Evidence, c.Result.Conn.Alerts[0].Frame.Number) {
		t.Errorf("alerts %v, evidence %v: the client's alert after the close is not shown", c.Result.Conn.Alerts, v.Evidence)
	}
}

// TestExecHTTPErrorStatus: a program that gives up on an HTTP error
// status (curl -f, Python's urllib) exits non-zero after TLS and HTTP
// worked: its error is the server's answer, which agrees with a
// completed handshake, not a failure of the handshake. Needs root,
// curl and python3.
func TestExecHTTPErrorStatus(t *testing.T) {
	needExec(t, "curl", "python3")
	lab, dir := labFiles(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}}}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	ca := filepath.Join(dir, tlslab.CAFile)
	u := fmt.Sprintf("https://%s:%d/missing", tlslab.GoodName, addr.Port())
	for _, tt := range []struct {
		name string
		cmd  []string
		env  []string
		exit int
	}{
		{"curl -f", []string{"curl", "-sS", "-f", "-o", "/dev/null", "--cacert", ca, "--resolve", fmt.Sprintf("%s:%d:%s", tlslab.GoodName, addr.Port(), addr.Addr()), u}, nil, 22},
		{"urllib", []string{"python3", "testdata/python_get.py", u}, []string{"SSL_CERT_FILE=" + ca, "PYTHON_GET_ADDR=" + addr.Addr().String()}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Exec(context.Background(), ExecConfig{Command: tt.cmd, Env: append(os.Environ(), tt.env...), Stderr: io.Discard, Interface: "lo",
				Filter: fmt.Sprintf("tcp port %d", addr.Port()), WireRoots: diagnose.PoolRoots(lab.RootPool())})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.exit || res.Class != HTTPError || len(res.Connections) != 1 {
				t.Fatalf("exit %d, class %q (%s), %d connections; want %d, %s, 1", res.ExitCode, res.Class, res.ErrorLine, len(res.Connections), tt.exit, HTTPError)
			}
			c := res.Connections[0]
			if c.Result.Verdict.Category != diagnose.OK || c.Correlation.Agreement != Agree || !strings.Contains(c.Correlation.Summary, "HTTP 404 Not Found") {
				t.Errorf("verdict %s, correlation %s (%s), client %q; want ok, agree on HTTP 404", c.Result.Verdict.Category, c.Correlation.Agreement, c.Correlation.Summary, c.Correlation.Client)
			}
			if c.Correlation.Client != "404 Not Found" {
				t.Errorf("client %q, want the status alone (exec measures no time)", c.Correlation.Client)
			}
		})
	}
}

// TestExecConnectionRefused: curl refused on a port that is no
// well-known TLS port, which the capture shows as a SYN answered by a
// RST. The connection carried no byte, so it is judged whatever the
// protocol, not left out as "the capture shows none of the program's
// connections". Needs root and curl.
func TestExecConnectionRefused(t *testing.T) {
	needExec(t, "curl")
	lab, _ := labFiles(t)
	srv, err := tlslab.Start(tlslab.ConnectionRefused, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := srv.Addr()
	cmd := []string{"curl", "-sS", "-o", "/dev/null", fmt.Sprintf("https://%s/", addr)}
	var progErr bytes.Buffer
	res, err := Exec(context.Background(), ExecConfig{Command: cmd, Stderr: &progErr, Interface: "lo", Filter: fmt.Sprintf("tcp port %d", addr.Port())})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 7 || res.Class != ConnectionRefused {
		t.Errorf("exit %d, class %q (%s); want curl's 7, %s", res.ExitCode, res.Class, progErr.String(), ConnectionRefused)
	}
	if len(res.Connections) != 1 || res.Unseen != nil {
		t.Fatalf("%d connections, unseen %+v; want the refused one", len(res.Connections), res.Unseen)
	}
	c := res.Connections[0]
	if v := c.Result.Verdict; v.Category != diagnose.ConnectionRefused || c.Correlation.Agreement != Agree || len(v.Evidence) != 2 {
		t.Errorf("verdict %s %v (%s), correlation %s; want %s with the SYN and the RST, %s", v.Category, v.Evidence, v.Summary, c.Correlation.Agreement, diagnose.ConnectionRefused, Agree)
	}
}
