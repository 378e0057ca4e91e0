package diagnose

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Config holds what a diagnosis needs besides the connection.
type Config struct {
	// Roots are the trusted roots: the system's plus the caller's own
	// (see LoadRoots). nil means the system roots.
	Roots *Roots
	// Cache, when set, remembers chains that verified, for captures with
	// many connections to the same servers. It never changes a verdict.
	Cache *ChainCache
	// Server is the server software when the caller knows it by other
	// means (a probe reads the response's Server header): fixes then name
	// its settings only. ServerUnknown lets the capture tell.
	Server Server
	// Response is the HTTP response the client read, when the caller has
	// it (a probe): it stands in for one the capture cannot read (TLS 1.2
	// without keys). Its Frame is zero.
	Response *analysis.HTTPResponse
	// SettingNames names the settings fixes point to as the caller sets
	// them (a command: its flags, "--cacert"); a setting it leaves out is
	// named as the Go API sets it.
	SettingNames map[Setting]string
	// ExplicitProxy says that the client was given its proxy by name (a
	// probe's Config.Proxy, curl's -x), not by the environment
	// (HTTPS_PROXY): NO_PROXY does not exempt a host from such a proxy,
	// so fixes say to connect without it instead.
	ExplicitProxy bool
	// Client is the program that made the connection when the caller
	// knows it by other means (exec ran it): fixes then name its
	// settings, unless its ClientHello is likely another library's (a Go
	// binary a Python script started). The zero value lets the
	// ClientHello tell.
	Client fingerprint.Client
}

const (
	client = capture.ClientToServer
	server = capture.ServerToClient
)

// Diagnose explains one connection. It is a pure function of the record:
// certificates are validated at the capture's own time, never the clock's.
//
// The order of the checks is the precedence of the causes: no handshake at
// all (TCP refused, unanswered, plaintext peers, capture without the
// handshake); a server that answered with something other than TLS; a
// completed handshake (ok, with warnings, unless the client hung up without
// sending data and the chain has a problem); what the wire shows the server
// chose and the client then refused (version, ALPN, cipher); the first
// decisive alert, through the one alert table (alertCause); an abort
// without an alert (RST or FIN); and last a handshake that stalled or was
// cut off by the end of the capture. Before all of these come the rules
// of a proxy negotiation, of QUIC and of the path, then the rules the
// categories bring of their own (categorySpec.rule), in their order.
func Diagnose(c *analysis.Connection, cfg Config) Verdict {
	return new(diagnosis).diagnose(c, cfg)
}

// diagnose is Diagnose, in d, whatever d held before: All reuses one
// diagnosis for the connections of a worker, where a new one for each was
// one of the dozen allocations of a verdict. Nothing of d stays in the
// verdict.
func (d *diagnosis) diagnose(c *analysis.Connection, cfg Config) Verdict {
	return d.diagnoseFront(c, cfg, nil)
}

// diagnoseFront is diagnose for a connection whose front leg, when it is
// a reverse proxy's upstream connection, is front (revproxy.go).
func (d *diagnosis) diagnoseFront(c *analysis.Connection, cfg Config, front *frontLeg) Verdict {
	d.init(c, cfg)
	d.front = front
	v := d.proxyInTLS(d.intercepted(d.verdict()))
	d.frontVerdict(&v)
	d.otherFamily(&v)
	d.tunnelNote(&v)
	d.dnsEvidence(&v)
	d.rstText(&v)
	v.Warnings = d.warnings(v.Warnings, v.Category)
	d.bigCertWarning(&v)
	d.longChainWarning(&v)
	v.Warnings = append(v.Warnings, d.quicWarnings()...)
	v.Evidence = sortFrames(v.Evidence)
	return v
}

// diagnosis holds the facts derived once from a record.
type diagnosis struct {
	c *analysis.Connection
	// hello is the client's last hello: after a HelloRetryRequest, the
	// second one.
	hello      *tlsparse.ClientHello
	helloFrame capture.Frame
	// chain is the server's chain as sent; entries that did not parse are
	// nil. It is in shortChain when that holds it: most chains are a leaf
	// and an intermediate or two, and an array of their own was one of
	// the dozen allocations a diagnosis made.
	chain      []*x509.Certificate
	shortChain [3]*x509.Certificate
	// probs is what is wrong with chain, most important first; used is the
	// one the verdict is about (not repeated as a warning), or nil.
	probs []CertProblem
	used  *CertProblem
	// then are the problems the clients of the capture's time did not
	// have (CertProblem.AcceptedThen): warnings only.
	then []CertProblem
	// clockDoubts are the date problems not judged because the
	// capture's clock stepped back (clockstep.go).
	clockDoubts []CertProblem
	// noSNI is set when the chain was visible but the client sent no SNI.
	noSNI bool
	// addrProb is set when the client sent no SNI and the leaf does not
	// cover the server's address, which such a client most likely checked.
	// It joins probs when the handshake did not complete.
	addrProb *CertProblem
	roots    *x509.CertPool
	// rootsOf looks up trusted roots by subject (Config.Roots).
	rootsOf *Roots
	// ownRoots is set when the user named roots of their own (--cacert).
	ownRoots bool
	srv      Server
	// response is the server's HTTP response: the capture's, else the
	// caller's.
	response *analysis.HTTPResponse
	// clientOf is the program the hello says sent it, when it says,
	// once client was asked (clientKnown); cfgClient is Config.Client.
	// Most verdicts do not name the client: recognising it for each
	// was a twentieth of the time of a diagnosis.
	clientOf    fingerprint.Client
	clientKnown bool
	cfgClient   fingerprint.Client
	// settingNames is Config.SettingNames.
	settingNames map[Setting]string
	// explicitProxy is Config.ExplicitProxy.
	explicitProxy bool
	// front is the front leg of a reverse proxy's upstream connection,
	// found across the capture's connections (Capture.frontLegs); nil
	// when none was. frontSaid is set when a text leaned on it.
	front     *frontLeg
	frontSaid bool
	// texts are the texts made for earlier connections, kept from one
	// connection to the next (see text); nil in Diagnose. buf is where a
	// text is built, also kept.
	texts *textMemo
	buf   []byte
	// bigCertSaid is set when the verdict is about the server's large
	// Certificate message (bigcert.go), which no warning repeats.
	bigCertSaid bool
	// frames holds the evidence of ok verdicts, a slice of it for each
	// (see evidence); kept from one connection to the next with texts.
	frames []int64
}

// init sets d to the facts derived from c, forgetting all it held.
func (d *diagnosis) init(c *analysis.Connection, cfg Config) {
	d.initHello(c, cfg)
	d.rootsOf = cfg.Roots
	if len(c.Certificates) == 0 {
		return
	}
	// A failure to load the system roots is the caller's to report
	// (Roots.Err); the chain is then checked against its own.
	d.chain = d.shortChain[:0]
	for i, cert := range c.Certificates {
		d.chain = append(d.chain, cert.X509)
		if cert.X509 == nil {
			d.probs = append(d.probs, unparsable(i, cert.ParseError))
		}
	}
	d.roots, _ = cfg.Roots.ForChain(d.chain)
	sni := ""
	if d.hello != nil {
		sni = d.hello.ServerName
		d.noSNI = sni == ""
	}
	at := d.certTime()
	if probs := checkChainWith(d.chain, sni, at, d.roots, cfg.Cache, cfg.Roots); d.probs == nil {
		d.probs = probs // made for this chain alone: not copied again
	} else {
		d.probs = append(d.probs, probs...)
	}
	if behind := c.TCP.ClockBehind; behind > 0 && !at.IsZero() {
		d.acrossClockStep(checkChainWith(d.chain, sni, at.Add(behind), d.roots, cfg.Cache, cfg.Roots))
	}
	// What the clients of the capture's time accepted explains no
	// failure: a warning says that today's would refuse it.
	for _, p := range d.probs {
		if p.AcceptedThen {
			d.then = append(d.then, p)
		}
	}
	d.probs = slices.DeleteFunc(d.probs, func(p CertProblem) bool { return p.AcceptedThen })
	d.markCrossSigns()
	d.ownRoots = len(cfg.Roots.Own()) > 0
	byOwnRoots(d.probs, d.chain, cfg.Roots.Own(), d.setting(SettingRoots))
	if d.noSNI {
		d.addrProb = AddressProblem(d.chain[0], c.Server.Addr())
		if d.addrProb != nil && !c.Established {
			d.probs = append(d.probs, *d.addrProb)
		}
	}
}

// helloDiagnosis is the diagnosis of c before its chain is checked: the
// hello that counts (the one after a HelloRetryRequest) and the client it
// says sent it.
func helloDiagnosis(c *analysis.Connection, cfg Config) *diagnosis {
	d := new(diagnosis)
	d.initHello(c, cfg)
	return d
}

// initHello sets d to helloDiagnosis(c, cfg), forgetting all it held but
// what is kept from one connection to the next (texts, buf, frames).
func (d *diagnosis) initHello(c *analysis.Connection, cfg Config) {
	*d = diagnosis{c: c, hello: c.ClientHello, helloFrame: c.ClientHelloFrame, srv: cfg.Server, response: c.Response, settingNames: cfg.SettingNames, explicitProxy: cfg.ExplicitProxy, texts: d.texts, buf: d.buf, frames: d.frames}
	if d.response == nil {
		d.response = cfg.Response
	}
	if c.RetryClientHello != nil {
		d.hello, d.helloFrame = c.RetryClientHello, c.RetryClientHelloFrame
	}
	d.cfgClient = cfg.Client
}

// client is the program the hello says sent it, when it says (or the
// one Config.Client names).
func (d *diagnosis) client() fingerprint.Client {
	if !d.clientKnown {
		d.clientOf, d.clientKnown = knownClient(fingerprint.Recognize(d.hello), d.cfgClient), true
	}
	return d.clientOf
}

// certTime is when the client judged the certificate: the frame that
// carried it, or failing that the nearest earlier frame seen.
func (d *diagnosis) certTime() time.Time {
	for _, f := range []capture.Frame{d.c.CertificateFrame, d.c.ServerHelloFrame, d.c.ClientHelloFrame, d.c.First} {
		if !f.Time.IsZero() {
			return f.Time
		}
	}
	return time.Time{}
}

func (d *diagnosis) verdict() Verdict {
	c := d.c
	if v, ok := d.oneWay(); ok {
		return v
	}
	if v, ok := d.proxyVerdict(); ok {
		return v
	}
	if v, ok := d.quicVerdict(); ok {
		return v
	}
	if v, ok := d.pathVerdict(); ok {
		return v
	}
	for _, rule := range ownRules {
		if v, ok := rule(d); ok {
			return v
		}
	}
	if v, ok := d.proxyHeaderUnexpected(); ok {
		return v
	}
	switch {
	case c.ClientHello == nil && c.ServerHello == nil && c.HelloRetry == nil:
		return d.noHandshake()
	case c.ClientHello == nil:
		return d.noClientHello()
	}
	if v, ok := d.notTLSServer(); ok {
		return v
	}
	if c.Established && c.ServerHello == nil {
		return d.doneWithoutServerHello()
	}
	if c.Established {
		if v, ok := d.finishedUnseen(); ok {
			return v
		}
		if v, ok := d.icmpStallEstablished(); ok {
			return v
		}
		if v, ok := d.finishedDropped(); ok {
			return v
		}
		if v, ok := d.echRejected(); ok {
			return v
		}
		if v, ok := d.noALPNForH2Only(); ok {
			return v
		}
		if v, ok := d.h2InadequateSecurity(); ok {
			return v
		}
		if v, ok := d.proxyRejectedAfterHandshake(); ok {
			return v
		}
		if v, ok := d.rejectedAfterHandshake(); ok {
			return v
		}
		if v, ok := d.curlRejectedHiddenName(); ok {
			return v
		}
		if v, ok := d.cutBeforeOK(); ok {
			return v
		}
		if v, ok := d.clientCertRefused(); ok {
			return v
		}
		if v, ok := d.certClosedSilently(); ok {
			return v
		}
		v := d.ok()
		if w := d.clientCertHint(); w != "" {
			v.Warnings = append(v.Warnings, w)
		}
		return v
	}
	if v, ok := d.refusedChoice(); ok {
		return v
	}
	if v, ok := d.longChain(); ok {
		return v
	}
	if v, ok := d.bigCertificate(); ok {
		return v
	}
	if v, ok := d.certFlightClosed(); ok {
		return v
	}
	if a := d.decisiveAlert(); a != nil {
		if v, ok := d.alertAfterServerClose(a); ok {
			return v
		}
		if g, ok := d.gapBeforeAlert(a); ok {
			return d.alertBehindGap(a, g)
		}
		return d.fromAlert(a)
	}
	if v, ok := d.abortWithoutAlert(); ok {
		return v
	}
	return d.unfinished()
}

// verdict builds a Verdict; frames that were not seen are dropped later.
func verdict(cat Category, summary, fix string, frames ...capture.Frame) Verdict {
	return Verdict{Category: cat, Summary: summary, Fix: fix, Evidence: frameNumbers(frames)}
}

// frameNumbers returns the numbers of frames in a slice of their own, nil
// when there are none.
func frameNumbers(frames []capture.Frame) []int64 {
	if len(frames) == 0 {
		return nil
	}
	ns := make([]int64, len(frames))
	for i, f := range frames {
		ns[i] = f.Number
	}
	return ns
}

// evidence returns the numbers of frames, as verdict's Evidence. With
// texts (in All) they are a slice of d.frames, capped so that an append
// to one verdict's evidence copies it: most connections are ok, and an
// array of its own for each was one of the few allocations of their
// diagnosis. The frames of a verdict are never changed but in their own
// slice (sortFrames), and a chunk is dropped with its last verdict.
func (d *diagnosis) evidence(frames []capture.Frame) []int64 {
	if d.texts == nil || len(frames) == 0 {
		return frameNumbers(frames)
	}
	if cap(d.frames)-len(d.frames) < len(frames) {
		d.frames = make([]int64, 0, max(framesChunk, len(frames)))
	}
	start := len(d.frames)
	for _, f := range frames {
		d.frames = append(d.frames, f.Number)
	}
	return d.frames[start:len(d.frames):len(d.frames)]
}

// framesChunk is how many frame numbers evidence allocates at once.
const framesChunk = 512

// sortFrames sorts frame numbers and drops zeros (not seen) and repeats.
func sortFrames(ns []int64) []int64 {
	ns = slices.DeleteFunc(ns, func(n int64) bool { return n <= 0 })
	slices.Sort(ns)
	return slices.Compact(ns)
}

// unparsable explains a certificate crypto/x509 does not parse. A negative
// serial number is a known case: Go 1.23 stopped accepting it (RFC 5280,
// Section 4.1.2.2 wants it positive), and GODEBUG=x509negativeserial=1
// brings the old behaviour back.
func unparsable(i int, err error) CertProblem {
	p := CertProblem{Category: CertRejected, Cert: i, Unusable: true, Detail: fmt.Sprintf("certificate %d does not parse: %v", i, err)}
	if err != nil && strings.Contains(err.Error(), "negative serial number") {
		p.Lenient = "OpenSSL (curl) and Go before 1.23 accept a negative serial number"
		p.Detail = fmt.Sprintf("certificate %d has a negative serial number, which RFC 5280 forbids and Go ≥ 1.23 refuses (x509: negative serial number)", i)
		p.Fix = "reissue the certificate with a positive serial number; as a stop-gap, run Go clients with GODEBUG=x509negativeserial=1"
	}
	return p
}
