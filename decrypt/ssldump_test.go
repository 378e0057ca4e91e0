package decrypt

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// ssldumpDir holds ssldump's sample captures and their key log (see
// ../testdata/public/README.md): TLS 1.3 with every suite, key updates and
// resumption, and one TLS 1.2 capture.
const ssldumpDir = "../testdata/public/ssldump"

// ssldumpSetup returns tshark's path, the absolute key log path, the parsed
// key log and the captures, or skips when tshark or the captures are absent.
func ssldumpSetup(t *testing.T) (tshark, keyLogPath string, kl *KeyLog, pcaps []string) {
	t.Helper()
	tshark = tsharktest.Path(t, "the ssldump captures are read with it")
	keyLogPath, err := filepath.Abs(filepath.Join(ssldumpDir, "keylog.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(keyLogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if kl, err = ParseKeyLog(f); err != nil {
		t.Fatalf("parsing ssldump key log: %v", err)
	}
	pcaps, err = filepath.Glob(filepath.Join(ssldumpDir, "*.pcap"))
	if err != nil || len(pcaps) == 0 {
		t.Fatalf("no captures in %s: %v", ssldumpDir, err)
	}
	return tshark, keyLogPath, kl, pcaps
}

// tcpStream is the reassembled payload of one TCP connection per endpoint,
// as tshark's "follow,tcp,raw" gives it.
type tcpStream struct {
	port    [2]string // port of node 0 and node 1
	payload [2][]byte // what each node sent
}

func followTCP(t *testing.T, tshark, pcap string) tcpStream {
	t.Helper()
	out, err := exec.Command(tshark, "-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE",
		"-q", "-z", "follow,tcp,raw,0").Output()
	if err != nil {
		t.Fatalf("tshark follow: %v", err)
	}
	var s tcpStream
	inData := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Node 0: "), strings.HasPrefix(line, "Node 1: "):
			node := line[5] - '0'
			addr := strings.TrimSpace(line[8:])
			s.port[node] = addr[strings.LastIndexByte(addr, ':')+1:]
			inData = node == 1
		case strings.HasPrefix(line, "====="):
			inData = false
		case inData && line != "":
			node := 0
			if strings.HasPrefix(line, "\t") {
				node = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("tshark follow output: %v", err)
			}
			s.payload[node] = append(s.payload[node], b...)
		}
	}
	if s.port[0] == "" || s.port[1] == "" {
		t.Fatalf("tshark follow output has no nodes:\n%s", out)
	}
	return s
}

// wiresharkView is what tshark shows of a capture when it decrypts with
// the key log: per TCP source port, the handshake types in order; the
// certificates (DER) and the strings in their names; the suite of the
// ServerHello.
type wiresharkView struct {
	types   map[string][]uint8
	certs   [][]byte
	strings []string
	suite   uint16
}

func tsharkView(t *testing.T, tshark, pcap, keyLogPath string) wiresharkView {
	t.Helper()
	out, err := exec.Command(tshark, "-r", pcap, "-o", "tls.keylog_file:"+keyLogPath,
		"-Y", "tls.handshake", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|",
		"-e", "tcp.srcport", "-e", "tls.handshake.type", "-e", "tls.handshake.ciphersuite",
		"-e", "tls.handshake.certificate", "-e", "x509sat.uTF8String", "-e", "x509sat.printableString").Output()
	if err != nil {
		t.Fatalf("tshark fields: %v", err)
	}
	w := wiresharkView{types: map[string][]uint8{}}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("tshark line %q has %d fields, want 6", line, len(f))
		}
		types := splitNonEmpty(f[1])
		for _, v := range types {
			n, err := strconv.ParseUint(v, 10, 8)
			if err != nil {
				t.Fatalf("tshark handshake type %q: %v", v, err)
			}
			w.types[f[0]] = append(w.types[f[0]], uint8(n))
		}
		if len(types) > 0 && types[0] == "2" {
			n, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 16)
			if err != nil {
				t.Fatalf("tshark ServerHello suite %q: %v", f[2], err)
			}
			w.suite = uint16(n)
		}
		for _, c := range splitNonEmpty(f[3]) {
			der, err := hex.DecodeString(c)
			if err != nil {
				t.Fatalf("tshark certificate: %v", err)
			}
			w.certs = append(w.certs, der)
		}
		w.strings = append(w.strings, splitNonEmpty(f[4])...)
		w.strings = append(w.strings, splitNonEmpty(f[5])...)
	}
	return w
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// TestSSLDumpCaptures decrypts every record of both directions of
// ssldump's TLS 1.3 captures with their key log and compares the result
// with Wireshark's own decryption of the same capture: the handshake
// message types per direction, the certificates byte for byte and the
// names in them.
func TestSSLDumpCaptures(t *testing.T) {
	tshark, keyLogPath, kl, pcaps := ssldumpSetup(t)
	covered := map[uint16]bool{}
	for _, pcap := range pcaps {
		name := filepath.Base(pcap)
		if !strings.HasPrefix(name, "tls1.3") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			stream := followTCP(t, tshark, pcap)
			client, server := 0, 1
			if recs, _ := splitRecords(stream.payload[1]); len(recs) > 0 {
				if _, err := clientRandom(recs); err == nil {
					client, server = 1, 0
				}
			}
			cv := conversation{
				clientToServer: stream.payload[client],
				serverToClient: stream.payload[server],
				keyLog:         kl,
			}.read(t)
			ws := tsharkView(t, tshark, pcap, keyLogPath)
			covered[cv.suite] = true

			if cv.suite != ws.suite {
				t.Errorf("suite 0x%04X, Wireshark says 0x%04X", cv.suite, ws.suite)
			}
			for _, d := range []struct {
				name string
				view *directionView
				port string
			}{
				{"client", cv.client, stream.port[client]},
				{"server", cv.server, stream.port[server]},
			} {
				if got, want := d.view.types(), ws.types[d.port]; !bytes.Equal(got, want) {
					t.Errorf("%s handshake types %v, Wireshark shows %v", d.name, got, want)
				}
				if d.view.handshakeRecords == 0 {
					t.Errorf("%s: no record opened with the handshake secret", d.name)
				}
				checkKeyUpdateLimit(t, d.name, d.view, cv)
			}
			if len(cv.server.appData) == 0 || len(cv.client.appData) == 0 {
				t.Errorf("application data: %d bytes from the client, %d from the server; want some each way",
					len(cv.client.appData), len(cv.server.appData))
			}

			cert := cv.server.first(msgCertificate)
			if cert == nil {
				if len(ws.certs) != 0 {
					t.Fatalf("Wireshark found %d certificates, we found no Certificate message", len(ws.certs))
				}
				t.Logf("no Certificate message (resumed handshake), as Wireshark agrees")
				return
			}
			chain, err := certificates(cert.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(chain) != len(ws.certs) {
				t.Fatalf("%d certificates, Wireshark shows %d", len(chain), len(ws.certs))
			}
			for i, der := range chain {
				if !bytes.Equal(der, ws.certs[i]) {
					t.Errorf("certificate %d differs from Wireshark's", i)
				}
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatalf("certificate %d: %v", i, err)
				}
				for _, want := range append([]string{c.Subject.CommonName}, c.Subject.Organization...) {
					if !contains(ws.strings, want) {
						t.Errorf("certificate %d subject %q not among Wireshark's names %q", i, want, ws.strings)
					}
				}
				if i == 0 {
					t.Logf("leaf subject %s", c.Subject)
				}
			}
		})
	}
	for _, s := range openSSLSuites {
		if !covered[s.id] {
			t.Errorf("no ssldump capture used %s", s.name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkKeyUpdateLimit: where a direction stopped at a KeyUpdate, the next
// encrypted record must not open with traffic secret 0. That is the
// documented limit, and it must fail loudly rather than yield garbage.
func checkKeyUpdateLimit(t *testing.T, name string, v *directionView, cv *connectionView) {
	t.Helper()
	if v.stoppedAt < 0 {
		return
	}
	recs, label := cv.clientRecs, LabelClientApplicationTraffic
	if v == cv.server {
		recs, label = cv.serverRecs, LabelServerApplicationTraffic
	}
	t.Logf("%s sent KeyUpdate; %d later records left unread (%s)", name, len(recs)-v.stoppedAt, label)
	if v.stoppedAt >= len(recs) {
		return
	}
	next := recs[v.stoppedAt]
	if next.header[0] != typeApplicationData {
		return
	}
	if v.dec == nil {
		t.Fatalf("%s: stopped without a Decrypter", name)
	}
	if _, _, err := v.dec.Open(next.header, next.body); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("%s: record after KeyUpdate: Open = %v, want ErrAuthFailed", name, err)
	}
}

// TestSSLDumpTLS12KeyLog: the TLS 1.2 capture's master secret is kept under
// CLIENT_RANDOM, found by the random of its ClientHello. Its records are
// not decrypted (TLS 1.2 decryption is out of scope).
func TestSSLDumpTLS12KeyLog(t *testing.T) {
	tshark, _, kl, _ := ssldumpSetup(t)
	stream := followTCP(t, tshark, filepath.Join(ssldumpDir, "tls1.2_aes256.pcap"))
	recs, err := splitRecords(stream.payload[0])
	if err != nil {
		t.Fatal(err)
	}
	cr, err := clientRandom(recs)
	if err != nil {
		t.Fatal(err)
	}
	ms, ok := kl.Lookup(cr, LabelClientRandom)
	if !ok || len(ms) != 48 {
		t.Fatalf("no 48-byte master secret for client random %x: %x, %v", cr, ms, ok)
	}
	if _, ok := kl.Lookup(cr, LabelServerHandshakeTraffic); ok {
		t.Error("a TLS 1.2 connection has a TLS 1.3 secret")
	}
}
