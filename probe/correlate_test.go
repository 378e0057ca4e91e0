package probe

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func TestCorrelate(t *testing.T) {
	target := Target{Host: "good.test", Port: 4433}
	remote := netip.MustParseAddrPort("127.0.0.1:4433")
	failed := func(class Class, phase Phase, msg string) *Outcome {
		return &Outcome{Err: errors.New(msg), Class: class, Phase: phase, Remote: remote, ServerName: "good.test"}
	}
	succeeded := &Outcome{Phase: PhaseDone, Remote: remote, ServerName: "good.test"}
	hello := &tlsparse.ClientHello{ServerName: "good.test"}
	wire := func(cat diagnose.Category, summary, fix string) *Wire {
		return &Wire{Result: &pipeline.Result{
			Conn:    &analysis.Connection{ClientHello: hello},
			Verdict: diagnose.Verdict{Category: cat, Summary: summary, Fix: fix},
		}}
	}
	withChain := func(w *Wire, problems ...diagnose.CertProblem) *Wire {
		w.Chain = &ChainCheck{Problems: problems}
		root := &x509.Certificate{Issuer: pkix.Name{CommonName: "tlsdiag Test Root CA"}}
		w.Result.Conn.Certificates = []analysis.Certificate{{X509: &x509.Certificate{}}, {X509: root}}
		w.Result.Conn.CertificateFrame = capture.Frame{Number: 6}
		return w
	}
	withoutHello := func(w *Wire) *Wire { w.Result.Conn.ClientHello = nil; return w }
	tests := []struct {
		name      string
		outcome   *Outcome
		wire      *Wire
		insecure  bool
		want      Agreement
		summary   []string // substrings of Summary
		cause     []string // substrings of Cause
		fix       []string // substrings of Fix
		notes     []string // substrings of the joined Notes
		emptyFix  bool
		emptyCaus bool
	}{
		{
			name: "success", outcome: succeeded, wire: wire(diagnose.OK, "TLS 1.3 handshake completed", ""),
			want: Agree, summary: []string{"succeeded"}, emptyFix: true, emptyCaus: true,
		},
		{
			name:    "expired, chain visible",
			outcome: failed(CertExpired, PhaseTLS, "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"),
			wire: withChain(wire(diagnose.CertExpired, "certificate 0 'CN=good.test' expired on 2026-01-01 00:00:00 UTC", "renew the server's certificate"),
				diagnose.CertProblem{Category: diagnose.CertExpired, Detail: "expired"}),
			want: Agree, summary: []string{"cert_expired", "what the wire shows"}, cause: []string{"expired on 2026-01-01"}, fix: []string{"renew"},
		},
		{
			name:    "expired under TLS 1.3 without secrets",
			outcome: failed(CertExpired, PhaseTLS, "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time X is after Y"),
			wire:    wire(diagnose.CertRejected, "the client rejected the server's certificate (an encrypted alert, frame 8)", "look at the client's log"),
			want:    Agree, cause: []string{"validity period", "x509: certificate has expired"}, fix: []string{"renew"}, notes: []string{"the wire alone shows only cert_rejected"},
		},
		{
			name: "client's own roots reject a valid chain",
			outcome: func() *Outcome {
				o := failed(CertUnknownAuthority, PhaseTLS, "x509: certificate signed by unknown authority")
				o.CustomRoots = true
				return o
			}(),
			wire: withChain(wire(diagnose.CertRejected, "the client rejected the server's certificate", "")),
			want: Disagree, summary: []string{"disagree", "cert_unknown_authority", "cert_rejected"},
			cause: []string{"frame 6", "valid against the roots", "--cacert", "'CN=tlsdiag Test Root CA'"},
			fix:   []string{"trust the CA 'CN=tlsdiag Test Root CA'"},
		},
		{
			name: "timeout in the handshake", outcome: failed(Timeout, PhaseTLS, "context deadline exceeded"),
			wire: wire(diagnose.ServerNoResponse, "no answer to the ClientHello (frame 4)", "check the server"), want: Agree, cause: []string{"frame 4"},
		},
		{
			name: "timeout waiting for the response", outcome: failed(Timeout, PhaseHTTP, "context deadline exceeded"),
			wire: wire(diagnose.OK, "TLS 1.3 handshake completed", ""), want: Agree,
		},
		{
			// Linux TCP keeps an ICMP error on an open connection as a
			// soft error: the client's own timeout ends it.
			name: "timeout waiting for the response, the request answered by ICMP", outcome: failed(Timeout, PhaseHTTP, "context deadline exceeded"),
			wire: wire(diagnose.HostUnreachable, "10.61.1.1 answered the client's bytes after the TLS handshake with ICMP \"Destination unreachable (Host unreachable)\" (frames 13, 15)", "check at 10.61.1.1 its route"),
			want: Agree, cause: []string{"frames 13, 15"},
		},
		{
			name: "timeout in the handshake, its flight rejected by ICMP", outcome: failed(Timeout, PhaseTLS, "context deadline exceeded"),
			wire: wire(diagnose.ConnectionRefused, "10.61.1.1 answered the client's second handshake flight (its Finished) with ICMP \"Destination unreachable (Communication administratively filtered)\" (frames 9, 11)", "the firewall at 10.61.1.1"),
			want: Agree, cause: []string{"frames 9, 11"},
		},
		{
			name: "timeout although the handshake completed", outcome: failed(Timeout, PhaseTLS, "context deadline exceeded"),
			wire: wire(diagnose.OK, "TLS 1.3 handshake completed", ""), want: Disagree, cause: []string{"handshake completed on the wire"},
		},
		{
			name: "success but the capture lacks the handshake", outcome: succeeded,
			wire: func() *Wire {
				w := wire(diagnose.IncompleteCapture, "the capture lacks the handshake", "")
				w.Dropped = 3
				return w
			}(),
			want: Disagree, cause: []string{"capture probably lacks packets", "3 dropped"},
		},
		{
			name:    "no capture privileges",
			outcome: failed(CertExpired, PhaseTLS, "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"),
			wire:    &Wire{Err: errors.New("live: capturing on lo needs root or CAP_NET_RAW: permission denied")},
			want:    ClientOnly, summary: []string{"no wire view", "CAP_NET_RAW", "client's view alone"}, cause: []string{"validity period"},
		},
		{
			name: "insecure", outcome: succeeded, insecure: true,
			wire: withChain(wire(diagnose.OK, "TLS 1.2 handshake completed", ""), diagnose.CertProblem{Category: diagnose.CertExpired, Detail: "certificate 0 expired on 2026-01-01"}),
			want: Agree, notes: []string{"verification disabled", "not valid: certificate 0 expired on 2026-01-01"},
		},
		{
			name: "proxy forbids CONNECT", outcome: func() *Outcome {
				o := failed(ProxyConnectFailed, PhaseProxy, "proxyconnect tcp: proxy refused CONNECT: 403 Forbidden")
				o.Proxy = "http://127.0.0.1:3128"
				return o
			}(),
			wire: withoutHello(wire(diagnose.ProxyRefused, "the client asked the proxy 127.0.0.1:3128 for a tunnel to good.test:4433 (CONNECT request, frame 4); it answered \"HTTP/1.1 403 Forbidden\" (frame 6)", "does not allow tunnels to good.test:4433")),
			want: Agree,
		},
		{
			name: "proxy wants credentials, the wire a refusal", outcome: func() *Outcome {
				o := failed(ProxyConnectFailed, PhaseProxy, "")
				o.Err = &net.OpError{Op: "proxyconnect", Net: "tcp", Err: &connectStatusError{Status: "407 Proxy Authentication Required"}}
				o.Proxy = "http://127.0.0.1:3128"
				return o
			}(),
			wire: withoutHello(wire(diagnose.ProxyRefused, "the proxy refused the tunnel", "ask its administrator")),
			want: Disagree,
		},
		{
			name: "version", outcome: failed(AlertClass(tlsparse.AlertProtocolVersion), PhaseTLS, "remote error: tls: protocol version not supported"),
			wire: wire(diagnose.VersionMismatch, "the server rejected every version the client offers", "raise the client's MaxVersion"), want: Agree, fix: []string{"MaxVersion"},
		},
		{
			name: "handshake failure is a client certificate", outcome: failed(AlertClass(tlsparse.AlertHandshakeFailure), PhaseTLS, "remote error: tls: handshake failure"),
			wire: wire(diagnose.ClientCertRequired, "the server asked for a client certificate", "configure the client with a certificate"), want: Agree,
		},
		{
			name: "TLS 1.3 client certificate refused after both Finished", outcome: failed(AlertClass(tlsparse.AlertCertificateRequired), PhaseHTTP, "remote error: tls: certificate required"),
			wire: func() *Wire {
				w := wire(diagnose.OK, "TLS 1.3 handshake completed", "")
				w.Result.Conn.Alerts = []analysis.Alert{{Frame: capture.Frame{Number: 12}, Sender: capture.ServerToClient, Level: tlsparse.AlertLevelFatal,
					Description: tlsparse.AlertCertificateRequired, Encrypted: true, Decrypted: true}}
				return w
			}(),
			want: Agree, cause: []string{"requires a client certificate"}, fix: []string{"--cert"}, notes: []string{"alert certificate_required in frame 12"},
		},
		{
			name: "EOF and the server's FIN before any TLS answer", outcome: failed(ConnectionClosed, PhaseTLS, "EOF"),
			wire: func() *Wire {
				w := wire(diagnose.ServerNoResponse, "no answer to the ClientHello (frame 4): the server closed the connection (FIN, frame 6)", "look at its log")
				w.Result.Conn.TCP.FIN[capture.ServerToClient] = capture.Frame{Number: 6}
				return w
			}(),
			want: Agree, cause: []string{"FIN, frame 6"},
		},
		{
			// The capture shows no close: the client's EOF is not what it shows.
			name: "EOF, the wire shows silence", outcome: failed(ConnectionClosed, PhaseTLS, "EOF"),
			wire: wire(diagnose.ServerNoResponse, "no answer to the ClientHello (frame 4)", "look at its log"), want: Disagree,
		},
		{
			name: "reset after the request by a middlebox", outcome: failed(ConnectionReset, PhaseHTTP, "read: connection reset by peer"),
			wire: wire(diagnose.MiddleboxReset, "a device on the path reset the connection", "look at the firewall"), want: Agree,
		},
		{
			name: "refused but the wire shows a reset", outcome: failed(ConnectionRefused, PhaseConnect, "connect: connection refused"),
			wire: wire(diagnose.ConnectionReset, "a RST ended the handshake", ""), want: Disagree,
			summary: []string{"connection_refused", "connection_reset"}, fix: []string{"start the server"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Correlate(target, tt.outcome, tt.wire, tt.insecure, flagNames)
			if c.Agreement != tt.want {
				t.Errorf("agreement %q, want %q (summary %q, cause %q)", c.Agreement, tt.want, c.Summary, c.Cause)
			}
			check := func(field, got string, want []string) {
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("%s %q lacks %q", field, got, w)
					}
				}
			}
			check("summary", c.Summary, tt.summary)
			check("cause", c.Cause, tt.cause)
			check("fix", c.Fix, tt.fix)
			check("notes", strings.Join(c.Notes, " | "), tt.notes)
			if c.Summary == "" || c.Client == "" {
				t.Errorf("empty summary or client sentence: %+v", c)
			}
			if tt.emptyFix && c.Fix != "" {
				t.Errorf("fix %q, want none", c.Fix)
			}
			if tt.emptyCaus && c.Cause != "" {
				t.Errorf("cause %q, want none", c.Cause)
			}
			if !tt.emptyFix && !tt.emptyCaus && tt.outcome.Err != nil && (c.Cause == "" || c.Fix == "") {
				t.Errorf("a failure without cause or fix: %+v", c)
			}
			if tt.insecure && (len(c.Notes) == 0 || !strings.HasPrefix(c.Notes[0], "verification disabled")) {
				t.Errorf("insecure probe: notes %q do not start with the warning", c.Notes)
			}
		})
	}
}

// TestExplainEveryClass checks that every class has a cause and, except
// cancellation, a fix.
func TestExplainEveryClass(t *testing.T) {
	classes := slices.DeleteFunc(slices.Clone(Classes), func(c Class) bool { return c == Canceled })
	classes = append(classes, AlertClass(tlsparse.AlertProtocolVersion), AlertClass(tlsparse.AlertHandshakeFailure),
		AlertClass(tlsparse.AlertNoApplicationProtocol), AlertClass(tlsparse.AlertUnrecognizedName),
		AlertClass(tlsparse.AlertCertificateRequired), AlertClass(tlsparse.AlertBadCertificate), AlertClass(tlsparse.AlertInternalError))
	for _, c := range classes {
		o := &Outcome{Err: errors.New("x"), Class: c, Phase: PhaseTLS, Remote: netip.MustParseAddrPort("127.0.0.1:443"), Timings: Timings{Total: time.Millisecond}}
		cause, fix := explain(Target{Host: "good.test", Port: 443}, o, flagNames)
		if cause == "" || fix == "" {
			t.Errorf("%s: cause %q, fix %q", c, cause, fix)
		}
	}
}

// TestHTTPStatusCorrelation: an HTTP error status is never plain success:
// it is the wire's TLS cause when there is one, its meaning otherwise.
func TestHTTPStatusCorrelation(t *testing.T) {
	target := Target{Host: "good.test", Port: 4433}
	answered := func(code int, status string) *Outcome {
		return &Outcome{Phase: PhaseDone, HTTP: &Response{Proto: "HTTP/1.1", StatusCode: code, Status: status}}
	}
	wire := func(cat diagnose.Category) *Wire {
		return &Wire{Result: &pipeline.Result{Conn: &analysis.Connection{}, Verdict: diagnose.Verdict{Category: cat, Summary: "the summary", Fix: "the fix"}}}
	}
	c := Correlate(target, answered(400, "400 Bad Request"), wire(diagnose.ClientCertRequired), false, flagNames)
	if !strings.Contains(c.Summary, "400 Bad Request") || !strings.Contains(c.Summary, "client_cert_required") || c.Fix != "the fix" {
		t.Errorf("client certificate refusal: %+v", c)
	}
	r := &Result{Client: *answered(400, "400 Bad Request"), Wire: *wire(diagnose.ClientCertRequired)}
	if r.OK() {
		t.Error("a 400 the wire explains as client_cert_required is OK")
	}
	c = Correlate(target, answered(421, "421 Misdirected Request"), wire(diagnose.OK), false, flagNames)
	if !strings.Contains(c.Summary, "421") || !strings.Contains(c.Summary, "SNI and the Host header disagree") || strings.Contains(c.Summary, "succeeded") {
		t.Errorf("421 with a good handshake: %+v", c)
	}
	r = &Result{Client: *answered(404, "404 Not Found"), Wire: *wire(diagnose.OK)}
	if !r.OK() {
		t.Error("a 404 over a good connection fails the probe")
	}
}

func TestPlainCorrelation(t *testing.T) {
	target, err := ParseTarget("http://good.test:8443/")
	if err != nil {
		t.Fatal(err)
	}
	nginx := &Outcome{Phase: PhaseDone, HTTP: &Response{Proto: "HTTP/1.1", StatusCode: 400, Status: "400 Bad Request"}}
	nginx.HTTP.head.Write([]byte("<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>"))
	c := Correlate(target, nginx, &Wire{}, false, flagNames)
	if !strings.Contains(c.Summary, "port 8443 speaks TLS") || !strings.Contains(c.Fix, "https://good.test:8443/") {
		t.Errorf("nginx's page: %+v", c)
	}
	alert := &Wire{Result: &pipeline.Result{Conn: &analysis.Connection{Alerts: []analysis.Alert{{Sender: capture.ServerToClient, Description: tlsparse.AlertProtocolVersion, Frame: capture.Frame{Number: 6}}}}}}
	failed := &Outcome{Err: errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03\x01\x00\x02\x02F"`), Phase: PhaseHTTP}
	if c := Correlate(target, failed, alert, false, flagNames); !strings.Contains(c.Summary, "speaks TLS") || !strings.Contains(c.Summary, "frame 6") {
		t.Errorf("a TLS alert: %+v", c)
	}
	plain := &Outcome{Phase: PhaseDone, HTTP: &Response{Proto: "HTTP/1.1", StatusCode: 200, Status: "200 OK"}}
	if c := Correlate(target, plain, &Wire{}, false, flagNames); strings.Contains(c.Summary, "speaks TLS") || !strings.Contains(c.Summary, "plain HTTP") {
		t.Errorf("a plain server: %+v", c)
	}
}
