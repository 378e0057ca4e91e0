package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/probe"
)

// jsonConn is what the proxy tests read of a reported connection.
type jsonConn struct {
	Client string `json:"client"`
	Server string `json:"server"`
	SNI    string `json:"sni"`
	Proxy  *struct {
		Type         string `json:"type"`
		Target       string `json:"target"`
		RequestFrame int64  `json:"request_frame"`
		ReplyFrame   int64  `json:"reply_frame"`
		StatusLine   string `json:"status_line"`
	} `json:"proxy"`
	Verdict struct {
		Category string  `json:"category"`
		Summary  string  `json:"summary"`
		Evidence []int64 `json:"evidence_frames"`
		Fix      string  `json:"fix"`
	} `json:"verdict"`
}

func parseNDJSON(t *testing.T, out string) []jsonConn {
	t.Helper()
	var cs []jsonConn
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c jsonConn
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if c.Server != "" {
			cs = append(cs, c)
		}
	}
	return cs
}

// getThrough makes Go's net/http GET target through proxy (none when
// empty) and returns its error.
func getThrough(lab *tlslab.Lab, proxy, target string) error {
	tr := &http.Transport{TLSClientConfig: lab.ClientConfig(), DisableKeepAlives: true}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil {
			return err
		}
		tr.Proxy = http.ProxyURL(u)
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 3 * time.Second}
	resp, err := c.Get(target)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return err
}

// TestLiveProxies captures on lo (needs root) while Go's net/http goes
// through real CONNECT and SOCKS5 proxies: one that refuses (403), one
// that wants credentials (407), one that cannot reach the target (502),
// one whose 200 carries Transfer-Encoding: chunked, and a SOCKS5 one. The
// filter names no port, so only the proxy negotiation makes the
// client-to-proxy connections worth reporting. Each verdict must name the
// proxy's answer with the request and reply frames as evidence, and read
// of the packets live wrote (-w) must report the very same connections.
func TestLiveProxies(t *testing.T) {
	requireRoot(t)
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := func(s tlslab.Scenario) *tlslab.Server {
		srv, err := tlslab.Start(s, tlslab.WithLab(lab))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	okServer, closed := start(tlslab.OK), start(tlslab.ConnectionRefused)
	dir := t.TempDir()
	if err := lab.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	type proxyCase struct {
		scenario tlslab.Scenario
		scheme   string
		target   *tlslab.Server
		want     string   // verdict of the connection to the proxy
		words    []string // in summary or fix
		goClass  probe.Class
	}
	cases := []proxyCase{
		{tlslab.ProxyRefused, "http", okServer, "proxy_refused", []string{`"HTTP/1.1 403 Forbidden"`, "does not allow tunnels"}, probe.ProxyConnectFailed},
		{tlslab.ProxyAuthRequired, "http", okServer, "proxy_auth_required", []string{`"HTTP/1.1 407 Proxy Authentication Required"`, "user:password@"}, probe.ProxyConnectFailed},
		{tlslab.ProxyUpstreamFailed, "http", closed, "proxy_upstream_failed", []string{`"HTTP/1.1 502 Bad Gateway"`, "never reached", "between the proxy and"}, probe.ProxyConnectFailed},
		{tlslab.ProxyTunnelChunked, "http", okServer, "ok", []string{"through the CONNECT proxy"}, probe.ClassNone},
		{tlslab.ProxySOCKS5, "socks5", okServer, "ok", []string{"through the SOCKS5 proxy"}, probe.ClassNone},
	}
	proxies := make([]*tlslab.Server, len(cases))
	for i, pc := range cases {
		proxies[i] = start(pc.scenario)
	}

	pcapPath := filepath.Join(dir, "live.pcap")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"live", "-i", "lo", "-f", "tcp and host 127.0.0.1", "--format", "ndjson", "--duration", "4s",
			"--user", "", "--cacert", filepath.Join(dir, tlslab.CAFile), "-w", pcapPath}, &stdout, &stderr)
	}()
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on lo") })
	for i, pc := range cases {
		target := fmt.Sprintf("https://%s:%d/", tlslab.GoodName, pc.target.Addr().Port())
		goErr := getThrough(lab, pc.scheme+"://"+proxies[i].Addr().String(), target)
		if got := probe.Classify(goErr); got != pc.goClass {
			t.Errorf("%s: Go's net/http: %v, class %q, want %q", pc.scenario, goErr, got, pc.goClass)
		}
	}
	if status := <-done; status != 1 {
		t.Errorf("live exit status %d, want 1; stderr:\n%s", status, stderr.String())
	}
	live := parseNDJSON(t, stdout.String())

	var readOut, readErr bytes.Buffer
	run([]string{"read", "--format", "ndjson", "--cacert", filepath.Join(dir, tlslab.CAFile), pcapPath}, &readOut, &readErr)
	read := parseNDJSON(t, readOut.String())

	key := func(c jsonConn) string { return c.Client + " → " + c.Server + " " + c.Verdict.Category }
	ours := func(cs []jsonConn) []string {
		var ks []string
		for _, c := range cs {
			for _, p := range append(slices.Clone(proxies), okServer) {
				if c.Server == p.Addr().String() {
					ks = append(ks, key(c))
				}
			}
		}
		slices.Sort(ks)
		return ks
	}
	if l, r := ours(live), ours(read); !slices.Equal(l, r) {
		t.Errorf("live reported\n  %s\nread of its -w file\n  %s", strings.Join(l, "\n  "), strings.Join(r, "\n  "))
	}
	for i, pc := range cases {
		var c *jsonConn
		for j := range read {
			if read[j].Server == proxies[i].Addr().String() {
				c = &read[j]
			}
		}
		if c == nil {
			t.Errorf("%s: no connection to the proxy %s reported; stderr:\n%s", pc.scenario, proxies[i].Addr(), readErr.String())
			continue
		}
		text := c.Verdict.Summary + "\n" + c.Verdict.Fix
		switch {
		case c.Verdict.Category != pc.want:
			t.Errorf("%s: verdict %s (%s), want %s", pc.scenario, c.Verdict.Category, c.Verdict.Summary, pc.want)
		case c.Proxy == nil:
			t.Errorf("%s: no proxy object", pc.scenario)
		case c.Proxy.Target != fmt.Sprintf("%s:%d", tlslab.GoodName, pc.target.Addr().Port()):
			t.Errorf("%s: proxy target %q", pc.scenario, c.Proxy.Target)
		case pc.want != "ok" && !slices.Equal(c.Verdict.Evidence, []int64{c.Proxy.RequestFrame, c.Proxy.ReplyFrame}):
			t.Errorf("%s: evidence %v, want the request and reply frames %d, %d", pc.scenario, c.Verdict.Evidence, c.Proxy.RequestFrame, c.Proxy.ReplyFrame)
		case pc.want == "ok" && c.SNI != tlslab.GoodName:
			t.Errorf("%s: tunnelled SNI %q", pc.scenario, c.SNI)
		}
		for _, w := range pc.words {
			if !strings.Contains(text, w) {
				t.Errorf("%s: verdict lacks %q:\n%s", pc.scenario, w, text)
			}
		}
		if strings.Contains(text, "https://") && pc.want != "ok" {
			t.Errorf("%s: the fix tells a proxy client to use https://:\n%s", pc.scenario, text)
		}
	}
}

// TestLiveFilterPortRefused: the user names a closed port in the capture
// filter; the refused connections to it are reported (needs root).
func TestLiveFilterPortRefused(t *testing.T) {
	requireRoot(t)
	closed, err := tlslab.Start(tlslab.ConnectionRefused)
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	port := closed.Addr().Port()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"live", "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "--format", "ndjson", "--duration", "3s", "--user", ""}, &stdout, &stderr)
	}()
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on lo") })
	for range 2 {
		getThrough(closed.Lab(), "", "https://"+closed.Addr().String()+"/")
	}
	if status := <-done; status != 1 {
		t.Errorf("exit status %d, want 1 (refused connections); stderr:\n%s", status, stderr.String())
	}
	n := 0
	for _, c := range parseNDJSON(t, stdout.String()) {
		if c.Server == closed.Addr().String() {
			if c.Verdict.Category != "connection_refused" {
				t.Errorf("verdict %s, want connection_refused", c.Verdict.Category)
			}
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d refused connections reported, want 2:\n%s", n, stdout.String())
	}
}

// TestReadIfFilterPorts reads the refused connection of
// testdata/captures/connection_refused.pcap (to port 4454, no TLS port)
// rewritten as pcapng: with an interface whose recorded capture filter
// names the port it is reported; without, the summary says what the
// capture held and which flag would diagnose it.
func TestReadIfFilterPorts(t *testing.T) {
	src, err := capture.OpenFile("../../testdata/captures/connection_refused.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	type pkt struct {
		data []byte
		ci   gopacket.CaptureInfo
	}
	var pkts []pkt
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			break
		}
		pkts = append(pkts, pkt{bytes.Clone(data), ci})
	}
	write := func(filter string) string {
		path := filepath.Join(t.TempDir(), "refused.pcapng")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "lo", Filter: filter, LinkType: layers.LinkType(src.LinkType()), SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			if err := w.WritePacket(p.ci, p.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var out, errOut bytes.Buffer
	if status := run([]string{"read", write("tcp port 4454")}, &out, &errOut); status != 1 ||
		!strings.Contains(out.String(), "connection_refused") || !strings.Contains(out.String(), "Summary: 1 connection, 1 failed") {
		t.Errorf("with if_filter 'tcp port 4454': exit %d, output:\n%s%s", status, out.String(), errOut.String())
	}
	out.Reset()
	if status := run([]string{"read", write("")}, &out, &errOut); status != 0 ||
		!strings.Contains(strings.Join(strings.Fields(out.String()), " "), "2 frames: 1 TCP connection on port 4454 without TLS — pass --tls-port 4454") {
		t.Errorf("without a filter: exit %d, output:\n%s", status, out.String())
	}
}

// TestLiveProxyAuthRetry captures on lo (needs root) while curl
// --proxy-anyauth goes through the lab's Basic proxy with the right
// credentials: its first CONNECT carries none and gets 407, and its
// second, on the same connection, opens the tunnel. live reports a
// connection as soon as its outcome is known; the 407 is not that
// outcome, and the connection must be reported ok, through the tunnel,
// by live as by read of the packets it wrote.
func TestLiveProxyAuthRetry(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (scripts/install-deps.sh installs it)")
	}
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var servers []*tlslab.Server
	for _, s := range []tlslab.Scenario{tlslab.OK, tlslab.ProxyAuthRequired} {
		srv, err := tlslab.Start(s, tlslab.WithLab(lab))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		servers = append(servers, srv)
	}
	okServer, proxy := servers[0], servers[1]
	dir := t.TempDir()
	if err := lab.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	pcapPath := filepath.Join(dir, "live.pcap")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"live", "-i", "lo", "-f", fmt.Sprintf("tcp port %d", proxy.Addr().Port()), "--format", "ndjson", "--duration", "3s",
			"--user", "", "--cacert", filepath.Join(dir, tlslab.CAFile), "-w", pcapPath}, &stdout, &stderr)
	}()
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on lo") })
	out, err := exec.Command("curl", "-sS", "--max-time", "5", "--cacert", filepath.Join(dir, tlslab.CAFile), "--proxy-anyauth",
		"-U", tlslab.ProxyUser+":"+tlslab.ProxyPassword, "-x", "http://"+proxy.Addr().String(),
		fmt.Sprintf("https://%s:%d/", tlslab.GoodName, okServer.Addr().Port())).CombinedOutput()
	if err != nil || string(out) != tlslab.Body {
		t.Fatalf("curl --proxy-anyauth: %v: %q", err, out)
	}
	if status := <-done; status != 0 {
		t.Errorf("live exit status %d, want 0; stdout:\n%s\nstderr:\n%s", status, stdout.String(), stderr.String())
	}
	var readOut, readErr bytes.Buffer
	run([]string{"read", "--format", "ndjson", "--cacert", filepath.Join(dir, tlslab.CAFile), pcapPath}, &readOut, &readErr)
	for name, cs := range map[string][]jsonConn{"live": parseNDJSON(t, stdout.String()), "read": parseNDJSON(t, readOut.String())} {
		if len(cs) != 1 {
			t.Errorf("%s: %d connections reported, want 1: %+v", name, len(cs), cs)
			continue
		}
		c := cs[0]
		if c.Verdict.Category != "ok" || c.SNI != tlslab.GoodName || c.Proxy == nil || c.Proxy.StatusLine != "HTTP/1.1 200 Connection established" {
			t.Errorf("%s: %s (%s), SNI %q, proxy %+v; want ok through the tunnel the second CONNECT opened", name, c.Verdict.Category, c.Verdict.Summary, c.SNI, c.Proxy)
		}
	}
}
