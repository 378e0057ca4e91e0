package main

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPureGoBuild builds tlsdiag with CGO_ENABLED=0 and checks that the
// binary is static, says which build it is, and that `read` of every lab
// capture gives byte for byte what this build (the one under test, with
// cgo where the test runs with it) gives, in JSON and as a table, with the
// same exit status. CI runs the live and probe tests without cgo too
// (make test).
func TestPureGoBuild(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	bin := filepath.Join(t.TempDir(), "tlsdiag")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the pure Go binary asks for a dynamic loader")
		}
	}
	f.Close()
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "without cgo") {
		t.Errorf("version: %q (%v), want it to say \"without cgo\"", out, err)
	}
	if runtime.GOOS == "linux" && !strings.Contains(string(out), "live capture: AF_PACKET") {
		t.Errorf("version: %q, want AF_PACKET as the capture path", out)
	}

	captures, err := filepath.Glob("../../testdata/captures/*.pcap")
	if err != nil || len(captures) < 10 {
		t.Fatalf("captures: %v (%v)", captures, err)
	}
	captures = append(captures, "../../testdata/demo.pcap", "../../capture/testdata/any-sll2-tls13-go.pcap",
		"../../capture/testdata/two-interfaces.pcapng", "../../capture/testdata/veth576-tls12-openssl.pcap.gz")
	for _, format := range []string{"json", "table"} {
		args := []string{"read", "--no-system-roots", "--cacert", "../../testdata/certs/ca.pem", "--format", format}
		for _, p := range labPorts(t) {
			args = append(args, "--tls-port", p)
		}
		args = append(args, captures...)
		var want, wantErr bytes.Buffer
		wantStatus := run(args, &want, &wantErr)
		cmd := exec.Command(bin, args...)
		var got, gotErr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &got, &gotErr
		cmd.Run()
		if st := cmd.ProcessState.ExitCode(); st != wantStatus {
			t.Errorf("%s: exit status %d, this build %d; stderr:\n%s", format, st, wantStatus, gotErr.String())
		}
		if wantStatus == 2 || want.Len() < 1000 {
			t.Fatalf("%s: this build: status %d, %d bytes; stderr:\n%s", format, wantStatus, want.Len(), wantErr.String())
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: the pure Go build's output (%d bytes) differs from this build's (%d bytes)", format, got.Len(), want.Len())
		}
		if gotErr.String() != wantErr.String() {
			t.Errorf("%s: stderr differs:\n%s\nthis build:\n%s", format, gotErr.String(), wantErr.String())
		}
	}
}
