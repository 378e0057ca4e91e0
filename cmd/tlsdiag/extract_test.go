package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// readJSON runs read --format json with args and returns each
// connection's verdict category and whether it was decrypted.
func readJSON(t *testing.T, args ...string) (cats []string, decrypted []bool) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if status := run(append([]string{"read", "--format", "json", "--no-system-roots", "--cacert", "../../testdata/certs/ca.pem"}, args...), &stdout, &stderr); status == 2 {
		t.Fatalf("read %v: status 2: %s", args, stderr.String())
	}
	var doc struct {
		Connections []struct {
			Decrypted bool `json:"decrypted"`
			Verdict   struct {
				Category string `json:"category"`
			} `json:"verdict"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Connections {
		cats = append(cats, c.Verdict.Category)
		decrypted = append(decrypted, c.Decrypted)
	}
	return cats, decrypted
}

// TestExtractFailed writes demo.pcap's failed connections to a pcapng
// file: tshark reads the verdicts back as packet comments on the evidence
// frames, and tlsdiag reading the bundle finds the same verdicts.
func TestExtractFailed(t *testing.T) {
	const demo = "../../testdata/demo.pcap"
	out := filepath.Join(t.TempDir(), "case.pcapng")
	var stdout, stderr bytes.Buffer
	status := run([]string{"read", "--no-system-roots", "--cacert", "../../testdata/certs/ca.pem", "--extract", "failed", "-w", out, demo}, &stdout, &stderr)
	if status != 1 || !strings.Contains(stderr.String(), "5 connections") {
		t.Fatalf("status %d, stderr:\n%s", status, stderr.String())
	}
	all, _ := readJSON(t, demo)
	var want []string
	for _, c := range all {
		if c != "ok" {
			want = append(want, c)
		}
	}
	got, _ := readJSON(t, out)
	if !slices.Equal(got, want) || len(want) != 5 {
		t.Errorf("the bundle's verdicts are %q, want the failed ones of the capture %q", got, want)
	}

	// tshark: every frame of the bundle, its comments.
	lines := strings.Split(strings.TrimSpace(string(tsharktest.Output(t, "-r", out, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.number", "-e", "frame.comment"))), "\n")
	commented := map[string]bool{}
	for _, l := range lines {
		num, comment, _ := strings.Cut(l, "\t")
		if comment == "" {
			continue
		}
		for _, cat := range want {
			if strings.Contains(comment, " "+cat+": ") {
				commented[cat] = true
				if !strings.Contains(comment, "of the original capture") {
					t.Errorf("frame %s: comment does not name the original frame: %q", num, comment)
				}
			}
		}
		if strings.Contains(comment, "cert_expired") && !strings.Contains(comment, "fix: renew the server's certificate") {
			t.Errorf("frame %s: the fix is not in the comments: %q", num, comment)
		}
	}
	for _, cat := range want {
		if !commented[cat] {
			t.Errorf("no frame comment names %s; tshark read:\n%s", cat, strings.Join(lines, "\n"))
		}
	}
	// The demo's failed connections have 43 frames between them in the
	// original (every frame but those of the one ok connection, 15).
	if orig := strings.Count(string(tsharktest.Output(t, "-r", demo, "-T", "fields", "-e", "frame.number")), "\n"); len(lines) != orig-15 {
		t.Errorf("the bundle has %d frames, want %d (the capture's %d but the ok connection's 15)", len(lines), orig-15, orig)
	}
}

// TestExtractSecrets writes a TLS 1.3 connection with its key log: the
// bundle carries the secrets in a Decryption Secrets Block, so that
// tshark, given no key log, decrypts its handshake (the Certificate and
// Finished messages are encrypted in TLS 1.3), which it cannot do in the
// original capture; tlsdiag reading the bundle decrypts it too.
func TestExtractSecrets(t *testing.T) {
	const pcap, keylog = "../../testdata/captures/ok.pcap", "../../testdata/captures/ok.keylog"
	out := filepath.Join(t.TempDir(), "case.pcapng")
	var stdout, stderr bytes.Buffer
	if status := run([]string{"read", "--no-system-roots", "--cacert", "../../testdata/certs/ca.pem", "--keylog", keylog, "--extract", "1", "-w", out, pcap}, &stdout, &stderr); status == 2 {
		t.Fatalf("status 2: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "secrets for 1") {
		t.Errorf("stderr does not say the secrets were written:\n%s", stderr.String())
	}
	finished := func(file string) int {
		return strings.Count(string(tsharktest.Output(t, "-r", file, "-Y", "tls.handshake.type == 20", "-T", "fields", "-e", "frame.number")), "\n")
	}
	if n := finished(pcap); n != 0 {
		t.Fatalf("tshark decrypts the original without a key log (%d Finished): the test shows nothing", n)
	}
	if n := finished(out); n < 2 {
		t.Errorf("tshark finds %d Finished messages in the bundle, want both sides' (the secrets block does not open it)", n)
	}
	cats, decrypted := readJSON(t, out)
	wantCats, _ := readJSON(t, "--keylog", keylog, pcap)
	if len(cats) != 1 || cats[0] != wantCats[0] || !decrypted[0] {
		t.Errorf("bundle read back: %q decrypted %v, want [%s] decrypted", cats, decrypted, wantCats[0])
	}
}

func TestParseSelection(t *testing.T) {
	sel, err := parseSelection("3,5-7,cert_expired")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]bool{1: false, 3: true, 4: false, 5: true, 7: true, 8: false} {
		if got := sel.chooses(n, okVerdict); got != want {
			t.Errorf("3,5-7 chooses %d: %v", n, got)
		}
	}
	if !sel.chooses(1, expiredVerdict) {
		t.Error("cert_expired does not choose an expired connection")
	}
	if sel, _ := parseSelection("failed"); !sel.chooses(9, expiredVerdict) || sel.chooses(9, okVerdict) {
		t.Error("failed chooses wrongly")
	}
	for _, bad := range []string{"", "7-5", "0", "x-3", "cert_expird"} {
		if _, err := parseSelection(bad); err == nil {
			t.Errorf("parseSelection(%q) accepted", bad)
		}
	}
}

var (
	okVerdict      = diagnose.Verdict{Category: diagnose.OK}
	expiredVerdict = diagnose.Verdict{Category: diagnose.CertExpired}
)
