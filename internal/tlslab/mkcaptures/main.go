// Command mkcaptures regenerates tlsdiag's test captures: one small capture
// per verdict category, made by real TLS stacks on loopback and recorded by
// tcpdump, plus the README's demo.pcap, the lab's CA certificates and
// testdata/README.md describing every file.
//
// It needs root (tcpdump, network namespaces) and tcpdump, tshark, curl,
// openssl, gnutls-cli, iproute2 and dnsmasq. All traffic stays on 127.0.0.1 and inside
// two network namespaces it creates and deletes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

const usage = `Usage: mkcaptures [-out DIR] [-v] [-only REGEXP]

Regenerates DIR/captures/*.pcap, DIR/demo.pcap, DIR/certs/*.pem and
DIR/README.md (DIR defaults to testdata). Run from the repository root, as root:

    go run ./internal/tlslab/mkcaptures -out testdata

Every capture is checked with tshark before the README is written; a capture
that does not show what its category needs is an error.

-only remakes just the captures whose file matches REGEXP, keeping the
certificates and every other capture, and updates their README sections and
expected.tsv: for captures whose clients never get as far as checking a
certificate (the proxy captures), so that adding one does not remake all.`

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// env is what making a capture needs.
type env struct {
	out    string // output directory, absolute
	ca     string // the CA file the clients trust, absolute
	lab    *tlslab.Lab
	keylog io.Writer // the current capture's key log, or nil
	log    io.Writer
	// verbose shows the clients' output.
	verbose bool
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkcaptures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	var (
		outFlag     string
		verboseFlag bool
		onlyFlag    string
	)
	fs.StringVar(&outFlag, "out", "testdata", "output directory")
	fs.BoolVar(&verboseFlag, "v", false, "show client output")
	fs.StringVar(&onlyFlag, "only", "", "remake only the captures whose file matches this regular expression")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mkcaptures: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var only *regexp.Regexp
	if onlyFlag != "" {
		var err error
		if only, err = regexp.Compile(onlyFlag); err != nil {
			fmt.Fprintf(stderr, "mkcaptures: -only: %v\n", err)
			return 2
		}
	}
	if err := generate(ctx, outFlag, verboseFlag, only, stderr); err != nil {
		fmt.Fprintf(stderr, "mkcaptures: %v\n", err)
		return 1
	}
	return 0
}

func generate(ctx context.Context, out string, verbose bool, only *regexp.Regexp, log io.Writer) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root (tcpdump, network namespaces): try sudo go run ./internal/tlslab/mkcaptures")
	}
	for _, tool := range []string{"tcpdump", "tshark", "curl", "openssl", "gnutls-cli", "ip", "dnsmasq"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed: %w", tool, err)
		}
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	for _, dir := range []string{"captures", "certs", "vantage"} {
		if err := os.MkdirAll(filepath.Join(out, dir), 0o755); err != nil {
			return err
		}
	}
	started := time.Now().UTC()
	lab, err := tlslab.NewLab(started)
	if err != nil {
		return err
	}
	if only == nil {
		if err := lab.WriteFiles(filepath.Join(out, "certs")); err != nil {
			return err
		}
	}
	e := &env{out: out, ca: filepath.Join(out, "certs", tlslab.CAFile), lab: lab, log: log, verbose: verbose}

	var results, planned []result
	for _, c := range plan() {
		planned = append(planned, result{capture: c})
		if only != nil && !only.MatchString(c.file) {
			continue
		}
		fmt.Fprintf(log, "mkcaptures: %s\n", c.file)
		r, err := e.make(ctx, c)
		if err != nil && ctx.Err() == nil {
			// Real stacks on a busy machine: give timing one more chance,
			// but say so.
			fmt.Fprintf(log, "mkcaptures: %s failed, trying once more: %v\n", c.file, err)
			r, err = e.make(ctx, c)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.file, err)
		}
		results = append(results, r)
	}
	if err := checkSizes(results); err != nil {
		return err
	}
	if only != nil {
		if err := writeExpected(filepath.Join(out, "captures", "expected.tsv"), planned); err != nil {
			return err
		}
		return spliceReadme(filepath.Join(out, "README.md"), results)
	}
	if err := removeStale(filepath.Join(out, "captures"), results); err != nil {
		return err
	}
	versions := toolVersions(ctx)
	if err := writeExpected(filepath.Join(out, "captures", "expected.tsv"), results); err != nil {
		return err
	}
	return writeReadme(filepath.Join(out, "README.md"), started, versions, results)
}

// result is a capture as made.
type result struct {
	capture
	frames   []frame
	listing  string   // tshark -r FILE
	commands []string // the clients, for the README
	host     string   // the servers' address
	note     string   // what post did
	size     int64
}

// make runs capture c and checks it.
func (e *env) make(ctx context.Context, c capture) (r result, err error) {
	r.capture = c
	path := filepath.Join(e.out, c.file)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, err
	}
	keylogPath := strings.TrimSuffix(path, ".pcap") + ".keylog"
	if err := os.Remove(keylogPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, err
	}
	e.keylog = nil
	if c.keylog {
		f, err := os.Create(keylogPath)
		if err != nil {
			return r, err
		}
		defer f.Close()
		e.keylog = f
	} else {
		keylogPath = ""
	}

	host, iface, srvNS, cliNS, filter := "127.0.0.1", "lo", "", "", ""
	var routedPath *tlslab.RoutedPath
	dumpNS := ""
	if c.routed != nil {
		p, err := c.routed.setup(ctx, c, e.lab)
		if err != nil {
			return r, fmt.Errorf("routed path: %w", err)
		}
		defer p.Close()
		routedPath = p
		host, srvNS, cliNS = p.ServerAddr, p.ServerNS, p.ClientNS
		iface, dumpNS = p.ClientIface, p.ClientNS
		if c.routed.atServer {
			iface, dumpNS = p.ServerIface, p.ServerNS
		}
	}
	if c.netns {
		teardown, err := setupNetns(ctx)
		if err != nil {
			return r, fmt.Errorf("network namespaces: %w", err)
		}
		defer teardown()
		host, iface, srvNS, cliNS = nsServerAddr, vethServer, nsServer, nsClient
		dumpNS = srvNS
	}
	r.host = host
	var servers []*tlslab.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for _, s := range c.servers {
		opts := []tlslab.Option{tlslab.WithLab(e.lab), tlslab.WithAddr(fmt.Sprintf("%s:%d", host, s.port))}
		var srv *tlslab.Server
		if srvNS != "" {
			srv, err = startInNetns(srvNS, s.scenario, opts...)
		} else {
			srv, err = tlslab.Start(s.scenario, opts...)
		}
		if err != nil {
			return r, err
		}
		servers = append(servers, srv)
	}
	if len(c.servers) == 1 {
		filter = fmt.Sprintf("tcp port %d", c.servers[0].port)
	} else {
		filter = "tcp portrange 4430-4599"
	}
	if c.routed != nil && c.routed.resolver != nil {
		filter = "(" + filter + ") or port 53"
	}

	td, err := tlslab.StartTcpdump(ctx, dumpNS, iface, path, filter)
	if err != nil {
		return r, err
	}
	var twin *tlslab.Tcpdump
	if c.routed != nil && c.routed.twin != "" {
		twinNS, twinIface := routedPath.ServerNS, routedPath.ServerIface
		if c.routed.atServer {
			twinNS, twinIface = routedPath.ClientNS, routedPath.ClientIface
		}
		if twin, err = tlslab.StartTcpdump(ctx, twinNS, twinIface, filepath.Join(e.out, c.routed.twin), filter); err != nil {
			td.Stop()
			return r, err
		}
	}
	stopTwin := func() error {
		if twin == nil {
			return nil
		}
		err := twin.Stop()
		twin = nil
		return err
	}
	defer stopTwin()
	for i, cl := range c.clients {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		addr := fmt.Sprintf("%s:%d", host, c.servers[cl.server].port)
		cmd, err := e.runClient(ctx, cl, addr, cliNS, keylogPath)
		r.commands = append(r.commands, cmd)
		if err != nil {
			td.Stop()
			return r, err
		}
	}
	if err := td.Stop(); err != nil {
		return r, err
	}
	if err := stopTwin(); err != nil {
		return r, err
	}
	for _, s := range servers {
		s.Close()
	}
	servers = nil

	if c.post != nil {
		if r.note, err = c.post(e, path); err != nil {
			return r, err
		}
	}
	if r.frames, err = readFrames(ctx, path, c.serverPorts()); err != nil {
		return r, err
	}
	listing, err := exec.CommandContext(ctx, "tshark", "-r", path).Output()
	if err != nil {
		return r, fmt.Errorf("tshark -r %s: %w", path, err)
	}
	r.listing = string(listing)
	if err := verify(r.frames, c.checks); err != nil {
		return r, fmt.Errorf("%w\ntshark -r %s:\n%s", err, path, r.listing)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return r, err
	}
	r.size = fi.Size()
	return r, nil
}

// runClient runs one client against addr and returns how the README shows
// it. A client failing is expected; not being able to run it is an error.
func (e *env) runClient(ctx context.Context, c client, addr, netns, keylogPath string) (string, error) {
	if c.goRun != nil {
		run := func() error { return c.goRun(ctx, e, addr) }
		if netns != "" {
			// The dial happens on this goroutine's thread, which InNetns
			// puts into the client's namespace.
			inner := run
			run = func() error {
				var err error
				if nsErr := tlslab.InNetns(netns, func() error { err = inner(); return nil }); nsErr != nil {
					return nsErr
				}
				return err
			}
		}
		err := run()
		fmt.Fprintf(e.log, "  crypto/tls client: %v\n", errOrOK(err))
		desc := c.desc
		if netns != "" {
			desc += " (in network namespace " + netns + ")"
		}
		if err != nil {
			// The error users search for.
			return fmt.Sprintf("crypto/tls client: %s; Go's error: %q", desc, err.Error()), nil
		}
		return "crypto/tls client: " + desc, nil
	}
	argv := make([]string, len(c.argv))
	shown := make([]string, len(c.argv))
	host, _, _ := net.SplitHostPort(addr)
	for i, a := range c.argv {
		a = strings.ReplaceAll(a, "{server}", host)
		if strings.Contains(a, "{labca}") {
			// This run's root: the one that signed the servers' chains
			// even when -only keeps testdata/certs from an earlier run.
			dir, err := os.MkdirTemp("", "mkcaptures-ca")
			if err != nil {
				return "", err
			}
			defer os.RemoveAll(dir)
			if err := e.lab.WriteFiles(dir); err != nil {
				return "", err
			}
			argv[i] = strings.ReplaceAll(a, "{labca}", filepath.Join(dir, tlslab.CAFile))
			shown[i] = strings.ReplaceAll(a, "{labca}", "LAB-ROOT.pem")
			continue
		}
		argv[i] = strings.ReplaceAll(a, "{ca}", e.ca)
		shown[i] = strings.ReplaceAll(a, "{ca}", "testdata/certs/"+tlslab.CAFile)
	}
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
		shown = append([]string{"ip", "netns", "exec", netns}, shown...)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	if keylogPath != "" {
		cmd.Env = append(cmd.Env, "SSLKEYLOGFILE="+keylogPath)
	}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) || ctx.Err() != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(argv, " "), errors.Join(err, ctx.Err()))
	}
	fmt.Fprintf(e.log, "  %s: %v\n", c.argv[0], errOrOK(err))
	if e.verbose {
		e.log.Write(out)
	}
	return shellQuote(shown), nil
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// shellQuote joins argv as it would be typed into a shell.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.TrimLeft(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") != "" {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// removeStale deletes captures and key logs the plan no longer makes.
func removeStale(dir string, results []result) error {
	keep := map[string]bool{"expected.tsv": true}
	for _, r := range results {
		base := filepath.Base(r.file)
		keep[base] = true
		if r.keylog {
			keep[strings.TrimSuffix(base, ".pcap")+".keylog"] = true
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range entries {
		if !keep[de.Name()] && (strings.HasSuffix(de.Name(), ".pcap") || strings.HasSuffix(de.Name(), ".keylog")) {
			if err := os.Remove(filepath.Join(dir, de.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Size limits: captures are committed.
const (
	maxTotalSize = 500 << 10
	maxDemoSize  = 60 << 10
)

func checkSizes(results []result) error {
	var total int64
	for _, r := range results {
		total += r.size
		if r.file == "demo.pcap" && r.size > maxDemoSize {
			return fmt.Errorf("demo.pcap is %d bytes, more than %d", r.size, maxDemoSize)
		}
	}
	if total > maxTotalSize {
		return fmt.Errorf("captures total %d bytes, more than %d", total, maxTotalSize)
	}
	return nil
}

// toolVersions names the programs that made the captures.
func toolVersions(ctx context.Context) []string {
	cmds := [][]string{
		{"curl", "--version"}, {"openssl", "version"}, {"gnutls-cli", "--version"},
		{"tcpdump", "--version"}, {"tshark", "--version"}, {"uname", "-sr"},
	}
	v := []string{"Go " + strings.TrimPrefix(runtime.Version(), "go")}
	for _, c := range cmds {
		out, err := exec.CommandContext(ctx, c[0], c[1:]...).Output()
		line, _, _ := strings.Cut(string(out), "\n")
		switch c[0] {
		case "curl": // keep the TLS backend, drop the other libraries
			f := strings.Fields(line)
			for i, w := range f {
				if strings.HasPrefix(w, "OpenSSL/") {
					f = f[:i+1]
					break
				}
			}
			line = strings.Join(f, " ")
		case "openssl":
			line, _, _ = strings.Cut(line, " (")
		}
		if err != nil || line == "" {
			line = c[0] + " (version unknown)"
		}
		v = append(v, strings.TrimSuffix(strings.TrimSpace(line), "."))
	}
	return v
}
