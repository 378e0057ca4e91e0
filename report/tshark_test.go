package report

import (
	"bufio"
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestTraceMatchesTshark runs real captures through the pipeline and
// checks the trace's Info text against tshark's Info column, frame by
// frame: every frame the trace lists with TLS must read exactly as tshark
// shows it, and every frame tshark shows as TLS must be in the trace.
func TestTraceMatchesTshark(t *testing.T) {
	tsharktest.Path(t, "the trace wording is checked against it")
	// A sample that covers every wording the captures have, not every
	// capture: tshark takes about half a second per file.
	files := []string{
		"../testdata/captures/ok.pcap",                   // TLS 1.3 and TLS 1.2, encrypted alerts
		"../testdata/captures/cert_expired_tls13.pcap",   // plaintext alert under TLS 1.3
		"../testdata/captures/cert_rejected_go.pcap",     // TLS 1.3 client's encrypted alert
		"../testdata/captures/client_cert_required.pcap", // Certificate Request, client Certificate
		"../testdata/captures/ok_mtu576.pcap",            // messages spanning segments
		"../testdata/captures/incomplete_capture.pcap",   // starts mid-connection
		"../testdata/captures/not_tls_server.pcap",       // plaintext answer
		"../testdata/public/arkime/openssl-ssl3.pcap",
		"../testdata/public/arkime/smtp-starttls.pcap",
		"../testdata/public/arkime/tls-split-client-hello.pcap",
		"../testdata/public/ssldump/tls1.3_session_resumption.pcap",
		"../testdata/public/ja4/tls-handshake.pcapng", // Hello Retry Request, Certificate Status
		"../testdata/public/zeek/tls-early-alert.pcap",
		"../testdata/public/zeek/ocsp-stapling.pcap",
		"../testdata/public/zeek/heartbleed-success.pcap",
		"../testdata/public/zeek/client-certificate.pcap",
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			ours := traceInfo(t, file)
			theirs := tsharkInfo(t, file)
			for n, l := range ours {
				want, ok := theirs[n]
				switch {
				case l.nonTLS:
					// What a peer sent instead of TLS: Wireshark shows
					// another protocol, or "Continuation Data".
				case !ok:
					t.Errorf("frame %d: trace says %q, tshark shows no TLS", n, l.info)
				case stripTCP(l.info) != stripTCP(want) && !knownDifference(l, want):
					t.Errorf("frame %d: trace says %q, tshark %q", n, l.info, want)
				}
			}
			for n, info := range theirs {
				if _, ok := ours[n]; !ok && !tsharkOnly(info) {
					t.Errorf("frame %d: tshark shows %q, the trace has no such frame", n, info)
				}
			}
		})
	}
}

// knownDifference reports the places where the trace deliberately or
// necessarily words a frame otherwise than tshark:
//   - a heartbeat's type byte is not kept, so "Heartbeat" stands for
//     Wireshark's "Heartbeat Request" and "Heartbeat Response";
//   - after a hole in the capture Wireshark loses the record framing and
//     calls what follows "Continuation Data" until it finds a record at the
//     start of a segment; tlsdiag resynchronises on the next record header.
func knownDifference(l tracedFrame, tshark string) bool {
	switch {
	case l.info == "Heartbeat" && (tshark == "Heartbeat Request" || tshark == "Heartbeat Response"):
		return true
	case l.afterGap:
		return true
	}
	return false
}

// stripTCP drops the TCP analysis flags that Wireshark puts before the
// TLS Info ("[TCP Out-Of-Order] , "): the trace words the TLS records.
func stripTCP(info string) string {
	for strings.HasPrefix(info, "[TCP ") {
		_, rest, ok := strings.Cut(info, "] , ")
		if !ok {
			break
		}
		info = rest
	}
	return info
}

// tsharkOnly reports Info texts that the trace leaves out by design:
// frames that hold only the start of a handshake message ("[Certificate
// Fragment]"), which the trace shows where the message ends, and segments
// of a record that a later frame completes.
func tsharkOnly(info string) bool {
	return strings.HasSuffix(info, "Fragment]") || info == "[TCP segment of a reassembled PDU]"
}

// tracedFrame is what the trace says about one frame.
type tracedFrame struct {
	info     string
	nonTLS   bool // the frame carried only what a peer sent instead of TLS
	afterGap bool // the frame comes after a hole in its connection
}

// traceInfo runs the pipeline on file and returns what the trace says
// about every frame it lists for its TLS items.
func traceInfo(t *testing.T, file string) map[int64]tracedFrame {
	t.Helper()
	src, err := capture.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := analysis.NewBuilder(analysis.Options{Trace: true})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	info := map[int64]tracedFrame{}
	for _, c := range b.Connections() {
		var gap int64
		for _, g := range c.TCP.Gaps {
			if gap == 0 || g.Frame.Number < gap {
				gap = g.Frame.Number
			}
		}
		for _, l := range traceLines(c) {
			if nonTLS, ok := tlsItems(c, l.frame.Number); ok {
				info[l.frame.Number] = tracedFrame{info: l.info, nonTLS: nonTLS, afterGap: gap != 0 && l.frame.Number >= gap}
			}
		}
	}
	return info
}

// tlsItems reports whether the trace has items for frame n, and whether
// they are all non-TLS.
func tlsItems(c *analysis.Connection, n int64) (nonTLS, ok bool) {
	nonTLS = true
	for _, tf := range c.Trace {
		if tf.Frame.Number != n {
			continue
		}
		ok = true
		for _, it := range tf.Items {
			nonTLS = nonTLS && it.Kind == tlsparse.KindNonTLS
		}
	}
	return nonTLS, ok
}

// tsharkInfo returns tshark's Info column for every frame it dissects as
// TLS (or SSL).
func tsharkInfo(t *testing.T, file string) map[int64]string {
	t.Helper()
	// Out-of-order reassembly on, as the capture package reassembles.
	out := tsharktest.Output(t, "-n", "-r", file, "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "(tcp && (tls || ssl)) || quic", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info")
	info := map[int64]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		num, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("tshark line %q: %v", sc.Text(), err)
		}
		info[n] = strings.TrimSpace(text)
	}
	return info
}
