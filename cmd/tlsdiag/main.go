// Command tlsdiag explains, from the packets, why TLS connections failed.
//
// Output rules: results go to standard output; everything else (progress,
// warnings, errors) goes to standard error with a "tlsdiag:" prefix, no
// capitalized initials and no periods at the end.
//
// Exit status: 0 when every connection is ok, 1 when any failed, 2 on usage
// or input errors.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tlsdiag/tlsdiag/capture/live"
	"github.com/tlsdiag/tlsdiag/internal/textsafe"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "devel"

const usage = `tlsdiag explains, from the packets, why TLS connections failed.

Usage:
    tlsdiag read [flags] FILE...     analyse saved captures (pcap, pcapng, .gz; - for stdin)
    tlsdiag live [flags]             sniff an interface and report each handshake as it ends
    tlsdiag probe [flags] URL        make a request, capture it, and explain the failure
    tlsdiag exec [flags] -- CMD...   run a program, capture its connections, and explain them
    tlsdiag help [COMMAND]           show help for a command
    tlsdiag version                  print the version, the build and its capture paths

Examples:
    tlsdiag read capture.pcapng
    tcpdump -i eth0 -w - 'tcp port 443' | tlsdiag read -
    tlsdiag read --failed --format json *.pcap

Exit status: 0 every connection ok, 1 some connection failed, 2 usage or input error.`

// memoryLimit is the heap size past which the garbage collector works
// harder (runtime/debug.SetMemoryLimit) unless GOMEMLIMIT says otherwise.
// The caps (--max-connections, --max-buffer-total, --max-pending) bound
// what is alive; this keeps garbage from doubling it, so that a read stays
// within 64 MiB of RSS. What the limit does not count comes on top: the
// binary's pages, gopacket's 5 MB of tables and, in the libpcap build,
// the shared libraries, 17 MiB in all there.
const memoryLimit = 44 << 20

// readGCPercent is read's GOGC unless GOGC says otherwise. A read is
// short and its live heap small: collecting each time the heap doubles
// mostly rescans gopacket's 5 MB of tables. The memory limit still bounds
// the heap.
const readGCPercent = 400

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	if len(os.Args) > 1 && os.Args[1] == "read" {
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(readGCPercent)
		}
		hugeHeap()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes tlsdiag with args (without the program name) and returns the
// exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "--version", "-version", "version":
		fmt.Fprint(stdout, versionText())
		return 0
	case "help", "-h", "--help":
		return help(rest, stdout, stderr)
	}
	c, ok := commands[cmd]
	if !ok {
		return usageError(stderr, fmt.Sprintf("unknown command %q", cmd), "run 'tlsdiag help' for the list of commands")
	}
	return c.run(rest, stdout, stderr)
}

type command struct {
	usage string
	run   func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		return usageError(stderr, fmt.Sprintf("no help for unknown command %q", args[0]), "run 'tlsdiag help' for the list of commands")
	}
	// Exactly what COMMAND --help prints: the usage and the flags, which
	// only the command's own flag set knows.
	return c.run([]string{"--help"}, stdout, stderr)
}

// versionText is the version, how this binary was built (cgo, build
// tags) and what it can capture with.
func versionText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tlsdiag %s\n", version)
	build := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "CGO_ENABLED":
				build += map[string]string{"0": ", without cgo (pure Go)", "1": ", with cgo"}[s.Value]
			case "-tags":
				build += ", tags " + s.Value
			}
		}
	}
	fmt.Fprintf(&b, "build: %s\n", build)
	paths := live.Backends()
	if len(paths) == 0 {
		paths = []string{"none in this build (read and probe without a wire view only)"}
	}
	fmt.Fprintf(&b, "live capture: %s\n", strings.Join(paths, "; "))
	return b.String()
}

// say writes one message to standard error with the "tlsdiag:" prefix.
// Every message goes through it: errors quote file names, flags and what
// the network sent (a certificate's name in a verification error), so the
// message is escaped with textsafe's rule, as the reports are.
func say(stderr io.Writer, format string, args ...any) {
	fmt.Fprintf(stderr, "tlsdiag: %s\n", textsafe.Sentence(fmt.Sprintf(format, args...)))
}

// usageError reports a usage mistake with a hint and returns exit status 2.
func usageError(stderr io.Writer, msg, hint string) int {
	say(stderr, "%s", msg)
	if hint != "" {
		say(stderr, "hint: %s", hint)
	}
	return 2
}

// failure reports an error that is not a usage mistake. It stays quiet on a
// broken pipe: the reader went away, there is no one to tell.
func failure(stderr io.Writer, err error) {
	if errors.Is(err, syscall.EPIPE) {
		return
	}
	say(stderr, "%v", err)
}
