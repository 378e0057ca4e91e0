package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/probe"
	"github.com/tlsdiag/tlsdiag/report"
)

const probeUsage = `Usage: tlsdiag probe [flags] URL|HOST:PORT

Makes an HTTPS request (for a URL) or a TLS handshake (for HOST:PORT) while
capturing its own packets, then explains the outcome from both ends: the
error the client got (classified), the connection as the capture shows it
(verdict, evidence frames) and whether the two agree, with the cause and the
fix. The client's TLS secrets are kept in memory to decrypt TLS 1.3.

An http:// URL makes a plain request and says whether the port speaks TLS
(nginx's "plain HTTP request was sent to HTTPS port", a TLS alert).

A redirect is the answer (its Location shown) unless -L: then each one is
followed, as curl does, with a probe of its own, and the report is the last
request's, its connection captured and judged (a redirect to a host whose
certificate is expired blames that connection); the earlier requests are
listed. --max-redirs caps them (50); one more is a failure.

The proxy is --proxy, else HTTPS_PROXY and NO_PROXY as Go's net/http reads
them (never for localhost; HTTP_PROXY and ALL_PROXY are not read for
https://); when the environment names a proxy the request does not use, the
report says why. An http:// proxy is asked for a CONNECT tunnel, a
socks5:// or socks5h:// one with SOCKS5, and the capture shows that
exchange. An https:// proxy (port 443 by default) gets a TLS handshake of
its own first, for its host name, checked against the system roots or
--proxy-cacert (--cacert is for the target, as in curl), then the CONNECT
inside it: the capture shows the proxy's TLS, not the target's handshake
within it, and the correlation says so (agreement inside_proxy_tls). SOCKS4
proxies are not spoken to (Go's net/http does not speak SOCKS4 either): run
the real client under tlsdiag exec, which reads any proxy on the wire.

Capturing needs root or CAP_NET_RAW; without them the request still runs
and the report gives the client's view only.

Examples:
    tlsdiag probe https://example.com/
    tlsdiag probe --cacert ca.pem --resolve good.test:8443:127.0.0.1 https://good.test:8443/
    tlsdiag probe --tls-max 1.2 --scan mail.example.com:993
    tlsdiag probe --format json -w probe.pcap --keylog keys.txt https://example.com/
    tlsdiag probe -w probe.pcapng https://example.com/   # opens decrypted in Wireshark
    tlsdiag probe --proxy http://127.0.0.1:3128 https://example.com/
    tlsdiag probe --proxy https://proxy.corp:8443 --proxy-cacert corp-ca.pem https://example.com/
    HTTPS_PROXY=socks5://user:password@127.0.0.1:1080 tlsdiag probe https://example.com/
    tlsdiag probe -L https://example.com/old-path
    tlsdiag probe --bisect https://example.com/
    tlsdiag probe --bisect=version,groups,mss --max-time 5 example.com:443

--bisect re-runs a failing request with one thing changed at a time, each
attempt captured and diagnosed, and says which change makes it work. The
factors, tried in this order: version (TLS 1.3 only, 1.2 only, 1.0-1.1),
groups (no post-quantum share, P-256 only, X25519 only), ciphers (ECDHE,
CBC, RSA key exchange suites), sni (none, the name), alpn (none, h2,
http/1.1), size (minimal ClientHello, padded past one segment), mss (TCP
MSS clamped to 1200 and 536, Linux), address (each resolved address),
proxy (direct), cert (no client certificate). At most 25 attempts, each
with --max-time; it stops once the change that works is isolated.

Exit status: 0 the request succeeded (its handshake completed), 1 it failed,
2 usage error.

Error classes (client.error_class in JSON): dns_not_found, dns_timeout,
dns_error, proxy_refused, proxy_connect_failed, proxy_error,
connection_refused, connect_timeout, host_unreachable, network_unreachable,
connection_reset, connection_closed, timeout, timeout_awaiting_headers,
canceled, not_tls, cert_unknown_authority, cert_expired, cert_not_yet_valid,
cert_hostname_mismatch, cert_not_authorized_to_sign, cert_incompatible_usage,
cert_name_constraints, cert_insecure_algorithm, cert_invalid,
client_rejected_version, client_rejected_cipher, client_rejected_alpn,
downgrade_detected, renegotiation_refused, tls_error, http_error, other, and
tls_alert_NAME for a fatal alert from the server (tls_alert_protocol_version,
…).

Flags:`

func init() {
	commands["probe"] = command{usage: probeUsage, run: runProbe}
}

func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		formatFlag     string
		caFlags        []string
		insecure       bool
		certFile       string
		keyFile        string
		tlsMin, tlsMax string
		ciphers        string
		curves         string
		alpn           string
		serverName     string
		resolveFlags   []string
		connectTimeout string
		maxTime        string
		method         string
		headers        []string
		data           []string
		proxyFlag      string
		proxyCAFlags   []string
		proxyInsecure  bool
		showBody       bool
		keyLogFile     string
		pcapFile       string
		iface          string
		scan           bool
		bisectFlag     string
		follow         bool
		maxRedirs      int
	)
	fs.StringVarP(&formatFlag, "format", "o", "table", "output `format`: table, json or trace")
	fs.StringArrayVar(&caFlags, flagCACert, nil, "trust only the CA certificates in this PEM `file` (repeatable; replaces the system roots, as curl's does)")
	fs.BoolVarP(&insecure, flagInsecure, shortInsecure, false, "do not verify the server's certificate (every report says so)")
	fs.StringVar(&certFile, flagCert, "", "client certificate `file` (PEM, chain included)")
	fs.StringVar(&keyFile, flagKey, "", "private key `file` of --cert (PEM; default: the --cert file)")
	fs.StringVar(&tlsMin, flagTLSMin, "", "lowest TLS `version` to offer: 1.0, 1.1, 1.2 or 1.3 (default 1.2)")
	fs.StringVar(&tlsMax, flagTLSMax, "", "highest TLS `version` to offer (default 1.3)")
	fs.StringVar(&ciphers, flagCiphers, "", "TLS 1.0–1.2 cipher suites to offer, IANA names, comma-separated")
	fs.StringVar(&curves, flagCurves, "", "key exchange `groups` to offer, comma-separated (X25519, P-256, X25519MLKEM768, …)")
	fs.StringVar(&alpn, flagALPN, "", "ALPN `protocols` to offer, comma-separated (default for URLs: h2,http/1.1)")
	fs.StringVar(&serverName, flagServerName, "", "send this `name` as SNI and verify the certificate for it")
	fs.StringArrayVar(&resolveFlags, flagResolve, nil, "use `host:port:addr` instead of resolving host (repeatable)")
	fs.StringVar(&connectTimeout, "connect-timeout", "", "give up a TCP connection attempt after this `duration` (10s; plain numbers are seconds)")
	fs.StringVarP(&maxTime, flagMaxTime, "m", "", "give up the whole request after this `duration` (30s; plain numbers are seconds)")
	fs.StringVarP(&method, "request", "X", "", "HTTP `method` (default GET, or POST with -d)")
	fs.StringArrayVarP(&headers, "header", "H", nil, "add an HTTP header, `\"Name: value\"` (repeatable)")
	fs.StringArrayVarP(&data, "data", "d", nil, "send this request body (@FILE reads it from a file as is, as curl's --data-binary does; repeated, the parts are joined with &, as curl's are)")
	fs.BoolVarP(&follow, "location", "L", false, "follow redirects (3xx with a Location) as curl -L does, each with a probe of its own: the report is the last request's, its connection captured and judged, the earlier ones listed")
	fs.IntVar(&maxRedirs, "max-redirs", probe.DefaultMaxRedirects, "with -L, follow at most this many redirects; one more is a failure (exit status 1)")
	fs.StringVar(&proxyFlag, flagProxy, "", "tunnel through this proxy `URL`: http:// (CONNECT), https:// (CONNECT inside TLS to the proxy), socks5:// or socks5h:// (SOCKS5; both let the proxy resolve the name, as in Go), user:password@ for its credentials; \"\" ignores HTTPS_PROXY (which is honoured by default, with NO_PROXY)")
	fs.StringArrayVar(&proxyCAFlags, flagProxyCA, nil, "trust only the CA certificates in this PEM `file` for an https:// proxy's own certificate (repeatable; default: the system roots)")
	fs.BoolVar(&proxyInsecure, flagProxyInsec, false, "do not verify an https:// proxy's own certificate (every report says so)")
	fs.BoolVar(&showBody, "show-body", false, "print the response body (at most 1 MiB; escaped on a terminal, raw to a pipe or file)")
	fs.StringVar(&keyLogFile, flagKeyLog, "", "also append the connection's TLS secrets to this `file` (SSLKEYLOGFILE format, mode 0600)")
	fs.StringVarP(&pcapFile, flagWrite, shortWrite, "", "keep the capture in this pcap `file` (frame numbers in the report are its); a name ending in .pcapng gets pcapng with the TLS secrets embedded")
	fs.StringVarP(&iface, "interface", "i", "", "capture on this `interface` (default: the one that routes to the target)")
	fs.BoolVar(&scan, flagScan, false, "when the handshake fails on version or cipher, try each TLS version, cipher family (ECDHE, RSA key exchange, 3DES, CBC) and group, then what crypto/tls cannot offer (DHE, SHA-1 signatures, AES-256-CBC-SHA384/SHA256, Camellia and ARIA suites, X448/FFDHE groups, CCM), and report which the server accepts")
	fs.StringVar(&bisectFlag, "bisect", "", "when the request fails, re-run it changing one `factor` at a time and say which change makes it work (all, or some of version,groups,ciphers,sni,alpn,size,mss,address,proxy,cert)")
	fs.Lookup("bisect").NoOptDefVal = "all"
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprintf(stdout, "%s\n%s", probeUsage, fs.FlagUsages())
			return 0
		}
		hint := "run 'tlsdiag help probe' for the flags"
		if eq := curlEquivalent(err.Error()); eq != "" {
			hint = eq + "; " + hint
		}
		return usageError(stderr, err.Error(), hint)
	}
	format, err := report.ParseFormat(formatFlag)
	switch {
	case err != nil || !slices.Contains(probe.Formats, format):
		return usageError(stderr, fmt.Sprintf("unknown format %q for probe", formatFlag), "use one of table, json, trace (-o is --format here, not curl's output file: --show-body writes the body to standard output)")
	case fs.NArg() == 0:
		return usageError(stderr, "no target given", "name a URL (https://host/path) or HOST:PORT")
	case fs.NArg() > 1:
		return usageError(stderr, fmt.Sprintf("one target at a time, got %d", fs.NArg()), "run tlsdiag probe once per target")
	case insecure && len(caFlags) > 0:
		return usageError(stderr, "-k/--insecure can't be used with --cacert", "--insecure skips verification, so --cacert would have no effect: drop one")
	case keyFile != "" && certFile == "":
		return usageError(stderr, "--key needs --cert", "give the client certificate with --cert FILE")
	case fs.Changed("max-redirs") && !follow:
		return usageError(stderr, "--max-redirs needs -L", "add -L to follow redirects")
	case maxRedirs < 0:
		return usageError(stderr, fmt.Sprintf("--max-redirs %d: want 0 or more", maxRedirs), "e.g. -L --max-redirs 5")
	case follow && fs.Changed("bisect"):
		return usageError(stderr, "-L can't be used with --bisect", "probe the URL the redirects lead to with --bisect")
	case proxyInsecure && len(proxyCAFlags) > 0:
		return usageError(stderr, "--proxy-insecure can't be used with --proxy-cacert", "--proxy-insecure skips the proxy's verification, so --proxy-cacert would have no effect: drop one")
	}
	target, err := probe.ParseTarget(fs.Arg(0))
	if err != nil {
		return usageError(stderr, err.Error(), "name a URL (https://host/path) or HOST:PORT")
	}
	cfg := probe.Config{
		Target: target, Insecure: insecure, ProxyInsecure: proxyInsecure, ServerName: serverName, ShowBody: showBody,
		Scan: scan, Interface: iface, UserAgent: "tlsdiag/" + version,
		Trace: format == report.FormatTrace, SettingNames: settingFlags, Names: probeSettingFlags,
	}
	if fs.Changed("bisect") {
		if cfg.Bisect, err = probe.ParseFactors(bisectFlag); err != nil {
			return usageError(stderr, "--bisect: "+err.Error(), "e.g. --bisect or --bisect=version,groups,mss")
		}
	}
	if msg, hint := parseTLSFlags(&cfg, tlsMin, tlsMax, ciphers, curves, alpn); msg != "" {
		return usageError(stderr, msg, hint)
	}
	if msg, hint := parseNetFlags(&cfg, fs, resolveFlags, connectTimeout, maxTime, proxyFlag); msg != "" {
		return usageError(stderr, msg, hint)
	}
	if cfg.Proxy != nil && cfg.Proxy.Scheme != "https" && (proxyInsecure || len(proxyCAFlags) > 0) {
		return usageError(stderr, fmt.Sprintf("--proxy-cacert and --proxy-insecure are for an https:// proxy, not %s://", cfg.Proxy.Scheme),
			"the target's certificate is --cacert's and -k's; drop the --proxy- flag, or name the proxy https://")
	}
	if msg, hint := parseHTTPFlags(&cfg, target, method, headers, data); msg != "" {
		return usageError(stderr, msg, hint)
	}
	if err := loadProbeFiles(&cfg, caFlags, proxyCAFlags, certFile, keyFile); err != nil {
		failure(stderr, err)
		return 2
	}
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	// The file name says the format: pcap unless it ends in .pcapng.
	cfg.PcapNG = strings.HasSuffix(strings.ToLower(pcapFile), ".pcapng")
	for _, out := range []struct {
		path, flag string
		dst        *io.Writer
	}{{keyLogFile, "--keylog", &cfg.KeyLog}, {pcapFile, "-w", &cfg.Pcap}} {
		if out.path == "" {
			continue
		}
		f, err := os.OpenFile(out.path, os.O_WRONLY|os.O_CREATE|appendOrTruncate(out.flag), 0o600)
		if err != nil {
			failure(stderr, fmt.Errorf("%s: %w", out.flag, err))
			return 2
		}
		*out.dst = f
		closers = append(closers, f.Close)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var res *probe.Result
	if follow {
		res, err = probe.Follow(ctx, cfg, maxRedirs)
	} else {
		res, err = probe.Run(ctx, cfg)
	}
	var schemeErr *probe.ProxySchemeError
	if errors.As(err, &schemeErr) {
		return usageError(stderr, err.Error(), proxySchemeHint(schemeErr, target))
	}
	if err != nil {
		failure(stderr, err)
		return 2
	}
	if res.Wire.Err != nil && res.Client.Remote.IsValid() {
		say(stderr, "warning: no wire view, the report shows the client's side only: %v", res.Wire.Err)
	}
	if res.Wire.Err != nil && pcapFile != "" {
		// Nothing was captured: an empty file would pass for a capture.
		os.Remove(pcapFile)
	}
	if err := probe.Write(stdout, format, res, probe.WriteOptions{RawBody: !isTerminalWriter(stdout), Names: probeSettingFlags}); err != nil {
		failure(stderr, err)
		return 2
	}
	if !res.OK() {
		return 1
	}
	return 0
}

// curlFlags are curl's flags that probe spells otherwise or does not
// need, with what to use instead.
var curlFlags = map[string]string{
	"--tlsv1":                 "use --tls-min 1.0",
	"--tlsv1.0":               "use --tls-min 1.0",
	"--tlsv1.1":               "use --tls-min 1.1",
	"--tlsv1.2":               "use --tls-min 1.2",
	"--tlsv1.3":               "use --tls-min 1.3",
	"--sslv3":                 "not available, crypto/tls does not speak SSL 3.0",
	"--http1.1":               "use --alpn http/1.1",
	"--http2":                 "not needed here, h2 is offered by default (--alpn h2,http/1.1); --alpn h2 offers it alone",
	"--http2-prior-knowledge": "use --alpn h2 (h2 without TLS is not probed)",
	"-I":                      "use -X HEAD",
	"--head":                  "use -X HEAD",
	"-x":                      "use --proxy URL",
	"--connect-to":            "use --resolve HOST:PORT:ADDR (same port as the URL's)",
	"-v":                      "not needed here, the report shows the connection, --format trace every message",
	"--verbose":               "not needed here, the report shows the connection, --format trace every message",
	"-s":                      "not needed here, the probe prints its report only",
	"--silent":                "not needed here, the probe prints its report only",
	"--output":                "use --show-body, which writes the body to standard output",
	"-A":                      `use -H "User-Agent: …"`,
	"--user-agent":            `use -H "User-Agent: …"`,
	"--data-raw":              "use -d",
	"--data-binary":           "use -d, which reads @FILE as is",
	"--location-trusted":      "use -L; headers given with -H other than Authorization, Cookie and Host go to every host",
}

// curlEquivalent names what to use for the unknown curl flag pflag's
// error names ("unknown flag: --tlsv1.2", "unknown shorthand flag: 'I'
// in -I"), or "".
func curlEquivalent(msg string) string {
	var flag string
	switch {
	case strings.HasPrefix(msg, "unknown flag: "):
		flag = strings.TrimPrefix(msg, "unknown flag: ")
	case strings.HasPrefix(msg, "unknown shorthand flag: '") && len(msg) > len("unknown shorthand flag: 'x"):
		flag = "-" + msg[len("unknown shorthand flag: '"):][:1]
	}
	if eq, ok := curlFlags[flag]; ok {
		return fmt.Sprintf("curl's %s: %s", flag, eq)
	}
	return ""
}

// appendOrTruncate: a key log is appended to, as SSLKEYLOGFILE is by every
// TLS library; a capture file starts over.
func appendOrTruncate(flag string) int {
	if flag == "--keylog" {
		return os.O_APPEND
	}
	return os.O_TRUNC
}

// parseTLSFlags reads the TLS parameter flags into cfg; a non-empty msg is
// a usage error.
func parseTLSFlags(cfg *probe.Config, tlsMin, tlsMax, ciphers, curves, alpn string) (msg, hint string) {
	var err error
	if tlsMin != "" {
		if cfg.MinVersion, err = probe.ParseVersion(tlsMin); err != nil {
			return "--tls-min: " + err.Error(), ""
		}
	}
	if tlsMax != "" {
		if cfg.MaxVersion, err = probe.ParseVersion(tlsMax); err != nil {
			return "--tls-max: " + err.Error(), ""
		}
	}
	if cfg.MinVersion != 0 && cfg.MaxVersion != 0 && cfg.MinVersion > cfg.MaxVersion {
		return fmt.Sprintf("--tls-min %s is above --tls-max %s", tlsMin, tlsMax), "swap them, or drop one"
	}
	if ciphers != "" {
		if cfg.CipherSuites, err = probe.ParseCipherSuites(ciphers); err != nil {
			return "--ciphers: " + err.Error(), "the names are IANA's, as Go's tls.CipherSuites() lists them"
		}
	}
	if curves != "" {
		if cfg.Curves, err = probe.ParseCurves(curves); err != nil {
			return "--curves: " + err.Error(), ""
		}
	}
	if alpn != "" {
		for _, p := range strings.Split(alpn, ",") {
			if p = strings.TrimSpace(p); p == "" || len(p) > 255 {
				return fmt.Sprintf("--alpn %q: empty or overlong protocol name", alpn), "e.g. --alpn h2,http/1.1"
			}
			cfg.ALPN = append(cfg.ALPN, p)
		}
	}
	return "", ""
}

func parseNetFlags(cfg *probe.Config, fs *pflag.FlagSet, resolves []string, connectTimeout, maxTime, proxy string) (msg, hint string) {
	for _, r := range resolves {
		res, err := probe.ParseResolve(r)
		if err != nil {
			return flagRef(flagResolve) + " " + err.Error(), "e.g. --resolve example.com:443:127.0.0.1"
		}
		cfg.Resolve = append(cfg.Resolve, res)
	}
	var err error
	if cfg.ConnectTimeout, err = parseSeconds(connectTimeout); err != nil {
		return "--connect-timeout: " + err.Error(), "e.g. --connect-timeout 5s or 5"
	}
	if cfg.MaxTime, err = parseSeconds(maxTime); err != nil {
		return "--max-time: " + err.Error(), "e.g. --max-time 30s or 30"
	}
	if fs.Changed("proxy") {
		if proxy == "" {
			cfg.NoProxyEnv = true
		} else {
			if !strings.Contains(proxy, "://") {
				proxy = "http://" + proxy // curl's default scheme
			}
			u, err := url.Parse(proxy)
			if err != nil || u.Host == "" {
				return fmt.Sprintf("--proxy %q: not a proxy URL", proxy), "e.g. --proxy http://127.0.0.1:3128"
			}
			if !slices.Contains(probe.ProxySchemes, u.Scheme) {
				err := &probe.ProxySchemeError{From: flagRef(flagProxy), Proxy: u.Redacted(), Scheme: u.Scheme}
				return err.Error(), proxySchemeHint(err, cfg.Target)
			}
			cfg.Proxy = u
		}
	}
	return "", ""
}

// proxySchemeHint points a user whose proxy the probe does not speak to
// (https://, SOCKS4) at what does analyse it: the real client under exec,
// which reads any proxy on the wire; and at the direct path.
func proxySchemeHint(err *probe.ProxySchemeError, t probe.Target) string {
	to := "https://" + t.HostPort() + "/"
	if t.URL != nil {
		to = t.String()
	}
	direct := `use --proxy ""`
	if err.From == flagRef(flagProxy) {
		direct = "leave out --proxy"
	}
	return fmt.Sprintf("to analyse the connection through this proxy, run the real client under tlsdiag exec, which reads any proxy on the wire (e.g. tlsdiag exec -- curl -x %s %s); to test the direct path, %s", err.Proxy, to, direct)
}

// parseSeconds reads a duration as curl's timeouts take it (seconds, with
// a fraction) or as Go writes it ("1.5s", "200ms"). "" is zero: the default.
func parseSeconds(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 {
			return 0, fmt.Errorf("%q: want a positive duration", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 5s or 500ms", s)
	}
	return d, nil
}

func parseHTTPFlags(cfg *probe.Config, target probe.Target, method string, headers []string, data []string) (msg, hint string) {
	if target.URL == nil && (method != "" || len(headers) > 0 || len(data) > 0) {
		return "-X, -H and -d need a URL target, not HOST:PORT", "write the target as https://host:port/path"
	}
	cfg.Method = strings.ToUpper(method)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return fmt.Sprintf("-H %q: want \"Name: value\"", h), ""
		}
		if cfg.Header == nil {
			cfg.Header = http.Header{}
		}
		cfg.Header.Add(name, strings.TrimSpace(value))
	}
	// Repeated -d parts are joined with '&', as curl joins them.
	for i, d := range data {
		if i > 0 {
			cfg.Body = append(cfg.Body, '&')
		}
		if path, ok := strings.CutPrefix(d, "@"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return "-d: " + err.Error(), ""
			}
			d = string(b)
		}
		cfg.Body = append(cfg.Body, d...)
	}
	return "", ""
}

// loadProbeFiles reads the trust stores and the client certificate.
func loadProbeFiles(cfg *probe.Config, caFiles, proxyCAFiles []string, certFile, keyFile string) error {
	pems, pool, err := loadCAFiles(flagRef(flagCACert), caFiles)
	if err != nil {
		return err
	}
	cfg.RootCAs = pool
	proxyPEMs, proxyPool, err := loadCAFiles(flagRef(flagProxyCA), proxyCAFiles)
	if err != nil {
		return err
	}
	cfg.ProxyRootCAs = proxyPool
	// The wire is judged as `tlsdiag read --cacert` would: the system
	// roots plus --cacert, so a chain the client alone distrusts shows.
	// An https:// proxy's own TLS, when the capture's verdict is about
	// it, is judged with --proxy-cacert too.
	if cfg.WireRoots, err = wireRoots(pems); err != nil {
		return fmt.Errorf("--cacert: %w", err)
	}
	if len(proxyPEMs) > 0 {
		if cfg.ProxyWireRoots, err = wireRoots(append(slices.Clip(pems), proxyPEMs...)); err != nil {
			return fmt.Errorf("--proxy-cacert: %w", err)
		}
	}
	if certFile != "" {
		if keyFile == "" {
			keyFile = certFile
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return nil
}

// loadCAFiles reads the PEM files of a trust store flag; the pool is nil
// when there are none (the system roots).
func loadCAFiles(flag string, files []string) ([][]byte, *x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil, nil
	}
	var pems [][]byte
	pool := x509.NewCertPool()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", flag, err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, nil, fmt.Errorf("%s %s: no PEM certificate in it", flag, f)
		}
		pems = append(pems, b)
	}
	return pems, pool, nil
}

// wireRoots is the trust store the capture is judged by: the system roots
// plus the PEM blocks given.
func wireRoots(pems [][]byte) (*x509.CertPool, error) {
	roots, err := diagnose.LoadRoots(true, pems...)
	if err != nil {
		return nil, err
	}
	return roots.Pool()
}
