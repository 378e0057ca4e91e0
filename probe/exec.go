package probe

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/capture/live"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/attribution"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// ExecConfig says which program to run and watch.
type ExecConfig struct {
	// Command is the program and its arguments.
	Command []string
	// Env is the program's environment; nil means this process's.
	// SSLKEYLOGFILE is added unless it is already set.
	Env []string
	// Stdin, Stdout and Stderr are the program's; its standard error is
	// also kept (the last StderrLines lines) to classify its error.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interface is where to capture; empty means "any" (every interface).
	Interface string
	// Filter narrows the capture (BPF); empty means DefaultExecFilter.
	Filter string
	// WireRoots are the roots chains are validated against (the system's
	// when asked for, which tells a root of the system store, one the
	// program may not read, from one of the user's); nil means the
	// system roots.
	WireRoots *diagnose.Roots
	// SettingNames names, in the verdicts' fixes, the settings they point
	// to as the caller sets them (diagnose.Config.SettingNames).
	SettingNames map[diagnose.Setting]string
	// Names names the probe's settings in the correlations' texts as the
	// caller sets them (Config.Names).
	Names Names
	// Pcap, when set, receives the capture as a pcapng file with the
	// program's TLS secrets embedded.
	Pcap io.Writer
	// Attribution says how the program's flows are found (exact with a
	// cgroup when possible, else sampling /proc).
	Attribution attribution.Config
}

// StderrLines is how many of the program's last standard error lines are
// kept.
const StderrLines = 20

// ExecResult is what exec saw of the program.
type ExecResult struct {
	Command []string
	// ExitCode is the program's exit status; 128+N when signal N ended
	// it, as shells report it.
	ExitCode int
	// StderrTail are the last lines of its standard error; Class is the
	// error class the last recognisable line names ("" when none does),
	// ErrorLine that line.
	StderrTail []string
	Class      Class
	ErrorLine  string
	// KeyLog is the SSLKEYLOGFILE given to the program; KeyLogLines the
	// secrets it wrote there (0: the program does not honour it, and TLS
	// 1.3 stays encrypted).
	KeyLog      string
	KeyLogLines int
	// Attribution is how the program's flows were found; Fallback why
	// they were not found exactly (nil when they were).
	Attribution attribution.Method
	Fallback    error
	// Flows are the flows the program (or a child of it) started.
	Flows []attribution.Flow
	// Connections are those of Flows the capture shows, each with its
	// verdict and the correlation with the program's error.
	Connections []ExecConnection
	// Unseen is the correlation of the program's error alone, when the
	// capture shows none of its connections (nil when it shows one).
	Unseen *Correlation
	// Wire is the capture: Interface, Filter, Err (why there is none),
	// Frames, Notes.
	Wire Wire
}

// ExecConnection is one of the program's connections.
type ExecConnection struct {
	Result      pipeline.Result
	Correlation Correlation
}

// DefaultExecFilter is what Exec captures unless told otherwise: TCP, and
// the ICMP errors that say why a connection was refused (a firewall's
// REJECT, a router without a route).
const DefaultExecFilter = "tcp or icmp or icmp6"

// Exec runs the program while capturing, finds which connections are its
// own, gives it SSLKEYLOGFILE, and when it exits diagnoses each of its
// connections and correlates the verdicts with the error its standard
// error names. Its error is for a program that could not be started; the
// program's failure is in the result.
//
// The program runs in a cgroup of its own, and a netfilter rule logs the
// first packet of every flow a socket of that cgroup sends: every flow is
// known, even one opened and closed in a millisecond, and no other
// process's. Without root (or cgroup v2, or iptables) the flows are
// sampled from /proc instead, and the result says why.
func Exec(ctx context.Context, cfg ExecConfig) (*ExecResult, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("exec: no command")
	}
	if cfg.Interface == "" {
		cfg.Interface = "any"
	}
	if cfg.Filter == "" {
		cfg.Filter = DefaultExecFilter
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	res := &ExecResult{Command: cfg.Command, Wire: Wire{Interface: cfg.Interface, Filter: cfg.Filter}}
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "SSLKEYLOGFILE="); ok && v != "" {
			res.KeyLog = v
		}
	}
	if res.KeyLog == "" {
		dir, err := os.MkdirTemp("", "tlsdiag-exec-")
		if err != nil {
			return nil, fmt.Errorf("exec: key log directory: %w", err)
		}
		defer os.RemoveAll(dir)
		res.KeyLog = filepath.Join(dir, "keys.txt")
		env = append(slices.Clone(env), "SSLKEYLOGFILE="+res.KeyLog)
	}

	tracker := attribution.Start(cfg.Attribution)
	defer tracker.Close()
	w := newWireCapture(cfg.Interface, cfg.Filter)
	h, err := live.Open(ctx, live.Config{Interface: w.iface, Filter: w.filter, Immediate: true, ReadTimeout: settlePoll})
	if err != nil {
		w.err = err
		close(w.done)
	} else {
		w.handle, w.linkType = h, h.LinkType()
		go w.read()
	}
	stopCapture := func() {
		if w.handle != nil {
			w.handle.Stop()
			<-w.done
			w.handle.Close()
			w.handle = nil
		}
	}
	defer stopCapture()

	tail := &lineTail{max: StderrLines}
	cmd, err := startProgram(ctx, cfg, env, tail, tracker)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("exec: interrupted before %s started: %w", cfg.Command[0], err)
	}
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	waitErr := cmd.Wait()
	res.ExitCode = exitStatus(cmd.ProcessState, waitErr)
	var named []string
	res.StderrTail, named = tail.lines()
	res.Class, res.ErrorLine = classifyStderr(named)
	flows, notes, err := tracker.Finish()
	res.Attribution, res.Fallback, res.Flows = tracker.Method(), tracker.Fallback(), flows
	res.Wire.Notes = append(res.Wire.Notes, notes...)
	if err != nil {
		res.Wire.Notes = append(res.Wire.Notes, "cleaning up: "+err.Error())
	}

	keyLog, _ := os.ReadFile(res.KeyLog)
	res.KeyLogLines = bytes.Count(keyLog, []byte("\n"))
	o := res.outcome()
	if w.err != nil {
		res.Wire.Err = w.err
		res.unseen(&o, cfg.Names)
		res.noteIgnoredProxy(env)
		return res, nil
	}
	settle(w.handle.Stats)
	if st, err := w.handle.Stats(); err == nil && st.DroppedByKernel > 0 {
		res.Wire.Dropped = st.DroppedByKernel
		res.Wire.Notes = append(res.Wire.Notes, fmt.Sprintf("the kernel dropped %d packets: the analysis may lack some", st.DroppedByKernel))
	}
	stopCapture()
	if w.readErr != nil {
		res.Wire.Notes = append(res.Wire.Notes, fmt.Sprintf("the capture stopped early: %v", w.readErr))
	}
	if w.truncated > 0 {
		res.Wire.Notes = append(res.Wire.Notes, fmt.Sprintf("%d frames after the first %d MiB were not analysed", w.truncated, maxCaptureBytes>>20))
	}
	res.Wire.Frames = int64(len(w.frames))
	if cfg.Pcap != nil {
		if err := w.writePcapng(cfg.Pcap, keyLog); err != nil {
			res.Wire.Notes = append(res.Wire.Notes, fmt.Sprintf("writing the capture file: %v", err))
		}
	}
	res.judge(w, keyLog, cfg, &o)
	res.noteIgnoredProxy(env)
	return res, nil
}

// startProgram starts the program in the tracker's cgroup, or, when the
// kernel cannot start it there, as a plain child whose sockets are
// sampled. On ctx's end (Ctrl-C) the program gets SIGTERM, and SIGKILL
// 5 s later.
func startProgram(ctx context.Context, cfg ExecConfig, env []string, tail *lineTail, tracker *attribution.Tracker) (*exec.Cmd, error) {
	newCmd := func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, cfg.Command[0], cfg.Command[1:]...)
		cmd.Env, cmd.Stdin = env, cfg.Stdin
		// A file is handed to the program as it is (a terminal stays a
		// terminal). Other writers are fed by one goroutine per stream;
		// one lock keeps a writer given for both (a buffer) from being
		// written concurrently.
		var mu sync.Mutex
		cmd.Stdout = cfg.Stdout
		if _, isFile := cfg.Stdout.(*os.File); !isFile && cfg.Stdout != nil {
			cmd.Stdout = &lockedWriter{mu: &mu, w: cfg.Stdout}
		}
		cmd.Stderr = tail
		if cfg.Stderr != nil {
			cmd.Stderr = io.MultiWriter(&lockedWriter{mu: &mu, w: cfg.Stderr}, tail)
		}
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 5 * time.Second
		tracker.Prepare(cmd)
		return cmd
	}
	cmd := newCmd()
	err := cmd.Start()
	if err != nil && tracker.Method() == attribution.Cgroup && !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, fs.ErrNotExist) {
		tracker.Demote(err)
		cmd = newCmd()
		err = cmd.Start()
	}
	if err != nil {
		return nil, err
	}
	tracker.Started(cmd.Process.Pid)
	return cmd, nil
}

// exitStatus is the status a shell would report.
func exitStatus(ps *os.ProcessState, waitErr error) int {
	if ps == nil {
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := ps.ExitCode(); code >= 0 {
		return code
	}
	return 1
}

// judge analyses the capture and keeps the program's connections, each
// with its verdict and correlation.
func (r *ExecResult) judge(w *wireCapture, keyLog []byte, cfg ExecConfig, o *Outcome) {
	wireRoots := cfg.WireRoots
	if wireRoots == nil {
		wireRoots = diagnose.PoolRoots(nil)
	}
	roots, err := wireRoots.Pool()
	if err != nil {
		r.Wire.Notes = append(r.Wire.Notes, err.Error())
	}
	kl, _ := decrypt.ParseKeyLog(bytes.NewReader(keyLog))
	pc := pipeline.Config{
		Analysis: analysis.Options{KeyLog: kl},
		Capture:  capture.Options{IdleTimeout: -1},
		Diagnose: diagnose.Config{Roots: wireRoots, SettingNames: cfg.SettingNames, Client: programClient(cfg.Command)},
	}
	results, stats, err := pipeline.Collect(context.Background(), &replay{frames: w.frames, linkType: w.linkType}, pc)
	if err != nil {
		r.Wire.Notes = append(r.Wire.Notes, fmt.Sprintf("analysing the capture: %v", err))
	}
	if more := r.bytelessFlows(w, pc, results); len(more) > 0 {
		results = append(results, more...)
		slices.SortStableFunc(results, func(a, b pipeline.Result) int { return cmp.Compare(a.Conn.First.Number, b.Conn.First.Number) })
	}
	r.Wire.Start = stats.Start
	others := 0
	var wires []Wire
	for _, res := range results {
		c := res.Conn
		if !attribution.Owns(r.Flows, c.Client, c.Server) {
			others++
			continue
		}
		wires = append(wires, Wire{Result: &res, Chain: checkChain(c, roots)})
	}
	r.correlate(wires, o, cfg.Names)
	if others > 0 {
		r.Wire.Notes = append(r.Wire.Notes, fmt.Sprintf("%d other connection(s) in the capture are not the program's and are left out", others))
	}
	if n := len(r.Flows) - len(r.Connections); n > 0 {
		r.Wire.Notes = append(r.Wire.Notes, fmt.Sprintf("%d of the program's flows are not in the capture (another interface, a filter, or not TLS over TCP)", n))
	}
	if len(r.Connections) == 0 {
		r.unseen(o, cfg.Names)
	}
}

// bytelessFlows finds the program's TCP connections that the analysis
// left out because their port is no TLS port it knows and neither end
// sent a byte: refused, unanswered or reset before any data, which is
// judged at the TCP level whatever the protocol (the program may have
// meant TLS on any port). A connection that carried plaintext stays out:
// the program may have meant it.
func (r *ExecResult) bytelessFlows(w *wireCapture, pc pipeline.Config, results []pipeline.Result) []pipeline.Result {
	var missing []attribution.Flow
	var ports []uint16
	for _, f := range r.Flows {
		if f.Proto != attribution.TCP || slices.ContainsFunc(results, func(res pipeline.Result) bool {
			return attribution.Owns([]attribution.Flow{f}, res.Conn.Client, res.Conn.Server)
		}) {
			continue
		}
		missing = append(missing, f)
		ports = append(ports, f.Remote.Port())
	}
	if len(missing) == 0 {
		return nil
	}
	pc.Analysis.TLSPorts = ports
	more, _, _ := pipeline.Collect(context.Background(), &replay{frames: w.frames, linkType: w.linkType}, pc)
	var found []pipeline.Result
	for _, res := range more {
		c := res.Conn
		if attribution.Owns(missing, c.Client, c.Server) && c.ClientSide.Bytes == 0 && c.ServerSide.Bytes == 0 {
			found = append(found, res)
		}
	}
	return found
}

// correlate correlates the program's outcome with the connections it is
// about, and gives the others their verdict alone.
func (r *ExecResult) correlate(wires []Wire, o *Outcome, names Names) {
	about := errorConnections(o, wires, namedEndpoints(r.ErrorLine))
	for i := range wires {
		w := &wires[i]
		c := unrelatedCorrelation(o, w, wires[about[len(about)-1]].Result.Conn)
		if slices.Contains(about, i) {
			c = Correlate(connTarget(w.Result.Conn), o, w, false, names)
		}
		r.Connections = append(r.Connections, ExecConnection{Result: *w.Result, Correlation: c})
	}
}

// programClient is the TLS client the command's program is by its name,
// when the name says (python3 is Python's ssl module, java is JSSE): the
// fixes then name that program's settings, not those of another program
// whose ClientHello looks the same (Python's and curl's are both
// OpenSSL's). "env VAR=VALUE PROGRAM" is PROGRAM.
func programClient(command []string) fingerprint.Client {
	for len(command) > 1 && filepath.Base(command[0]) == "env" {
		i := 1
		for i < len(command) && (strings.Contains(command[i], "=") || strings.HasPrefix(command[i], "-")) {
			i++
		}
		command = command[i:]
	}
	if len(command) == 0 {
		return fingerprint.Client{}
	}
	name := filepath.Base(command[0])
	var s fingerprint.Stack
	switch {
	case name == "curl":
		s = fingerprint.StackCurl
	case strings.HasPrefix(name, "python"):
		s = fingerprint.StackPython
	case name == "node" || name == "nodejs":
		s = fingerprint.StackNode
	case name == "java":
		s = fingerprint.StackJava
	case name == "openssl":
		s = fingerprint.StackOpenSSL
	case name == "gnutls-cli":
		s = fingerprint.StackGnuTLS
	default:
		return fingerprint.Client{}
	}
	return fingerprint.Client{Stack: s, Certainty: fingerprint.Sure, Reason: "it is the program run, " + name}
}

// connTarget is the target a connection of the program was for: the name
// its ClientHello asked for, else the server's address; for a failed DNS
// lookup, whose server is the resolver, the name looked up.
func connTarget(c *analysis.Connection) Target {
	switch {
	case c.DNSFailure != nil:
		return Target{Host: c.DNSFailure.Name}
	case c.ClientHello != nil && c.ClientHello.ServerName != "":
		return Target{Host: c.ClientHello.ServerName, Port: c.Server.Port()}
	case c.Proxy != nil && c.Proxy.Host != "":
		// A tunnel the proxy did not open: its target is the one asked for.
		return Target{Host: c.Proxy.Host, Port: c.Proxy.Port}
	}
	return Target{Host: c.Server.Addr().String(), Port: c.Server.Port()}
}

// unseen correlates the program's error alone: the capture shows none of
// its connections.
func (r *ExecResult) unseen(o *Outcome, names Names) {
	w := Wire{Err: r.Wire.Err}
	if w.Err == nil {
		w.Err = errors.New("the capture shows none of the program's connections")
		if len(r.Flows) == 0 {
			w.Err = errors.New("the program opened no connection that was seen")
		}
	}
	// Only the error line can name what the program looked up, or the
	// target it asked a proxy for.
	t := Target{Host: lookupName(r.ErrorLine)}
	if f, ok := readSOCKSFailure(r.ErrorLine); ok && f.target != "" {
		t = errorTarget(f.target)
	}
	c := Correlate(t, o, &w, false, names)
	r.Unseen = &c
}

// errorTarget is the target "host:port" from an error line names.
func errorTarget(hostPort string) Target {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return Target{Host: hostPort}
	}
	n, _ := strconv.ParseUint(port, 10, 16)
	return Target{Host: host, Port: uint16(n)}
}

// outcome is the program's side as probe's correlation takes it.
func (r *ExecResult) outcome() Outcome {
	o := Outcome{Phase: PhaseDone}
	if r.Class == ClassNone && r.ExitCode == 0 {
		return o
	}
	if n := errorStatus(r.ErrorLine); n != 0 && r.Class == HTTPError {
		// The server answered with an error status the program gave up
		// on (curl -f, wget, Python's HTTPError): TLS and HTTP worked, as
		// they do for a probe that reads that status.
		o.Phase = PhaseHTTP
		o.HTTP = &Response{StatusCode: n, Status: strings.TrimSpace(fmt.Sprintf("%d %s", n, http.StatusText(n)))}
		return o
	}
	o.Class = r.Class
	if o.Class == ClassNone {
		o.Class = Other
	}
	o.Err = errors.New(r.ErrorLine)
	if r.ErrorLine == "" {
		o.Err = fmt.Errorf("exit status %d", r.ExitCode)
	}
	if o.Class.IsProxy() {
		if o.Proxy = errorProxy(r.ErrorLine); o.Proxy != "" {
			o.ProxyFrom = "the program's error"
		}
	}
	switch {
	case o.Class == ConnectionRefused || o.Class == ProxyRefused || o.Class == ConnectTimeout || o.Class == HostUnreachable || o.Class == NetworkUnreachable:
		o.Phase = PhaseConnect
	case o.Class == ProxyConnectFailed || o.Class == ProxyError:
		o.Phase = PhaseProxy
	case o.Class == DNSNotFound || o.Class == DNSError || o.Class == DNSTimeout:
		o.Phase = PhaseResolve
	case o.Class == HTTPError || o.Class == TimeoutAwaitingHeaders:
		o.Phase = PhaseHTTP
	default:
		o.Phase = PhaseTLS
	}
	return o
}

// stderrClasses are the messages of Go (crypto/tls, crypto/x509, net),
// OpenSSL, curl, Node.js, Python and Java that name an error class, most specific first. A line
// names the class when it holds each of texts, each after the one before
// it: common words ("is before") count only after the message that gives
// them their meaning.
var stderrClasses = []struct {
	texts []string
	class Class
}{
	// crypto/x509 has one message for both ends of the validity period;
	// the detail after it says which ("current time … is before …").
	{[]string{"x509: certificate has expired or is not yet valid: current time ", " is before "}, CertNotYetValid},
	{[]string{"x509: certificate has expired or is not yet valid: current time ", " is after "}, CertExpired},
	{[]string{"certificate has expired"}, CertExpired},
	{[]string{"certificate is not yet valid"}, CertNotYetValid},
	{[]string{"certificate signed by unknown authority"}, CertUnknownAuthority},
	{[]string{"unable to get local issuer certificate"}, CertUnknownAuthority},
	{[]string{"self-signed certificate"}, CertUnknownAuthority},
	{[]string{"self signed certificate"}, CertUnknownAuthority},
	// Node.js: OpenSSL's words for a chain missing the leaf's issuer
	// (UNABLE_TO_VERIFY_LEAF_SIGNATURE), its own for a name the
	// certificate does not cover, and the codes an uncaught error shows
	// ("code: 'CERT_HAS_EXPIRED'") or a program prints alone.
	{[]string{"unable to verify the first certificate"}, CertUnknownAuthority},
	{[]string{"unable_to_verify_leaf_signature"}, CertUnknownAuthority},
	{[]string{"self_signed_cert_in_chain"}, CertUnknownAuthority},
	{[]string{"depth_zero_self_signed_cert"}, CertUnknownAuthority},
	{[]string{"unable_to_get_issuer_cert_locally"}, CertUnknownAuthority},
	{[]string{"cert_has_expired"}, CertExpired},
	{[]string{"cert_not_yet_valid"}, CertNotYetValid},
	{[]string{"hostname/ip does not match certificate's altnames"}, CertHostnameMismatch},
	{[]string{"err_tls_cert_altname_invalid"}, CertHostnameMismatch},
	{[]string{"certificate is valid for"}, CertHostnameMismatch},
	{[]string{"no alternative certificate subject name matches"}, CertHostnameMismatch},
	// Python: "certificate verify failed: Hostname mismatch, certificate
	// is not valid for 'NAME'."; Java: "No subject alternative DNS name
	// matching NAME found." (or "No name matching NAME found").
	{[]string{"hostname mismatch, certificate is not valid for"}, CertHostnameMismatch},
	{[]string{"no subject alternative dns name matching"}, CertHostnameMismatch},
	// wget on GnuTLS: "The certificate's owner does not match hostname
	// ‘NAME’", "ERROR: The certificate of ‘NAME’ doesn't have a known
	// issuer."
	{[]string{"certificate's owner does not match hostname"}, CertHostnameMismatch},
	{[]string{"doesn't have a known issuer"}, CertUnknownAuthority},
	{[]string{"no subject alternative names matching"}, CertHostnameMismatch},
	{[]string{"no name matching ", " found"}, CertHostnameMismatch},
	// Java (JSSE): the exception a stack trace ends with ("Caused by:
	// java.security.cert.CertificateExpiredException: NotAfter: …"),
	// and PKIX's words for a chain to no trusted root.
	{[]string{"certificateexpiredexception"}, CertExpired},
	{[]string{"certificatenotyetvalidexception"}, CertNotYetValid},
	{[]string{"unable to find valid certification path to requested target"}, CertUnknownAuthority},
	{[]string{"doesn't match target host name"}, CertHostnameMismatch},
	{[]string{"does not match target host name"}, CertHostnameMismatch},
	// The alert's words, not a version's report: `openssl s_client
	// -brief` prints "Protocol version: TLSv1.3" for a handshake that
	// worked.
	{[]string{"alert protocol version"}, AlertClass(tlsparse.AlertProtocolVersion)},
	{[]string{"protocol version not supported"}, AlertClass(tlsparse.AlertProtocolVersion)},
	{[]string{"handshake failure"}, AlertClass(tlsparse.AlertHandshakeFailure)},
	// The client's own refusal of what an old server chose: OpenSSL 3's
	// "legacy sigalg disallowed or unsupported" (TLS 1.0/1.1 signed with
	// MD5+SHA-1 at its default security level) and "unsupported
	// protocol"; Java's "The server selected protocol version TLS10 is
	// not accepted by client preferences".
	{[]string{"legacy sigalg disallowed or unsupported"}, ClientRejectedVersion},
	{[]string{"unsupported protocol"}, ClientRejectedVersion},
	{[]string{"is not accepted by client preferences"}, ClientRejectedVersion},
	{[]string{"no application protocol"}, AlertClass(tlsparse.AlertNoApplicationProtocol)},
	{[]string{"unrecognized name"}, AlertClass(tlsparse.AlertUnrecognizedName)},
	{[]string{"certificate required"}, AlertClass(tlsparse.AlertCertificateRequired)},
	{[]string{"bad certificate"}, AlertClass(tlsparse.AlertBadCertificate)},
	// curl: "(56) CONNECT tunnel failed, response 403".
	{[]string{"connect tunnel failed"}, ProxyConnectFailed},
	{[]string{"proxy connect aborted"}, ProxyError},
	// Node.js names libuv's error codes: "getaddrinfo ENOTFOUND NAME",
	// "getaddrinfo EAI_AGAIN NAME" (the resolver failed or did not
	// answer), "connect ECONNREFUSED ADDR", "read ECONNRESET", "connect
	// ETIMEDOUT ADDR" (the kernel gave up its SYNs), "connect EHOSTUNREACH
	// ADDR".
	{[]string{"enotfound"}, DNSNotFound},
	{[]string{"eai_again"}, DNSError},
	{[]string{"econnrefused"}, ConnectionRefused},
	{[]string{"econnreset"}, ConnectionReset},
	{[]string{"connect etimedout"}, ConnectTimeout},
	{[]string{"etimedout"}, Timeout},
	{[]string{"ehostunreach"}, HostUnreachable},
	{[]string{"connection refused"}, ConnectionRefused},
	{[]string{"couldn't connect to server"}, ConnectionRefused},
	{[]string{"connection reset by peer"}, ConnectionReset},
	{[]string{"recv failure"}, ConnectionReset},
	// OpenSSL's "unexpected eof while reading"; Go's io.ErrUnexpectedEOF
	// ends a line (classifyStderrLine). Python's "SyntaxError:
	// unexpected EOF while parsing" is the program's own bug.
	{[]string{"unexpected eof while reading"}, ConnectionClosed},
	// Python: "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in
	// violation of protocol"; Java: "Remote host terminated the
	// handshake".
	{[]string{"eof occurred in violation of protocol"}, ConnectionClosed},
	{[]string{"remote host terminated the handshake"}, ConnectionClosed},
	// curl on OpenSSL: "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in
	// connection to HOST:PORT" is an end of the connection OpenSSL did
	// not expect (a reset is "Connection reset by peer").
	{[]string{"ssl_error_syscall"}, ConnectionClosed},
	// GnuTLS: "The TLS connection was non-properly terminated.".
	{[]string{"tls connection was non-properly terminated"}, ConnectionClosed},
	// Node.js, for a close before the handshake ended (its code says
	// ECONNRESET whether a FIN or a RST ended it).
	{[]string{"socket disconnected before secure tls connection was established"}, ConnectionClosed},
	{[]string{"timeout awaiting response headers"}, TimeoutAwaitingHeaders},
	// Go: "lookup NAME on SERVER: read udp …: i/o timeout"; curl:
	// "(28) Resolving timed out after N milliseconds".
	{[]string{"lookup ", "i/o timeout"}, DNSTimeout},
	{[]string{"lookup ", "server misbehaving"}, DNSError},
	{[]string{"resolving timed out"}, DNSTimeout},
	// curl: "(28) Failed to connect to HOST port N after N ms: Timeout was
	// reached" is the TCP connection; its "(28) Connection timed out after
	// N milliseconds" may be the TLS handshake too, a timeout. Go: "dial
	// tcp ADDR: i/o timeout" (the dialer's deadline) and "dial tcp ADDR:
	// connect: connection timed out" (the kernel gave up its SYNs).
	{[]string{"failed to connect to ", "timeout was reached"}, ConnectTimeout},
	{[]string{"failed to connect to ", "connection timed out"}, ConnectTimeout},
	{[]string{"dial tcp", "i/o timeout"}, ConnectTimeout},
	{[]string{"connect: connection timed out"}, ConnectTimeout},
	{[]string{"timeout was reached"}, Timeout},
	{[]string{"ssl connection timeout"}, Timeout},
	{[]string{"timed out"}, Timeout},
	{[]string{"i/o timeout"}, Timeout},
	{[]string{"deadline exceeded"}, Timeout},
	{[]string{"could not resolve host"}, DNSNotFound},
	{[]string{"could not resolve proxy"}, DNSNotFound},
	{[]string{"no such host"}, DNSNotFound},
	{[]string{"first record does not look like a tls handshake"}, NotTLS},
	{[]string{"wrong version number"}, NotTLS},
	// net/http: "Get …: http: server gave HTTP response to HTTPS client".
	{[]string{"server gave http response to https client"}, NotTLS},
	// Java: "javax.net.ssl.SSLException: Unrecognized SSL message,
	// plaintext connection?".
	{[]string{"unrecognized ssl message, plaintext connection"}, NotTLS},
}

// classifyStderr finds the last line of the program's standard error that
// names an error class. A property line of an error Node.js printed
// ("  code: 'ECONNREFUSED',") counts only when no other line names one:
// the message above it says more.
func classifyStderr(lines []string) (class Class, line string) {
	for _, properties := range []bool{false, true} {
		for i := len(lines) - 1; i >= 0; i-- {
			if nodeProperty().MatchString(lines[i]) && !properties {
				continue
			}
			if c := classifyStderrLine(lines[i]); c != ClassNone {
				return c, lines[i]
			}
		}
	}
	return ClassNone, line
}

// nodeProperty is a line of the properties Node.js prints after an
// uncaught error's message and stack: "  code: 'ENOTFOUND',".
var nodeProperty = lazyRegexp(`^\s+[a-zA-Z_]+: `)

// classifyStderrLine returns the class one line of the program's standard
// error names, ClassNone when it names none.
func classifyStderrLine(line string) Class {
	l := strings.ToLower(line)
	c := ClassNone
	for _, sc := range stderrClasses {
		if containsInOrder(l, sc.texts) {
			c = sc.class
			break
		}
	}
	if c == ClassNone {
		c = classifyTLSMessage(line)
	}
	if m := javaAlertPattern().FindStringSubmatch(l); m != nil && c == ClassNone {
		for d := range 256 {
			if a := tlsparse.AlertDescription(d); a.String() == m[1] {
				c = AlertClass(a)
				break
			}
		}
	}
	if m := gnutlsAlertPattern().FindStringSubmatch(l); m != nil && c == ClassNone {
		if n, err := strconv.ParseUint(m[1], 10, 8); err == nil {
			c = AlertClass(tlsparse.AlertDescription(n))
		}
	}
	switch {
	case c != ClassNone:
	case errorStatus(line) != 0:
		c = HTTPError
	case strings.HasSuffix(line, ": EOF"), strings.HasSuffix(line, ": unexpected EOF"):
		// Go's io.EOF (io.ErrUnexpectedEOF) ends the error of a read the
		// server's close met: `Get "https://host/": EOF`.
		c = ConnectionClosed
	case strings.HasSuffix(l, "java.net.connectexception"):
		// java.net.http.HttpClient's refused connection has no message:
		// `Exception in thread "main" java.net.ConnectException`.
		c = ConnectionRefused
	}
	if f, ok := readSOCKSFailure(line); ok && f.refused() {
		// "socks connect tcp PROXY->TARGET: unknown error connection
		// refused" is the proxy's reply that it could not reach the
		// target (a SOCKS reply code), not a refusal of the proxy's own
		// port; a refusal of the credentials is the proxy's answer too.
		return ProxyConnectFailed
	}
	switch {
	case strings.Contains(l, "proxyconnect "), strings.Contains(l, "socks connect "):
		// net/http wraps every failure reaching or talking to an HTTP
		// proxy in a "proxyconnect" error, as Classify reads it, and its
		// SOCKS dialer in a "socks connect" one ("dial tcp PROXY:
		// connect: connection refused").
		return proxyConnectClass(c)
	case c == ClassNone && goConnectRefusal(line):
		return ProxyConnectFailed
	}
	return c
}

// errorStatusPattern finds the HTTP error status a program reports:
// curl -f's "(22) The requested URL returned error: 404", wget's "ERROR
// 404: Not Found.", urllib's "HTTPError: HTTP Error 404: Not Found",
// requests' "HTTPError: 404 Client Error: Not Found for url: …".
var errorStatusPattern = lazyRegexp(`(?i)(?:returned error: |\berror )([45][0-9][0-9])\b|\b([45][0-9][0-9]) (?:client|server) error: `)

// errorStatus returns the HTTP error status the line reports, 0 when it
// reports none.
func errorStatus(line string) int {
	m := errorStatusPattern().FindStringSubmatch(line)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1] + m[2])
	return n
}

// javaAlertPattern finds the alert JSSE says the server sent, by its RFC
// name: "javax.net.ssl.SSLHandshakeException: Received fatal alert:
// protocol_version".
var javaAlertPattern = lazyRegexp(`received fatal alert: ([a-z0-9_]+)`)

// gnutlsAlertPattern finds the alert GnuTLS says the server sent, by its
// number: "GnuTLS: received alert [40]: Handshake failed".
var gnutlsAlertPattern = lazyRegexp(`received alert \[([0-9]+)\]`)

// goConnectRefusal recognises net/http's report of a proxy's refusal of
// CONNECT: the request's error ends with the bare reason phrase after the
// URL (`Get "https://host/": Forbidden`), as classifyProxy reads it.
func goConnectRefusal(line string) bool {
	i := strings.LastIndex(line, `": `)
	return i >= 0 && statusFromText(strings.TrimSpace(line[i+len(`": `):])) != 0
}

// goProxyDialPattern finds the proxy net/http could not reach:
// "proxyconnect tcp: dial tcp PROXY: …".
var goProxyDialPattern = lazyRegexp(`proxyconnect tcp: dial tcp[46]? (\S+): `)

// errorProxy returns the proxy's address a program's error line names: Go's
// SOCKS dialer's "socks connect tcp PROXY->TARGET", net/http's
// "proxyconnect tcp: dial tcp PROXY"; "" when it names none.
func errorProxy(line string) string {
	if f, ok := readSOCKSFailure(line); ok && f.proxy != "" {
		return f.proxy
	}
	if m := goProxyDialPattern().FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}

// lookupNamePattern finds the name a failed lookup was for: curl's
// "Could not resolve host: NAME" (or "proxy: NAME"), Go's "lookup NAME on
// SERVER: …" and "lookup NAME: …", urllib3's "Failed to resolve 'NAME'",
// Node.js's "getaddrinfo ENOTFOUND NAME".
var lookupNamePattern = lazyRegexp(`(?i)(?:could not resolve (?:host|proxy): |\blookup |failed to resolve '|getaddrinfo (?:enotfound|eai_again) )([^\s':"]+)`)

// lookupName returns the name the program's error line says it could not
// look up, "" when the line names none.
func lookupName(line string) string {
	if m := lookupNamePattern().FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}

// containsInOrder reports whether s holds each of texts, each after the
// one before it.
func containsInOrder(s string, texts []string) bool {
	for _, t := range texts {
		i := strings.Index(s, t)
		if i < 0 {
			return false
		}
		s = s[i+len(t):]
	}
	return true
}

// lockedWriter serialises writes to w with a lock it may share.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// lineTail keeps the last lines written to it, and the last of those
// that name an error class however long ago they came: after an uncaught
// error's message Node.js prints its properties, a certificate's dozens
// of lines among them.
type lineTail struct {
	mu      sync.Mutex
	max     int
	partial []byte
	tail    []string
	named   []string
}

func (t *lineTail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > 4096 {
		t.add(string(t.partial))
		t.partial = nil
	}
	return len(b), nil
}

func (t *lineTail) add(l string) {
	l = strings.TrimRight(l, "\r")
	if len(l) > 1024 {
		l = l[:1024]
	}
	t.tail = keepLast(append(t.tail, l), t.max)
	if classifyStderrLine(l) != ClassNone {
		t.named = keepLast(append(t.named, l), t.max)
	}
}

// keepLast returns the last n of lines.
func keepLast(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// lines returns the last lines, and the last that name an error class.
func (t *lineTail) lines() (tail, named []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.add(string(t.partial))
		t.partial = nil
	}
	return slices.Clone(t.tail), slices.Clone(t.named)
}
