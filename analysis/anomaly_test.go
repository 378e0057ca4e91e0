package analysis

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestAnomaliesAreDeclared reads every capture in the repository's testdata
// (the lab's and the public ones) and checks that every anomaly the
// Builder records is declared in tlsparse's vocabulary.
func TestAnomaliesAreDeclared(t *testing.T) {
	seen := map[tlsparse.Anomaly]int{}
	err := filepath.WalkDir("../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if n := d.Name(); !strings.HasSuffix(n, ".pcap") && !strings.HasSuffix(n, ".pcapng") && !strings.HasSuffix(n, ".pcap.gz") {
			return nil
		}
		for _, c := range analyse(t, path, Options{}) {
			for _, a := range c.Anomalies {
				seen[a]++
				if !tlsparse.KnownAnomaly(a) {
					t.Errorf("%s: the connection of frame %d records the undeclared anomaly %q", path, c.First.Number, a)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("no capture recorded any anomaly: the walk found no captures?")
	}
	t.Logf("anomalies seen: %v", seen)
}
