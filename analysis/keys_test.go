package analysis

import (
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// keysDir holds captures of TLS 1.0–1.3 made by openssl, curl, gnutls-cli,
// Go and Python with the key logs they wrote (testdata/keys/make.sh).
const keysDir = "../testdata/keys"

// TestKeyLogAgreesWithTshark decrypts every key log capture and checks,
// frame by frame, the handshake messages (Finished, a renegotiation's
// hellos) and the alerts (level and description) against tshark given
// the same key log; the pcapng copies carry their secrets in a Decryption
// Secrets Block, which both read without a key log file.
func TestKeyLogAgreesWithTshark(t *testing.T) {
	tsharktest.Path(t, "what the key log opens is compared with what it opens")
	files, _ := filepath.Glob(filepath.Join(keysDir, "*.pcap*"))
	if len(files) < 10 {
		t.Fatalf("only %d captures in %s", len(files), keysDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var kl *decrypt.KeyLog
			var args []string
			if strings.HasSuffix(f, ".pcap") {
				kl = readKeyLog(t, strings.TrimSuffix(f, ".pcap")+".keylog")
				args = []string{"-o", "tls.keylog_file:" + strings.TrimSuffix(f, ".pcap") + ".keylog"}
			} else {
				kl = new(decrypt.KeyLog) // the secrets are in the file
			}
			conns := analyse(t, f, Options{Trace: true, KeyLog: kl})
			if len(conns) != 1 {
				t.Fatalf("%d connections, want 1", len(conns))
			}
			c := conns[0]
			if !c.Decrypted || c.Decryption != DecryptionDecrypted || c.DecryptionReason() != "" {
				t.Errorf("decrypted %v, decryption %q (%s); want decrypted", c.Decrypted, c.Decryption, c.DecryptionReason())
			}
			want := tsharkKeyed(t, f, args...)
			got := keyedItems(c)
			if diff := compareStrings(want, got); len(diff) > 0 {
				t.Errorf("decrypted messages and alerts differ from tshark:\n%s", strings.Join(diff, "\n"))
			}
			// What each side sent first: the request and the status line
			// of openssl s_server -WWW, or the echo server's greeting.
			client, server := string(c.AppDataHead(capture.ClientToServer)), string(c.AppDataHead(capture.ServerToClient))
			if strings.Contains(f, "reneg") || strings.Contains(f, "early") {
				if client != "hello\n" {
					t.Errorf("client's first data %q, want hello", client)
				}
				return
			}
			if !strings.HasPrefix(client, "GET /hello.txt HTTP/1.") || !strings.HasPrefix(server, "HTTP/1.0 200 ok\r\n") {
				t.Errorf("first data: client %q, server %q", client, server)
			}
		})
	}
}

// tsharkKeyed lists, per frame, the handshake message types and the
// alerts tshark shows with the key log.
func tsharkKeyed(t *testing.T, path string, args ...string) map[int64][]string {
	t.Helper()
	args = append([]string{"-n", "-r", path, "-Y", "tls.handshake.type || tls.alert_message", "-T", "fields",
		"-e", "frame.number", "-e", "tls.handshake.type", "-e", "tls.alert_message.level", "-e", "tls.alert_message.desc"}, args...)
	out := tsharktest.Output(t, args...)
	m := map[int64][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		for _, s := range strings.Split(f[1], ",") {
			if s != "" {
				m[n] = append(m[n], "handshake "+s)
			}
		}
		levels, descs := strings.Split(f[2], ","), strings.Split(f[3], ",")
		for i := range levels {
			if levels[i] != "" && i < len(descs) {
				m[n] = append(m[n], "alert "+levels[i]+"/"+descs[i])
			}
		}
	}
	return m
}

// keyedItems lists what the trace shows per frame, as tsharkKeyed does.
func keyedItems(c *Connection) map[int64][]string {
	m := map[int64][]string{}
	for _, tf := range c.Trace {
		for _, it := range tf.Items {
			switch {
			case it.Kind == tlsparse.KindHandshake:
				m[tf.Frame.Number] = append(m[tf.Frame.Number], fmt.Sprintf("handshake %d", it.Handshake))
			case it.Kind == tlsparse.KindAlert && (!it.Encrypted || it.Decrypted):
				m[tf.Frame.Number] = append(m[tf.Frame.Number], fmt.Sprintf("alert %d/%d", it.Alert.Level, it.Alert.Description))
			}
		}
	}
	return m
}

func compareStrings(want, got map[int64][]string) []string {
	var frames []int64
	for n := range want {
		frames = append(frames, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			frames = append(frames, n)
		}
	}
	slices.Sort(frames)
	var diff []string
	for _, n := range frames {
		w, g := slices.Sorted(slices.Values(want[n])), slices.Sorted(slices.Values(got[n]))
		if !slices.Equal(w, g) {
			diff = append(diff, fmt.Sprintf("frame %d: tshark %v, tlsdiag %v", n, w, g))
		}
	}
	return diff
}

// TestWrongSecretsNeverDecrypt gives every TLS ≤ 1.2 connection of the
// public captures a master secret that is not its own: none may come out
// decrypted, each says why — failed when its suite is one tlsdiag opens
// and it sent encrypted records, unsupported_cipher otherwise (RC4,
// Camellia, SSL 3.0) — and the alerts stay unread.
func TestWrongSecretsNeverDecrypt(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(publicPcaps, "*", "*.pcap*"))
	seen := map[Decryption]int{}
	for _, f := range files {
		var lines strings.Builder
		for _, c := range analyse(t, f, Options{}) {
			if c.ClientHello != nil && c.ServerHello != nil && !c.Version.IsTLS13() && len(c.ClientHello.Random) == 32 {
				fmt.Fprintf(&lines, "CLIENT_RANDOM %x %s\n", c.ClientHello.Random, strings.Repeat("5a", 48))
			}
		}
		if lines.Len() == 0 {
			continue
		}
		kl, err := decrypt.ParseKeyLog(strings.NewReader(lines.String()))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range analyse(t, f, Options{KeyLog: kl, Trace: true}) {
			if c.ClientHello == nil || c.ServerHello == nil || c.Version.IsTLS13() || len(c.ClientHello.Random) != 32 {
				continue
			}
			seen[c.Decryption]++
			name := fmt.Sprintf("%s frame %d (%s %s)", filepath.Base(f), c.First.Number, c.Version, c.Cipher)
			if c.Decrypted || c.Decryption == DecryptionDecrypted || len(c.DecryptedMessages()) > 0 {
				t.Errorf("%s: decrypted with a wrong master secret", name)
			}
			supported := decrypt.SupportedTLS12(uint16(c.Cipher)) && c.Version >= tlsparse.VersionTLS10
			switch {
			case !supported && c.Decryption != DecryptionUnsupportedCipher:
				t.Errorf("%s: decryption %q, want unsupported_cipher", name, c.Decryption)
			case supported && c.ClientSide.ChangeCipherSpec.Number != 0 && c.Decryption != DecryptionFailed:
				t.Errorf("%s: decryption %q (%s), want failed", name, c.Decryption, c.DecryptionReason())
			}
			for _, a := range c.Alerts {
				if a.Decrypted {
					t.Errorf("%s: alert in frame %d decrypted", name, a.Frame.Number)
				}
			}
		}
	}
	if seen[DecryptionFailed] == 0 || seen[DecryptionUnsupportedCipher] == 0 {
		t.Errorf("outcomes %v: the public captures should give both failed and unsupported_cipher", seen)
	}
}

// TestSecretsOfChromeCapture reads FoxIO's Chrome capture, whose pcapng
// carries its key log: its TCP connection opens with no key log file, as
// in tshark, down to the HTTP/2 preface.
func TestSecretsOfChromeCapture(t *testing.T) {
	tsharktest.Path(t, "the capture's secrets are compared with what it opens with them")
	f := publicFile("ja4", "chrome-cloudflare-quic-with-secrets.pcapng")
	var conns []*Connection
	for _, c := range analyse(t, f, Options{Trace: true, KeyLog: new(decrypt.KeyLog)}) {
		if c.QUIC == nil {
			conns = append(conns, c)
		}
	}
	if len(conns) != 1 {
		t.Fatalf("%d TCP connections, want 1", len(conns))
	}
	c := conns[0]
	if c.Decryption != DecryptionDecrypted || c.ALPN != "h2" || len(c.DecryptedMessages()) < 4 {
		t.Errorf("decryption %q (%s), ALPN %q, messages %v; want decrypted, h2, the server's flight", c.Decryption, c.DecryptionReason(), c.ALPN, c.DecryptedMessages())
	}
	if head := string(c.AppDataHead(capture.ClientToServer)); !strings.HasPrefix(head, "PRI * HTTP/2.0\r\n") {
		t.Errorf("client's first data %q, want the HTTP/2 preface", head)
	}
	if diff := compareStrings(tsharkKeyed(t, f, "-Y", "tcp"), keyedItems(c)); len(diff) > 0 {
		t.Errorf("differs from tshark:\n%s", strings.Join(diff, "\n"))
	}
	// HTTP/2: the request is the client's first HEADERS frame and the
	// answer the server's first HEADERS or DATA frame, not the preface
	// and the SETTINGS both sides send first; tshark decodes the frames
	// and the header blocks.
	first := func(filter string) (frame, value string) {
		line, _, _ := strings.Cut(string(tsharktest.Output(t, "-n", "-r", f, "-Y", filter, "-T", "fields", "-E", "occurrence=f",
			"-e", "frame.number", "-e", "http2.headers.method", "-e", "http2.headers.path", "-e", "http2.headers.status")), "\n")
		out := strings.Fields(line)
		if len(out) < 2 {
			t.Fatalf("tshark finds no frame for %q", filter)
		}
		return out[0], strings.Join(out[1:], " ")
	}
	reqFrame, req := first("tcp.dstport == 443 && http2.type == 1")
	respFrame, status := first("tcp.srcport == 443 && (http2.type == 1 || http2.type == 0)")
	a := c.Afterwards()
	if got := fmt.Sprint(a.Request.Number); got != reqFrame || a.RequestLine != req+" HTTP/2" {
		t.Errorf("request: frame %s %q; tshark: frame %s %q", got, a.RequestLine, reqFrame, req)
	}
	if got := fmt.Sprint(a.Response.Number); got != respFrame || a.ResponseLine != "HTTP/2 "+status {
		t.Errorf("answer: frame %s %q; tshark: frame %s status %s", got, a.ResponseLine, respFrame, status)
	}
	// Chrome asked for compressed certificates (RFC 8879) and the server
	// sent its chain brotli-compressed, over TCP and over QUIC: the
	// chain is the one tshark decompresses.
	out := tsharktest.Output(t, "-n", "-r", f, "-Y", "tls.handshake.type == 25", "-T", "fields", "-e", "frame.number", "-e", "tls.handshake.certificate")
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		frame, ders, _ := strings.Cut(line, "\t")
		want[frame] = ders
	}
	for _, c := range analyse(t, f, Options{KeyLog: new(decrypt.KeyLog)}) {
		var got []string
		for _, cert := range c.Certificates {
			got = append(got, hex.EncodeToString(cert.DER))
		}
		if frame := fmt.Sprint(c.CertificateFrame.Number); len(got) == 0 || strings.Join(got, ",") != want[frame] {
			t.Errorf("%s: %d certificates (frame %s); tshark's compressed chains: %v", c.Server, len(got), frame, slices.Sorted(maps.Keys(want)))
		}
	}
	// Without a key log (nil, as a library caller may pass) nothing opens.
	for _, c := range analyse(t, f, Options{}) {
		if c.QUIC == nil && (c.Decrypted || c.Decryption != DecryptionNone) {
			t.Errorf("without a KeyLog: decrypted %v, decryption %q", c.Decrypted, c.Decryption)
		}
	}
}

// TestDecryptionVocabulary checks that every Decryption value has its own
// name and that the README documents each.
func TestDecryptionVocabulary(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range Decryptions {
		s := d.String()
		if seen[s] || strings.HasPrefix(s, "decryption(") {
			t.Errorf("%d: name %q repeated or missing", d, s)
		}
		seen[s] = true
		if s != "" && !strings.Contains(string(readme), `"`+s+`"`) {
			t.Errorf("README does not document decryption %q", s)
		}
	}
	if len(Decryptions) != int(DecryptionFailed)+1 {
		t.Errorf("Decryptions lists %d values, the constants go to %d", len(Decryptions), DecryptionFailed)
	}
}
