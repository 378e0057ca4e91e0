// Command tlsbench times `tlsdiag read` and tshark on a capture made by
// tlsgen, and checks tlsdiag's verdicts against the capture's truth:
//
//	tlsbench -pcap bench.pcap -truth bench.json -ca bench-ca.pem -tlsdiag bin/tlsdiag -runs 5
//
// Each command runs -runs times (tshark -tshark-runs times), in turns, so
// that a machine that grows slower or faster meanwhile moves every
// command's times alike rather than the ratio; it prints the
// best and the median wall time, throughput in MB/s and packets/s, the
// peak resident set size of the child (getrusage's ru_maxrss, from wait4)
// and its median CPU time (user + system), which other load on the machine
// disturbs less than the wall time.
// The exit status is 1 when tlsdiag's output disagrees with the truth.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

const usage = `Usage: tlsbench -pcap FILE -truth FILE.json -ca FILE.pem -tlsdiag BINARY [-runs N] [-tshark-runs N] [-format json]

Times tlsdiag read (with all cores and with GOMAXPROCS=1) and tshark on
the same capture, prints MB/s, packets/s and peak RSS of each and the
ratio, and checks tlsdiag's verdicts against the truth (exit status 1 if
they differ).

Flags:`

func main() { os.Exit(run()) }

func run() int {
	var (
		pcap, truthFile, ca, tlsdiag, format, outDir string
		runs, tsharkRuns                             int
	)
	flag.Usage = func() { fmt.Fprintf(os.Stderr, "%s\n", usage); flag.PrintDefaults() }
	flag.StringVar(&pcap, "pcap", "", "the capture `file`")
	flag.StringVar(&truthFile, "truth", "", "its ground truth (tlsgen -truth)")
	flag.StringVar(&ca, "ca", "", "its root CA (tlsgen -ca), passed as --cacert")
	flag.StringVar(&tlsdiag, "tlsdiag", "bin/tlsdiag", "the tlsdiag `binary`")
	flag.StringVar(&format, "format", "json", "tlsdiag's output `format`")
	flag.StringVar(&outDir, "out", os.TempDir(), "`directory` for the outputs")
	flag.IntVar(&runs, "runs", 5, "runs of each tlsdiag command")
	flag.IntVar(&tsharkRuns, "tshark-runs", 3, "runs of tshark (0: skip it)")
	flag.Parse()
	if pcap == "" || truthFile == "" || ca == "" {
		fmt.Fprintln(os.Stderr, "tlsbench: -pcap, -truth and -ca are required")
		return 2
	}
	truth, err := readTruth(truthFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsbench: %v\n", err)
		return 2
	}
	fi, err := os.Stat(pcap)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsbench: %v\n", err)
		return 2
	}
	size := fi.Size()
	fmt.Printf("capture %s: %.1f MB, %d frames, %d connections (%d reported), seed %d\n",
		pcap, float64(size)/1e6, truth.Frames, len(truth.Connections), len(truth.Connections)-truth.Ignored, truth.Seed)
	// Read the file once so that every command finds it in the page cache.
	if err := warm(pcap); err != nil {
		fmt.Fprintf(os.Stderr, "tlsbench: %v\n", err)
		return 2
	}

	out := outDir + "/tlsbench-tlsdiag." + format
	args := []string{"read", "--format", format, "--cacert", ca, pcap}
	cmds := []bench{
		{name: "tlsdiag read --format " + format, path: tlsdiag, args: args, out: out, runs: runs, ok: exit01},
		{name: "tlsdiag, GOMAXPROCS=1", path: tlsdiag, args: args, env: []string{"GOMAXPROCS=1"}, out: out + "-1", runs: runs, ok: exit01},
	}
	if _, err := exec.LookPath("tshark"); err == nil && tsharkRuns > 0 {
		cmds = append(cmds, bench{name: "tshark -Y tls.handshake", path: "tshark", runs: tsharkRuns, out: outDir + "/tlsbench-tshark.txt",
			args: []string{"-r", pcap, "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "tls.handshake", "-T", "fields",
				"-e", "frame.number", "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name"}, ok: exit0})
	} else if tsharkRuns > 0 {
		fmt.Println("tshark is not installed: no comparison")
	}
	fmt.Printf("%-32s %4s %9s %9s %17s %19s %9s %8s\n", "command", "runs", "best", "median", "MB/s best/median", "kpkt/s best/median", "peak RSS", "CPU s")
	results, err := runInTurns(cmds)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsbench: %v\n", err)
		return 2
	}
	for i, b := range cmds {
		r := results[i]
		best, med := r.best(), r.median()
		fmt.Printf("%-32s %4d %8.3fs %8.3fs %8.0f /%7.0f %9.0f /%8.0f %5.1f MiB %7.3f\n", b.name, len(r.times), best.Seconds(), med.Seconds(),
			float64(size)/1e6/best.Seconds(), float64(size)/1e6/med.Seconds(),
			float64(truth.Frames)/1e3/best.Seconds(), float64(truth.Frames)/1e3/med.Seconds(), float64(r.maxRSS)/(1<<20), medianOf(r.cpu).Seconds())
	}
	if len(results) == 3 {
		ts := results[2]
		fmt.Printf("tlsdiag is %.0f× (best) / %.0f× (median) as fast as tshark; with GOMAXPROCS=1 %.0f× / %.0f×\n",
			ts.best().Seconds()/results[0].best().Seconds(), ts.median().Seconds()/results[0].median().Seconds(),
			ts.best().Seconds()/results[1].best().Seconds(), ts.median().Seconds()/results[1].median().Seconds())
	}
	if format != "json" {
		fmt.Println("truth: not checked (needs --format json)")
		return 0
	}
	status := 0
	for _, f := range []string{out, out + "-1"} {
		if err := checkTruth(f, truth); err != nil {
			fmt.Printf("truth: %s: MISMATCH: %v\n", f, err)
			status = 1
		}
	}
	if status == 0 {
		fmt.Printf("truth: every connection and verdict matches (%d reported, %d categories), with all cores and with one\n",
			len(truth.Connections)-truth.Ignored, len(truth.Categories))
	}
	return status
}

func readTruth(path string) (*tlsgen.Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t tlsgen.Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &t, nil
}

func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// bench is one command to time.
type bench struct {
	name, path string
	args, env  []string
	out        string // stdout goes here
	runs       int
	ok         func(int) bool // acceptable exit status
}

func exit0(s int) bool  { return s == 0 }
func exit01(s int) bool { return s == 0 || s == 1 } // tlsdiag: 1 means a connection failed

type result struct {
	times  []time.Duration
	cpu    []time.Duration // user + system time of each run
	maxRSS int64           // bytes
}

func (r result) best() time.Duration { return slices.Min(r.times) }

func (r result) median() time.Duration { return medianOf(r.times) }

func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// runInTurns runs each command its number of runs, one run of each in
// turn, and returns their results in the order of cmds.
func runInTurns(cmds []bench) ([]result, error) {
	results := make([]result, len(cmds))
	for turn := 0; ; turn++ {
		ran := false
		for i, b := range cmds {
			if turn >= b.runs {
				continue
			}
			if err := b.runOnce(&results[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", b.name, err)
			}
			ran = true
		}
		if !ran {
			return results, nil
		}
	}
}

// runOnce runs b once and adds the run to r.
func (b bench) runOnce(r *result) error {
	out, err := os.Create(b.out)
	if err != nil {
		return err
	}
	cmd := exec.Command(b.path, b.args...)
	cmd.Env = append(os.Environ(), b.env...)
	cmd.Stdout = out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	out.Close()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return err
	}
	if st := cmd.ProcessState.ExitCode(); !b.ok(st) {
		return fmt.Errorf("exit status %d: %s", st, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = max(r.maxRSS, ru.Maxrss<<10) // kilobytes on Linux
	}
	r.cpu = append(r.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	r.times = append(r.times, elapsed)
	return nil
}

// checkTruth compares tlsdiag's JSON report with the truth: the same
// connections, each with the expected verdict, version, cipher and SNI.
func checkTruth(path string, truth *tlsgen.Truth) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rep struct {
		Connections []struct {
			Client, Server, SNI, Version, Cipher string
			Verdict                              struct{ Category string }
		}
	}
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&rep); err != nil {
		return err
	}
	var want []tlsgen.Conn
	for _, c := range truth.Connections {
		if c.Reported() {
			want = append(want, c)
		}
	}
	if len(rep.Connections) != len(want) {
		return fmt.Errorf("%d connections reported, the truth has %d", len(rep.Connections), len(want))
	}
	bad := 0
	var first string
	pair := tlsgen.Pair(want, len(rep.Connections), func(i int) (string, string) { return rep.Connections[i].Client, rep.Connections[i].Server })
	for i, w := range pair {
		g := rep.Connections[i]
		if w == nil {
			w = &tlsgen.Conn{Scenario: "not in the truth"}
		}
		if g.Verdict.Category != w.Category || g.Version != w.Version || g.Cipher != w.Cipher || g.SNI != w.SNI {
			if bad == 0 {
				first = fmt.Sprintf("connection %d %s → %s: %s %q %q %q, want %s %q %q %q (%s)", i+1, g.Client, g.Server,
					g.Verdict.Category, g.Version, g.Cipher, g.SNI, w.Category, w.Version, w.Cipher, w.SNI, w.Scenario)
			}
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d connections differ; first: %s", bad, first)
	}
	return nil
}
