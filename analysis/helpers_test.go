package analysis

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// publicPcaps is the directory of public captures (from Zeek, FoxIO's JA4,
// ssldump and Arkime, with their reference outputs) used for conformance
// tests; its README.md says where each comes from.
const publicPcaps = "../testdata/public"

// analyse runs one capture file through capture and the Builder.
func analyse(t *testing.T, path string, opt Options) []*Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	if opt.KeyLog != nil {
		useSecrets(src, opt.KeyLog)
	}
	b := NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatalf("analyse %s: %v", path, err)
	}
	return b.Connections()
}

// publicFile names a file under publicPcaps.
func publicFile(parts ...string) string {
	return filepath.Join(append([]string{publicPcaps}, parts...)...)
}
