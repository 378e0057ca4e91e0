package analysis

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// tsharkDifferences lists the public captures where tlsdiag deliberately
// sees more or other TLS frames than tshark, with the reason.
var tsharkDifferences = map[string]string{
	"zeek/https-to-http.pcap":                        "TLS to port 80: tshark dissects the port as HTTP, tlsdiag recognises the ClientHello by content",
	"zeek/ssl-to-http-server.pcap":                   "TLS to port 80: tshark dissects the port as HTTP, tlsdiag recognises the ClientHello by content",
	"zeek/irc-starttls.pcap":                         "tshark has no IRC STARTTLS support; tlsdiag finds the handshake after the plaintext prelude",
	"ja4/chrome-cloudflare-quic-with-secrets.pcapng": "the pcapng carries its TLS secrets in a Decryption Secrets Block: tshark decrypts the TLS 1.3 handshake with them, the trace shows plaintext messages only",
}

// TestTraceAgreesWithTshark checks, for every TCP capture in the public
// set, that the frames carrying TLS handshake messages and the message
// types in each are the ones tshark reports with out-of-order reassembly on.
func TestTraceAgreesWithTshark(t *testing.T) {
	tsharktest.Path(t, "the handshake messages per frame are compared with its")
	dir := publicPcaps
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.pcap*"))
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			t.Parallel() // tshark's start-up dominates: two at a time on two cores
			want := tsharkHandshakes(t, f)
			// tshark reads the secrets a pcapng carries: so does tlsdiag.
			got := traceHandshakes(analyse(t, f, Options{Trace: true, KeyLog: new(decrypt.KeyLog)}))
			diff := compareFrames(want, got)
			if len(diff) == 0 {
				return
			}
			if why, ok := tsharkDifferences[name]; ok {
				t.Logf("differs from tshark (%s):\n%s", why, strings.Join(diff, "\n"))
				return
			}
			t.Errorf("handshake messages per frame differ from tshark:\n%s", strings.Join(diff, "\n"))
		})
	}
}

// tsharkHandshakes returns, per frame number, the handshake message types
// tshark decoded (plaintext only); decodeAs are -d options it needs.
func tsharkHandshakes(t *testing.T, path string, decodeAs ...string) map[int64][]int {
	t.Helper()
	out := tsharktest.Output(t, append([]string{"-n", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE",
		"-Y", "tcp && tls.handshake.type", "-T", "fields", "-e", "frame.number", "-e", "tls.handshake.type"}, decodeAs...)...)
	m := map[int64][]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 || f[1] == "" {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		for _, s := range strings.Split(f[1], ",") {
			v, _ := strconv.Atoi(s)
			m[n] = append(m[n], v)
		}
	}
	return m
}

func traceHandshakes(conns []*Connection) map[int64][]int {
	m := map[int64][]int{}
	for _, c := range conns {
		for _, tf := range c.Trace {
			for _, it := range tf.Items {
				switch it.Kind {
				case tlsparse.KindHandshake:
					m[tf.Frame.Number] = append(m[tf.Frame.Number], int(it.Handshake))
				case tlsparse.KindSSLv2ClientHello:
					m[tf.Frame.Number] = append(m[tf.Frame.Number], int(tlsparse.HandshakeTypeClientHello))
				case tlsparse.KindSSLv2ServerHello:
					// tshark reports SSLv2 message types in
					// tls.handshake.type: SERVER-HELLO is 4.
					m[tf.Frame.Number] = append(m[tf.Frame.Number], 4)
				case tlsparse.KindSSLv2Record:
					if it.SSLv2MasterKey {
						m[tf.Frame.Number] = append(m[tf.Frame.Number], 2) // CLIENT-MASTER-KEY
					}
				}
			}
		}
	}
	return m
}

func compareFrames(want, got map[int64][]int) []string {
	var diff []string
	for _, n := range tsharktest.Frames(want, got) {
		w, g := want[n], got[n]
		slices.Sort(w)
		slices.Sort(g)
		if !slices.Equal(w, g) {
			diff = append(diff, fmt.Sprintf("frame %d: tshark %v, tlsdiag %v", n, w, g))
		}
	}
	return diff
}
