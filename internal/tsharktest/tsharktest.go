// Package tsharktest finds Wireshark's command-line reader for the tests
// that compare tlsdiag's reading of a capture with tshark's.
package tsharktest

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// RequireEnv names the environment variable that turns a missing tshark
// from a skipped comparison into a failure. CI sets it, so that it never
// passes by skipping the comparisons.
const RequireEnv = "TLSDIAG_REQUIRE_TSHARK"

// Path returns tshark's path. Without tshark the test is skipped, saying
// what the comparison needed it for, or fails when RequireEnv is set.
func Path(t testing.TB, why string) string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err == nil {
		return bin
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("tshark not found (%v), and %s is set: %s", err, RequireEnv, why)
	}
	t.Skipf("tshark not installed (make deps installs it): %s", why)
	return ""
}

// Output runs tshark with args and returns its standard output. When
// tshark fails, the test fails with its standard error.
func Output(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Path(t, "the comparison needs it"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Frames returns the frame numbers keyed in either reading, ascending: the
// frames two readings of a capture are compared on.
func Frames[V any](tshark, tlsdiag map[int64]V) []int64 {
	frames := slices.Collect(maps.Keys(tshark))
	for n := range tlsdiag {
		if _, ok := tshark[n]; !ok {
			frames = append(frames, n)
		}
	}
	slices.Sort(frames)
	return frames
}
