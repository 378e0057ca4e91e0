package analysis

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
)

// publicPcaps is the directory of public captures (from Zeek, FoxIO's JA4,
// ssldump and Arkime, with their reference outputs) used for conformance
// tests; its README.md says where each comes from.
const publicPcaps = "../testdata/public"

// analyse runs one capture file through capture and the Builder.
func analyse(t *testing.T, path string, opt Options) []*Connection {
	t.Helper()
	return analyseBuilder(t, path, opt).Connections()
}

// analyseBuilder runs the capture at path through a Builder and returns
// it, for its connections and statistics.
func analyseBuilder(t *testing.T, path string, opt Options) *Builder {
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
	return b
}

// readKeyLog reads an SSLKEYLOGFILE-format key log.
func readKeyLog(t *testing.T, path string) *decrypt.KeyLog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kl, err := decrypt.ParseKeyLog(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return kl
}

// publicFile names a file under publicPcaps.
func publicFile(parts ...string) string {
	return filepath.Join(append([]string{publicPcaps}, parts...)...)
}
