package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/attribution"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/probe"
	"github.com/tlsdiag/tlsdiag/report"
)

// execChildURL makes the test binary a Go net/http client of the URL it
// names (the program `tlsdiag exec` watches), dialling
// TLSDIAG_EXEC_ADDR, trusting TLSDIAG_EXEC_CA, with KeyLogWriter wired
// from SSLKEYLOGFILE. It exits 1 when the request fails.
const execChildURL = "TLSDIAG_EXEC_CHILD_URL"

func execChild() {
	u := os.Getenv(execChildURL)
	if u == "" {
		return
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(os.Getenv("TLSDIAG_EXEC_CA"))
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		fmt.Fprintln(os.Stderr, "child: no CA:", err)
		os.Exit(3)
	}
	tc := &tls.Config{RootCAs: pool}
	if p := os.Getenv("SSLKEYLOGFILE"); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			tc.KeyLogWriter = f
		}
	}
	addr := os.Getenv("TLSDIAG_EXEC_ADDR")
	tr := &http.Transport{TLSClientConfig: tc, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Get:", err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	os.Exit(0)
}

// TestExecMatchesRead runs a Go net/http client and curl under `tlsdiag
// exec -w` against lab servers, with this process connecting to the same
// server meanwhile: exec's exit status is the program's, it reports
// exactly the program's connection, and `tlsdiag read` of the file exec
// wrote reports that connection identically (verdict and every other
// field). Needs root (capture, cgroup, netfilter rules); CI runs as root.
func TestExecMatchesRead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("exec captures and makes a cgroup: needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (scripts/install-deps.sh installs it)")
	}
	dir := t.TempDir()
	if err := writeLabFiles(dir); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	for _, tt := range []struct {
		client    string
		scenario  tlslab.Scenario
		exit      int
		category  string
		agreement probe.Agreement
	}{
		{"curl", tlslab.CertExpired, 60, "cert_expired", probe.Agree},
		{"curl", tlslab.OKTLS13, 0, "ok", probe.Agree},
		{"go", tlslab.CertUntrustedCA, 1, "cert_untrusted_ca", probe.Agree},
		{"go", tlslab.OKTLS13, 0, "ok", probe.Agree},
	} {
		t.Run(tt.client+"/"+string(tt.scenario), func(t *testing.T) {
			srv, err := tlslab.Start(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			addr := srv.Addr()
			u := fmt.Sprintf("https://%s:%d/", tlslab.GoodName, addr.Port())
			program := []string{"curl", "-sS", "-o", "/dev/null", "--cacert", ca, "--resolve", fmt.Sprintf("%s:%d:%s", tlslab.GoodName, addr.Port(), addr.Addr()), u}
			if tt.client == "go" {
				program = []string{os.Args[0]}
				t.Setenv(execChildURL, u)
				t.Setenv("TLSDIAG_EXEC_CA", ca)
				t.Setenv("TLSDIAG_EXEC_ADDR", addr.String())
			}
			stop, done := make(chan struct{}), make(chan struct{})
			others := 0
			go func() {
				defer close(done)
				for {
					if c, err := tls.Dial("tcp", addr.String(), &tls.Config{InsecureSkipVerify: true}); err == nil {
						others++
						c.Close()
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			pcap := filepath.Join(t.TempDir(), "exec.pcapng")
			var out, errOut bytes.Buffer
			args := append([]string{"exec", "-o", "json", "-i", "lo", "-f", fmt.Sprintf("tcp port %d", addr.Port()), "--cacert", ca, "-w", pcap, "--"}, program...)
			status := run(args, &out, &errOut)
			close(stop)
			<-done
			t.Logf("exec: status %d\n%s\n%s", status, errOut.String(), out.String())
			if status != tt.exit {
				t.Errorf("exit status %d, want the program's %d", status, tt.exit)
			}
			var doc probe.ExecDocument
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Attribution.Method != "cgroup" || len(doc.Connections) != 1 || len(doc.Flows) != 1 {
				t.Fatalf("attribution %+v, %d connections, flows %v: want cgroup, exactly the program's one", doc.Attribution, len(doc.Connections), doc.Flows)
			}
			if others == 0 {
				t.Error("no other connection was made meanwhile: the test proves nothing")
			}
			got := doc.Connections[0]
			if got.Connection.Verdict.Category != tt.category || got.Correlation.Agreement != string(tt.agreement) {
				t.Errorf("verdict %s, correlation %s; want %s, %s", got.Connection.Verdict.Category, got.Correlation.Agreement, tt.category, tt.agreement)
			}
			c := got.Correlation
			for _, text := range append([]string{c.Summary, c.Client, c.Wire, c.Cause, c.Fix}, c.Notes...) {
				if f := foreignFlags(text); len(f) > 0 {
					t.Errorf("the correlation advises %v, which exec does not have: %q", f, text)
				}
			}

			out.Reset()
			errOut.Reset()
			if status := run([]string{"read", "-o", "json", "--cacert", ca, pcap}, &out, &errOut); status > 1 {
				t.Fatalf("read: status %d: %s", status, errOut.String())
			}
			var read report.Document
			if err := json.Unmarshal(out.Bytes(), &read); err != nil {
				t.Fatal(err)
			}
			var same *report.Connection
			for i, c := range read.Connections {
				if c.Client == got.Connection.Client && c.Server == got.Connection.Server {
					same = &read.Connections[i]
				}
			}
			if same == nil {
				t.Fatalf("read of %s does not show %s -> %s", pcap, got.Connection.Client, got.Connection.Server)
			}
			if len(read.Connections) < 2 {
				t.Errorf("read shows %d connections: the other traffic is not in the capture", len(read.Connections))
			}
			same.Source = ""
			if !reflect.DeepEqual(*same, got.Connection) {
				a, _ := json.MarshalIndent(got.Connection, "", " ")
				b, _ := json.MarshalIndent(*same, "", " ")
				t.Errorf("exec and read differ:\nexec %s\nread %s", a, b)
			}
		})
	}
}

// TestExecUsage: exec without a command is a usage error, and its help
// says what it needs.
func TestExecUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if status := run([]string{"exec"}, &out, &errOut); status != 2 || !strings.Contains(errOut.String(), "no command") {
		t.Errorf("status %d, stderr %q", status, errOut.String())
	}
	out.Reset()
	if status := run([]string{"exec", "--help"}, &out, &errOut); status != 0 || !strings.Contains(out.String(), "cgroup") || !strings.Contains(out.String(), "CAP_NET_ADMIN") {
		t.Errorf("status %d, help %q", status, out.String())
	}
}

// TestExecInterruptCleansUp interrupts `tlsdiag exec -- sleep 30` as Ctrl-C
// would: the program is ended (SIGTERM: exit status 143), the report is
// still written, and no netfilter rule and no cgroup is left. Needs root.
func TestExecInterruptCleansUp(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("exec makes a cgroup and netfilter rules: needs root (CI runs as root)")
	}
	cmd := exec.Command(os.Args[0], "exec", "-i", "lo", "-f", "tcp port 9", "--", "sleep", "30")
	cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, err := attribution.Leftovers(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) >= 3 { // the chain, its jump, the cgroup
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("exec made no rules and cgroup within 10 s (%q): %s", left, errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for !hasChild(cmd.Process.Pid, "sleep") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("exec did not start the program within 10 s: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	status := cmd.ProcessState.ExitCode()
	if status != 128+15 {
		t.Errorf("exit status %d (%v), want 143 (the program ended by SIGTERM): %s", status, err, errOut.String())
	}
	if !strings.Contains(out.String(), "exit status: 143") {
		t.Errorf("no report after the interrupt: %q", out.String())
	}
	if left, err := attribution.Leftovers(cmd.Process.Pid); err != nil || len(left) > 0 {
		t.Errorf("left behind: %q (%v)", left, err)
	}
}

// hasChild reports whether process pid has a child whose command is name.
func hasChild(pid int, name string) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, child := range strings.Fields(string(b)) {
			comm, _ := os.ReadFile("/proc/" + child + "/comm")
			if strings.TrimSpace(string(comm)) == name {
				return true
			}
		}
	}
	return false
}
