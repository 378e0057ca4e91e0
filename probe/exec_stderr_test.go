//go:build linux

package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// goClientError is the error Go's net/http client prints against a lab
// server of scenario s, as a Go program run under exec would.
func goClientError(t *testing.T, lab *tlslab.Lab, s tlslab.Scenario) string {
	t.Helper()
	srv, err := tlslab.Start(s, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tr := &http.Transport{TLSClientConfig: lab.ClientConfig(), DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Addr().String())
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(fmt.Sprintf("https://%s:%d/", tlslab.GoodName, srv.Addr().Port()))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("%s: the request succeeded", s)
	}
	return err.Error()
}

// TestClassifyStderrValidity: crypto/x509 words both ends of the validity
// period alike ("certificate has expired or is not yet valid"); the
// detail after it decides, and the bare words of that detail in another
// line decide nothing.
func TestClassifyStderrValidity(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		line string
		want Class
	}{
		{"Go, not yet valid", "Get: " + goClientError(t, lab, tlslab.CertNotYetValid), CertNotYetValid},
		{"Go, expired", "Get: " + goClientError(t, lab, tlslab.CertExpired), CertExpired},
		{"Go, as the audit's client printed it", `error: Get "https://good.test:8444/": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-12-05T15:16:13Z is before 2035-01-01T00:00:00Z`, CertNotYetValid},
		{"curl, expired", "curl: (60) SSL certificate problem: certificate has expired", CertExpired},
		{"curl, not yet valid", "curl: (60) SSL certificate problem: certificate is not yet valid", CertNotYetValid},
		{"not about certificates", "retrying: the next attempt is after 2 s", ClassNone},
		{"not about certificates either", "cache entry is before its deadline", ClassNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := classifyStderr([]string{tt.line}); got != tt.want {
				t.Errorf("classifyStderr(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

// goProxyError is the error Go's net/http client prints for a request
// through the proxy at proxy, with a dial timeout of a second.
func goProxyError(t *testing.T, proxy netip.AddrPort) string {
	t.Helper()
	tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.String()}), DialContext: (&net.Dialer{Timeout: time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + tlslab.GoodName + ":1/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("the request through the proxy succeeded")
	}
	return err.Error()
}

// curlError is the last line curl prints to standard error when run with
// args.
func curlError(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (scripts/install-deps.sh installs it)")
	}
	out, _ := exec.Command("curl", append([]string{"-sS", "-o", "/dev/null"}, args...)...).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// TestClassifyStderrClients: the errors curl and Go's net/http print for
// a dropped SYN, a proxy that refuses the tunnel or the connection, and a
// name that does not resolve each name their class, and the lookup its
// name. Every line is what the client printed, here against lab servers
// on loopback (the DNS lines, whose lookups would leave the machine, as
// the clients printed them in an audit).
func TestClassifyStderrClients(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := func(s tlslab.Scenario) netip.AddrPort { return labServer(t, lab, s) }
	closedPort := func() netip.AddrPort {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).AddrPort()
	}
	tests := []struct {
		name   string
		line   func(t *testing.T) string
		want   Class
		lookup string
	}{
		{"curl, SYN dropped", func(t *testing.T) string {
			return curlError(t, "--connect-timeout", "1", "https://"+start(tlslab.NoTCPAnswer).String()+"/")
		}, ConnectTimeout, ""},
		{"curl, proxy forbids the tunnel", func(t *testing.T) string {
			return curlError(t, "-x", "http://"+start(tlslab.ProxyRefused).String(), "https://"+tlslab.GoodName+":1/")
		}, ProxyConnectFailed, ""},
		{"curl, proxy cannot reach the target", func(t *testing.T) string {
			return curlError(t, "-x", "http://"+start(tlslab.ProxyUpstreamFailed).String(), "https://"+tlslab.GoodName+":1/")
		}, ProxyConnectFailed, ""},
		{"Go, SYN dropped", func(t *testing.T) string {
			tr := &http.Transport{DialContext: (&net.Dialer{Timeout: time.Second}).DialContext}
			_, err := (&http.Client{Transport: tr}).Get("https://" + start(tlslab.NoTCPAnswer).String() + "/")
			return fmt.Sprint(err)
		}, ConnectTimeout, ""},
		{"Go, proxy forbids the tunnel", func(t *testing.T) string { return goProxyError(t, start(tlslab.ProxyRefused)) }, ProxyConnectFailed, ""},
		{"Go, proxy refuses the connection", func(t *testing.T) string { return goProxyError(t, closedPort()) }, ProxyRefused, ""},
		{"Go, SOCKS proxy cannot reach the target", func(t *testing.T) string {
			return goSOCKSError(t, start(tlslab.ProxySOCKS5), closedPort())
		}, ProxyConnectFailed, ""},
		{"Go, SOCKS proxy refuses the connection", func(t *testing.T) string {
			return goSOCKSError(t, closedPort(), closedPort())
		}, ProxyRefused, ""},
		{"Go, SOCKS proxy accepts no method", func(t *testing.T) string {
			return goSOCKSError(t, start(tlslab.ProxySOCKS5NoMethod), start(tlslab.OK))
		}, ProxyConnectFailed, ""},
		{"Go, SOCKS proxy rejects the password", func(t *testing.T) string {
			return goSOCKSError(t, start(tlslab.ProxySOCKS5Password), start(tlslab.OK), url.UserPassword(tlslab.ProxyUser, "wrong"))
		}, ProxyConnectFailed, ""},
		{"curl, no such name", func(*testing.T) string { return "curl: (6) Could not resolve host: nosuch.invalid" }, DNSNotFound, "nosuch.invalid"},
		{"Go, no such name", func(*testing.T) string {
			return `error: Get "https://nosuch.invalid:8441/": dial tcp: lookup nosuch.invalid on 10.255.255.53:53: no such host`
		}, DNSNotFound, "nosuch.invalid"},
		{"Go, resolver silent", func(*testing.T) string {
			return `Get "https://nosuch.invalid/": dial tcp: lookup nosuch.invalid on 10.255.255.53:53: read udp 10.0.0.2:41000->10.255.255.53:53: i/o timeout`
		}, DNSTimeout, "nosuch.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.line(t)
			class, got := classifyStderr([]string{"starting", line})
			if class != tt.want || got != line {
				t.Errorf("classifyStderr(%q) = %q from %q, want %q", line, class, got, tt.want)
			}
			if name := lookupName(line); name != tt.lookup {
				t.Errorf("lookupName(%q) = %q, want %q", line, name, tt.lookup)
			}
		})
	}
}

// TestExecUnseenNamesTheLookup: a program's failed lookup, of which the
// capture shows nothing, is explained with the name its error line gives,
// and with no empty name when the line gives none.
func TestExecUnseenNamesTheLookup(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"curl: (6) Could not resolve host: nosuch.invalid", "the name nosuch.invalid does not resolve"},
		{`error: Get "https://nosuch.invalid:8441/": dial tcp: lookup nosuch.invalid on 10.255.255.53:53: no such host`, "the name nosuch.invalid does not resolve"},
		{"getaddrinfo: no such host is known", "the server's name does not resolve"},
	} {
		r := &ExecResult{ExitCode: 6, StderrTail: []string{tt.line}, Flows: nil}
		r.Class, r.ErrorLine = classifyStderr(r.StderrTail)
		o := r.outcome()
		r.unseen(&o, flagNames)
		if r.Unseen == nil || r.Unseen.Cause != tt.want {
			t.Errorf("%q: unseen %+v, want the cause %q", tt.line, r.Unseen, tt.want)
		}
	}
	// A lookup the capture shows (a filter with port 53): its record's
	// server is the resolver, its target the name asked for.
	lookup := &analysis.Connection{Server: netip.MustParseAddrPort("127.0.0.53:53"), DNSFailure: &analysis.DNSFailure{Name: "nosuch.invalid"}}
	if got := connTarget(lookup); got.Host != "nosuch.invalid" {
		t.Errorf("a failed lookup's target is %q, want the name looked up", got.Host)
	}
}

// TestExplainUnknownTarget: exec explains a program's error without a
// target when the capture showed no connection; the sentences then name
// "the server" and "its port", never ":0" or "port 0".
func TestExplainUnknownTarget(t *testing.T) {
	for _, class := range []Class{ConnectionRefused, ConnectTimeout, HostUnreachable, ConnectionReset, ConnectionClosed, NotTLS, ProxyConnectFailed} {
		o := &Outcome{Class: class, Phase: PhaseTLS, Proxy: "127.0.0.1:3128", Err: errors.New("boom")}
		cause, fix := explain(Target{}, o, flagNames)
		if cause == "" || fix == "" {
			t.Errorf("%s: no explanation", class)
		}
		for _, bad := range []string{":0", "port 0"} {
			if strings.Contains(cause+fix, bad) {
				t.Errorf("%s: %q | %q says %q", class, cause, fix, bad)
			}
		}
		if !strings.Contains(cause+fix, "the server") && !strings.Contains(cause+fix, "its port") {
			t.Errorf("%s: %q | %q names neither the server nor its port", class, cause, fix)
		}
	}
}

// goSOCKSError is net/http's error for a GET of https://target/ through
// the SOCKS5 proxy at proxy, with the credentials user when given.
func goSOCKSError(t *testing.T, proxy, target netip.AddrPort, user ...*url.Userinfo) string {
	t.Helper()
	u := &url.URL{Scheme: "socks5", Host: proxy.String()}
	if len(user) > 0 {
		u.User = user[0]
	}
	tr := &http.Transport{Proxy: http.ProxyURL(u)}
	defer tr.CloseIdleConnections()
	_, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + target.String() + "/")
	if err == nil {
		t.Fatal("the request through the SOCKS proxy succeeded")
	}
	return err.Error()
}

// startSOCKS5Refusing serves SOCKS5 on loopback and refuses every client
// at authentication: with "no acceptable methods" (0xFF), or, when
// password is set, by choosing user name/password (RFC 1929) and
// rejecting whatever the client sends.
func startSOCKS5Refusing(t *testing.T, password bool) netip.AddrPort {
	return acceptEach(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return
		}
		if !password {
			c.Write([]byte{5, 0xFF})
			return
		}
		c.Write([]byte{5, 2})
		if _, err := c.Read(buf); err != nil {
			return
		}
		c.Write([]byte{1, 1})
	})
}

// TestExplainSOCKS: the refusals of a SOCKS proxy, as Go's net/http and
// curl print them against SOCKS5 servers on loopback, are the proxy's
// answers (proxy_connect_failed), and their cause names the proxy's
// address and the target from the error, and the fix what to change: the
// target (or the proxy's way to it) when the proxy could not reach it,
// the credentials when it refused them.
func TestExplainSOCKS(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	socks := labServer(t, lab, tlslab.ProxySOCKS5)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	noMethod, badPassword := startSOCKS5Refusing(t, false), startSOCKS5Refusing(t, true)
	goWithPassword := func(proxy, target netip.AddrPort) string {
		tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", User: url.UserPassword("u", "wrong"), Host: proxy.String()})}
		defer tr.CloseIdleConnections()
		_, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + target.String() + "/")
		return fmt.Sprint(err)
	}
	tests := []struct {
		name  string
		line  string
		cause []string // substrings of the cause
		fix   []string // substrings of the fix
	}{
		{"Go, the target refused the proxy", goSOCKSError(t, socks, closed),
			[]string{"SOCKS proxy " + socks.String() + " could not reach " + closed.String(), "connection refused"}, []string{"the proxy's own connection to the target failed"}},
		{"Go, no acceptable method", goSOCKSError(t, noMethod, closed),
			[]string{"SOCKS proxy " + noMethod.String() + " refused the client's credentials"}, []string{"user:password@", "socks5://user:password@" + noMethod.String()}},
		{"Go, password rejected", goWithPassword(badPassword, closed),
			[]string{"SOCKS proxy " + badPassword.String() + " refused the client's credentials", "username/password authentication failed"}, []string{"user:password@"}},
		{"curl, the target refused the proxy", curlError(t, "-x", "socks5://"+socks.String(), "https://"+closed.String()+"/"),
			[]string{"could not reach " + closed.Addr().String()}, []string{"the proxy's own connection to the target failed"}},
		{"curl, no acceptable method", curlError(t, "-x", "socks5://"+noMethod.String(), "https://"+closed.String()+"/"),
			[]string{"refused the client's credentials"}, []string{"user:password@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &ExecResult{ExitCode: 1, StderrTail: []string{tt.line}}
			r.Class, r.ErrorLine = classifyStderr(r.StderrTail)
			if r.Class != ProxyConnectFailed {
				t.Fatalf("classifyStderr(%q) = %q, want %q", tt.line, r.Class, ProxyConnectFailed)
			}
			o := r.outcome()
			r.unseen(&o, flagNames)
			c := r.Unseen
			for _, s := range tt.cause {
				if !strings.Contains(c.Cause, s) {
					t.Errorf("%q: cause %q lacks %q", tt.line, c.Cause, s)
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(c.Fix, s) {
					t.Errorf("%q: fix %q lacks %q", tt.line, c.Fix, s)
				}
			}
			if strings.Contains(c.Cause+c.Fix, "  ") || strings.Contains(c.Cause, "policy") {
				t.Errorf("%q: cause %q, fix %q", tt.line, c.Cause, c.Fix)
			}
		})
	}
}

// nodeStderr is what Node.js prints to standard error for an uncaught
// error of testdata/node_get.js fetching url, with env added.
func nodeStderr(t *testing.T, url string, env ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed (scripts/install-deps.sh installs it)")
	}
	cmd := exec.Command("node", "testdata/node_get.js", url)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("node fetched %s", url)
	}
	return stderr.Bytes()
}

// TestClassifyStderrNode: the errors Node.js prints, uncaught, name their
// class, and the line that names it is the error's message, not one of
// the properties after it, even when a certificate's dozens of lines
// follow. Node runs against lab servers on loopback; the failures that
// need a resolver or a route are its output recorded in testdata/node
// (README.md there says how).
func TestClassifyStderrNode(t *testing.T) {
	lab, dir := labFiles(t)
	run := func(s tlslab.Scenario) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			srv, err := tlslab.Start(s, tlslab.WithLab(lab))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			return nodeStderr(t, fmt.Sprintf("https://%s:%d/", tlslab.GoodName, srv.Addr().Port()),
				"NODE_GET_CA="+filepath.Join(dir, tlslab.CAFile), "NODE_GET_ADDR="+srv.Addr().Addr().String())
		}
	}
	recorded := func(name string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b, err := os.ReadFile(filepath.Join("testdata", "node", name+".stderr"))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	tests := []struct {
		name   string
		stderr func(t *testing.T) []byte
		want   Class
		line   string // a substring of the line that names the class
		lookup string
	}{
		{"ENOTFOUND", recorded("enotfound"), DNSNotFound, "Error: getaddrinfo ENOTFOUND nosuch.test", "nosuch.test"},
		{"EAI_AGAIN", recorded("eai_again"), DNSError, "Error: getaddrinfo EAI_AGAIN servfail.test", "servfail.test"},
		{"EHOSTUNREACH", recorded("ehostunreach"), HostUnreachable, "Error: connect EHOSTUNREACH 10.9.9.9:8443", ""},
		{"ETIMEDOUT", recorded("etimedout"), ConnectTimeout, "Error: connect ETIMEDOUT 127.0.0.1:8443", ""},
		{"ECONNREFUSED", run(tlslab.ConnectionRefused), ConnectionRefused, "Error: connect ECONNREFUSED 127.0.0.1:", ""},
		{"ECONNRESET", run(tlslab.ConnectionReset), ConnectionReset, "Error: read ECONNRESET", ""},
		{"CERT_HAS_EXPIRED", run(tlslab.CertExpired), CertExpired, "Error: certificate has expired", ""},
		{"CERT_NOT_YET_VALID", run(tlslab.CertNotYetValid), CertNotYetValid, "Error: certificate is not yet valid", ""},
		{"DEPTH_ZERO_SELF_SIGNED_CERT", run(tlslab.CertSelfSigned), CertUnknownAuthority, "Error: self-signed certificate", ""},
		{"SELF_SIGNED_CERT_IN_CHAIN", run(tlslab.CertUntrustedCA), CertUnknownAuthority, "Error: self-signed certificate in certificate chain", ""},
		{"UNABLE_TO_VERIFY_LEAF_SIGNATURE", run(tlslab.CertIncompleteChain), CertUnknownAuthority, "Error: unable to verify the first certificate", ""},
		{"ERR_TLS_CERT_ALTNAME_INVALID", run(tlslab.CertHostnameMismatch), CertHostnameMismatch, "Hostname/IP does not match certificate's altnames", ""},
		{"EPROTO, not TLS", run(tlslab.NotTLSServer), NotTLS, "write EPROTO", ""},
		{"EPROTO, alert", run(tlslab.ClientCertRequiredTLS13), AlertClass(tlsparse.AlertCertificateRequired), "tlsv13 alert certificate required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tail := &lineTail{max: StderrLines}
			tail.Write(tt.stderr(t))
			_, named := tail.lines()
			class, line := classifyStderr(named)
			if class != tt.want || !strings.Contains(line, tt.line) {
				t.Errorf("class %q from %q, want %q from a line with %q", class, line, tt.want, tt.line)
			}
			if name := lookupName(line); name != tt.lookup {
				t.Errorf("lookupName(%q) = %q, want %q", line, name, tt.lookup)
			}
		})
	}
}

// startServfail serves DNS on loopback and answers every query SERVFAIL.
func startServfail(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			// The query back as a response (QR), recursion available,
			// RCODE 2 (SERVFAIL), no records but the question.
			reply := append([]byte(nil), buf[:n]...)
			reply[2] |= 0x80
			reply[3] = 0x80 | 2
			clear(reply[6:12])
			pc.WriteTo(reply, from)
		}
	}()
	return pc.LocalAddr().String()
}

// TestExplainResolverFailures: a resolver that answers SERVFAIL (Go's
// "server misbehaving") is reachable, and the fix looks upstream of it; a
// resolver that does not answer gets the fix about the way to it.
func TestExplainResolverFailures(t *testing.T) {
	servfail := startServfail(t)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	lookup := func(server string) string {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "udp", server)
		}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := r.LookupHost(ctx, "servfail.test")
		return `Get "https://servfail.test/": dial tcp: ` + fmt.Sprint(err)
	}
	for _, tt := range []struct {
		name, line string
		class      Class
		fix        string
		notFix     string
	}{
		{"SERVFAIL", lookup(servfail), DNSError, "upstream of it", "network path"},
		{"no answer", lookup(silent.LocalAddr().String()), DNSTimeout, "network path", "upstream"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &ExecResult{ExitCode: 1, StderrTail: []string{tt.line}}
			r.Class, r.ErrorLine = classifyStderr(r.StderrTail)
			if r.Class != tt.class {
				t.Fatalf("classifyStderr(%q) = %q, want %q", tt.line, r.Class, tt.class)
			}
			o := r.outcome()
			r.unseen(&o, flagNames)
			if fix := r.Unseen.Fix; !strings.Contains(fix, tt.fix) || strings.Contains(fix, tt.notFix) {
				t.Errorf("%q: fix %q, want one with %q and without %q", tt.line, fix, tt.fix, tt.notFix)
			}
		})
	}
}

// TestClassifyStderrRecorded: what Go's net/http, Python (urllib and
// requests), Java's HttpClient, Node.js, openssl s_client, curl and wget
// printed to
// standard error against the lab's servers, recorded in
// testdata/stderr (README.md there says how), names its class from the
// line that says it: the last "Caused by" of a Java stack trace, the
// exception of a Python traceback, Node's message rather than its code;
// and the report of a handshake that worked names none.
func TestClassifyStderrRecorded(t *testing.T) {
	tests := []struct {
		file string
		want Class
		line string // a substring of the line that names the class
	}{
		{"go.plain_http", NotTLS, "http: server gave HTTP response to HTTPS client"},
		{"go.closed_after_hello", ConnectionClosed, `Get "https://good.test:18410/": EOF`},
		{"urllib.hostname_mismatch", CertHostnameMismatch, "Hostname mismatch, certificate is not valid for 'good.test'"},
		{"urllib.closed_after_hello", ConnectionClosed, "EOF occurred in violation of protocol"},
		{"requests.hostname_mismatch", CertHostnameMismatch, "requests.exceptions.SSLError"},
		{"requests.closed_after_hello", ConnectionClosed, "requests.exceptions.SSLError"},
		{"java.expired", CertExpired, "Caused by: java.security.cert.CertificateExpiredException"},
		{"java.untrusted_ca", CertUnknownAuthority, "unable to find valid certification path to requested target"},
		{"java.incomplete_chain", CertUnknownAuthority, "unable to find valid certification path to requested target"},
		{"java.hostname_mismatch", CertHostnameMismatch, "No subject alternative DNS name matching good.test found"},
		{"java.legacy_tls11", AlertClass(tlsparse.AlertProtocolVersion), "Received fatal alert: protocol_version"},
		{"java.no_shared_cipher", AlertClass(tlsparse.AlertHandshakeFailure), "Received fatal alert: handshake_failure"},
		{"java.closed_after_hello", ConnectionClosed, "Remote host terminated the handshake"},
		{"java.plain_http", NotTLS, "Unrecognized SSL message, plaintext connection?"},
		{"java.refused", ConnectionRefused, "Caused by: java.net.ConnectException"},
		{"node.closed_after_hello", ConnectionClosed, "Client network socket disconnected before secure TLS connection was established"},
		{"openssl.ok_brief", ClassNone, ""},
		{"python.syntax_error", ClassNone, ""},
		{"openssl.legacy_tls11", ClientRejectedVersion, "legacy sigalg disallowed or unsupported"},
		{"curl.legacy_tls11", ClientRejectedVersion, "legacy sigalg disallowed or unsupported"},
		{"curl.closed_after_hello", ConnectionClosed, "SSL_ERROR_SYSCALL in connection to good.test:18410"},
		{"wget.status_404", HTTPError, "ERROR 404: File not found."},
		{"requests.status_404", HTTPError, "requests.exceptions.HTTPError: 404 Client Error: File not found"},
		{"wget.client_cert_required", AlertClass(tlsparse.AlertHandshakeFailure), "GnuTLS: received alert [40]: Handshake failed"},
		{"wget.closed_after_hello", ConnectionClosed, "The TLS connection was non-properly terminated"},
		{"wget.untrusted_ca", CertUnknownAuthority, "doesn't have a known issuer"},
		{"wget.hostname_mismatch", CertHostnameMismatch, "The certificate's owner does not match hostname"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "stderr", tt.file+".stderr"))
			if err != nil {
				t.Fatal(err)
			}
			tail := &lineTail{max: StderrLines}
			tail.Write(b)
			_, named := tail.lines()
			class, line := classifyStderr(named)
			if class != tt.want || !strings.Contains(line, tt.line) || tt.line == "" && line != "" {
				t.Errorf("class %q from %q, want %q from a line with %q", class, line, tt.want, tt.line)
			}
			if n := errorStatus(line); (n == 404) != (tt.want == HTTPError) {
				t.Errorf("errorStatus(%q) = %d", line, n)
			}
		})
	}
}
