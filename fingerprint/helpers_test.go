package fingerprint_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// sharedPcaps is the directory of public captures used for conformance
// tests. CI has it; elsewhere those tests skip with a message saying so.
const sharedPcaps = "../../shared/pcaps"

func requireShared(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(sharedPcaps); err != nil {
		t.Skipf("shared captures not found at %s (CI provides them): %v", sharedPcaps, err)
	}
	return sharedPcaps
}

func sharedFile(t testing.TB, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{requireShared(t)}, parts...)...)
}

// analyse runs one capture file through capture and analysis, as tlsdiag
// does.
func analyse(t testing.TB, path string) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	b := analysis.NewBuilder(analysis.Options{})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatalf("analyse %s: %v", path, err)
	}
	return b.Connections()
}
