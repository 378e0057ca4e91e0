package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/probe"
	"github.com/tlsdiag/tlsdiag/report"
)

const execUsage = `Usage: tlsdiag exec [flags] -- COMMAND [ARGS...]

Runs COMMAND (your Go program, curl, python …) while capturing, finds which
connections are its own, and gives it SSLKEYLOGFILE (unless already set) so
that programs honouring it (curl, Python, browsers, Go programs wiring
KeyLogWriter from it) let their TLS 1.3 handshakes be decrypted. When it
exits, each of its connections is reported with its verdict, with the
program's exit status and the last line of its standard error that names an
error (messages of Go, OpenSSL, curl, wget, Python, Java and Node.js),
correlated with the wire: agree, disagree, or client_only when the capture
shows none of its connections. The error is correlated with the
connections it is about (its class against their verdicts, the host it
names, the last before the exit); the program's other connections are
unrelated: their verdicts stand alone.

Which connections are its own: as root, COMMAND runs in a cgroup of its own
(cgroup v2) and a netfilter rule (iptables and ip6tables, mangle table)
logs the first packet of every flow it or its children start: exact, even
for a program that connects and exits in a millisecond, and no other
process's connection is counted. The rule and the cgroup are removed when
COMMAND exits or on Ctrl-C. Without root, cgroup v2 or iptables, the
sockets of its process tree are sampled from /proc instead: connections
opened and closed between two samples are missed, and the report says so.

Capturing needs root or CAP_NET_RAW, the cgroup and the rule root (or
CAP_SYS_ADMIN and CAP_NET_ADMIN); without them the program still runs and
only its exit status and error are reported. COMMAND runs with tlsdiag's
privileges (as root under sudo); its output goes to standard error, the
report to standard output.

Examples:
    sudo tlsdiag exec -- curl -sS https://example.com/
    sudo tlsdiag exec --cacert ca.pem -i lo -- ./myclient https://good.test:8443/
    sudo tlsdiag exec -w run.pcapng -o json -- python3 fetch.py

Exit status: COMMAND's (128+N when signal N ended it), 2 usage error or
COMMAND could not be started.

Flags:`

func init() {
	commands["exec"] = command{usage: execUsage, run: runExec}
}

func runExec(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("exec", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		formatFlag string
		caFlags    []string
		iface      string
		filter     string
		pcapFile   string
	)
	fs.StringVarP(&formatFlag, "format", "o", "table", "output `format`: table or json")
	fs.StringArrayVar(&caFlags, flagCACert, nil, "also trust the CA certificates in this PEM `file` when judging chains (repeatable)")
	fs.StringVarP(&iface, "interface", "i", "any", "capture on this `interface`")
	fs.StringVarP(&filter, "filter", "f", probe.DefaultExecFilter, "BPF `filter` for the capture")
	fs.StringVarP(&pcapFile, flagWrite, shortWrite, "", "keep the capture in this pcapng `file`, with the program's TLS secrets embedded")
	fs.SetInterspersed(false)
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprintf(stdout, "%s\n%s", execUsage, fs.FlagUsages())
			return 0
		}
		return usageError(stderr, err.Error(), "run 'tlsdiag help exec' for the flags")
	}
	format, err := report.ParseFormat(formatFlag)
	switch {
	case err != nil || (format != report.FormatTable && format != report.FormatJSON):
		return usageError(stderr, fmt.Sprintf("unknown format %q for exec", formatFlag), "use table or json")
	case fs.NArg() == 0:
		return usageError(stderr, "no command given", "e.g. tlsdiag exec -- curl https://example.com/")
	}
	var pems [][]byte
	for _, f := range caFlags {
		b, err := os.ReadFile(f)
		if err != nil {
			failure(stderr, fmt.Errorf("--cacert: %w", err))
			return 2
		}
		pems = append(pems, b)
	}
	roots, err := diagnose.LoadRoots(true, pems...)
	if err != nil {
		failure(stderr, fmt.Errorf("--cacert: %w", err))
		return 2
	}
	if err := roots.Err(); err != nil {
		failure(stderr, err)
		return 2
	}
	cfg := probe.ExecConfig{Command: fs.Args(), Stdin: os.Stdin, Stdout: stderr, Stderr: stderr,
		Interface: iface, Filter: filter, WireRoots: roots, SettingNames: settingFlags, Names: execSettingNames}
	if pcapFile != "" {
		f, err := os.Create(pcapFile)
		if err != nil {
			failure(stderr, fmt.Errorf("--write: %w", err))
			return 2
		}
		defer f.Close()
		cfg.Pcap = f
	}
	// Ctrl-C (or a TERM) ends the program; the report and the clean-up
	// still run.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	res, err := probe.Exec(ctx, cfg)
	if err != nil {
		failure(stderr, err)
		return 2
	}
	if res.Fallback != nil && res.Wire.Err == nil {
		say(stderr, "warning: connections sampled from /proc, short ones may be missed: %v", res.Fallback)
	}
	if res.Wire.Err != nil {
		say(stderr, "warning: no capture, only the program's exit status and error are reported: %v", res.Wire.Err)
	}
	if err := probe.WriteExec(stdout, format, res); err != nil {
		failure(stderr, err)
		return 2
	}
	return res.ExitCode
}
