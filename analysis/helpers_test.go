package analysis

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// sharedPcaps is the directory of public captures used for conformance
// tests. CI has it; elsewhere those tests skip with a message saying so.
const sharedPcaps = "../../shared/pcaps"

func requireShared(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(sharedPcaps); err != nil {
		t.Skipf("shared captures not found at %s (CI provides them): %v", sharedPcaps, err)
	}
	return sharedPcaps
}

// analyse runs one capture file through capture and the Builder.
func analyse(t *testing.T, path string, opt Options) []*Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	b := NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatalf("analyse %s: %v", path, err)
	}
	return b.Connections()
}

func sharedFile(t *testing.T, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{requireShared(t)}, parts...)...)
}
