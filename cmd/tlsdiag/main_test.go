package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/report"
)

func TestVersionAndHelp(t *testing.T) {
	tests := []struct {
		args       []string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{[]string{"--version"}, 0, "tlsdiag ", ""},
		{[]string{"help"}, 0, "tlsdiag read", ""},
		{[]string{}, 2, "", "Usage:"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(tt.args, &stdout, &stderr)
			if got != tt.wantStatus {
				t.Errorf("status = %d, want %d (stderr %q)", got, tt.wantStatus, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

// The --format help of read and live names every format the report
// package registers (live: those that do not need the frames kept).
func TestFormatHelpFromRegistry(t *testing.T) {
	for _, cmd := range []string{"read", "live"} {
		var stdout, stderr bytes.Buffer
		if got := run([]string{cmd, "--help"}, &stdout, &stderr); got != 0 {
			t.Fatalf("%s --help: status %d, stderr %q", cmd, got, stderr.String())
		}
		for _, f := range report.Formats {
			want := string(f) + ": " + f.Doc()
			if live := cmd == "live"; live && f.ListsFrames() {
				if strings.Contains(stdout.String(), want) {
					t.Errorf("%s --help offers %q, which live cannot write", cmd, f)
				}
				continue
			}
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s --help does not describe format %q", cmd, f)
			}
		}
	}
}
