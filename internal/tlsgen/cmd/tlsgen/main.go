//go:debug cryptocustomrand=1

// Command tlsgen writes a synthetic TLS capture and its ground truth, for
// benchmarking tlsdiag:
//
//	go run ./internal/tlsgen/cmd/tlsgen -o testdata/bench/bench.pcap -size 500MB -seed 1 -truth testdata/bench/bench.json
//
// The same flags give the same capture, byte for byte, on the same machine.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

const usage = `Usage: tlsgen -o FILE [-size 500MB] [-seed N] [-truth FILE.json] [-ca FILE.pem] [-handshakes-only]
       tlsgen -o FILE -hostile KIND [-seed N]

Writes a pcap of real TLS handshakes (crypto/tls, replayed on many
connections) with bulk application data, and a JSON ground truth of every
connection: client, server, expected verdict, version, cipher, SNI.

Examples:
    tlsgen -o bench.pcap -size 500MB -seed 1 -truth bench.json -ca bench-ca.pem
    tlsgen -o hs.pcap -size 100MB -handshakes-only -truth hs.json
    tlsgen -o - -hostile syn_flood | tlsdiag read -

-hostile writes one of the captures made to attack a reader's parser and
memory instead (- is stdout): ` + "huge_handshake, big_client_hello, syn_flood, one_byte,\nendless_out_of_order, conflicting_overlap, alert_flood, sslv2_garbage" + `.

Flags:`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("tlsgen", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintf(os.Stderr, "%s\n", usage); fs.PrintDefaults() }
	var (
		out, truthFile, caFile, sizeFlag string
		maxBulkFlag, hostile, startFlag  string
		cfg                              tlsgen.Config
	)
	fs.StringVar(&out, "o", "", "write the capture to `file` (required)")
	fs.StringVar(&sizeFlag, "size", "10MB", "approximate capture `size` (e.g. 500MB, 1GiB, 123456)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random `seed`: the same seed gives the same capture")
	fs.StringVar(&truthFile, "truth", "", "write the ground truth as JSON to `file`")
	fs.StringVar(&caFile, "ca", "", "write the root CA (tlsdiag's --cacert) as PEM to `file`")
	fs.BoolVar(&cfg.HandshakesOnly, "handshakes-only", false, "no bulk data: every connection is a handshake and one exchange")
	fs.StringVar(&maxBulkFlag, "max-bulk", "8MiB", "most bulk data one connection carries (`size`)")
	fs.IntVar(&cfg.Pool, "pool", 0, "distinct TLS conversations to record (default 50)")
	fs.IntVar(&cfg.Active, "active", 0, "connections in flight at once (default 32)")
	fs.StringVar(&hostile, "hostile", "", "write the hostile capture `kind` instead")
	fs.StringVar(&startFlag, "start", "", "`time` of the first frame, when the certificates are valid: RFC 3339, or now (for a replay that live judges as read does); default 2025-06-02T09:00:00Z")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if hostile != "" && out != "" {
		if err := generateHostile(out, tlsgen.Hostile(hostile), cfg.Seed); err != nil {
			fmt.Fprintf(os.Stderr, "tlsgen: %v\n", err)
			return 1
		}
		return 0
	}
	size, err := parseSize(sizeFlag)
	maxBulk, berr := parseSize(maxBulkFlag)
	switch {
	case out == "":
		fmt.Fprintln(os.Stderr, "tlsgen: -o is required")
		return 2
	case err != nil:
		fmt.Fprintf(os.Stderr, "tlsgen: -size: %v\n", err)
		return 2
	case berr != nil:
		fmt.Fprintf(os.Stderr, "tlsgen: -max-bulk: %v\n", berr)
		return 2
	}
	cfg.Size, cfg.MaxBulk = size, maxBulk
	switch startFlag {
	case "":
	case "now":
		cfg.Start = time.Now()
	default:
		if cfg.Start, err = time.Parse(time.RFC3339, startFlag); err != nil {
			fmt.Fprintf(os.Stderr, "tlsgen: -start: %v\n", err)
			return 2
		}
	}
	if err := generate(out, truthFile, caFile, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "tlsgen: %v\n", err)
		os.Remove(out)
		return 1
	}
	return 0
}

func generate(out, truthFile, caFile string, cfg tlsgen.Config) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	truth, err := tlsgen.Generate(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if caFile != "" {
		if err := os.WriteFile(caFile, []byte(truth.CAPEM), 0o644); err != nil {
			return err
		}
	}
	if truthFile != "" {
		if err := writeTruth(truthFile, truth); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "tlsgen: %s: %d bytes, %d frames, %d connections (%d reported)\n",
		out, truth.Bytes, truth.Frames, len(truth.Connections), len(truth.Connections)-truth.Ignored)
	return nil
}

func generateHostile(out string, kind tlsgen.Hostile, seed uint64) error {
	w := os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		w = f
	}
	truth, err := tlsgen.GenerateHostile(w, kind, seed)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if out != "-" {
			os.Remove(out)
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "tlsgen: %s: %s: %d bytes, %d frames, %d connections\n", out, kind, truth.Bytes, truth.Frames, truth.Connections)
	return nil
}

// writeTruth writes the truth with one connection per line, so that it
// diffs and greps well.
func writeTruth(path string, t *tlsgen.Truth) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	conns := t.Connections
	t.Connections = nil
	head, err := json.Marshal(t)
	t.Connections = conns
	if err != nil {
		f.Close()
		return err
	}
	// head ends with "connections":null}
	head = head[:len(head)-len("null}")]
	w.Write(head)
	w.WriteString("[\n")
	for i, c := range conns {
		b, err := json.Marshal(c)
		if err != nil {
			f.Close()
			return err
		}
		w.Write(b)
		if i < len(conns)-1 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseSize reads "500MB", "1GiB", "64k" or a plain number of bytes.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 500MB", s)
	}
	return int64(n * float64(mult)), nil
}
