// Package probe makes a TLS request while capturing its own packets and
// explains the outcome from both ends.
//
// Run resolves the target, starts a live capture filtered to the address it
// is about to dial (on the interface that routes there), makes the request
// (an HTTPS request for a URL, the TLS handshake alone for HOST:PORT) with
// crypto/tls and net/http while recording the connection's TLS secrets in
// memory, then stops the capture and runs the captured frames through the
// same pipeline as a saved capture (capture → analysis with the key log →
// diagnose). The client's error is named by Classify; Correlate puts the
// client's view and the wire's verdict side by side and says whether they
// agree, what caused the failure and what to change.
//
// The package prints nothing: Write renders a Result for the command.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/proxyparse"
)

// Defaults for Config fields left zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxTime        = 30 * time.Second
	// MaxBody is the most response body bytes read; the rest is not
	// downloaded (a probe is about the connection, not the content).
	MaxBody = 1 << 20
)

// Config says what to probe and how.
type Config struct {
	Target Target

	// RootCAs is the client's trust store; nil means the system roots.
	// curl's --cacert replaces the system roots, and so does this.
	RootCAs *x509.CertPool
	// Insecure skips the verification of the server's certificate.
	Insecure bool
	// Certificates are the client certificates offered when the server
	// asks for one.
	Certificates []tls.Certificate
	// MinVersion and MaxVersion bound the versions offered (crypto/tls
	// defaults when zero: TLS 1.2 to TLS 1.3).
	MinVersion, MaxVersion uint16
	// CipherSuites restricts the TLS 1.0–1.2 suites offered (crypto/tls
	// does not allow restricting TLS 1.3's).
	CipherSuites []uint16
	// Curves are the key exchange groups offered.
	Curves []tls.CurveID
	// ALPN are the application protocols offered. A URL probe offers
	// "h2" and "http/1.1" when nil, a handshake-only probe none.
	ALPN []string
	// ServerName overrides the SNI and the name verified (default: the
	// target's host, unless it is an IP address).
	ServerName string
	// Resolve pins host names to addresses, as curl's --resolve does.
	Resolve []Resolve
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver Resolver

	ConnectTimeout time.Duration // per TCP connection attempt; zero means DefaultConnectTimeout
	MaxTime        time.Duration // for the whole request; zero means DefaultMaxTime

	// Method, Header and Body make the HTTP request (URL probes only).
	// Method defaults to GET, or POST when Body is set.
	Method string
	Header http.Header
	Body   []byte
	// ShowBody keeps up to MaxBody bytes of the response body in the result.
	ShowBody bool

	// Proxy, when set, is the proxy to tunnel through: an http:// one
	// asked with CONNECT, an https:// one with CONNECT inside a TLS
	// connection to the proxy, a socks5:// or socks5h:// one with SOCKS5
	// (see ProxySchemes); user information in the URL is its credentials.
	// When nil, the environment decides (HTTPS_PROXY, NO_PROXY, as
	// net/http does) unless NoProxyEnv is set.
	Proxy      *url.URL
	NoProxyEnv bool
	// ProxyRootCAs is the trust store for an https:// proxy's own
	// certificate; nil means the system roots. RootCAs does not apply to
	// the proxy (as curl's --cacert does not; curl's --proxy-cacert is
	// this).
	ProxyRootCAs *x509.CertPool
	// ProxyInsecure skips the verification of an https:// proxy's own
	// certificate.
	ProxyInsecure bool
	// Getenv reads the proxy environment; nil means os.Getenv.
	Getenv func(string) string

	// Scan probes the server with one handshake per TLS version when the
	// handshake failed on a version or cipher suite.
	Scan bool

	// Interface is where to capture; empty means the one that routes to
	// the address dialed (the loopback interface for a local address).
	Interface string
	// WireRoots are the roots the capture's chain is validated against
	// (the system roots plus the caller's, as for `tlsdiag read`); nil
	// means the system roots.
	WireRoots *x509.CertPool
	// ProxyWireRoots are the roots an https:// proxy's own chain is
	// validated against when the capture's verdict is about the proxy's
	// TLS (its handshake failed, so no tunnel was read): WireRoots plus
	// the proxy's CA. nil means WireRoots.
	ProxyWireRoots *x509.CertPool
	// SettingNames names, in the wire verdict's fixes, the settings they
	// point to as the caller sets them (diagnose.Config.SettingNames).
	SettingNames map[diagnose.Setting]string
	// Names names the probe's own settings in its texts as the caller
	// sets them; a setting it leaves out is named as Config sets it.
	Names Names
	// KeyLog, when set, also receives the connection's TLS secrets in NSS
	// key log format. They are always kept in memory to
	// decrypt the capture.
	KeyLog io.Writer
	// Pcap, when set, receives the captured frames as a pcap file;
	// the frame numbers in the result are that file's.
	Pcap io.Writer
	// PcapNG makes Pcap a pcapng file instead, written once the request is
	// over, with the connection's TLS secrets in a Decryption Secrets Block
	// before the first packet, so that Wireshark opens it decrypted
	// without a key log file. It holds the frames the probe analysed (up
	// to 64 MiB).
	PcapNG bool
	// Trace records the TLS frames of the connection, for the trace format.
	Trace bool
	// UserAgent is sent with URL probes.
	UserAgent string

	// Bisect, when not nil, re-runs a failed request once per change of
	// these factors (see Bisection) and reports which change makes it
	// work.
	Bisect []Factor

	// Set by bisection for its attempts: the TCP MSS to clamp to before
	// connecting (0: the kernel's), a ClientHello padded past one segment,
	// no SNI sent (the certificate still verified for the name).
	mss   int
	pad   bool
	noSNI bool
}

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Result is everything a probe found.
type Result struct {
	Target Target
	// Insecure repeats Config.Insecure: every report says verification
	// was disabled.
	Insecure bool
	Client   Outcome
	Wire     Wire
	// Correlation puts the two views together.
	Correlation Correlation
	// Scan is set when Config.Scan was set and the failure called for it.
	Scan *Scan
	// Bisect is set when Config.Bisect was set: the attempts with one
	// factor changed and what they show.
	Bisect *Bisection
	// Redirects are the requests before this one, in order, when Follow
	// followed redirects to it.
	Redirects []Redirect
	// RedirectLimitReached is set when this answer is one more redirect
	// than Follow's limit let it follow: a failure, as in curl.
	RedirectLimitReached bool
}

// OK reports whether the request succeeded and its handshake completed:
// the probe's exit status 0.
//
// An HTTP error status is not the probe's failure (the connection
// worked), unless the wire shows the TLS layer caused it: a server that
// refused the request for want of a client certificate. A redirect beyond
// Follow's limit is a failure.
func (r *Result) OK() bool {
	if r.Client.Err != nil || r.RedirectLimitReached {
		return false
	}
	h := r.Client.HTTP
	return h == nil || h.StatusCode < 400 || r.Wire.Result == nil || !r.Wire.Result.Verdict.Failed()
}

// Phase says how far the client got.
type Phase string

// The phases, in order.
const (
	PhaseResolve  Phase = "dns"                 // looking up the target (or proxy) name
	PhaseConnect  Phase = "connect"             // the TCP connection
	PhaseProxyTLS Phase = "proxy_tls_handshake" // the TLS handshake with an https:// proxy itself
	PhaseProxy    Phase = "proxy_connect"       // asking the proxy for a tunnel (CONNECT, SOCKS5)
	PhaseTLS      Phase = "tls_handshake"       // the TLS handshake with the target
	PhaseHTTP     Phase = "http"                // sending the request and reading the response
	PhaseDone     Phase = "done"                // everything succeeded
)

// Outcome is what the client saw.
type Outcome struct {
	// Err is the error the request ended with; nil on success.
	Err   error
	Class Class
	// Phase is the phase the client was in when it stopped (PhaseDone on
	// success).
	Phase   Phase
	Timings Timings
	// Proxy is the proxy used (password hidden), "" for a direct
	// connection; ProxyFrom says where it came from: Config.Proxy as
	// Config.Names names it ("--proxy"), or the environment variable
	// ("HTTPS_PROXY", …).
	Proxy     string
	ProxyFrom string
	// NoProxyReason says why no proxy was used when the environment names
	// one that the request did not use: NO_PROXY matches the target, Go
	// never proxies localhost, only HTTP_PROXY is set; "" otherwise.
	NoProxyReason string
	// Addrs are the addresses the target (or proxy) resolved to.
	Addrs []netip.Addr
	// Lookup is the resolver's lookup of the target's name that gave
	// Addrs; nil when there was none (an address, Config.Resolve, a
	// proxy).
	Lookup *Lookup
	// Local and Remote are the ends of the TCP connection the request
	// used (the last one attempted); Remote is the proxy when one is used.
	Local, Remote netip.AddrPort
	// Attempts are the TCP connection attempts that failed before the last
	// one, to the other addresses of the name.
	Attempts []Attempt
	// ServerName is the SNI sent ("" for none) and the name verified.
	ServerName string
	// CustomRoots is set when the client trusted only Config.RootCAs.
	CustomRoots bool
	// ClientChain is the client certificate configured (Config.Certificates: the leaf,
	// then the chain the file holds), nil when none was; crypto/tls sends
	// it only if the chain reaches a CA the server's CertificateRequest
	// lists.
	ClientChain []*x509.Certificate
	// Ciphers and Curves say the client's suites or groups were
	// restricted (Config.CipherSuites, Config.Curves), not crypto/tls's defaults.
	Ciphers, Curves bool
	// ProxyServerName is the name an https:// proxy's certificate was
	// verified for (the proxy URL's host, sent as SNI unless an address);
	// ProxyTLS is that TLS connection's state, nil when its handshake did
	// not complete; ProxyPeerCertificates is the chain the proxy sent,
	// also when the client rejected it. All are empty for other proxies.
	ProxyServerName       string
	ProxyTLS              *tls.ConnectionState
	ProxyPeerCertificates []*x509.Certificate
	// TLS is the negotiated connection state; nil when the handshake did
	// not complete.
	TLS *tls.ConnectionState
	// PeerCertificates is the chain the server sent, also when the client
	// rejected it.
	PeerCertificates []*x509.Certificate
	// HTTP is the response; nil for a handshake-only probe or a failure.
	HTTP *Response
	// MaxTime is the time limit the client had for the whole request
	// (Config.MaxTime): a Timeout is the client reaching it.
	MaxTime time.Duration

	// proxyKind is how the proxy was asked for the tunnel; proxyTLS is
	// set when that was inside TLS to the proxy (https://); proxyFlag is
	// set when the proxy is Config.Proxy, which NO_PROXY does not apply to.
	proxyKind proxyparse.Kind
	proxyTLS  bool
	proxyFlag bool
	// proxyRoots and proxyInsecure repeat Config.ProxyRootCAs != nil and
	// Config.ProxyInsecure for an https:// proxy.
	proxyRoots, proxyInsecure bool
	// hello is the ClientHello's size and the connection's MSS.
	hello helloStats
	// conn is the request's TCP connection, once made.
	conn *closeWatch
}

// Attempt is a TCP connection attempt that failed.
type Attempt struct {
	Remote netip.AddrPort
	Err    error
	Class  Class
}

// Response is the part of the HTTP response a probe reports: no headers
// (they may carry cookies), the body only when asked for.
type Response struct {
	Proto      string
	StatusCode int
	Status     string
	// Server is the Server header, which names the server software whose
	// settings the fixes give.
	Server string
	// Location is the Location header (a redirect's target).
	Location string
	// BodyBytes is the number of body bytes read (at most MaxBody).
	BodyBytes int64
	// Truncated is set when the body was longer than MaxBody.
	Truncated bool
	// Body is the body read, only with Config.ShowBody.
	Body []byte
	// head keeps the body's first bytes, never shown: they tell a TLS
	// server's refusal of a plain request (nginx's "The plain HTTP
	// request was sent to HTTPS port").
	head prefix
}

// prefix is a writer that keeps the first bytes written to it.
type prefix struct{ b []byte }

const prefixMax = 512

func (p *prefix) Write(b []byte) (int, error) {
	if n := prefixMax - len(p.b); n > 0 {
		p.b = append(p.b, b[:min(n, len(b))]...)
	}
	return len(b), nil
}

// Timings are the durations of the phases the client went through; a nil
// field is a phase not reached.
type Timings struct {
	// DNS is nil when no name was looked up (an address, Config.Resolve).
	DNS     *time.Duration
	Connect *time.Duration
	// ProxyTLSHandshake is the TLS handshake with an https:// proxy.
	ProxyTLSHandshake *time.Duration
	ProxyConnect      *time.Duration
	TLSHandshake      *time.Duration
	// FirstByte is from sending the request to the first response byte.
	FirstByte *time.Duration
	// Total is the whole request, DNS included (the capture's setup not).
	Total time.Duration
}

func (t *Timings) dns() time.Duration {
	if t.DNS == nil {
		return 0
	}
	return *t.DNS
}

// Wire is what the capture shows.
type Wire struct {
	// Interface and Filter are what was captured.
	Interface string
	Filter    string
	// Err says why there is no wire view (no privileges, no such
	// interface); nil when the capture ran.
	Err error
	// Frames is the number of frames captured, Dropped the number the
	// kernel dropped (the analysis may then lack some).
	Frames  int64
	Dropped int
	// Result is the request's own connection with its verdict; nil when
	// the capture does not show it.
	Result *pipeline.Result
	// Chain is the validation of the server's chain as the capture shows
	// it; nil when it shows none.
	Chain *ChainCheck
	// Start is the time of the capture's first frame.
	Start time.Time
	// Notes are remarks about the capture (truncation, other
	// connections, a missing connection).
	Notes []string
}

// Run makes the probe. Its error is for a probe that could not be made at
// all (an invalid configuration); every failure of the request itself is
// in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	res := &Result{Target: cfg.Target, Insecure: cfg.Insecure, Client: Outcome{MaxTime: cfg.MaxTime}}
	c := &client{cfg: &cfg, out: &res.Client}
	choice, err := cfg.proxyFor()
	if err != nil {
		return nil, err
	}
	plan, err := c.plan(ctx, choice)
	if err != nil {
		res.Client.fail(err, PhaseResolve)
		res.Client.Timings.Total = res.Client.Timings.dns()
		res.Wire.Err = errNoConnection
		res.Correlation = Correlate(cfg.Target, &res.Client, &res.Wire, cfg.Insecure, cfg.Names)
		return res, nil
	}
	wc := startCapture(ctx, &cfg, plan)
	start := time.Now()
	c.request(ctx, plan)
	res.Client.Timings.Total = res.Client.Timings.dns() + time.Since(start)
	res.Wire = wc.finish(&cfg, plan, c.keyLog.Bytes(), &res.Client)
	res.Correlation = Correlate(cfg.Target, &res.Client, &res.Wire, cfg.Insecure, cfg.Names)
	if cfg.Scan && scanWanted(&res.Client, &res.Wire) {
		res.Scan = c.scan(ctx, plan)
		res.Correlation.addScan(res.Scan, &cfg)
	}
	if cfg.Bisect != nil {
		res.Bisect = bisect(ctx, cfg, res, cfg.Bisect, Run)
	}
	return res, nil
}

// errNoConnection is the Wire.Err of a probe that never connected.
var errNoConnection = errors.New("no connection was made, so there was nothing to capture")

func (cfg *Config) check() error {
	if cfg.Target.Host == "" || cfg.Target.Port == 0 {
		return errors.New("probe: no target")
	}
	if cfg.MinVersion != 0 && cfg.MaxVersion != 0 && cfg.MinVersion > cfg.MaxVersion {
		return fmt.Errorf("probe: minimum version %v is above the maximum %v", versionName(cfg.MinVersion), versionName(cfg.MaxVersion))
	}
	if cfg.Target.URL == nil && (cfg.Method != "" || len(cfg.Header) > 0 || cfg.Body != nil) {
		return errors.New("probe: a request method, header or body needs a URL target (https://…), not HOST:PORT")
	}
	if cfg.Proxy != nil {
		if _, ok := proxyKinds[cfg.Proxy.Scheme]; !ok {
			return &ProxySchemeError{From: cfg.Names.of(SettingProxy), Proxy: cfg.Proxy.Redacted(), Scheme: cfg.Proxy.Scheme}
		}
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.MaxTime <= 0 {
		cfg.MaxTime = DefaultMaxTime
	}
	return nil
}

func (o *Outcome) fail(err error, p Phase) {
	o.Err, o.Class, o.Phase = err, Classify(err), p
}
