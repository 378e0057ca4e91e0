package probe

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Agreement says how the client's view and the wire's relate.
type Agreement string

// The agreements.
const (
	// Agree: the wire's verdict is what the client's error implies.
	Agree Agreement = "agree"
	// Disagree: they tell different stories; the correlation says how
	// (typically the client trusts other roots than the wire was checked
	// against, or the capture missed packets).
	Disagree Agreement = "disagree"
	// ClientOnly: there is no wire view (no capture privileges, no
	// connection to capture, or the capture does not show it).
	ClientOnly Agreement = "client_only"
	// Unrelated: the client's one error (or success) is about another of
	// its connections (exec, where a program makes several); this one's
	// verdict stands alone.
	Unrelated Agreement = "unrelated"
	// InsideProxyTLS: the outcome was decided inside an https:// proxy's
	// TLS (the CONNECT, the target's handshake, the request), which the
	// capture shows only as encrypted records on the connection to the
	// proxy. Wire is that connection's verdict; the conclusion rests on
	// the client's error, neither agreeing nor disagreeing with the wire.
	InsideProxyTLS Agreement = "inside_proxy_tls"
)

// Correlation is the probe's conclusion: what each end shows, whether they
// agree, the cause and the fix.
type Correlation struct {
	Agreement Agreement
	// Summary is the conclusion in one sentence.
	Summary string
	// Client says in one sentence what the client saw, Wire what the
	// capture shows ("" without a wire view).
	Client string
	Wire   string
	// Cause explains the outcome; Fix says what to change ("" on success).
	Cause string
	Fix   string
	// Notes are further remarks: verification disabled, why there is no
	// wire view, the scan's findings.
	Notes []string
}

// Correlate puts what the client saw next to what the capture shows. It is
// a pure function of its arguments.
func Correlate(t Target, o *Outcome, w *Wire, insecure bool, names Names) Correlation {
	c := correlate(t, o, w, insecure, names)
	c.addLookup(t, o, w, names)
	if w != nil && w.Result != nil && w.Result.Conn != nil {
		if p := w.Result.Conn.Proxy; p != nil && p.TLS != nil {
			c.Notes = append(c.Notes, fmt.Sprintf("the wire's verdict is about the target's TLS handshake, read inside the https:// proxy's TLS, which the key log (%s) opened: the connection on the wire is the one to the proxy %s (SNI %s)",
				names.of(SettingKeyLog), o.Remote, cmp.Or(p.TLS.ServerName, "none")))
		}
	}
	return c
}

func correlate(t Target, o *Outcome, w *Wire, insecure bool, names Names) Correlation {
	c := Correlation{Client: clientSentence(o)}
	if insecure {
		c.Notes = append(c.Notes, "verification disabled ("+names.of(SettingInsecure)+"): the client did not check the server's certificate")
		if w.Chain != nil && len(w.Chain.Problems) > 0 && !o.proxyTLS {
			c.Notes = append(c.Notes, "the chain the server sent is not valid: "+w.Chain.Problems[0].Detail)
		}
	}
	if o.proxyInsecure {
		c.Notes = append(c.Notes, "verification of the proxy's certificate disabled ("+names.of(SettingProxyInsecure)+"): the client did not check the https:// proxy's own certificate")
		if w.Chain != nil && len(w.Chain.Problems) > 0 {
			c.Notes = append(c.Notes, "the chain the proxy sent is not valid: "+w.Chain.Problems[0].Detail)
		}
	}
	if t.Plain() {
		c.plainCorrelation(t, o, w, names)
		return c
	}
	if w.Result == nil {
		c.Agreement = ClientOnly
		why := "the capture does not show the connection"
		if w.Err != nil {
			why = w.Err.Error()
		}
		c.Summary = "no wire view (" + why + "): the client's view alone"
		c.Cause, c.Fix = explain(t, o, names)
		return c
	}
	v := w.Result.Verdict
	c.Wire = string(v.Category) + ": " + v.Summary
	if insideProxyTLS(o, v, w.Result.Conn) {
		c.insideProxyTLS(t, o, w, names)
		return c
	}
	refused := o.Err == nil && o.HTTP != nil && o.HTTP.StatusCode >= 400
	// A server may complete the handshake without the certificate it
	// asked for and refuse the request instead (nginx's HTTP 400 "No
	// required SSL certificate was sent").
	if cause, fix, ok := clientCertNotSent(o, w.Result.Conn); ok && (o.Err != nil || refused && v.Category == diagnose.ClientCertRequired) {
		// Only the client knows a certificate was configured.
		c.Agreement = Agree
		c.Summary = fmt.Sprintf("the client's error (%s) is what the wire shows (%s): the configured client certificate was not sent", o.Class, v.Category)
		if refused {
			c.Summary = fmt.Sprintf("the server refused the request with HTTP %s, and the wire shows why (%s): the configured client certificate was not sent", o.HTTP.Status, v.Category)
		}
		c.Cause, c.Fix = cause, fix
		return c
	}
	if refused {
		c.statusCorrelation(o.HTTP, v)
		return c
	}
	if p := otherChainProblem(o, w); p != nil {
		// The chain has more than one problem and the client named
		// another than the one the verdict leads with: both are true.
		_, fix := explain(t, o, names)
		c.Agreement = Agree
		c.Summary = fmt.Sprintf("the client's error (%s) is a problem the wire shows too, beside its verdict (%s): the chain has both", o.Class, v.Category)
		c.Cause = fmt.Sprintf("%s; and the client's: %s", v.Summary, p.Detail)
		c.Fix = v.Fix + "; and " + fix
		return c
	}
	if consistent(o, w) {
		c.Agreement = Agree
		c.Summary = fmt.Sprintf("the client's error (%s) is what the wire shows (%s)", o.Class, v.Category)
		if o.Err == nil {
			c.Summary = "the request succeeded and the wire shows a completed handshake"
		}
		c.Cause, c.Fix = v.Summary, v.Fix
		if v.Category == diagnose.OK {
			c.Cause = ""
		}
		switch {
		case o.Err == nil:
		case o.Phase == PhaseProxyTLS:
			// The wire's verdict judges the proxy as a server: say whose
			// certificate and handshake it is, and what to change on the
			// proxy's side.
			c.Cause, c.Fix = explain(t, o, names)
			c.Notes = append(c.Notes, proxyTLSNote(o, w.Result.Conn))
		case o.Class == Timeout && v.Category == diagnose.ServerNoResponse:
			// The client's timeout is not a second failure: it is how the
			// server's silence ended.
			c.Summary = fmt.Sprintf("the client's timeout and the wire's %s are one event: the server went silent (or crawled) and the client gave up after %s%s",
				v.Category, seconds(o.Timings.Total), limitText(o, names))
		case o.Class == ProxyRefused:
			// The wire's verdict is about the proxy's address: say so.
			c.Notes = append(c.Notes, fmt.Sprintf("the refused address is the proxy's (%s, from %s), not the target's", o.Proxy, o.ProxyFrom))
		case o.Class == ProxyConnectFailed && v.Category == diagnose.ProxyRefused && o.proxyFlag:
			// The wire's fix offers NO_PROXY, which an explicit proxy
			// ignores.
			c.Fix = fmt.Sprintf("the proxy at %s does not allow tunnels to %s: ask its administrator to allow the destination, or, if it can be reached directly, %s", o.Remote, t.described(), bypassText(o, names))
		case o.Class == ProxyError:
			c.Cause, c.Fix = explain(t, o, names)
		case v.Category == diagnose.OK:
			// The handshake is fine; what failed came after it.
			c.Cause, c.Fix = explain(t, o, names)
			if alert, ok := o.Class.Alert(); ok {
				if a := serverAlert(w.Result.Conn, alert); a != nil {
					c.Notes = append(c.Notes, fmt.Sprintf("the wire shows the server's alert %s in frame %d, after the handshake the verdict calls complete", alert, a.Frame.Number))
				}
			}
		case vague(v.Category) && !wireNamesDefect(w):
			// The wire cannot see the cause (TLS 1.3 without secrets, a
			// bare handshake_failure): the client's error can.
			c.Cause, c.Fix = explain(t, o, names)
			c.Notes = append(c.Notes, "the wire alone shows only "+string(v.Category)+"; the cause is the client's error")
		}
		return c
	}
	c.Agreement = Disagree
	client := string(o.Class)
	if o.Err == nil {
		client = "success"
	}
	c.Summary = fmt.Sprintf("the client and the wire disagree: the client reports %s, the wire shows %s", client, v.Category)
	c.Cause, c.Fix = disagreement(t, o, w, names)
	return c
}

// otherChainProblem returns the problem of the chain the wire checked that
// the client's certificate error names when the verdict is about another
// problem of that chain (an untrusted root, and a name the leaf does not
// cover); nil otherwise.
func otherChainProblem(o *Outcome, w *Wire) *diagnose.CertProblem {
	cat := w.Result.Verdict.Category
	if !o.Class.IsCertificate() || w.Chain == nil || !cat.IsCertificate() || slices.Contains(namedBy()[o.Class], cat) {
		return nil
	}
	for i, p := range w.Chain.Problems {
		if slices.Contains(namedBy()[o.Class], p.Category) {
			return &w.Chain.Problems[i]
		}
	}
	return nil
}

// unanswered reports whether the wire shows a request after the handshake
// and no answer to it.
func unanswered(c *analysis.Connection) bool {
	a := c.Afterwards()
	return a.Request.Number != 0 && a.Response.Number == 0
}

// wireNamesDefect reports whether the chain the capture shows has a
// defect of its own (cert_rejected: a SHA-1 signature, an issuer that is
// not a CA, a key clients refuse…): the wire's verdict then names the
// cause and its fix, which the client's error class may only hint at.
func wireNamesDefect(w *Wire) bool {
	return w.Chain != nil && slices.ContainsFunc(w.Chain.Problems, func(p diagnose.CertProblem) bool { return p.Category == diagnose.CertRejected })
}

// vague categories say that something failed but not why.
func vague(cat diagnose.Category) bool {
	return cat == diagnose.CertRejected || cat == diagnose.HandshakeFailure
}

// consistent reports whether the wire's verdict is what the client's error
// implies.
func consistent(o *Outcome, w *Wire) bool {
	cat := w.Result.Verdict.Category
	if o.Err == nil {
		return cat == diagnose.OK
	}
	if want, ok := proxyCategory(o.Err); ok && o.Class == ProxyConnectFailed {
		// The TLS never started: the wire shows the proxy's answer, and
		// its status is the one in the client's error.
		return cat == want
	}
	if o.Class.IsCertificate() && w.Chain != nil && len(w.Chain.Problems) == 0 {
		// The chain is fine by the wire's roots: the client's roots
		// differ, whatever the verdict's category.
		return false
	}
	if alert, ok := o.Class.Alert(); ok {
		if serverAlert(w.Result.Conn, alert) != nil {
			// The wire shows the very alert, whatever the verdict made of
			// it (under TLS 1.3 a server may reject the client's
			// certificate after both Finished messages).
			return true
		}
		return slices.Contains(alertVerdicts(alert), cat)
	}
	if o.Class == TimeoutAwaitingHeaders && !unanswered(w.Result.Conn) {
		// The handshake completed; the wire must also show the request
		// left unanswered (diagnose says so in an ok verdict).
		return false
	}
	return classAgrees(o.Class, o.Phase, cat, w.Result.Conn)
}

// wireVerdicts says which wire verdicts agree with a client error class
// where the categories that name the class (diagnose's ClientClasses) are
// not all of it.
type wireVerdicts struct {
	// byPhase: where the phase changes what the wire shows, the verdicts
	// that agree in that phase.
	byPhase map[Phase][]diagnose.Category
	// afterServerClose: verdicts that agree, in any phase, when the wire
	// shows the server ending the connection (its FIN, or a RST in its
	// name): the client's error is how it learnt of that close, and which
	// of its reads or writes met it first is a race (a write after the
	// server's FIN draws the RST that makes a reset of it).
	afterServerClose []diagnose.Category
	// anyCertificate: every verdict about the certificate chain agrees
	// (the client rejected the chain for a reason of its own).
	anyCertificate bool
	// anyFailure: every verdict but ok agrees (the wire cannot say more,
	// e.g. when no connection was made).
	anyFailure bool
	// anyVerdict: every verdict agrees (an interrupted probe).
	anyVerdict bool
}

// classVerdicts are the classes whose agreement is more than the
// categories that name them.
var classVerdicts = map[Class]wireVerdicts{
	// Anything between client and proxy but a refused connection or an
	// error status (an https:// proxy's TLS, a reply that is no HTTP):
	// the wire can only show that it failed.
	ProxyError:  {anyFailure: true},
	DNSNotFound: {anyFailure: true},
	DNSTimeout:  {anyFailure: true},
	DNSError:    {anyFailure: true},
	// A reset or an EOF is how a client meets a server that gave up
	// without an alert (server_no_response: closed before any TLS
	// answer, even before the ClientHello arrived) or whose alert the
	// client did not read: under TLS 1.3 the client finishes its side
	// first and writes its request while the server rejects its
	// certificate (client_cert_required), so Go reports the alert, a
	// broken pipe or a reset depending on which arrived first.
	ConnectionReset: {
		byPhase:          map[Phase][]diagnose.Category{PhaseHTTP: {diagnose.OK, diagnose.ConnectionReset, diagnose.MiddleboxReset}},
		afterServerClose: []diagnose.Category{diagnose.ServerNoResponse, diagnose.ClientCertRequired},
	},
	ConnectionClosed: {
		byPhase:          map[Phase][]diagnose.Category{PhaseHTTP: {diagnose.OK, diagnose.ConnectionReset}},
		afterServerClose: []diagnose.Category{diagnose.ServerNoResponse, diagnose.ClientCertRequired},
	},
	// A request that timed out after a good handshake: the server did
	// not answer (ok), or ICMP errors from the path answered the request
	// and Linux TCP kept sending it again (host_unreachable,
	// connection_refused).
	Timeout:  {byPhase: map[Phase][]diagnose.Category{PhaseConnect: {diagnose.NoTCPAnswer}, PhaseHTTP: {diagnose.OK, diagnose.HostUnreachable, diagnose.ConnectionRefused}}},
	Canceled: {anyVerdict: true},

	CertNotAuthorizedToSign: {anyCertificate: true},
	CertIncompatibleUsage:   {anyCertificate: true},
	CertNameConstraints:     {anyCertificate: true},
	CertInsecureAlgorithm:   {anyCertificate: true},
	CertInvalid:             {anyCertificate: true},

	DowngradeDetected: {anyFailure: true},
	TLSError:          {anyFailure: true},
	Other:             {anyFailure: true},
}

// namedBy maps each class to the categories that name it as a client
// error they agree with.
var namedBy = sync.OnceValue(func() map[Class][]diagnose.Category {
	m := map[Class][]diagnose.Category{}
	for _, cat := range diagnose.Categories {
		for _, c := range cat.ClientClasses() {
			m[Class(c)] = append(m[Class(c)], cat)
		}
	}
	return m
})

// classAgrees reports whether the wire verdict cat on connection conn
// (nil when not known) agrees with the client error class c (not an
// alert's) in phase p.
func classAgrees(c Class, p Phase, cat diagnose.Category, conn *analysis.Connection) bool {
	a := classVerdicts[c]
	switch {
	case a.anyVerdict:
		return true
	case a.anyFailure:
		return cat != diagnose.OK
	case slices.Contains(a.afterServerClose, cat) && serverEnded(conn):
		return true
	}
	if v, ok := a.byPhase[p]; ok {
		return slices.Contains(v, cat)
	}
	return a.anyCertificate && cat.IsCertificate() || slices.Contains(namedBy()[c], cat)
}

// serverEnded reports whether the wire shows the server ending the
// connection: its FIN, or a RST in its name.
func serverEnded(c *analysis.Connection) bool {
	if c == nil {
		return false
	}
	return c.TCP.FIN[capture.ServerToClient].Number != 0 || c.TCP.RST.Number != 0 && c.TCP.RSTFrom == capture.ServerToClient
}

// alertVerdicts returns the wire verdicts that agree with a fatal alert
// from the server when the wire does not show the alert itself: the
// categories that name its class, else handshake_failure.
func alertVerdicts(d tlsparse.AlertDescription) []diagnose.Category {
	if v := namedBy()[AlertClass(d)]; len(v) > 0 {
		return v
	}
	return []diagnose.Category{diagnose.HandshakeFailure}
}

// disagreement explains a wire verdict that is not what the client's error
// implies.
func disagreement(t Target, o *Outcome, w *Wire, names Names) (cause, fix string) {
	v := w.Result.Verdict
	conn := w.Result.Conn
	switch {
	case o.Phase == PhaseProxyTLS && o.Class.IsCertificate() && w.Chain != nil && len(w.Chain.Problems) == 0:
		return fmt.Sprintf("the client rejected the https:// proxy's own certificate (%s), but the chain the proxy sent (frame %d) is valid against the roots the wire was checked with (the system roots plus %s and %s): the client checks the proxy against %s only, not against %s, which is for the target (as in curl)",
				o.Class, conn.CertificateFrame.Number, names.of(SettingWireRoots), names.of(SettingProxyRootCAs), proxyRootsText(o, names), names.of(SettingRootCAs)),
			proxyTrustFix(names)
	case o.Class.IsCertificate() && w.Chain != nil && len(w.Chain.Problems) == 0:
		root := "its root CA"
		if n := len(conn.Certificates); n > 0 && conn.Certificates[n-1].X509 != nil {
			root = fmt.Sprintf("the CA '%s'", conn.Certificates[n-1].X509.Issuer)
		}
		whose := "the client's trust store"
		if o.CustomRoots {
			whose = fmt.Sprintf("the client's trust store (only the %[1]s certificates: %[1]s replaces the system roots)", names.of(SettingRootCAs))
		}
		fix := fmt.Sprintf("make the client trust %s (%s)", root, names.of(SettingRootCAs))
		if o.CustomRoots {
			fix = fmt.Sprintf("make the client trust %s (add it to the %[2]s file, or drop %[2]s to use the system roots)", root, names.of(SettingRootCAs))
		}
		return fmt.Sprintf("the client rejected the server's certificate (%s), but the chain the server sent (frame %d) is valid against the roots the wire was checked with (the system roots plus %s): %s does not hold %s",
			o.Class, conn.CertificateFrame.Number, names.of(SettingWireRoots), whose, root), fix
	case o.Err == nil && v.Category.IsCertificate():
		// A program exec ran checks what it checks: the wire's judgement
		// of the chain is not its own.
		cause = fmt.Sprintf("the client succeeded, but the wire shows %s (%s): the client did not check what the wire checked — it trusts roots the wire was not judged by (%s), or it does not verify the chain or the name (%s; openssl s_client goes on unless given -verify_return_error, and checks no name without -verify_hostname)",
			v.Category, v.Summary, names.of(SettingWireRoots), names.of(SettingInsecure))
		if slices.ContainsFunc(conn.Alerts, func(a analysis.Alert) bool { return a.Sender == capture.ClientToServer && !a.Known() }) {
			cause += "; the client's encrypted alert is then its close_notify, not a rejection"
		}
		return cause, "nothing failed for this client; if it must verify the server, turn its verification on (" + names.of(SettingInsecure) + ")"
	case o.Err == nil:
		return fmt.Sprintf("the request succeeded but the capture shows %s (%s); the capture probably lacks packets (%d dropped by the kernel)", v.Category, v.Summary, w.Dropped),
			"nothing to fix on the connection; capture again (" + names.of(SettingPcap) + " FILE) if the wire view matters"
	case v.Category == diagnose.OK:
		cause, fix = explain(t, o, names)
		return fmt.Sprintf("the handshake completed on the wire, yet the client failed %s with %s: %s", phaseText(o.Phase), o.Class, cause), fix
	}
	cause, fix = explain(t, o, names)
	return fmt.Sprintf("the client failed %s with %s, but the wire shows %s: %s", phaseText(o.Phase), o.Class, v.Category, v.Summary),
		fix
}

// clientSentence says what the client saw.
func clientSentence(o *Outcome) string {
	if o.Err == nil {
		var b strings.Builder
		if o.HTTP != nil {
			fmt.Fprintf(&b, "%s", strings.TrimSpace(o.HTTP.Proto+" "+o.HTTP.Status))
			if o.TLS != nil {
				b.WriteString(" over ")
			}
		}
		if o.TLS != nil {
			fmt.Fprintf(&b, "%s (%s", versionName(o.TLS.Version), tlsparse.CipherSuite(o.TLS.CipherSuite))
			if o.TLS.NegotiatedProtocol != "" {
				fmt.Fprintf(&b, ", ALPN %s", o.TLS.NegotiatedProtocol)
			}
			b.WriteString(")")
			if o.HTTP == nil {
				b.WriteString(": the handshake completed")
			}
		}
		if o.HTTP == nil && o.TLS == nil {
			// A program exec ran: its exit status is all it says.
			return "succeeded (no error reported)"
		}
		if o.Timings.Total > 0 {
			// A program exec ran is not timed.
			fmt.Fprintf(&b, " in %s", ms(o.Timings.Total))
		}
		return b.String()
	}
	return fmt.Sprintf("failed %s with %s: %v", phaseText(o.Phase), o.Class, o.Err)
}

func phaseText(p Phase) string {
	switch p {
	case PhaseResolve:
		return "while resolving the name"
	case PhaseConnect:
		return "while connecting"
	case PhaseProxyTLS:
		return "during the TLS handshake with the proxy"
	case PhaseProxy:
		return "while asking the proxy for a tunnel"
	case PhaseTLS:
		return "during the TLS handshake"
	case PhaseHTTP:
		return "after the handshake, during the HTTP exchange"
	}
	return "after finishing"
}

// seconds formats a duration in seconds with at most one decimal: "8 s",
// "1.5 s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Round(100*time.Millisecond))/float64(time.Second), 'f', -1, 64) + " s"
}

// limitText names the client's time limit when it had one: " (--max-time
// 8 s)" as a command names it.
func limitText(o *Outcome, names Names) string {
	if o.MaxTime <= 0 {
		return ""
	}
	return " (" + names.of(SettingMaxTime) + " " + seconds(o.MaxTime) + ")"
}

// ms formats a duration in milliseconds, as the reports do.
func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond)/time.Millisecond)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

// proxyHungUp says how a proxy ended the connection before answering the
// CONNECT: a reset, or a close.
func proxyHungUp(err error) (string, bool) {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset it", true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed it", true
	}
	return "", false
}

// bypassText says how to try the target without the proxy: NO_PROXY for
// the environment's, which it applies to; for Config.Proxy, which it does
// not apply to, leaving the setting out (or empty, when HTTPS_PROXY would
// take over).
func bypassText(o *Outcome, names Names) string {
	if o.proxyFlag {
		p := names.of(SettingProxy)
		return fmt.Sprintf("try the direct path without %s (%s \"\" if HTTPS_PROXY is set too): NO_PROXY does not apply to %s", p, p, p)
	}
	return "bypass it with NO_PROXY"
}

// explain says what a client error means and what to change, from the
// client's view alone.
func explain(t Target, o *Outcome, names Names) (cause, fix string) {
	where := t.described()
	if o.Remote.IsValid() {
		where = o.Remote.String()
	}
	if o.Phase == PhaseProxyTLS {
		if cause, fix, ok := explainProxyTLS(o, names); ok {
			return cause, fix
		}
	}
	if alert, ok := o.Class.Alert(); ok {
		return explainAlert(alert, o, names)
	}
	if cause, fix, ok := explainBody(o, where, names); ok {
		return cause, fix
	}
	switch o.Class {
	case ClassNone:
		return "", ""
	case DNSNotFound:
		return fmt.Sprintf("%s does not resolve", lookedUp(t, o)), "check the name and its DNS records, or pin an address with " + names.of(SettingResolve) + " host:port:addr"
	case DNSTimeout, DNSError:
		cause = fmt.Sprintf("looking up %s failed: %v", lookedUp(t, o), o.Err)
		if strings.Contains(o.Err.Error(), "server misbehaving") {
			// Go's words for a SERVFAIL answer (RFC 1035, Section 4.1.1):
			// the resolver answered, so the way to it works.
			return cause + " (the resolver answered SERVFAIL)",
				"the resolver is reachable and answered; the failure is upstream of it: the domain's authoritative servers do not answer or are misconfigured, or DNSSEC validation fails for the domain (compare dig NAME with dig +cd NAME: an answer with +cd only means validation fails)"
		}
		return cause, "check the resolver (/etc/resolv.conf) and the network path to it"
	case ProxyRefused:
		return fmt.Sprintf("%s refused the TCP connection", proxyName(o)), "check the proxy's address and port (" + names.of(SettingProxy) + ", HTTPS_PROXY), or that it is running"
	case ProxyConnectFailed:
		if f, ok := readSOCKSFailure(o.Err.Error()); ok && f.refused() {
			return f.explain(o.Proxy, t.described())
		}
		return fmt.Sprintf("%s refused to open a tunnel to %s: %v", proxyName(o), t.described(), innermost(o.Err)),
			"the proxy's policy forbids this destination or wants credentials (user:password@ in the proxy URL): ask its administrator, or " + bypassText(o, names)
	case ProxyError:
		if how, ok := proxyHungUp(o.Err); ok {
			return fmt.Sprintf("%s accepted the TCP connection and %s without answering the CONNECT request", proxyName(o), how),
				"the proxy drops this client's connections: look at its log for a connection limit or an access rule for the client's address (Squid: http_access with an acl src), or at a firewall in front of it; " +
					"or the address is no HTTP proxy (a SOCKS proxy wants socks5://, a proxy that speaks TLS https://): check " + names.of(SettingProxy) + " and HTTPS_PROXY"
		}
		return fmt.Sprintf("talking to %s failed: %v", proxyName(o), o.Err), "check the proxy setting (" + names.of(SettingProxy) + ", HTTPS_PROXY)"
	case ConnectionRefused:
		return fmt.Sprintf("%s refused the connection: nothing listens on %s (or a firewall rejects it)", where, portText(o.Remote.Port())),
			"start the server, or connect to the port it listens on"
	case ConnectTimeout:
		return fmt.Sprintf("%s did not answer the TCP connection attempt", where), "check that the host is up and that no firewall drops the traffic"
	case HostUnreachable, NetworkUnreachable:
		return fmt.Sprintf("there is no route to %s", where), "check the address and the network configuration"
	case ConnectionReset:
		return fmt.Sprintf("%s reset the connection %s", where, phaseText(o.Phase)),
			"the server (or a middlebox) aborted: check its logs; a reset right after the ClientHello often means it dislikes something offered (SNI, version) or is not a TLS server"
	case ConnectionClosed:
		if o.Proxy != "" && o.Phase == PhaseHTTP {
			// A server that closes says so in TLS first, and the proxy
			// would carry it: a bare close of the tunnel after the
			// request is the proxy's as a rule.
			return fmt.Sprintf("%s closed the tunnel %s without an alert: likely its idle or read timeout, shorter than the server takes to answer; less likely, the server's program stopped", proxyName(o), phaseText(o.Phase)),
				"check the proxy's timeouts (Squid: read_timeout) and its log, and compare with a request that does not go through it (" + bypassText(o, names) + "); then the server's logs"
		}
		return fmt.Sprintf("%s closed the connection %s without an alert", where, phaseText(o.Phase)),
			"check the server's logs: it may reject the client's offer silently or not speak TLS on this port"
	case TimeoutAwaitingHeaders:
		return "the TLS handshake succeeded and the request was sent, but no response header came before the time limit: the server application (or a proxy behind the TLS endpoint) did not answer",
			"look at the server application, not at TLS: its logs, its load, a handler that blocks, an upstream it waits for; raise " + names.of(SettingMaxTime) + " if it is only slow"
	case Timeout:
		return fmt.Sprintf("no answer %s before the time limit", phaseText(o.Phase)),
			"the server (or a middlebox) swallows the traffic: check that the port serves TLS and the server's load; raise " + names.of(SettingMaxTime) + " if it is only slow"
	case Canceled:
		return "the probe was interrupted", ""
	case NotTLS:
		return fmt.Sprintf("%s answered the ClientHello with something that is not TLS", where),
			fmt.Sprintf("%s does not serve TLS: use http:// or the server's HTTPS port", portText(t.Port))
	case CertUnknownAuthority:
		trust := "the system roots"
		if o.CustomRoots {
			trust = "the " + names.of(SettingRootCAs) + " certificates"
		}
		return fmt.Sprintf("the server's chain does not lead to a root the client trusts (%s): %s", trust, innermost(o.Err)),
			"install the full chain (with its intermediates) on the server, or trust its root CA (" + names.of(SettingRootCAs) + ")"
	case CertExpired, CertNotYetValid:
		return "the server's certificate is outside its validity period: " + innermost(o.Err),
			"renew the server's certificate and install it (or fix the clock of whichever side is wrong)"
	case CertHostnameMismatch:
		return fmt.Sprintf("the server's certificate is not valid for %s: %s", o.ServerName, innermost(o.Err)),
			"use the name the certificate is issued for, or get a certificate that covers this name"
	case CertNotAuthorizedToSign, CertIncompatibleUsage, CertNameConstraints, CertInsecureAlgorithm, CertInvalid:
		return "the client rejected the server's certificate: " + innermost(o.Err), "replace the server's certificate with a valid one"
	case ClientRejectedVersion:
		return "the server chose a version the client does not allow: " + innermost(o.Err), "widen " + pair(names, SettingMinVersion, SettingMaxVersion) + ", or enable a newer version on the server"
	case ClientRejectedCipher:
		return "the server chose a cipher suite the client did not offer", "the server is broken or a middlebox interferes"
	case ClientRejectedALPN:
		return "the server chose an application protocol the client did not offer", "the server is broken or a middlebox interferes"
	case DowngradeDetected:
		return "the server's random carries a downgrade sentinel: something between the client and the server removed TLS 1.3", "look for a middlebox that intercepts TLS"
	case RenegotiationRefused:
		return "after the handshake the server asked the client to renegotiate, instead of answering the request, and crypto/tls refused (it never renegotiates unless its tls.Config allows it with Renegotiation): likely the server wants a client certificate (or other TLS settings) for this path only (Apache httpd's SSLVerifyClient or SSLCipherSuite inside a <Location> or <Directory>; IIS with client certificates set to Accept or Require); possible: a server that renegotiates on a timer or byte count",
			"have the server ask for the client certificate in the first handshake instead of renegotiating: Apache httpd: move `SSLVerifyClient require` (or `optional`) and any `SSLCipherSuite` out of the <Location>/<Directory> into the <VirtualHost>; IIS: enable client certificate negotiation on the binding (`netsh http add sslcert … clientcertnegotiation=enable`); or let the Go client renegotiate once: `Renegotiation: tls.RenegotiateOnceAsClient` in its tls.Config (net/http: in Transport.TLSClientConfig; it works over HTTP/1.1 only, as HTTP/2 forbids renegotiation)"
	case TLSError:
		return "the client aborted the handshake: " + innermost(o.Err), "the server's answer breaks a rule crypto/tls enforces: compare with another client (openssl s_client) and check the server's TLS configuration"
	case HTTPError:
		if cause, fix, ok := explainHTTP2(o.Err.Error(), names); ok {
			return cause, fix
		}
		return "the TLS handshake succeeded but the HTTP exchange failed: " + innermost(o.Err), "the server does not speak the HTTP version negotiated (ALPN), or sent a malformed response"
	}
	return fmt.Sprintf("the request failed: %v", o.Err), "read the error above; keep the capture (" + names.of(SettingPcap) + " FILE) and the key log (" + names.of(SettingKeyLog) + " FILE) to look closer in Wireshark"
}

// explainBody explains a timeout, close or reset while the response body
// was coming: the server had answered, so the port speaks TLS and HTTP and
// the handshake is not the cause.
func explainBody(o *Outcome, where string, names Names) (cause, fix string, ok bool) {
	var be *BodyError
	if !errors.As(o.Err, &be) {
		return "", "", false
	}
	if o.Proxy != "" {
		// The tunnel's other end may have closed it as well.
		where = "the server or " + proxyName(o)
	}
	answered := fmt.Sprintf("the server answered (%s), then ", be.Status)
	fix = "look at the server application, not at TLS: its error log for this request (a handler or an upstream that stalls or breaks off mid-response, a proxy's buffering or size limit)"
	switch o.Class {
	case Timeout:
		return answered + fmt.Sprintf("the body stopped coming after %s and the time limit passed", be.received()),
			fix + "; raise " + names.of(SettingMaxTime) + " if the body is only slow", true
	case ConnectionClosed:
		return answered + fmt.Sprintf("%s closed the connection after %s of the body", where, be.received()), fix, true
	case ConnectionReset:
		return answered + fmt.Sprintf("%s reset the connection after %s of the body", where, be.received()), fix, true
	}
	return "", "", false
}

// explainHTTP2 explains net/http's error for an HTTP/2 stream the server
// reset (RST_STREAM, "stream error: stream ID 1; INTERNAL_ERROR; received
// from peer") or a connection it ended (GOAWAY) with an error code (RFC
// 9113, Section 7): the server chose to end it, so the code says why.
func explainHTTP2(msg string, names Names) (cause, fix string, ok bool) {
	var code, what string
	switch {
	case strings.Contains(msg, "stream error: stream ID ") && strings.HasSuffix(msg, "; received from peer"):
		rest := msg[strings.Index(msg, "stream error: stream ID "):]
		parts := strings.Split(rest, "; ")
		if len(parts) != 3 {
			return "", "", false
		}
		code, what = parts[1], "reset the HTTP/2 stream of the request (RST_STREAM "+parts[1]+")"
	case strings.Contains(msg, "GOAWAY"):
		for _, prefix := range []string{"ErrCode:", "ErrCode="} {
			if _, after, found := strings.Cut(msg, prefix); found {
				code, _, _ = strings.Cut(after, ",")
			}
		}
		if code == "" {
			return "", "", false
		}
		what = "ended the HTTP/2 connection (GOAWAY " + code + ") before answering the request"
	default:
		return "", "", false
	}
	meaning, fix := "", "check the server's log for why it ended the request; "+names.of(SettingALPN)+" http/1.1 shows whether HTTP/1.1 works"
	switch code {
	case "NO_ERROR":
		meaning, fix = "a graceful shutdown (a restart or reload, or the server's limit of requests per connection)", "retry the request; if it keeps happening, check the server's reloads and its per-connection request limit"
	case "PROTOCOL_ERROR":
		meaning, fix = "the server judged the request's HTTP/2 frames or headers malformed", "check the request's headers (-H: a connection-specific header such as Connection or Transfer-Encoding is forbidden in HTTP/2) and compare with "+names.of(SettingALPN)+" http/1.1; a middlebox that rewrites HTTP/2 fails the same way"
	case "INTERNAL_ERROR":
		meaning, fix = "the server's application failed while handling the request (a handler that crashed or aborted, an upstream that failed)", "nothing to change in TLS: look at the server's error log for this request"
	case "REFUSED_STREAM":
		meaning, fix = "the server refused the request before processing it (too many concurrent streams, or it is shutting down)", "retry the request; if it keeps happening, check the server's concurrent stream limit"
	case "CANCEL":
		meaning, fix = "the server no longer wanted the stream (its handler or an upstream gave up)", "nothing to change in TLS: look at the server's log for this request"
	case "ENHANCE_YOUR_CALM":
		meaning, fix = "the server considers the client's load excessive (a rate limit)", "send fewer requests, or raise the server's (or its CDN's) rate limit for this client"
	case "INADEQUATE_SECURITY":
		meaning, fix = "the TLS parameters negotiated are below what HTTP/2 requires (RFC 9113, Section 9.2: TLS 1.2 with an ECDHE AEAD cipher suite, or TLS 1.3)", "offer TLS 1.3 or an ECDHE AEAD cipher suite ("+pair(names, SettingMaxVersion, SettingCipherSuites)+"), or HTTP/1.1 ("+names.of(SettingALPN)+" http/1.1)"
	case "HTTP_1_1_REQUIRED":
		meaning, fix = "the server wants this request over HTTP/1.1", "offer HTTP/1.1 ("+names.of(SettingALPN)+" http/1.1)"
	}
	cause = "the TLS handshake succeeded, then the server " + what
	if meaning != "" {
		cause += ": " + meaning
	}
	return cause, fix, true
}

func explainAlert(alert tlsparse.AlertDescription, o *Outcome, names Names) (cause, fix string) {
	cause = fmt.Sprintf("the server aborted with alert %s %s", alert, phaseText(o.Phase))
	switch alert {
	case tlsparse.AlertProtocolVersion:
		return cause + ": it accepts none of the versions the client offers", "make the client and the server share a version (" + pair(names, SettingMinVersion, SettingMaxVersion) + "; " + names.of(SettingScan) + " lists the server's)"
	case tlsparse.AlertHandshakeFailure, tlsparse.AlertInsufficientSecurity:
		cause += ": no acceptable set of parameters (cipher suites, groups, or a client certificate it wants)"
		if o.Ciphers || o.Curves {
			return cause, "offer current cipher suites and groups (drop " + pair(names, SettingCipherSuites, SettingCurves) + "), or give a client certificate (" + names.of(SettingCertificates) + ") if the server asks for one"
		}
		return cause + "; the client offered crypto/tls's defaults, which since Go 1.22 leave out RSA key exchange and since Go 1.23 3DES",
			"run again with " + names.of(SettingScan) + " to see which cipher families and groups the server accepts (an old server accepting only RSA key exchange needs ECDHE enabled), or give a client certificate (" + names.of(SettingCertificates) + ") if the server asks for one"
	case tlsparse.AlertNoApplicationProtocol:
		return cause + ": it speaks none of the ALPN protocols offered", "offer a protocol the server speaks (" + names.of(SettingALPN) + " http/1.1)"
	case tlsparse.AlertUnrecognizedName:
		return cause + fmt.Sprintf(": it does not serve the name %q", o.ServerName), "ask for a name the server serves (" + names.of(SettingServerName) + ")"
	case tlsparse.AlertCertificateRequired:
		return cause + ": it requires a client certificate", "give a client certificate (" + names.of(SettingCertificates) + ") issued by a CA the server trusts"
	case tlsparse.AlertBadCertificate, tlsparse.AlertUnknownCA, tlsparse.AlertCertificateUnknown,
		tlsparse.AlertUnsupportedCertificate, tlsparse.AlertCertificateExpired:
		return cause + ": it rejected the client's certificate (or its absence)", "give a valid client certificate issued by a CA the server trusts (" + names.of(SettingCertificates) + ")"
	}
	return cause, "check the server's logs for why it sent the alert"
}

// proxyName names the proxy in a sentence: "the proxy 127.0.0.1:3128", or
// "the proxy" when its address is not known.
func proxyName(o *Outcome) string {
	if o.Proxy == "" {
		return "the proxy"
	}
	return "the proxy " + o.Proxy
}

// pair names two settings that go together: "--tls-min/--tls-max".
func pair(names Names, a, b Setting) string { return names.of(a) + "/" + names.of(b) }

// lookedUp names the name the client resolved: the proxy's, the
// target's, or, when neither is known (a program's error that does not
// say), the server's.
func lookedUp(t Target, o *Outcome) string {
	switch {
	case o.Proxy != "":
		return "the name of the proxy " + o.Proxy
	case t.Host != "":
		return "the name " + t.Host
	}
	return "the server's name"
}

// innermost is the text of the deepest error worth showing: crypto/x509's
// own message without the wrapping "tls: failed to verify certificate:",
// with the reason it may quote ("possibly because of \"x509: …\"").
func innermost(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if i := strings.Index(msg, "x509: "); i >= 0 {
		return msg[i:]
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

// serverAlert returns the first alert named name that the server sent and
// the capture shows (in plaintext, or decrypted with the key log).
func serverAlert(c *analysis.Connection, d tlsparse.AlertDescription) *analysis.Alert {
	for i, a := range c.Alerts {
		if a.Sender == capture.ServerToClient && (!a.Encrypted || a.Decrypted) && a.Description == d {
			return &c.Alerts[i]
		}
	}
	return nil
}

// statusCorrelation explains a request answered with an HTTP error
// status: the connection worked, but the server refused the request. When
// the wire shows a TLS cause (a client certificate the server required),
// that is the cause; otherwise the status is the server's application
// speaking, and its meaning is said.
func (c *Correlation) statusCorrelation(h *Response, v diagnose.Verdict) {
	if v.Failed() {
		c.Agreement = Agree
		c.Summary = fmt.Sprintf("the server refused the request with HTTP %s, and the wire shows why (%s)", h.Status, v.Category)
		c.Cause, c.Fix = v.Summary, v.Fix
		return
	}
	c.Agreement = Agree
	c.Summary = fmt.Sprintf("the handshake completed and the server answered, but with HTTP %s: %s", h.Status, statusMeaning(h.StatusCode))
	c.Cause = fmt.Sprintf("the TLS connection is fine; HTTP %d is the server's answer to the request itself", h.StatusCode)
	c.Fix = "nothing to change in TLS; look at the request (URL, Host, method, credentials) and the server's log"
	switch {
	case h.StatusCode == 502 || h.StatusCode == 503 || h.StatusCode == 504:
		// A gateway's words for its upstream (RFC 9110, Sections
		// 15.6.3–15.6.5): the request is not what failed.
		c.Fix = "nothing to change in TLS or in the request: look at the server's error log and the backend (upstream) it forwards to — down, refusing, overloaded or slower than the server's timeout"
	case h.StatusCode >= 500:
		c.Fix = "nothing to change in TLS: look at the server's error log for this request"
	}
}

// statusMeaning says what an HTTP error status means (RFC 9110, Section
// 15), with the statuses nginx uses for TLS matters.
func statusMeaning(code int) string {
	switch code {
	case 400:
		return "the server refused the request as malformed (nginx also answers 400 to a missing or invalid client certificate and to plain HTTP sent to its HTTPS port)"
	case 401:
		return "the request lacks valid credentials (HTTP authentication)"
	case 403:
		return "the server understood the request and forbids it"
	case 404:
		return "the server has nothing at this path"
	case 421:
		return "misdirected request: the server will not serve this host name on this connection (the SNI and the Host header disagree)"
	case 495, 496:
		return "nginx: the client certificate was invalid (495) or missing (496)"
	case 497:
		return "nginx: a plain HTTP request was sent to its HTTPS port"
	}
	if code >= 500 {
		return "the server (or a backend behind it) failed to handle the request"
	}
	return "the server refused the request"
}

// plainCorrelation explains an http:// probe: a plain request, whose
// answer says whether the port speaks TLS.
func (c *Correlation) plainCorrelation(t Target, o *Outcome, w *Wire, names Names) {
	c.Agreement = ClientOnly
	if w.Result != nil {
		c.Agreement = Agree
		c.Wire = string(w.Result.Verdict.Category) + ": " + w.Result.Verdict.Summary
	}
	port := t.Port
	if why := speaksTLS(o, w); why != "" {
		c.Summary = fmt.Sprintf("port %d speaks TLS: %s", port, why)
		c.Cause = fmt.Sprintf("the plain HTTP request reached a TLS port, which answers only TLS (or refuses plaintext): %s", why)
		u := *t.URL
		u.Scheme = "https"
		c.Fix = fmt.Sprintf("use %s (https://), or the server's plain HTTP port; a server can redirect such requests instead (nginx: `error_page 497 https://$host$request_uri;`)", u.String())
		return
	}
	switch {
	case o.Err != nil:
		c.Cause, c.Fix = explain(t, o, names)
		c.Summary = "the plain HTTP request failed " + phaseText(o.Phase)
	case o.HTTP != nil && o.HTTP.StatusCode >= 400:
		c.Summary = fmt.Sprintf("port %d answered the plain request with HTTP %s: %s", port, o.HTTP.Status, statusMeaning(o.HTTP.StatusCode))
		c.Cause = "the port speaks plain HTTP: nothing on this connection was encrypted"
		c.Fix = "for TLS use the server's https:// port"
	default:
		status := ""
		if o.HTTP != nil {
			status = " (" + o.HTTP.Status + ")"
		}
		c.Summary = fmt.Sprintf("the plain HTTP request succeeded%s: port %d speaks plain HTTP, not TLS", status, port)
		c.Cause = "nothing on this connection was encrypted"
	}
	if w.Result != nil && w.Result.Verdict.Category == diagnose.NotTLSClient {
		c.Notes = append(c.Notes, "the wire's verdict reads the port as a TLS port; for an http:// probe a plaintext request is what was meant")
	}
}

// speaksTLS says why the answer to a plain request shows a TLS port: a TLS
// server's own refusal page, or a TLS alert; "" when it does not.
func speaksTLS(o *Outcome, w *Wire) string {
	if h := o.HTTP; h != nil {
		body := strings.ToLower(string(h.head.b))
		switch {
		case strings.Contains(body, "the plain http request was sent to https port"):
			return fmt.Sprintf("the server answered HTTP %s with nginx's page \"The plain HTTP request was sent to HTTPS port\"", h.Status)
		case strings.Contains(body, "client sent an http request to an https server"):
			return fmt.Sprintf("the server answered HTTP %s \"Client sent an HTTP request to an HTTPS server\" (Go's net/http TLS server)", h.Status)
		}
	}
	if w.Result != nil {
		conn := w.Result.Conn
		for _, a := range conn.Alerts {
			if a.Sender == capture.ServerToClient {
				return fmt.Sprintf("the server answered the request with a TLS alert (%s, frame %d)", a.Description, a.Frame.Number)
			}
		}
		if conn.ServerHello != nil {
			return fmt.Sprintf("the server sent a ServerHello (frame %d)", conn.ServerHelloFrame.Number)
		}
	}
	if o.Err != nil && strings.Contains(o.Err.Error(), `malformed HTTP response "\x15\x03`) {
		return "the server answered with the bytes of a TLS alert record"
	}
	return ""
}

// insideProxyTLS reports whether the client's outcome was decided inside
// an https:// proxy's TLS, where the capture cannot see: the proxy's
// handshake completed, and either the wire finds nothing wrong with the
// connection to the proxy or the client stopped at the CONNECT or the
// target's handshake, which only the client saw. A wire that shows the
// proxy's connection broken after the handshake (a reset, a timeout)
// is compared as usual, and so are a proxy's refusal of the CONNECT and
// the target's handshake in the tunnel, which the key log let the wire
// read inside the proxy's TLS.
func insideProxyTLS(o *Outcome, v diagnose.Verdict, conn *analysis.Connection) bool {
	if !o.proxyTLS || o.ProxyTLS == nil {
		return false
	}
	if p := conn.Proxy; p != nil && p.TLS != nil {
		// The key log opened the proxy's TLS and the wire read the
		// target's handshake in its tunnel: compared as any other.
		return false
	}
	if p := conn.ProxyInTLS; p != nil && o.Phase == PhaseProxy && v.Failed() &&
		(p.Outcome == proxyparse.Refused || p.Outcome == proxyparse.AuthRequired || p.Outcome == proxyparse.UpstreamFailed) {
		return false
	}
	return !v.Failed() || o.Phase == PhaseProxy || o.Phase == PhaseTLS
}

// insideProxyTLS concludes a probe whose outcome was decided inside an
// https:// proxy's TLS (see InsideProxyTLS): the conclusion is the
// client's, and the wire is said to be the proxy's connection.
func (c *Correlation) insideProxyTLS(t Target, o *Outcome, w *Wire, names Names) {
	conn := w.Result.Conn
	v := w.Result.Verdict
	wire := fmt.Sprintf("the wire shows the TLS connection to the proxy %s (%s, %s)", o.Remote, sniText(conn), v.Category)
	switch {
	case o.Err != nil:
		c.Summary = fmt.Sprintf("the client failed %s with %s inside the https:// proxy's TLS, which the wire's verdict cannot show: %s, so the verdict rests on the client's error",
			phaseText(o.Phase), o.Class, wire)
		c.Cause, c.Fix = explain(t, o, names)
	case o.HTTP != nil && o.HTTP.StatusCode >= 400:
		c.statusCorrelation(o.HTTP, diagnose.Verdict{Category: diagnose.OK})
		c.Summary += " (" + wire + ")"
	default:
		c.Summary = "the request succeeded through the https:// proxy; " + wire + ", and the target's handshake inside it is the client's to tell"
	}
	c.Agreement = InsideProxyTLS
	if o.Phase == PhaseProxy {
		c.Notes = append(c.Notes, fmt.Sprintf("the CONNECT and the proxy's answer went inside the proxy's TLS: the wire's verdict (%s) judges that TLS connection, not the tunnel's refusal", v.Category))
		return
	}
	c.Notes = append(c.Notes, fmt.Sprintf("the target's TLS handshake ran inside the proxy's TLS, and the capture does not show it: on the wire it is data of the connection to the proxy, which the wire's verdict (%s) is about, and none of it was in the records the key log (%s) opened",
		v.Category, names.of(SettingKeyLog)))
}

// sniText names the SNI a connection's ClientHello sent: "SNI
// proxy.example", or "no SNI".
func sniText(c *analysis.Connection) string {
	if c.ClientHello == nil || c.ClientHello.ServerName == "" {
		return "no SNI"
	}
	return "SNI " + c.ClientHello.ServerName
}

// proxyTLSNote says that the connection the wire judged is an https://
// proxy's own TLS.
func proxyTLSNote(o *Outcome, c *analysis.Connection) string {
	return fmt.Sprintf("the wire's connection is the TLS connection to the https:// proxy %s (%s): the certificate and the handshake it judges are the proxy's own, not the target's", o.Remote, sniText(c))
}

// proxyRootsText names the roots an https:// proxy's certificate was
// checked against.
func proxyRootsText(o *Outcome, names Names) string {
	if o.proxyRoots {
		return "the " + names.of(SettingProxyRootCAs) + " certificates"
	}
	return "the system roots"
}

// proxyTrustFix is the fix for an https:// proxy's certificate the client
// does not trust.
func proxyTrustFix(names Names) string {
	return fmt.Sprintf("make the client trust the proxy's CA (%s); a Go program checks an https:// proxy as it checks servers, against the system roots (add the CA to the system store, or point SSL_CERT_FILE at a bundle that holds it) unless its Transport's TLSClientConfig sets RootCAs",
		names.of(SettingProxyRootCAs))
}

// explainProxyTLS says what a failure of an https:// proxy's own TLS
// handshake means: the proxy's certificate or handshake, never the
// target's. ok is false for a failure it has no words of its own for (a
// reset, a timeout), which explain words with the proxy's address.
func explainProxyTLS(o *Outcome, names Names) (cause, fix string, ok bool) {
	proxy := proxyName(o)
	if alert, isAlert := o.Class.Alert(); isAlert {
		return fmt.Sprintf("%s aborted the TLS handshake with itself with alert %s, before any CONNECT: the client and the proxy share no TLS version or parameters, or the proxy wants a client certificate", proxy, alert),
			"check the proxy's TLS settings (versions, cipher suites, client certificates) and its log; openssl s_client to the proxy's address with its name as SNI shows what it accepts", true
	}
	switch o.Class {
	case NotTLS:
		return fmt.Sprintf("%s answered the ClientHello with something that is not TLS: it speaks plain HTTP on this port, not https://", proxy),
			fmt.Sprintf("use http://%s as the proxy URL (%s, HTTPS_PROXY): the CONNECT then goes in plaintext and the target's TLS still runs end to end through the tunnel", o.Remote, names.of(SettingProxy)), true
	case CertUnknownAuthority:
		return fmt.Sprintf("the https:// proxy's own certificate does not lead to a root the client trusts (%s): %s", proxyRootsText(o, names), innermost(o.Err)),
			proxyTrustFix(names) + "; or have the proxy send its full chain", true
	case CertExpired, CertNotYetValid:
		return "the https:// proxy's own certificate is outside its validity period: " + innermost(o.Err),
			"renew the proxy's certificate and install it on the proxy (or fix the clock of whichever side is wrong)", true
	case CertHostnameMismatch:
		return fmt.Sprintf("the https:// proxy's own certificate is not valid for %s, the host of the proxy URL: %s", o.ProxyServerName, innermost(o.Err)),
			fmt.Sprintf("name the proxy in its URL (%s, HTTPS_PROXY) by a name its certificate covers, or give the proxy a certificate for %s", names.of(SettingProxy), o.ProxyServerName), true
	case CertNotAuthorizedToSign, CertIncompatibleUsage, CertNameConstraints, CertInsecureAlgorithm, CertInvalid:
		return "the client rejected the https:// proxy's own certificate: " + innermost(o.Err), "replace the proxy's certificate with a valid one", true
	case ClientRejectedVersion, ClientRejectedCipher, ClientRejectedALPN, DowngradeDetected, TLSError:
		return fmt.Sprintf("the client aborted the TLS handshake with %s: %s", proxy, innermost(o.Err)),
			"the proxy's TLS answer breaks a rule crypto/tls enforces: check the proxy's TLS configuration", true
	}
	return "", "", false
}
