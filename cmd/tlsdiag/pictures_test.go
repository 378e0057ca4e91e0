package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// pictureCaptures are the lab captures the picture formats (ladder,
// mermaid) are checked on: a good handshake, a certificate refused by
// alert, a reset after the ClientHello, a silent server, a hello dropped
// on the path, a split hello whose continuation is dropped, SYNs never
// answered, and QUIC good and refused.
var pictureCaptures = []string{
	"captures/ok.pcap",
	"captures/cert_self_signed.pcap",
	"captures/connection_reset.pcap",
	"captures/server_no_response.pcap",
	"captures/middlebox_drop.pcap",
	"captures/clienthello_split_dropped.pcap",
	"captures/no_tcp_answer.pcap",
	"quic/quicgo_ok.pcap",
	"quic/quicgo_untrusted_cert.pcap",
}

// TestPicturesGolden reads each picture capture in the ladder and mermaid
// formats and compares them with testdata/golden/NAME.FORMAT.golden
// (-update rewrites them; read the diff). Every ladder line must fit 80
// columns; report's TestMermaidParses has Mermaid read the mermaid ones.
func TestPicturesGolden(t *testing.T) {
	ports := labPorts(t)
	for _, pcap := range pictureCaptures {
		name := strings.TrimSuffix(filepath.Base(pcap), ".pcap")
		for _, format := range []string{"ladder", "mermaid"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				out := readPicture(t, pcap, format, ports)
				checkGolden(t, filepath.Join("testdata", "golden", name+"."+format+".golden"), out)
				if format != "ladder" {
					return
				}
				for i, line := range strings.Split(string(out), "\n") {
					if n := utf8.RuneCountInString(line); n > 80 {
						t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
					}
				}
			})
		}
	}
}

// readPicture runs read on a capture of testdata in format, trusting the
// lab's roots.
func readPicture(t *testing.T, pcap, format string, ports []string) []byte {
	t.Helper()
	ca := "../../testdata/certs/ca.pem"
	if strings.HasPrefix(pcap, "quic/") {
		ca = "../../testdata/quic/ca.pem"
	}
	args := []string{"read", "--no-system-roots", "--cacert", ca, "--format", format}
	for _, p := range ports {
		args = append(args, "--tls-port", p)
	}
	var stdout, stderr bytes.Buffer
	if status := run(append(args, "../../testdata/"+pcap), &stdout, &stderr); status == 2 {
		t.Fatalf("exit status 2: %s", stderr.String())
	}
	return stdout.Bytes()
}
