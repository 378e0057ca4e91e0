package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestLiveAcrossVeth runs the live assertions between two network
// namespaces joined by a veth pair — a client host and a server host — at
// MTU 1500 and 576 (where the server's flight spans many segments), with
// tlsdiag capturing on the client's veth in a child process. Needs root and
// iproute2 (CI has both).
func TestLiveAcrossVeth(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) is not installed; CI installs it: ", err)
	}
	for _, mtu := range []int{1500, 576} {
		t.Run(fmt.Sprintf("mtu%d", mtu), func(t *testing.T) {
			v, err := tlslab.NewVethPair(context.Background(), fmt.Sprintf("tld%d", mtu), mtu)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(v.Close)
			servers, dir := startLabIn(t, v)
			const duration = 8 * time.Second
			written := dir + "/live.pcap"
			cmd := exec.Command("ip", "netns", "exec", v.ClientNS, os.Args[0], "live", "-i", v.ClientIface,
				"-f", portFilter(servers), "--format", "ndjson", "--duration", duration.String(), "-w", written,
				"--user", "", "--cacert", dir+"/"+tlslab.CAFile)
			cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on") })
			started := time.Now()
			arrivals := readVerdicts(t, stdout)
			for i, s := range servers {
				requestFromNetns(t, v.ClientNS, s, liveCases[i])
			}
			got := map[string]verdictLine{}
			for l := range arrivals {
				got[l.server] = l
			}
			if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 1 {
				t.Errorf("exit status %d (%v), want 1; stderr:\n%s", cmd.ProcessState.ExitCode(), err, stderr.String())
			}
			checkStreamed(t, servers, got, started.Add(duration-time.Second), stderr.String())
			// The capture path (AF_PACKET by default on Linux, named in
			// the start line) saw what read of the same packets sees.
			if !strings.Contains(stderr.String(), "capturing on "+v.ClientIface+" (") {
				t.Errorf("the start line does not name the capture path:\n%s", stderr.String())
			}
			checkReadAgrees(t, servers, got, dir, written)
		})
	}
}

// startLabIn starts every live case's server in v's server namespace,
// and writes the lab's files (its root for --cacert) to a directory of
// the test's.
func startLabIn(t *testing.T, v *tlslab.VethPair) (servers []*tlslab.Server, dir string) {
	t.Helper()
	for _, lc := range liveCases {
		err := tlslab.InNetns(v.ServerNS, func() error {
			s, err := tlslab.Start(lc.scenario, tlslab.WithAddr(v.ServerAddr+":0"))
			if err == nil {
				servers = append(servers, s)
				t.Cleanup(func() { s.Close() })
			}
			return err
		})
		if err != nil {
			t.Fatalf("start %s in %s: %v", lc.scenario, v.ServerNS, err)
		}
	}
	dir = t.TempDir()
	if err := servers[0].Lab().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return servers, dir
}

// checkReadAgrees checks that read of the file live wrote gives each
// server's connection the verdict live streamed.
func checkReadAgrees(t *testing.T, servers []*tlslab.Server, live map[string]verdictLine, dir, written string) {
	t.Helper()
	var readOut, readErr bytes.Buffer
	readArgs := []string{"read", "--format", "ndjson", "--no-system-roots", "--cacert", dir + "/" + tlslab.CAFile}
	for _, s := range servers {
		readArgs = append(readArgs, "--tls-port", fmt.Sprint(s.Addr().Port()))
	}
	run(append(readArgs, written), &readOut, &readErr)
	fromRead := map[string]verdictLine{}
	for l := range readVerdicts(t, &readOut) {
		fromRead[l.server] = l
	}
	for _, s := range servers {
		if a := s.Addr().String(); live[a].category != fromRead[a].category {
			t.Errorf("%s: live says %q, read of its -w file %q", a, live[a].category, fromRead[a].category)
		}
	}
}

type verdictLine struct {
	at               time.Time
	server, category string
}

// readVerdicts decodes ndjson lines as they arrive, noting when each came.
func readVerdicts(t *testing.T, r io.Reader) <-chan verdictLine {
	ch := make(chan verdictLine)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var v struct {
				Server  string `json:"server"`
				Verdict struct {
					Category string `json:"category"`
				} `json:"verdict"`
			}
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Errorf("not a JSON line: %q: %v", sc.Text(), err)
				continue
			}
			ch <- verdictLine{time.Now(), v.Server, v.Verdict.Category}
		}
	}()
	return ch
}

// requestFromNetns makes lc's request with its socket in namespace ns;
// errors are the point of most cases.
func requestFromNetns(t *testing.T, ns string, s *tlslab.Server, lc liveCase) {
	cfg := s.Lab().ClientConfig()
	if lc.client != nil {
		lc.client(cfg)
	}
	getFromNetns(ns, cfg, "https://"+s.Addr().String()+"/")
}

// getFromNetns makes a GET request to url with cfg, its socket in
// namespace ns, and reads the whole answer.
func getFromNetns(ns string, cfg *tls.Config, url string) error {
	tr := &http.Transport{
		TLSClientConfig:   cfg,
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = tlslab.InNetns(ns, func() error {
				c, err = (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
