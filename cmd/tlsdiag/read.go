package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/report"
	"github.com/tlsdiag/tlsdiag/vantage"
)

const readUsage = `Usage: tlsdiag read [flags] FILE...

Analyses saved captures (pcap or pcapng, optionally gzip-, zstd- or
lz4-compressed; - reads standard input) and reports, per TCP connection that carried TLS or was meant
to, what was offered, what was negotiated, what went wrong and how to fix it.
Frame numbers are Wireshark's. The files of a rotated capture (tcpdump -C/-W:
NAME, NAME1, NAME2…; dumpcap's ring buffer: PREFIX_00001_DATE.pcapng) are
read as one capture, frames numbered through the set as mergecap -a would;
--continuous does so for any files given (tcpdump -G names).

Examples:
    tlsdiag read capture.pcapng
    tlsdiag read --failed --format json a.pcap b.pcap.gz
    tcpdump -i eth0 -w - 'tcp port 443' | tlsdiag read -
    tlsdiag read --format trace --cacert ca.pem capture.pcap
    tlsdiag read --format html -w report.html capture.pcap
    tlsdiag read --continuous --format ecs sensor-2026-12-03-*.pcap
    tlsdiag read --vantage at-client.pcap at-server.pcap

Flags:`

func init() {
	commands["read"] = command{usage: readUsage, run: runRead}
}

// filterFlags are the flags that select which connections are reported.
type filterFlags struct {
	failed      bool
	sni         string
	verdict     string
	fingerprint string
}

// reusedRecords is how many written connections' records wait to be
// overwritten: about a batch of them (the pipeline lets a capture run 256
// connections ahead of the output), 384 KB.
const reusedRecords = 256

func (f filterFlags) keep(r pipeline.Result) bool {
	switch {
	case f.failed && !r.Verdict.Failed():
		return false
	case f.sni != "" && (r.Conn.ShownClientHello() == nil || r.Conn.ShownClientHello().ServerName != f.sni):
		return false
	case f.verdict != "" && string(r.Verdict.Category) != f.verdict:
		return false
	case f.fingerprint != "" && !hasFingerprint(r.Conn.Fingerprints(), f.fingerprint):
		return false
	}
	return true
}

func hasFingerprint(fp analysis.Fingerprints, want string) bool {
	return want == fp.JA3 || want == fp.JA3S || want == fp.JA4 || want == fp.JA4R
}

func runRead(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("read", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		formatFlag string
		caFlags    []string
		noSystem   bool
		filter     filterFlags
		tlsPorts   []uint
		keyLogFile string
		noProgress bool
	)
	fs.StringVarP(&formatFlag, "format", "o", "table", "output `format`, one of:"+report.FormatHelp(false))
	fs.StringArrayVar(&caFlags, flagCACert, nil, "trust the CA certificates in this PEM `file` too (repeatable)")
	fs.BoolVar(&noSystem, "no-system-roots", false, "trust only the --cacert certificates, not the system roots")
	fs.BoolVar(&filter.failed, "failed", false, "report only connections that failed (not ok; those not judged, begun before the capture, are left out)")
	fs.StringVar(&filter.sni, "sni", "", "report only connections whose ClientHello asked for this server `name`")
	fs.StringVar(&filter.verdict, "verdict", "", "report only connections with this verdict `category`")
	fs.StringVar(&filter.fingerprint, "fingerprint", "", "report only connections whose JA3, JA3S, JA4 or JA4_r is `FP`")
	fs.StringVar(&keyLogFile, flagKeyLog, "", "decrypt TLS with the secrets in this SSLKEYLOGFILE-format `file` (besides those a pcapng carries)")
	fs.BoolVar(&noProgress, "no-progress", false, "no progress line on a terminal while reading captures over 100 MB")
	fs.UintSliceVar(&tlsPorts, flagTLSPort, nil, "also report connections to this server `port` that carry no TLS (refused, silent, plaintext); repeatable (the ports a pcapng file's recorded capture filter names are included)")
	zeekDir := fs.String("zeek-dir", "", "with --format zeek or zeek-json: write ssl.log and x509.log into this `directory`")
	writePath := fs.StringP("write", "w", "", "write the report to this `path` instead of standard output (report.html with --format html); with --format zeek or zeek-json: the directory for ssl.log and x509.log, as --zeek-dir; with --extract: the pcapng file to write")
	extractFlag := fs.String("extract", "", "write the frames of these connections, their verdicts as packet comments and their TLS secrets to the pcapng file -w names: `SELECTION` is connection numbers as the report numbers them (3,5-7), failed, or a verdict category, comma-separated")
	output := fs.String("output", "", "send the records to a store instead of standard output: es+http://HOST:PORT/INDEX (Elasticsearch/OpenSearch _bulk API, ECS documents; es+https too)")
	vantageFlag := fs.Bool("vantage", false, "align two captures of the same connections taken at two points of the path (A at the client, B at the server, say): pair the connections and say what changed or was lost between them; exit status 1 when something did")
	continuous := fs.Bool("continuous", false, "read all the files given as one capture, rotated from one another, in the order of their first frames (rotated sets named as tcpdump -C/-W or dumpcap name them are found without it)")
	seed := fs.Uint16("community-id-seed", 0, "hash each connection's Community ID with this `seed` (0 is the spec's default; other tools must use the same)")
	screenOpts := addScreenFlags(fs)
	capOpts := capFlags(fs)
	maxPending := fs.Int(flagMaxPending, analysis.DefaultMaxPending, "hold at most this many finished connections back while an earlier one is still open (to list them in first-frame order)")
	fs.DurationVar(&capOpts.IdleTimeout, "idle-timeout", capture.DefaultIdleTimeout, "end a connection after this much capture time without packets")
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprintf(stdout, "%s\n%s", readUsage, fs.FlagUsages())
			return 0
		}
		return usageError(stderr, err.Error(), "run 'tlsdiag help read' for the flags")
	}
	var extract *extraction
	if *extractFlag != "" {
		sel, err := parseSelection(*extractFlag)
		var unknown *unknownSelection
		switch {
		case errors.As(err, &unknown):
			return usageError(stderr, err.Error(), didYouMean(unknown.word, append([]string{"failed"}, categoryNames()...)))
		case err != nil:
			return usageError(stderr, err.Error(), "e.g. --extract 3,5-7, --extract failed or --extract cert_expired")
		case *writePath == "":
			return usageError(stderr, "--extract needs -w FILE", "name the pcapng file to write, e.g. -w case.pcapng")
		case fs.NArg() != 1 || fs.Arg(0) == "-":
			return usageError(stderr, "--extract reads one capture file (not standard input): its frames are read twice", "name one capture file")
		}
		extract = &extraction{sel: sel}
	}
	format, err := report.ParseFormat(formatFlag)
	format, outErr, outHint := outputFormat(*output, format, fs.Changed("format"))
	// -w names the evidence bundle with --extract, the log directory of the
	// formats that write several logs, and otherwise the report's file.
	var reportPath string
	switch {
	case extract != nil || *writePath == "":
	case format.WritesFiles():
		if *zeekDir == "" {
			*zeekDir = *writePath
		}
	default:
		reportPath = *writePath
	}
	dirErr, dirHint := logDirFormat(*zeekDir, format)
	switch {
	case reportPath != "" && *output != "":
		return usageError(stderr, "-w/--write can't be used with --output", "the records go to one place: drop one")
	case err != nil:
		return unknownValue(stderr, "--format", formatFlag, report.FormatNames(false))
	case outErr != "":
		return usageError(stderr, outErr, outHint)
	case dirErr != "":
		return usageError(stderr, dirErr, dirHint)
	case fs.NArg() == 0:
		return usageError(stderr, "no capture files given", "name one or more pcap/pcapng files, or - for standard input")
	case *vantageFlag && (fs.NArg() != 2 || fs.Arg(0) == fs.Arg(1)):
		return usageError(stderr, "--vantage compares two captures", "name two capture files of the same connections: the one taken nearer the client first")
	case *vantageFlag && !slices.Contains(report.VantageFormats, format):
		return unknownValue(stderr, "--format with --vantage", formatFlag, formatNames(report.VantageFormats))
	case *vantageFlag && (extract != nil || *output != "" || *continuous || filter != filterFlags{}):
		return usageError(stderr, "--vantage can't be used with --extract, --output, --continuous or the filters", "--vantage pairs every connection of the two captures")
	case *continuous && slices.Contains(fs.Args(), "-"):
		return usageError(stderr, "--continuous reads files, not standard input", "name the capture files")
	case filter.verdict != "" && !slices.Contains(diagnose.Categories, diagnose.Category(filter.verdict)):
		return unknownValue(stderr, "verdict category", filter.verdict, categoryNames())
	}
	scr, err := screenOpts.screenFor(stdout, os.Getenv)
	if err != nil {
		return unknownValue(stderr, "--color", screenOpts.color, colorModes)
	}
	roots, err := loadRoots(!noSystem, caFlags)
	if err != nil {
		failure(stderr, err)
		return 2
	}

	keyLog, err := loadKeyLog(keyLogFile, stderr)
	if err != nil {
		failure(stderr, err)
		return 2
	}
	pc := pipeline.Config{
		Analysis: analysis.Options{Trace: format.ListsFrames(), TLSPorts: toPorts(tlsPorts), KeyLog: keyLog, MaxPending: *maxPending},
		Capture:  *capOpts,
		Diagnose: diagnose.Config{Roots: roots, Cache: diagnose.NewChainCache(0), SettingNames: settingFlags},
	}
	if *vantageFlag {
		return readVantage(fs.Args(), format, pc, reportPath, stdout, stderr)
	}
	// Output streams as connections are found, except the table's: a
	// progress line would mix with it on the same terminal.
	prog := newProgress(stderr, fs.Args(), noProgress || format != report.FormatTable && format != report.FormatWide && reportPath == "" && isTerminalWriter(stdout))
	pc.Opened = func(in pipeline.Input) { prog.watch(in) }
	if extract == nil {
		// A record is done with once written (the report keeps none):
		// the analysis overwrites it for a later connection. The
		// extraction keeps the records it selects for its end.
		pc.Analysis.Reuse = analysis.NewRecords(reusedRecords)
	}
	out, err := openOutput(*output, stdout, stderr, true)
	if err != nil {
		failure(stderr, err)
		return 2
	}
	defer out.stop()
	var file *os.File
	if reportPath != "" {
		if file, err = os.Create(reportPath); err != nil {
			failure(stderr, fmt.Errorf("-w: %w", err))
			return 2
		}
		out.w = file
		// The report goes to the file: fit and colour it for the file.
		scr, _ = screenOpts.screenFor(file, os.Getenv)
	}
	opts := report.Options{KeyLogSecrets: keyLog.Len, CommunityIDSeed: *seed, Width: scr.width, Color: scr.color, Stats: screenOpts.stats}
	if *zeekDir != "" {
		opts.OpenLog = out.openLog(*zeekDir)
	}
	inputs := capture.RotatedSets(fs.Args())
	if *continuous {
		inputs = [][]string{fs.Args()}
	}
	w, err := report.NewWriter(out.w, format, opts, len(inputs))
	if err != nil {
		failure(stderr, err)
		return 2
	}
	failed := false
	prog.begin()
	outcomes, writeErr := pipeline.Captures(context.Background(), inputs, pc, func(rs []pipeline.Result) error {
		// The system roots load while the first capture is read; verdicts
		// that checked a chain against them are not written if they did
		// not load. A capture that shows no chain (TLS 1.3 without its
		// secrets) never waits for them.
		if slices.ContainsFunc(rs, showsChain) {
			if err := roots.Err(); err != nil {
				return err
			}
		}
		kept := rs[:0]
		for _, r := range rs {
			if filter.keep(r) {
				failed = failed || r.Verdict.Failed()
				kept = append(kept, r)
				if extract != nil {
					extract.add(r)
				}
			} else {
				pc.Analysis.Reuse.Done(r.Conn)
			}
		}
		err := w.Connections(kept)
		for _, r := range kept {
			pc.Analysis.Reuse.Done(r.Conn)
		}
		return err
	})
	prog.end()
	status := 0
	var notes []string
	for i, files := range inputs {
		o := outcomes[i]
		prefix := ""
		if len(inputs) > 1 {
			prefix = files[0] + ": "
		}
		if len(files) > 1 {
			notes = append(notes, fmt.Sprintf("%s: %d files read as one rotated capture, in the order of their first frames (frame numbers count through them, as in the file mergecap -a makes)", files[0], len(files)))
		}
		notes = append(notes, capNotes(prefix, o.Stats.Stats)...)
		if o.Reported == 0 {
			notes = append(notes, unseenNotes(prefix, o.Stats)...)
		}
		notes = append(notes, sequenceNotes(prefix, o.Stats.SequenceStats)...)
		notes = append(notes, o.Stats.SecretsProblems...)
		if o.Err != nil && writeErr == nil {
			notes = append(notes, readErrorNotes(o.Err)...)
			failure(stderr, o.Err)
			status = 2
		}
	}
	if writeErr == nil {
		writeErr = w.Close(notes)
	}
	if err := out.close(stderr); err != nil && writeErr == nil {
		writeErr = err
	}
	if file != nil {
		if err := file.Close(); err != nil && writeErr == nil {
			writeErr = fmt.Errorf("-w: %w", err)
		}
	}
	if writeErr != nil {
		failure(stderr, writeErr)
		return 2
	}
	if extract != nil && status == 0 {
		st, err := extract.write(fs.Arg(0), *writePath, keyLog)
		if err != nil {
			failure(stderr, err)
			return 2
		}
		say(stderr, "wrote %d frames of %d connections to %s (comments on %d frames, secrets for %d)", st.Frames, st.Found, *writePath, st.Commented, st.SecretConns)
	}
	if status == 0 && failed {
		status = 1
	}
	return status
}

// categoryNames are the verdict categories, in the report's order.
func categoryNames() []string {
	out := make([]string, len(diagnose.Categories))
	for i, c := range diagnose.Categories {
		out[i] = string(c)
	}
	return out
}

func showsChain(r pipeline.Result) bool { return len(r.Conn.Certificates) > 0 }

// loadRoots reads the --cacert files; the system roots, when wanted, load
// in the background (Roots.Err says whether they did).
func loadRoots(system bool, files []string) (*diagnose.Roots, error) {
	var pems [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading --cacert: %w", err)
		}
		pems = append(pems, b)
	}
	roots, err := diagnose.LoadRoots(system, pems...)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	return roots, nil
}

// loadKeyLog reads an SSLKEYLOGFILE. Malformed lines are skipped with a
// warning: the rest of the file is still good.
func loadKeyLog(path string, stderr io.Writer) (*decrypt.KeyLog, error) {
	if path == "" {
		// Empty, for the secrets a pcapng file carries.
		return new(decrypt.KeyLog), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--keylog: %w", err)
	}
	defer f.Close()
	kl, err := decrypt.ParseKeyLog(f)
	var lineErr *decrypt.LineError
	switch {
	case errors.As(err, &lineErr), errors.Is(err, decrypt.ErrTooManyEntries):
		say(stderr, "warning: --keylog %s: %v", path, err)
	case err != nil:
		return nil, fmt.Errorf("--keylog %s: %w", path, err)
	}
	return kl, nil
}

func toPorts(ps []uint) []uint16 {
	out := make([]uint16, len(ps))
	for i, p := range ps {
		out[i] = uint16(p)
	}
	return out
}

func formatNames(fs []report.Format) []string {
	var ss []string
	for _, f := range fs {
		ss = append(ss, string(f))
	}
	return ss
}

// readVantage reads two captures of the same connections and writes
// their alignment: 0 when nothing changed between the two capture
// points, 1 when something did, 2 on an error.
func readVantage(paths []string, format report.Format, pc pipeline.Config, reportPath string, stdout, stderr io.Writer) int {
	// A port that carried TLS in one capture was meant to be TLS in the
	// other, where a connection to it may show nothing (a hello lost on
	// the way): each capture is read with the other's ports.
	var results [2][]pipeline.Result
	var err error
	if results[0], err = readOne(paths[0], pc); err != nil {
		failure(stderr, err)
		return 2
	}
	withPorts := func(rs []pipeline.Result) pipeline.Config {
		c := pc
		c.Analysis.TLSPorts = slices.Clone(pc.Analysis.TLSPorts)
		for _, r := range rs {
			if p := r.Conn.Server.Port(); !slices.Contains(c.Analysis.TLSPorts, p) {
				c.Analysis.TLSPorts = append(c.Analysis.TLSPorts, p)
			}
		}
		return c
	}
	if results[1], err = readOne(paths[1], withPorts(results[0])); err == nil {
		results[0], err = readOne(paths[0], withPorts(results[1]))
	}
	if err != nil {
		failure(stderr, err)
		return 2
	}
	var conns [2][]*analysis.Connection
	for i := range results {
		for _, r := range results[i] {
			conns[i] = append(conns[i], r.Conn)
		}
	}
	al := vantage.Align(conns[0], conns[1])
	w := stdout
	var file *os.File
	if reportPath != "" {
		if file, err = os.Create(reportPath); err != nil {
			failure(stderr, fmt.Errorf("-w: %w", err))
			return 2
		}
		w = file
	}
	err = report.WriteVantage(w, format, report.VantageReport{Names: [2]string{paths[0], paths[1]}, Results: results, Alignment: al})
	if file != nil {
		if cerr := file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("-w: %w", cerr)
		}
	}
	if err != nil {
		failure(stderr, err)
		return 2
	}
	for _, p := range al.Pairs {
		if len(p.Differences) > 0 {
			return 1
		}
	}
	return 0
}

// readOne reads one capture to its end and returns its results.
func readOne(path string, pc pipeline.Config) ([]pipeline.Result, error) {
	var results []pipeline.Result
	outcomes, err := pipeline.Files(context.Background(), []string{path}, pc, func(rs []pipeline.Result) error {
		results = append(results, rs...)
		return nil
	})
	if err == nil && len(outcomes) == 1 {
		err = outcomes[0].Err
	}
	return results, err
}
