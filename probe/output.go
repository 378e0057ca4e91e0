package probe

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/textsafe"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/report"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Formats are the output formats of a probe: the table (the default), the
// JSON document, and the trace (the table with the connection's frames
// listed as Wireshark shows them).
var Formats = []report.Format{report.FormatTable, report.FormatJSON, report.FormatTrace}

// Document is what the json format writes. The field names are stable.
//
//   - target (string): the URL (password hidden) or HOST:PORT probed.
//   - insecure (bool): certificate verification was disabled (-k).
//   - client (object): what the client saw; see ClientView.
//   - connection (object or null): the probe's connection as the capture
//     shows it, exactly as `tlsdiag read --format json` writes a
//     connection (with its verdict); null when there is no wire view.
//   - capture (object): interface, filter (strings), error (string: why
//     there is no wire view, "" when the capture ran), frames (number),
//     dropped (number of packets the kernel dropped), notes (list of
//     strings).
//   - correlation (object): agreement ("agree", "disagree",
//     "client_only", or "inside_proxy_tls": the outcome was decided inside
//     an https:// proxy's TLS, which the capture cannot see into; wire is
//     then the verdict of the connection to the proxy), summary (string: the conclusion), client (string: what the client saw), wire (string:
//     the wire's verdict, "" without one), cause, fix (strings), notes (list
//     of strings; "verification disabled …" first when insecure).
//   - redirects (list of objects: url, remote, status, location): the
//     requests before this one when redirects were followed (-L), in
//     order; redirect_limit_reached (bool): this answer is one more
//     redirect than the limit (--max-redirs) let it follow.
//   - bisect (object or null): the failing request re-run with one
//     factor changed at a time (--bisect); see BisectView.
//   - scan (object or null): versions (list of objects: version, accepted
//     (bool), cipher (the suite the server chose, "" when not accepted),
//     error_class), accepted (list of version names), families (list of
//     objects: family ("ECDHE", "RSA key exchange", "3DES", "CBC"),
//     version, accepted, cipher), groups (list of objects: group, version,
//     accepted).
//
// It is a separate object rather than report.Connection with fields added:
// a connection already has a "client" field (its address).
type Document struct {
	Target               string             `json:"target"`
	Insecure             bool               `json:"insecure"`
	Client               ClientView         `json:"client"`
	Connection           *report.Connection `json:"connection"`
	Capture              CaptureView        `json:"capture"`
	Correlation          CorrelationView    `json:"correlation"`
	Scan                 *ScanView          `json:"scan"`
	Bisect               *BisectView        `json:"bisect"`
	Redirects            []RedirectView     `json:"redirects"`
	RedirectLimitReached bool               `json:"redirect_limit_reached"`
}

// RedirectView is a request a followed redirect left behind.
type RedirectView struct {
	URL      string `json:"url"`
	Remote   string `json:"remote"`
	Status   string `json:"status"`
	Location string `json:"location"`
}

// ClientView is the client's side of a probe in JSON.
//
//   - error (string): the error the request ended with, "" on success.
//   - error_class (string): Classify's name for it, "" on success.
//   - phase (string): where the client stopped: dns, connect,
//     proxy_tls_handshake (with an https:// proxy itself), proxy_connect,
//     tls_handshake (with the target), http, or done.
//   - timings (object): dns_ms, connect_ms, proxy_tls_handshake_ms,
//     proxy_connect_ms, tls_handshake_ms, first_byte_ms (numbers, null for
//     a phase not reached; first_byte_ms counts from the request sent),
//     total_ms.
//   - proxy (string): the proxy used, password hidden, "" for none;
//     proxy_from: where it came from ("--proxy", "HTTPS_PROXY", …);
//     proxy_reason: when the environment names a proxy that was not used,
//     why ("NO_PROXY matches example.com; HTTPS_PROXY is
//     http://127.0.0.1:3128", "localhost is never proxied by Go", "HTTP_PROXY
//     is set but Go uses it for http:// only; HTTPS_PROXY is not set"), ""
//     otherwise.
//   - proxy_tls (object or null): the TLS connection to an https:// proxy
//     itself (null for other proxies and none): server_name (the name its
//     certificate was verified for), version, cipher ("" when the
//     handshake did not complete), peer_certificates (the chain the proxy
//     sent, as peer_certificates below), insecure (bool: its verification
//     was disabled, --proxy-insecure).
//   - addresses (list of strings): the addresses the target's name (or the
//     proxy's) resolved to, in the order they were tried.
//   - local, remote (string): the TCP connection's ends ("" when unknown);
//     remote is the proxy when one was used.
//   - attempts (list of objects: remote, error, error_class): connection
//     attempts to the name's other addresses that failed before this one.
//   - server_name (string): the name sent as SNI and verified.
//   - version, cipher, alpn (strings): what the handshake negotiated, ""
//     when it did not complete.
//   - peer_certificates (list of objects: subject, issuer, not_before,
//     not_after, sha256): the chain the server sent, as the client
//     received it (also when it rejected it).
//   - http (object or null): proto, status_code, status, body_bytes,
//     truncated, location (the Location header, "" without one), and body
//     (only with --show-body).
type ClientView struct {
	Error            string        `json:"error"`
	ErrorClass       string        `json:"error_class"`
	Phase            string        `json:"phase"`
	Timings          TimingsView   `json:"timings"`
	Proxy            string        `json:"proxy"`
	ProxyFrom        string        `json:"proxy_from"`
	ProxyReason      string        `json:"proxy_reason"`
	ProxyTLS         *ProxyTLSView `json:"proxy_tls"`
	Addresses        []string      `json:"addresses"`
	Local            string        `json:"local"`
	Remote           string        `json:"remote"`
	Attempts         []AttemptView `json:"attempts"`
	ServerName       string        `json:"server_name"`
	Version          string        `json:"version"`
	Cipher           string        `json:"cipher"`
	ALPN             string        `json:"alpn"`
	PeerCertificates []CertView    `json:"peer_certificates"`
	HTTP             *ResponseView `json:"http"`
}

// ProxyTLSView is the TLS connection to an https:// proxy itself.
type ProxyTLSView struct {
	ServerName       string     `json:"server_name"`
	Version          string     `json:"version"`
	Cipher           string     `json:"cipher"`
	PeerCertificates []CertView `json:"peer_certificates"`
	Insecure         bool       `json:"insecure"`
}

// AttemptView is a failed connection attempt.
type AttemptView struct {
	Remote     string `json:"remote"`
	Error      string `json:"error"`
	ErrorClass string `json:"error_class"`
}

// TimingsView holds the phase durations in milliseconds.
type TimingsView struct {
	DNS               *float64 `json:"dns_ms"`
	Connect           *float64 `json:"connect_ms"`
	ProxyTLSHandshake *float64 `json:"proxy_tls_handshake_ms"`
	ProxyConnect      *float64 `json:"proxy_connect_ms"`
	TLSHandshake      *float64 `json:"tls_handshake_ms"`
	FirstByte         *float64 `json:"first_byte_ms"`
	Total             float64  `json:"total_ms"`
}

// CertView is a certificate as the client received it.
type CertView struct {
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
	SHA256    string `json:"sha256"`
}

// ResponseView is the HTTP response.
type ResponseView struct {
	Proto      string `json:"proto"`
	StatusCode int    `json:"status_code"`
	Status     string `json:"status"`
	BodyBytes  int64  `json:"body_bytes"`
	Truncated  bool   `json:"truncated"`
	Location   string `json:"location"`
	Body       string `json:"body,omitempty"`
}

// CaptureView is the capture's side.
type CaptureView struct {
	Interface string   `json:"interface"`
	Filter    string   `json:"filter"`
	Error     string   `json:"error"`
	Frames    int64    `json:"frames"`
	Dropped   int      `json:"dropped"`
	Notes     []string `json:"notes"`
}

// CorrelationView is the conclusion.
type CorrelationView struct {
	Agreement string   `json:"agreement"`
	Summary   string   `json:"summary"`
	Client    string   `json:"client"`
	Wire      string   `json:"wire"`
	Cause     string   `json:"cause"`
	Fix       string   `json:"fix"`
	Notes     []string `json:"notes"`
}

// ScanView is the version scan.
type ScanView struct {
	Versions []VersionView `json:"versions"`
	Accepted []string      `json:"accepted"`
	Families []FamilyView  `json:"families"`
	Groups   []GroupView   `json:"groups"`
	Beyond   []BeyondView  `json:"beyond"`
}

// BeyondView is the scan's hand-written hello offering what crypto/tls
// cannot.
type BeyondView struct {
	Offer    string `json:"offer"`
	Version  string `json:"version"`
	Accepted bool   `json:"accepted"`
	Cipher   string `json:"cipher"`
	Group    string `json:"group"`
	Alert    string `json:"alert"`
	Error    string `json:"error"`
}

// FamilyView is the scan's handshake with one cipher family.
type FamilyView struct {
	Family   string `json:"family"`
	Version  string `json:"version"`
	Accepted bool   `json:"accepted"`
	Cipher   string `json:"cipher"`
}

// GroupView is the scan's handshake with one key exchange group.
type GroupView struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Accepted bool   `json:"accepted"`
}

// VersionView is the scan's handshake with one version.
type VersionView struct {
	Version    string `json:"version"`
	Accepted   bool   `json:"accepted"`
	Cipher     string `json:"cipher"`
	ErrorClass string `json:"error_class"`
}

// NewDocument converts a result to its JSON form.
func NewDocument(r *Result) Document {
	d := Document{
		Target:               r.Target.String(),
		Insecure:             r.Insecure,
		Redirects:            []RedirectView{},
		RedirectLimitReached: r.RedirectLimitReached,
		Client:               newClientView(&r.Client),
		Capture: CaptureView{
			Interface: r.Wire.Interface, Filter: r.Wire.Filter, Frames: r.Wire.Frames,
			Dropped: r.Wire.Dropped, Notes: nonNil(r.Wire.Notes),
		},
		Correlation: CorrelationView{
			Agreement: string(r.Correlation.Agreement), Summary: r.Correlation.Summary, Client: r.Correlation.Client, Wire: r.Correlation.Wire,
			Cause: r.Correlation.Cause, Fix: r.Correlation.Fix, Notes: nonNil(r.Correlation.Notes),
		},
	}
	if r.Wire.Err != nil {
		d.Capture.Error = r.Wire.Err.Error()
	}
	if r.Wire.Result != nil {
		c := report.NewConnection(*r.Wire.Result)
		d.Connection = &c
	}
	if r.Scan != nil {
		s := &ScanView{Accepted: []string{}, Families: []FamilyView{}, Groups: []GroupView{}, Beyond: []BeyondView{}}
		for _, f := range r.Scan.Families {
			fv := FamilyView{Family: string(f.Family), Version: versionName(r.Scan.FamilyVersion), Accepted: f.Accepted}
			if f.Accepted {
				fv.Cipher = tlsparse.CipherSuite(f.Cipher).String()
			}
			s.Families = append(s.Families, fv)
		}
		for _, g := range r.Scan.Groups {
			s.Groups = append(s.Groups, GroupView{Group: g.Group.String(), Version: versionName(r.Scan.GroupVersion), Accepted: g.Accepted})
		}
		for _, b := range r.Scan.Beyond {
			s.Beyond = append(s.Beyond, newBeyondView(b))
		}
		for _, v := range r.Scan.Versions {
			vv := VersionView{Version: versionName(v.Version), Accepted: v.Accepted, ErrorClass: string(v.Class)}
			if v.Accepted {
				vv.Cipher = tlsparse.CipherSuite(v.Cipher).String()
				s.Accepted = append(s.Accepted, vv.Version)
			}
			s.Versions = append(s.Versions, vv)
		}
		d.Scan = s
	}
	if r.Bisect != nil {
		d.Bisect = newBisectView(r.Bisect)
	}
	for _, h := range r.Redirects {
		d.Redirects = append(d.Redirects, RedirectView{URL: h.URL, Remote: addrText(h.Remote), Status: h.Status, Location: h.Location})
	}
	return d
}

func newBeyondView(b BeyondProbe) BeyondView {
	v := BeyondView{Offer: string(b.Offer), Version: versionName(b.Version), Accepted: b.Accepted}
	switch {
	case b.Accepted:
		v.Cipher = tlsparse.CipherSuite(b.Cipher).String()
		if b.Group != 0 {
			v.Group = b.Group.String()
		}
	case b.HasAlert:
		v.Alert = b.Alert.String()
	case b.Err != nil:
		v.Error = b.Err.Error()
	}
	return v
}

func newClientView(o *Outcome) ClientView {
	v := ClientView{
		ErrorClass: string(o.Class), Phase: string(o.Phase), Proxy: o.Proxy, ProxyFrom: o.ProxyFrom, ProxyReason: o.NoProxyReason,
		ServerName: o.ServerName, PeerCertificates: []CertView{}, Attempts: []AttemptView{}, Addresses: []string{},
		Timings: TimingsView{
			DNS: msPtr(o.Timings.DNS), Connect: msPtr(o.Timings.Connect),
			ProxyTLSHandshake: msPtr(o.Timings.ProxyTLSHandshake), ProxyConnect: msPtr(o.Timings.ProxyConnect),
			TLSHandshake: msPtr(o.Timings.TLSHandshake), FirstByte: msPtr(o.Timings.FirstByte), Total: msFloat(o.Timings.Total),
		},
	}
	if o.Err != nil {
		v.Error = o.Err.Error()
	}
	if o.Local.IsValid() {
		v.Local = o.Local.String()
	}
	if o.Remote.IsValid() {
		v.Remote = o.Remote.String()
	}
	for _, a := range o.Addrs {
		v.Addresses = append(v.Addresses, a.String())
	}
	for _, a := range o.Attempts {
		v.Attempts = append(v.Attempts, AttemptView{Remote: a.Remote.String(), Error: a.Err.Error(), ErrorClass: string(a.Class)})
	}
	if o.TLS != nil {
		v.Version, v.Cipher, v.ALPN = versionName(o.TLS.Version), tlsparse.CipherSuite(o.TLS.CipherSuite).String(), o.TLS.NegotiatedProtocol
	}
	v.PeerCertificates = certViews(o.PeerCertificates)
	if o.proxyTLS {
		p := &ProxyTLSView{ServerName: o.ProxyServerName, PeerCertificates: certViews(o.ProxyPeerCertificates), Insecure: o.proxyInsecure}
		if o.ProxyTLS != nil {
			p.Version, p.Cipher = versionName(o.ProxyTLS.Version), tlsparse.CipherSuite(o.ProxyTLS.CipherSuite).String()
		}
		v.ProxyTLS = p
	}
	if h := o.HTTP; h != nil {
		v.HTTP = &ResponseView{Proto: h.Proto, StatusCode: h.StatusCode, Status: h.Status, BodyBytes: h.BodyBytes, Truncated: h.Truncated, Location: h.Location}
		if h.Body != nil {
			v.HTTP.Body = strings.ToValidUTF8(string(h.Body), "\uFFFD")
		}
	}
	return v
}

// certViews are the certificates of a chain as JSON gives them; empty,
// never null, for none.
func certViews(chain []*x509.Certificate) []CertView {
	views := []CertView{}
	for _, c := range chain {
		sum := sha256.Sum256(c.Raw)
		views = append(views, CertView{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			NotBefore: c.NotBefore.UTC().Format(time.RFC3339), NotAfter: c.NotAfter.UTC().Format(time.RFC3339),
			SHA256: hex.EncodeToString(sum[:]),
		})
	}
	return views
}

func msFloat(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

func msPtr(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	f := msFloat(*d)
	return &f
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteOptions tune Write.
type WriteOptions struct {
	// RawBody writes the response body (Config.ShowBody) of the text
	// formats as the server sent it. Otherwise it is escaped like every
	// other text from the network (textsafe.Lines: its lines and tabs
	// kept), which is what a terminal needs; raw is for a pipe or a file.
	RawBody bool
	// Names names the probe's settings in the text formats' own lines as
	// the caller sets them (Config.Names).
	Names Names
}

// Write writes a probe's result in format f (one of Formats). The text
// formats escape everything the network chose (certificate names, the
// server name, errors, the body unless opts.RawBody) with textsafe's rule;
// the json format writes it exactly.
func Write(w io.Writer, f report.Format, r *Result, opts WriteOptions) error {
	switch f {
	case report.FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(NewDocument(r))
	case report.FormatTable, report.FormatTrace:
		return writeText(w, f, r, opts)
	}
	return fmt.Errorf("probe: format %q is not one of table, json, trace", f)
}

// Text layout.
const (
	textWidth  = 78
	textIndent = "   "
)

func writeText(w io.Writer, f report.Format, r *Result, opts WriteOptions) error {
	var b bytes.Buffer
	o := &r.Client
	fmt.Fprintf(&b, "Probe %s", textsafe.Cut(r.Target.String(), textsafe.NameWidth))
	if o.Remote.IsValid() {
		via := ""
		if o.Proxy != "" {
			via = " (proxy)"
		}
		fmt.Fprintf(&b, " → %s%s", o.Remote, via)
	}
	switch _, err := netip.ParseAddr(o.ServerName); {
	case r.Target.Plain() || o.Phase == PhaseResolve:
		// No TLS, or it was never reached: no SNI to speak of.
	case err == nil || o.ServerName == "":
		b.WriteString("  (no SNI)")
	default:
		fmt.Fprintf(&b, "  SNI %s", textsafe.Cut(o.ServerName, textsafe.NameWidth))
	}
	b.WriteString("\n")
	if r.Insecure {
		b.WriteString("!! verification disabled (" + opts.Names.of(SettingInsecure) + "): the server's certificate was not checked\n")
	}
	if o.proxyInsecure {
		b.WriteString("!! proxy verification disabled (" + opts.Names.of(SettingProxyInsecure) + "): the https:// proxy's certificate was not checked\n")
	}

	if r.RedirectLimitReached {
		fmt.Fprintf(&b, "!! stopped after %d redirects, the limit: this answer is one more redirect\n", len(r.Redirects))
	}

	b.WriteString("\nClient\n")
	for _, h := range r.Redirects {
		wrapped(&b, "redirected: ", fmt.Sprintf("%s (%s) answered %s, Location %s", h.URL, addrText(h.Remote), h.Status, h.Location))
	}
	wrapped(&b, "result: ", r.Correlation.Client)
	if o.Err != nil {
		wrapped(&b, "class: ", string(o.Class))
	}
	for _, a := range o.Attempts {
		wrapped(&b, "attempt: ", fmt.Sprintf("%s failed first: %s", a.Remote, a.Class))
	}
	wrapped(&b, "timings: ", timingsText(o))
	proxy := "none (direct connection)"
	if o.NoProxyReason != "" {
		proxy = "none (" + o.NoProxyReason + ")"
	}
	if o.Proxy != "" {
		proxy = fmt.Sprintf("%s (from %s)", o.Proxy, o.ProxyFrom)
	}
	if o.ProxyTLS != nil {
		proxy += fmt.Sprintf(", TLS to the proxy: %s (%s)", versionName(o.ProxyTLS.Version), tlsparse.CipherSuite(o.ProxyTLS.CipherSuite))
	}
	wrapped(&b, "proxy: ", proxy)
	if n := len(o.ProxyPeerCertificates); n > 0 {
		wrapped(&b, "proxy's certificate: ", certificateText(o.ProxyPeerCertificates))
	}
	if h := o.HTTP; h != nil {
		body := fmt.Sprintf("%d bytes", h.BodyBytes)
		if h.Truncated {
			body += " (more not read)"
		}
		if h.Location != "" {
			body += ", Location " + h.Location
		}
		wrapped(&b, "response: ", fmt.Sprintf("%s %s, %s", h.Proto, h.Status, body))
	}
	if len(o.PeerCertificates) > 0 {
		wrapped(&b, "certificate: ", certificateText(o.PeerCertificates))
	}

	b.WriteString("\nWire")
	switch {
	case r.Wire.Interface != "" && r.Wire.Err == nil:
		frames := "frames"
		if r.Wire.Frames == 1 {
			frames = "frame"
		}
		fmt.Fprintf(&b, " (%s, %q, %d %s)", textsafe.Text(r.Wire.Interface), r.Wire.Filter, r.Wire.Frames, frames)
	case r.Wire.Interface != "":
		fmt.Fprintf(&b, " (%s, %q)", textsafe.Text(r.Wire.Interface), r.Wire.Filter)
	}
	b.WriteString("\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	b.Reset()
	if r.Wire.Result != nil {
		// The wire's one connection as a block (the wide format's), in
		// the probe's own text layout.
		wf := f
		if wf == report.FormatTable {
			wf = report.FormatWide
		}
		s, err := report.NewStream(w, wf, report.Options{CaptureStart: r.Wire.Start})
		if err != nil {
			return err
		}
		if err := s.Connection(*r.Wire.Result); err != nil {
			return err
		}
	} else {
		reason := "the capture does not show the connection"
		if r.Wire.Err != nil {
			reason = r.Wire.Err.Error()
		}
		wrapped(&b, "no wire view: ", reason)
	}
	for _, n := range r.Wire.Notes {
		wrapped(&b, "note: ", n)
	}

	if f == report.FormatTrace {
		b.WriteString("\n")
	}
	c := r.Correlation
	fmt.Fprintf(&b, "Correlation: %s\n", textsafe.Text(string(c.Agreement)))
	wrapped(&b, "", c.Summary)
	var verdict diagnose.Verdict
	if r.Wire.Result != nil {
		verdict = r.Wire.Result.Verdict
	}
	// The wire's summary and fix are printed just above: say only what
	// the correlation adds.
	if c.Cause != "" && c.Cause != verdict.Summary {
		wrapped(&b, "cause: ", c.Cause)
	}
	if c.Fix != "" && c.Fix != verdict.Fix {
		wrapped(&b, "fix: ", c.Fix)
	}
	for _, n := range c.Notes {
		wrapped(&b, "note: ", n)
	}
	if s := r.Scan; s != nil {
		b.WriteString("\nScan (no verification: one handshake per version with every cipher suite, then per cipher family and per group; when none is accepted, hand-written hellos offering what crypto/tls cannot)\n")
		for _, v := range s.Versions {
			text := "accepted, " + tlsparse.CipherSuite(v.Cipher).String()
			if !v.Accepted {
				text = "rejected: " + string(v.Class)
			}
			wrapped(&b, fmt.Sprintf("%-8s ", versionName(v.Version)+":"), text)
		}
		for _, f := range s.Families {
			text := "refused"
			if f.Accepted {
				text = "accepted, " + tlsparse.CipherSuite(f.Cipher).String()
			}
			wrapped(&b, fmt.Sprintf("%s, %s: ", versionName(s.FamilyVersion), f.Family), text)
		}
		for _, g := range s.Groups {
			text := "refused"
			if g.Accepted {
				text = "accepted"
			}
			wrapped(&b, fmt.Sprintf("%s, group %s: ", versionName(s.GroupVersion), g.Group), text)
		}
		for _, h := range s.Beyond {
			v := newBeyondView(h)
			text := "refused: " + v.Alert + v.Error
			if h.Accepted {
				text = "accepted, " + v.Cipher
				if v.Group != "" {
					text += ", " + v.Group
				}
			}
			wrapped(&b, fmt.Sprintf("%s, %s: ", v.Version, h.Offer), text)
		}
	}
	if r.Bisect != nil {
		writeBisect(&b, r.Bisect)
	}
	if o.HTTP != nil && o.HTTP.Body != nil {
		b.WriteString("\nBody\n")
		body := o.HTTP.Body
		if !opts.RawBody {
			body = []byte(textsafe.Lines(string(body)))
		}
		b.Write(body)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			b.WriteString("\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// certificateText describes a chain by its leaf: "'CN=…' issued by
// 'CN=…', valid … to … (2 in chain)".
func certificateText(chain []*x509.Certificate) string {
	leaf := chain[0]
	return fmt.Sprintf("'%s' issued by '%s', valid %s to %s (%d in chain)",
		leaf.Subject, leaf.Issuer, leaf.NotBefore.UTC().Format(time.DateTime+" MST"), leaf.NotAfter.UTC().Format(time.DateTime+" MST"), len(chain))
}

func timingsText(o *Outcome) string {
	t := o.Timings
	parts := []string{}
	add := func(name string, d *time.Duration) {
		if d != nil {
			parts = append(parts, name+" "+ms(*d))
		}
	}
	add("dns", t.DNS)
	add("connect", t.Connect)
	add("proxy TLS handshake", t.ProxyTLSHandshake)
	tunnel := "CONNECT"
	if o.proxyKind != proxyparse.KindNone {
		tunnel = o.proxyKind.Words()
	}
	add("proxy "+tunnel, t.ProxyConnect)
	add("TLS handshake", t.TLSHandshake)
	add("first byte", t.FirstByte)
	parts = append(parts, "total "+ms(t.Total))
	return strings.Join(parts, ", ")
}

// wrapped writes label and text wrapped to textWidth, continuation lines
// aligned under the text. Every line of the text sections goes through it,
// and so through textsafe's rule: the text may quote the network (an error
// naming a certificate, a verdict quoting a server name).
func wrapped(b *bytes.Buffer, label, text string) {
	text = textsafe.Sentence(text)
	pad := textIndent + strings.Repeat(" ", utf8.RuneCountInString(label))
	width := textWidth - len(pad)
	line := 0
	for len(text) > 0 {
		cut := len(text)
		if utf8.RuneCountInString(text) > width {
			cut = breakAt(text, width)
		}
		if line == 0 {
			b.WriteString(textIndent + label)
		} else {
			b.WriteString(pad)
		}
		b.WriteString(strings.TrimRight(text[:cut], " "))
		b.WriteString("\n")
		text = strings.TrimLeft(text[cut:], " ")
		line++
	}
}

// breakAt returns the byte index where a line of at most width runes
// should end: after the last space that fits, or at width when there is
// none.
func breakAt(s string, width int) int {
	n, lastSpace := 0, -1
	for i, r := range s {
		if n == width {
			if lastSpace > 0 {
				return lastSpace
			}
			return i
		}
		if r == ' ' {
			lastSpace = i
		}
		n++
	}
	return len(s)
}
