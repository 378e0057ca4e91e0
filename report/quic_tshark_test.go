package report

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// http3Frames are the HTTP/3 frame names tshark adds to a QUIC Info column
// when it dissects the STREAM frames' payload, which tlsdiag does not read.
var http3Frames = []string{"DATA", "HEADERS", "SETTINGS", "GOAWAY", "MAX_PUSH_ID", "CANCEL_PUSH", "PUSH_PROMISE", "PRIORITY_UPDATE"}

// TestQUICTraceMatchesTshark checks the trace of every QUIC datagram
// against tshark's Info column, with the client's key log when the capture
// has one (tshark decrypts with it too). tshark words one of the packets
// of a datagram that holds several (coalesced): that one must be among
// the trace's, word for word.
func TestQUICTraceMatchesTshark(t *testing.T) {
	tsharktest.Path(t, "the QUIC trace wording is checked against it")
	files, err := filepath.Glob("../testdata/quic/*.pcap")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../testdata/public/ja4/quic-tls-handshake.pcapng",
		"../testdata/public/ja4/quic-with-several-tls-frames.pcapng",
		"../testdata/public/ja4/chrome-cloudflare-quic-with-secrets.pcapng",
		"../testdata/public/ja4/tls-sni.pcapng")
	if len(files) < 10 {
		t.Fatalf("only %d captures", len(files))
	}
	total := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			keys := strings.TrimSuffix(file, ".pcap") + ".keys"
			if _, err := os.Stat(keys); err != nil {
				keys = ""
			}
			ours := quicTrace(t, file, keys)
			// An ICMP error quoting a QUIC packet is shown as QUIC too;
			// it is not a datagram of the connection.
			args := []string{"-n", "-r", file, "-Y", "quic and not icmp and not icmpv6", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info"}
			if keys != "" {
				args = append(args, "-o", "tls.keylog_file:"+keys)
			}
			theirs := parseInfo(t, tsharktest.Output(t, args...))
			if len(ours) == 0 {
				t.Fatal("no QUIC datagram in the trace")
			}
			for n, packets := range ours {
				want, ok := theirs[n]
				switch {
				case !ok:
					t.Errorf("frame %d: trace says %q, tshark shows no QUIC", n, packets)
				case !slices.Contains(packets, withoutHTTP3(want)) && !quicKnownDifference(filepath.Base(file), n, packets, want):
					t.Errorf("frame %d: trace says %q, tshark %q", n, packets, want)
				default:
					total++
				}
			}
			for n, info := range theirs {
				if _, ok := ours[n]; !ok {
					t.Errorf("frame %d: tshark shows %q, the trace has no such frame", n, info)
				}
			}
		})
	}
	t.Logf("%d QUIC datagrams read as tshark reads them", total)
}

// quicTrace returns, per frame, the trace's packets of each QUIC datagram.
func quicTrace(t *testing.T, file, keys string) map[int64][]string {
	t.Helper()
	opt := analysis.Options{Trace: true}
	if keys != "" {
		f, err := os.Open(keys)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if opt.KeyLog, err = decrypt.ParseKeyLog(f); err != nil {
			t.Fatal(err)
		}
	}
	src, err := capture.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := analysis.NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	out := map[int64][]string{}
	for _, c := range b.Connections() {
		for _, tf := range c.Trace {
			for _, it := range tf.Items {
				if it.QUIC != "" {
					out[tf.Frame.Number] = strings.Split(it.QUIC, "; ")
				}
			}
		}
	}
	return out
}

func parseInfo(t *testing.T, out []byte) map[int64]string {
	t.Helper()
	m := map[int64]string{}
	for line := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
		num, text, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		var n int64
		for _, c := range num {
			if c < '0' || c > '9' {
				t.Fatalf("tshark line %q", line)
			}
			n = n*10 + int64(c-'0')
		}
		m[n] = strings.TrimSpace(text)
	}
	return m
}

// quicKnownDifference reports the frames tlsdiag reads otherwise than
// tshark 4.0, and why:
//   - the Chrome capture embeds its TLS secrets in a pcapng Decryption
//     Secrets Block, which tshark uses and read does not (read takes a key
//     log): tshark lists the packet numbers and frames of packets the
//     trace can only name;
//   - in it, tshark does not tie the server's first two Initials (frames
//     48, 49) to the connection and takes them for short-header packets;
//     tlsdiag reads them (ACK, then the ServerHello's CRYPTO).
func quicKnownDifference(file string, n int64, packets []string, tshark string) bool {
	if file != "chrome-cloudflare-quic-with-secrets.pcapng" {
		return false
	}
	if (n == 48 || n == 49) && strings.HasPrefix(tshark, "Protected Payload") && strings.HasPrefix(packets[0], "Initial, SCID=") {
		return true
	}
	for _, p := range packets {
		if !strings.Contains(p, "PKN") && strings.HasPrefix(tshark, p+", PKN: ") {
			return true
		}
	}
	return false
}

func withoutHTTP3(info string) string {
	parts := strings.Split(info, ", ")
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return slices.Contains(http3Frames, p) }), ", ")
}
