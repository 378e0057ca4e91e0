package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/probe"
)

// TestProbeScripts runs testdata/script/probe_*.txtar with what they need
// besides tlsdiag:
//
//   - lab SCENARIO VAR starts a tlslab server on loopback for the rest of
//     the script and sets $VAR to its port; $WORK/ca.pem is the lab's root,
//     $WORK/client.pem and $WORK/client-key.pem its client certificate.
//   - forbidding-proxy VAR starts an HTTP proxy that answers every CONNECT
//     with 403 and sets $VAR to its port.
//   - the condition [root]: the probe can capture (root; CI runs as root).
//
// TestScripts runs these files too but cannot start servers: the scripts
// that need them begin with `[!exec:$PROBE_LAB] skip`, and only this runner
// sets PROBE_LAB (to "tlsdiag", a program every script has).
func TestProbeScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/script/probe_*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no probe scripts: %v", err)
	}
	root, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Files: files,
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTDATA", root)
			env.Setenv("PROBE_LAB", "tlsdiag")
			return writeLabFiles(env.WorkDir)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"lab":              cmdLab,
			"forbidding-proxy": cmdForbiddingProxy,
			"redirector":       cmdRedirector,
			"echo-body":        cmdEchoBody,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, nil
		},
	})
}

func writeLabFiles(dir string) error {
	lab, err := tlslab.DefaultLab()
	if err != nil {
		return err
	}
	key, err := lab.Client.KeyPEM()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"ca.pem": lab.Root.PEM(), "client.pem": lab.Client.PEM(), "client-key.pem": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func cmdLab(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lab SCENARIO VAR")
	}
	srv, err := tlslab.Start(tlslab.Scenario(args[0]))
	ts.Check(err)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[1], strconv.Itoa(int(srv.Addr().Port())))
}

// cmdRedirector starts a lab TLS server (good.test's certificate) that
// answers every request with a 302 to LOCATION, and sets VAR to its port.
func cmdRedirector(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: redirector LOCATION VAR")
	}
	lab, err := tlslab.DefaultLab()
	ts.Check(err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}})
	ts.Check(err)
	srv := &http.Server{Handler: http.RedirectHandler(args[0], http.StatusFound)}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[1], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// cmdEchoBody starts a lab TLS server (good.test's certificate) that
// answers with the request's method and body, and sets VAR to its port.
func cmdEchoBody(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: echo-body VAR")
	}
	lab, err := tlslab.DefaultLab()
	ts.Check(err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{lab.Good.TLS()}})
	ts.Check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, "method "+r.Method+" body "+string(body)+" end\n")
	})}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[0], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

func cmdForbiddingProxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: forbidding-proxy VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
				}
			}()
		}
	}()
	ts.Setenv(args[0], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// TestProbeExitStatus checks the exit status: 0 when the request
// succeeded, 1 when it failed, 2 for usage errors.
func TestProbeExitStatus(t *testing.T) {
	dir := t.TempDir()
	if err := writeLabFiles(dir); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	start := func(s tlslab.Scenario) string {
		srv, err := tlslab.Start(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return strconv.Itoa(int(srv.Addr().Port()))
	}
	ok, expired := start(tlslab.OK), start(tlslab.CertExpired)
	probeArgs := func(port string, extra ...string) []string {
		return append(append([]string{"probe", "--cacert", ca, "--resolve", "good.test:" + port + ":127.0.0.1", "-m", "5"}, extra...), "https://good.test:"+port+"/")
	}
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string
		stderr string
	}{
		{"ok", probeArgs(ok), 0, "Correlation:", ""},
		{"ok json", probeArgs(ok, "-o", "json"), 0, `"error_class": ""`, ""},
		{"expired", probeArgs(expired), 1, "class: cert_expired", ""},
		{"expired json", probeArgs(expired, "--format", "json"), 1, `"error_class": "cert_expired"`, ""},
		{"insecure", []string{"probe", "-k", "--resolve", "good.test:" + expired + ":127.0.0.1", "https://good.test:" + expired + "/"}, 0, "verification disabled", ""},
		{"no target", []string{"probe"}, 2, "", "no target given"},
		{"ftp URL", []string{"probe", "ftp://good.test/"}, 2, "", "must be https://"},
		{"bad format", []string{"probe", "-o", "ndjson", "https://good.test/"}, 2, "", `unknown format "ndjson" for probe`},
		{"missing cacert", []string{"probe", "--cacert", filepath.Join(dir, "none.pem"), "https://good.test/"}, 2, "", "--cacert"},
		{"cacert without PEM", []string{"probe", "--cacert", filepath.Join(dir, "client-key.pem"), "https://good.test/"}, 2, "", "no PEM certificate"},
		{"bad client key", []string{"probe", "--cert", ca, "https://good.test/"}, 2, "", "--cert/--key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.status {
				t.Errorf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.status, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, false},
		{"0.5", 500 * time.Millisecond, false},
		{"1.5s", 1500 * time.Millisecond, false},
		{"200ms", 200 * time.Millisecond, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"-1s", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSeconds(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestProbeUsageListsClasses keeps the usage text's list of error classes
// complete.
func TestProbeUsageListsClasses(t *testing.T) {
	for _, c := range probe.Classes {
		if !strings.Contains(probeUsage, string(c)) {
			t.Errorf("the probe usage does not list the error class %s", c)
		}
	}
	if !strings.Contains(probeUsage, probe.TLSAlertPrefix+"NAME") {
		t.Errorf("the probe usage does not describe the %sNAME family", probe.TLSAlertPrefix)
	}
}
