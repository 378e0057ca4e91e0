package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// client makes the probe's connection and records what it sees.
type client struct {
	cfg    *Config
	out    *Outcome
	keyLog bytes.Buffer // written by crypto/tls during the handshake
}

// dialPlan is where the TCP connection goes.
type dialPlan struct {
	// Addrs are the addresses to try in order, all on Port: the target's,
	// or the proxy's when Proxy is set.
	Addrs []netip.Addr
	Port  uint16
	Proxy *url.URL
}

func versionName(v uint16) string { return tlsparse.Version(v).String() }

// plan resolves the name the TCP connection goes to: the proxy's when
// there is one (the proxy resolves the target's), else the target's.
func (c *client) plan(ctx context.Context, choice proxyChoice) (*dialPlan, error) {
	p := &dialPlan{Port: c.cfg.Target.Port}
	host := c.cfg.Target.Host
	c.out.NoProxyReason = choice.NoProxyReason
	var err error
	if proxy := choice.URL; proxy != nil {
		p.Proxy = proxy
		c.out.Proxy, c.out.ProxyFrom = proxy.Redacted(), choice.From
		c.out.proxyFlag = c.cfg.Proxy != nil
		c.out.proxyKind = proxyKinds[proxy.Scheme].kind
		if c.out.proxyTLS = proxyKinds[proxy.Scheme].tls; c.out.proxyTLS {
			c.out.proxyRoots, c.out.proxyInsecure = c.cfg.ProxyRootCAs != nil, c.cfg.ProxyInsecure
		}
		host = proxy.Hostname()
		port := proxy.Port()
		if port == "" {
			port = proxyKinds[proxy.Scheme].port
		}
		if p.Port, err = parsePort(port); err != nil {
			return nil, fmt.Errorf("proxy %s: %w", proxy.Redacted(), err)
		}
	}
	addrs, err := c.resolve(ctx, host, p.Port)
	if err != nil {
		if p.Proxy != nil {
			return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
		}
		return nil, err
	}
	p.Addrs = addrs
	c.out.Addrs = addrs
	if p.Proxy == nil && c.out.Timings.DNS != nil {
		c.out.Lookup = newLookup(host, addrs, c.cfg.Resolver == nil)
	}
	return p, nil
}

// resolve returns the addresses of host: from Config.Resolve, the literal, or
// the resolver, IPv4 first (as curl's default happy eyeballs mostly ends).
func (c *client) resolve(ctx context.Context, host string, port uint16) ([]netip.Addr, error) {
	for _, r := range c.cfg.Resolve {
		if strings.EqualFold(r.Host, host) && r.Port == port {
			return r.Addrs, nil
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	res := c.cfg.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	start := time.Now()
	addrs, err := res.LookupNetIP(ctx, "ip", host)
	d := time.Since(start)
	c.out.Timings.DNS = &d
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return append(v4, v6...), nil
}

// proxyChoice is the proxy a probe uses and where it came from, or why it
// uses none although the environment names one.
type proxyChoice struct {
	URL  *url.URL
	From string
	// NoProxyReason is Outcome.NoProxyReason.
	NoProxyReason string
}

// proxyFor picks the proxy, and says where it came from: Config.Proxy (as
// Names names it), else the environment as net/http reads
// it (HTTPS_PROXY, https_proxy, NO_PROXY, no_proxy; never for localhost
// and loopback addresses). When the environment names a proxy the request
// does not use, it says why.
func (cfg *Config) proxyFor() (proxyChoice, error) {
	if cfg.Proxy != nil {
		return proxyChoice{URL: cfg.Proxy, From: cfg.Names.of(SettingProxy)}, nil
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	noProxy, noProxyFrom := firstNamed(getenv, "NO_PROXY", "no_proxy")
	env := httpproxy.Config{NoProxy: noProxy}
	var from string
	env.HTTPSProxy, from = firstNamed(getenv, "HTTPS_PROXY", "https_proxy")
	switch {
	case env.HTTPSProxy == "" && cfg.Target.Plain():
		return proxyChoice{NoProxyReason: unusedProxies(getenv, true)}, nil
	case env.HTTPSProxy == "":
		return proxyChoice{NoProxyReason: unusedProxies(getenv, false)}, nil
	}
	named := fmt.Sprintf("%s is %s", from, redactedProxy(env.HTTPSProxy))
	switch {
	case cfg.NoProxyEnv:
		return proxyChoice{NoProxyReason: "the environment's proxy is turned off for this probe; " + named}, nil
	case cfg.Target.Plain():
		// A plain request would go through HTTP_PROXY as an absolute
		// URI, not a tunnel: an http:// probe goes direct unless Config.Proxy.
		return proxyChoice{NoProxyReason: plainLead + "; " + named}, nil
	}
	target := &url.URL{Scheme: "https", Host: cfg.Target.HostPort()}
	u, err := env.ProxyFunc()(target)
	if err != nil {
		return proxyChoice{}, fmt.Errorf("%s: %w", from, err)
	}
	if u == nil {
		return proxyChoice{NoProxyReason: bypassReason(cfg.Target.Host, noProxyFrom) + "; " + named}, nil
	}
	if _, ok := proxyKinds[u.Scheme]; !ok {
		return proxyChoice{}, &ProxySchemeError{From: from, Proxy: u.Redacted(), Scheme: u.Scheme}
	}
	return proxyChoice{URL: u, From: from}, nil
}

// bypassReason says why net/http sends a request to host direct although
// HTTPS_PROXY is set: Go never proxies localhost or a loopback address
// (golang.org/x/net/http/httpproxy), else the variable noProxy (NO_PROXY
// or no_proxy) matches it.
func bypassReason(host, noProxy string) string {
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return "a loopback address is never proxied by Go"
	}
	if strings.EqualFold(host, "localhost") || noProxy == "" {
		return "localhost is never proxied by Go"
	}
	return fmt.Sprintf("%s matches %s", noProxy, host)
}

// unusedProxies says which proxy variables that net/http does not read
// for an https:// request are set: HTTP_PROXY (for http:// only) and
// ALL_PROXY (never read); "" when none is. A plain probe uses neither:
// the reason then starts with plainLead.
func unusedProxies(getenv func(string) string, plain bool) string {
	var parts []string
	if v, name := firstNamed(getenv, "HTTP_PROXY", "http_proxy"); v != "" && plain {
		parts = append(parts, name+" is "+redactedProxy(v))
	} else if v != "" {
		parts = append(parts, name+" is set but Go uses it for http:// only")
	}
	if _, name := firstNamed(getenv, "ALL_PROXY", "all_proxy"); name != "" {
		parts = append(parts, name+" is set but Go does not read it (curl does)")
	}
	switch {
	case len(parts) == 0:
		return ""
	case plain:
		return strings.Join(append([]string{plainLead}, parts...), "; ")
	}
	return strings.Join(append(parts, "HTTPS_PROXY is not set"), "; ")
}

// plainLead is the reason a plain probe uses no proxy from the environment.
const plainLead = "a plain http:// probe does not use the environment's proxy"

// redactedProxy is a proxy variable's value as net/http reads it (a bare
// host:port is an http:// proxy), password hidden.
func redactedProxy(v string) string {
	u, err := (&httpproxy.Config{HTTPSProxy: v}).ProxyFunc()(&url.URL{Scheme: "https", Host: "example.invalid:443"})
	if err != nil || u == nil {
		return "not a proxy URL"
	}
	return u.Redacted()
}

// ProxySchemes are the schemes of the proxy URLs a probe uses, as
// net/http does: http:// asked for a CONNECT tunnel, https:// too but
// inside a TLS connection to the proxy itself, socks5:// and socks5h://
// alike for a SOCKS5 one (in net/http both let the proxy resolve the
// target's name).
var ProxySchemes = []string{"http", "https", "socks5", "socks5h"}

// proxyKinds says, for each of ProxySchemes, which protocol asks the
// proxy for the tunnel, the proxy's port when its URL has none
// (net/http's), and whether the client speaks TLS to the proxy first.
var proxyKinds = map[string]struct {
	kind proxyparse.Kind
	port string
	tls  bool
}{
	"http":    {kind: proxyparse.KindHTTPConnect, port: "80"},
	"https":   {kind: proxyparse.KindHTTPConnect, port: "443", tls: true},
	"socks5":  {kind: proxyparse.KindSOCKS5, port: "1080"},
	"socks5h": {kind: proxyparse.KindSOCKS5, port: "1080"},
}

// ProxySchemeError is a proxy a probe does not use: SOCKS4 (which
// net/http does not speak either), or a scheme net/http does not know.
type ProxySchemeError struct {
	// From says where the proxy came from: the environment variable, or
	// Config.Proxy as Config.Names names it.
	From string
	// Proxy is its URL, password hidden.
	Proxy  string
	Scheme string
}

func (e *ProxySchemeError) Error() string {
	return fmt.Sprintf("%s: proxy scheme %q (%s): a probe speaks only to http://, https://, socks5:// and socks5h:// proxies", e.From, e.Scheme, e.Proxy)
}

func firstNamed(getenv func(string) string, names ...string) (string, string) {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

// request makes the probe's request and fills in c.out.
func (c *client) request(ctx context.Context, p *dialPlan) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.MaxTime)
	defer cancel()
	tc := c.tlsConfig(true)
	c.out.ServerName, c.out.CustomRoots = tc.ServerName, c.cfg.RootCAs != nil
	c.out.Ciphers, c.out.Curves = len(c.cfg.CipherSuites) > 0, len(c.cfg.Curves) > 0
	c.out.ClientChain = clientChain(c.cfg.Certificates)
	conn, err := c.connect(ctx, p, tc, c.out)
	if err != nil {
		return
	}
	if c.cfg.Target.URL == nil {
		defer conn.Close()
		if err := awaitVerdict(ctx, conn.(*tls.Conn)); err != nil {
			c.out.TLS = nil
			c.out.fail(err, PhaseTLS)
			return
		}
		c.out.Phase = PhaseDone
		return
	}
	c.out.Phase = PhaseHTTP
	resp, err := c.httpRequest(ctx, conn)
	if err != nil {
		c.out.fail(err, PhaseHTTP)
		return
	}
	c.out.HTTP = resp
	c.out.Phase = PhaseDone
}

// connect dials (through the proxy when there is one) and makes the TLS
// handshake, recording timings, addresses and errors in out.
//
// For an http:// target the connection stays plain.
func (c *client) connect(ctx context.Context, p *dialPlan, tc *tls.Config, out *Outcome) (net.Conn, error) {
	raw, err := c.transport(ctx, p, tc.KeyLogWriter, out)
	if err != nil || c.cfg.Target.Plain() {
		return raw, err
	}
	out.Phase = PhaseTLS
	conn := tls.Client(&helloCounter{Conn: raw, n: &out.hello.bytes}, tc)
	out.TLS, out.PeerCertificates, out.Timings.TLSHandshake, err = handshake(ctx, conn)
	if err != nil {
		out.fail(err, PhaseTLS)
		return nil, err
	}
	return conn, nil
}

// transport makes the connection that carries the target's TLS: TCP to
// the target, or to the proxy and through its tunnel. keyLog receives the
// keys of an https:// proxy's own TLS.
func (c *client) transport(ctx context.Context, p *dialPlan, keyLog io.Writer, out *Outcome) (net.Conn, error) {
	out.Phase = PhaseConnect
	raw, err := c.dial(ctx, p, out)
	if err != nil {
		if p.Proxy != nil {
			err = &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
		}
		out.fail(err, PhaseConnect)
		return nil, err
	}
	if p.Proxy != nil && proxyKinds[p.Proxy.Scheme].tls {
		if raw, err = c.proxyHandshake(ctx, raw, p.Proxy, keyLog, out); err != nil {
			return nil, err
		}
	}
	if p.Proxy != nil {
		out.Phase = PhaseProxy
		start := time.Now()
		tunnel, err := c.tunnel(ctx, raw, p.Proxy)
		d := time.Since(start)
		out.Timings.ProxyConnect = &d
		if err != nil {
			raw.Close()
			out.fail(err, PhaseProxy)
			return nil, err
		}
		raw = tunnel
	}
	return raw, nil
}

// handshake makes conn's TLS handshake and returns its state, the
// certificates the server sent (also when verifying them failed) and how
// long it took. On failure conn is closed.
func handshake(ctx context.Context, conn *tls.Conn) (*tls.ConnectionState, []*x509.Certificate, *time.Duration, error) {
	start := time.Now()
	err := conn.HandshakeContext(ctx)
	took := time.Since(start)
	if err != nil {
		conn.Close()
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) {
			return nil, verr.UnverifiedCertificates, &took, err
		}
		return nil, nil, &took, err
	}
	cs := conn.ConnectionState()
	return &cs, cs.PeerCertificates, &took, nil
}

// proxyHandshake makes the TLS handshake with an https:// proxy over
// conn, as net/http does before it sends CONNECT: for the proxy's host
// name, against the system roots (or Config.ProxyRootCAs), its secrets
// in keyLog so that the capture shows the proxy's certificate. It offers
// http/1.1 alone, the protocol CONNECT is spoken in (as curl does). A
// failure is wrapped as net/http wraps it, in a "proxyconnect"
// *net.OpError.
func (c *client) proxyHandshake(ctx context.Context, conn net.Conn, proxy *url.URL, keyLog io.Writer, out *Outcome) (net.Conn, error) {
	out.Phase = PhaseProxyTLS
	tc := &tls.Config{
		ServerName:         proxy.Hostname(),
		RootCAs:            c.cfg.ProxyRootCAs,
		InsecureSkipVerify: c.cfg.ProxyInsecure,
		NextProtos:         []string{"http/1.1"},
		KeyLogWriter:       keyLog,
	}
	tconn := tls.Client(conn, tc)
	out.ProxyServerName = tc.ServerName
	var err error
	out.ProxyTLS, out.ProxyPeerCertificates, out.Timings.ProxyTLSHandshake, err = handshake(ctx, tconn)
	if err != nil {
		err = &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
		out.fail(err, PhaseProxyTLS)
		return nil, err
	}
	return tconn, nil
}

// postHandshakeWait is how long a handshake-only probe waits for the
// server's judgement of a TLS 1.3 handshake.
const postHandshakeWait = 250 * time.Millisecond

// awaitVerdict waits briefly for what a TLS 1.3 server sends after the
// client's Finished. The client's handshake completes before the server
// has checked the client's flight (RFC 8446, Section 4.4.2.4: a missing or
// bad client certificate is answered after it), so only a read shows the
// rejection. Data, silence or a close_notify are all acceptance.
func awaitVerdict(ctx context.Context, conn *tls.Conn) error {
	if conn.ConnectionState().Version != tls.VersionTLS13 {
		return nil
	}
	deadline := time.Now().Add(postHandshakeWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetReadDeadline(deadline)
	defer conn.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := conn.Read(b[:])
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}

// dial makes the TCP connection, trying the plan's addresses in order.
func (c *client) dial(ctx context.Context, p *dialPlan, out *Outcome) (net.Conn, error) {
	var err error
	for _, a := range p.Addrs {
		remote := netip.AddrPortFrom(a, p.Port)
		out.Remote = remote
		var port portRecorder
		d := net.Dialer{Timeout: c.cfg.ConnectTimeout, Control: withMSS(bindControl(a, &port), c.cfg.mss)}
		start := time.Now()
		var conn net.Conn
		conn, err = d.DialContext(ctx, "tcp", remote.String())
		dur := time.Since(start)
		out.Timings.Connect = &dur
		if conn != nil {
			out.Local = conn.LocalAddr().(*net.TCPAddr).AddrPort()
			out.hello.mss = connMSS(conn)
			out.conn = &closeWatch{Conn: conn}
			return out.conn, nil
		}
		out.Local = port.get()
		if ctx.Err() != nil {
			break
		}
		out.Attempts = append(out.Attempts, Attempt{Remote: remote, Err: err, Class: Classify(err)})
	}
	if n := len(out.Attempts); n > 0 && out.Attempts[n-1].Remote == out.Remote {
		// The last attempt is the outcome itself.
		out.Attempts = out.Attempts[:n-1]
	}
	return nil, err
}

// tunnel asks the proxy for a tunnel to the target over conn, and wraps a
// failure as net/http does: an HTTP proxy's in a "proxyconnect"
// *net.OpError, a SOCKS proxy's in its dialer's "socks connect" one.
func (c *client) tunnel(ctx context.Context, conn net.Conn, proxy *url.URL) (net.Conn, error) {
	if proxyKinds[proxy.Scheme].kind == proxyparse.KindSOCKS5 {
		if err := c.socksConnect(ctx, conn, proxy); err != nil {
			return nil, err
		}
		return conn, nil
	}
	tunnel, err := c.proxyConnect(ctx, conn, proxy)
	if err != nil {
		return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
	}
	return tunnel, nil
}

// proxyConnect asks an HTTP proxy for a tunnel to the target (RFC 9110,
// Section 9.3.6).
func (c *client) proxyConnect(ctx context.Context, conn net.Conn, proxy *url.URL) (net.Conn, error) {
	target := c.cfg.Target.HostPort()
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: target},
		Host:   target,
		Header: http.Header{},
	}
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := req.Write(conn); err != nil {
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	// Never read the reply's body: a 2xx answer to CONNECT has none
	// whatever its header says (RFC 9110, Section 9.3.6: a client ignores
	// Content-Length and Transfer-Encoding there), the bytes after it are
	// the tunnel's; and a refusal's body is not needed. Reading it would
	// wait for a chunked body that never comes. Like net/http's
	// Transport, anything but 200 is a refusal.
	if resp.StatusCode != http.StatusOK {
		return nil, &connectStatusError{Status: resp.Status}
	}
	if br.Buffered() > 0 {
		// The server spoke first through the tunnel: keep its bytes.
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn is a connection whose first bytes were already read into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// tlsConfig is the client's TLS configuration; logKeys sends its secrets
// to the key log (not for the scan's handshakes, which are not captured).
func (c *client) tlsConfig(logKeys bool) *tls.Config {
	cfg := c.cfg
	tc := &tls.Config{
		RootCAs:            cfg.RootCAs,
		InsecureSkipVerify: cfg.Insecure,
		Certificates:       cfg.Certificates,
		MinVersion:         cfg.MinVersion,
		MaxVersion:         cfg.MaxVersion,
		CipherSuites:       cfg.CipherSuites,
		CurvePreferences:   cfg.Curves,
		NextProtos:         cfg.ALPN,
		ServerName:         c.serverName(),
	}
	if tc.NextProtos == nil && cfg.Target.URL != nil {
		tc.NextProtos = []string{"h2", "http/1.1"}
	}
	if tc.ServerName == "" {
		// An address literal: crypto/tls sends no SNI for it and verifies
		// the certificate's IP addresses.
		tc.ServerName = cfg.Target.Host
	}
	if cfg.pad {
		tc.NextProtos = padALPN(tc.NextProtos)
	}
	if cfg.noSNI {
		sendNoSNI(tc, cfg)
	}
	if logKeys {
		tc.KeyLogWriter = &c.keyLog
		if cfg.KeyLog != nil {
			tc.KeyLogWriter = io.MultiWriter(&c.keyLog, cfg.KeyLog)
		}
	}
	return tc
}

// serverName is the SNI: Config.ServerName, else the target's host when it is
// a name.
func (c *client) serverName() string {
	if c.cfg.ServerName != "" {
		return c.cfg.ServerName
	}
	if _, err := netip.ParseAddr(c.cfg.Target.Host); err == nil {
		return ""
	}
	return c.cfg.Target.Host
}

// httpRequest sends the request over the established connection with
// net/http (HTTP/2 when ALPN chose h2) and reads the response.
func (c *client) httpRequest(ctx context.Context, conn net.Conn) (*Response, error) {
	var once sync.Once
	dial := func(context.Context, string, string) (net.Conn, error) {
		var got net.Conn
		once.Do(func() { got = conn })
		if got == nil {
			return nil, errors.New("probe: the request wanted a second connection")
		}
		return got, nil
	}
	tr := &http.Transport{
		DialTLSContext:    dial,
		DialContext:       dial, // http:// targets
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	defer conn.Close()
	method := c.cfg.Method
	var body io.Reader
	if c.cfg.Body != nil {
		body = bytes.NewReader(c.cfg.Body)
		if method == "" {
			method = http.MethodPost
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	// HTTP/2 calls the hooks from its own goroutines.
	var (
		mu               sync.Mutex
		wrote, firstByte time.Time
	)
	trace := &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) {
			mu.Lock()
			wrote = time.Now()
			mu.Unlock()
		},
		GotFirstResponseByte: func() {
			mu.Lock()
			firstByte = time.Now()
			mu.Unlock()
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, c.cfg.Target.URL.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range c.cfg.Header {
		if k == "Host" && len(vs) > 0 {
			// net/http sends req.Host and ignores a Host header; curl's
			// -H "Host: …" replaces the one it would send (the SNI stays).
			req.Host = vs[0]
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.cfg.Body != nil && req.Header.Get("Content-Type") == "" {
		// What curl -d sends.
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if req.Header.Get("User-Agent") == "" && c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	mu.Lock()
	if !firstByte.IsZero() && !wrote.IsZero() {
		d := firstByte.Sub(wrote)
		c.out.Timings.FirstByte = &d
	}
	awaiting := !wrote.IsZero() && firstByte.IsZero()
	mu.Unlock()
	if err != nil {
		if awaiting && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) {
			// The request went out and nothing came back in time.
			err = fmt.Errorf("%w (%w)", err, ErrAwaitingHeaders)
		}
		return nil, err
	}
	defer resp.Body.Close()
	r := &Response{Proto: resp.Proto, StatusCode: resp.StatusCode, Status: resp.Status, Server: resp.Header.Get("Server"), Location: resp.Header.Get("Location")}
	var buf bytes.Buffer
	dst := io.Writer(&r.head)
	if c.cfg.ShowBody {
		dst = io.MultiWriter(&buf, &r.head)
	}
	r.BodyBytes, err = io.Copy(dst, io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, &BodyError{Status: resp.Proto + " " + resp.Status, Got: r.BodyBytes, Length: resp.ContentLength, Err: err}
	}
	if r.BodyBytes == MaxBody {
		var one [1]byte
		if n, _ := resp.Body.Read(one[:]); n > 0 {
			r.Truncated = true
		}
	}
	if c.cfg.ShowBody {
		r.Body = buf.Bytes()
	}
	return r, nil
}

// BodyError is a failure while reading the response body: the server
// had answered with its status and headers.
type BodyError struct {
	Status string // "HTTP/1.1 200 OK"
	Got    int64  // body bytes received
	Length int64  // the Content-Length; -1 when unknown
	Err    error
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("reading the response body (%s) after %s: %v", e.Status, e.received(), e.Err)
}

func (e *BodyError) Unwrap() error { return e.Err }

// received says how much of the body came: "6 of 100 bytes".
func (e *BodyError) received() string {
	if e.Length >= 0 {
		return fmt.Sprintf("%d of %d bytes", e.Got, e.Length)
	}
	return fmt.Sprintf("%d bytes", e.Got)
}

// portRecorder keeps the local address a dial bound to.
type portRecorder struct {
	mu   sync.Mutex
	addr netip.Addr
	port uint16
}

func (p *portRecorder) set(a netip.Addr, port uint16) {
	p.mu.Lock()
	p.addr, p.port = a, port
	p.mu.Unlock()
}

// get returns the bound address; zero when the socket was not bound.
func (p *portRecorder) get() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(p.addr, p.port)
}

// clientChain parses the first configured client certificate and its
// chain; certificates that do not parse are left out.
func clientChain(certs []tls.Certificate) []*x509.Certificate {
	if len(certs) == 0 {
		return nil
	}
	var chain []*x509.Certificate
	for _, der := range certs[0].Certificate {
		if c, err := x509.ParseCertificate(der); err == nil {
			chain = append(chain, c)
		}
	}
	return chain
}
