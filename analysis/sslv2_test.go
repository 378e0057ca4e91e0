package analysis

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestSSLv2ServerHelloAgreesWithTshark reads Zeek's pure SSLv2 session, in
// which the server answers with an SSLv2 SERVER-HELLO, and compares what
// the record holds with tshark's dissection of the same frames.
func TestSSLv2ServerHelloAgreesWithTshark(t *testing.T) {
	tsharktest.Path(t, "the SSLv2 SERVER-HELLO is compared with its dissection")
	path := filepath.Join(publicPcaps, "zeek", "ssl-v2.pcap")
	conns := analyse(t, path, Options{Trace: true})
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	c := conns[0]
	sh := c.ServerHelloSSLv2
	if sh == nil {
		t.Fatalf("no SSLv2 SERVER-HELLO; anomalies %q", c.Anomalies)
	}

	// tshark's fields for the SERVER-HELLO and the CLIENT-MASTER-KEY.
	hello := tsharkFields(t, path, "tls.handshake.type == 4", "frame.number", "tls.handshake.version",
		"tls.handshake.session_id_hit", "tls.handshake.cert_type", "tls.handshake.certificate",
		"tls.handshake.cipherspec", "tls.handshake.connection_id_length")
	mk := tsharkFields(t, path, "tls.handshake.type == 2", "frame.number", "tls.handshake.cipherspec")

	if got := strconv.FormatInt(c.ServerHelloFrame.Number, 10); got != hello[0] {
		t.Errorf("SERVER-HELLO in frame %s, tshark %s", got, hello[0])
	}
	if got := "0x" + strconv.FormatUint(uint64(sh.Version)|0x10000, 16)[1:]; got != hello[1] || c.Version != tlsparse.VersionSSL20 {
		t.Errorf("version %s (record %v), tshark %s", got, c.Version, hello[1])
	}
	if got := map[bool]string{false: "0", true: "1"}[sh.SessionIDHit]; got != hello[2] {
		t.Errorf("session_id_hit %s, tshark %s", got, hello[2])
	}
	if got := strconv.Itoa(int(sh.CertificateType)); got != hello[3] {
		t.Errorf("certificate type %s, tshark %s", got, hello[3])
	}
	der, err := hex.DecodeString(strings.ReplaceAll(hello[4], ":", ""))
	if err != nil || len(der) == 0 || !bytes.Equal(der, sh.Certificate) {
		t.Errorf("certificate (%d bytes) differs from tshark's (%d bytes, %v)", len(sh.Certificate), len(der), err)
	}
	if len(c.Certificates) != 1 || c.Certificates[0].X509 == nil || c.CertificateFrame.Number != c.ServerHelloFrame.Number {
		t.Errorf("certificates %d in frame %d: want the parsed SERVER-HELLO certificate", len(c.Certificates), c.CertificateFrame.Number)
	}
	var specs []string
	for _, s := range sh.CipherSpecs {
		specs = append(specs, "0x"+strconv.FormatUint(uint64(s)|1<<24, 16)[1:])
	}
	// tshark lists the CLIENT-HELLO's specs too when both share a frame;
	// here they do not.
	if strings.Join(specs, ",") != hello[5] {
		t.Errorf("cipher specs %s, tshark %s", specs, hello[5])
	}
	if got := strconv.Itoa(len(sh.ConnectionID)); got != hello[6] {
		t.Errorf("connection id length %s, tshark %s", got, hello[6])
	}
	if got := "0x" + strconv.FormatUint(uint64(c.SSLv2Cipher)|1<<24, 16)[1:]; got != mk[1] {
		t.Errorf("CLIENT-MASTER-KEY (frame %s) cipher %s, tshark %s", mk[0], got, mk[1])
	}
	if !slices.Contains(sh.CipherSpecs, c.SSLv2Cipher) {
		t.Errorf("the client chose %v, which the server did not offer (%v)", c.SSLv2Cipher, sh.CipherSpecs)
	}
	// CLIENT-MASTER-KEY (8), SERVER-VERIFY (9), CLIENT-FINISHED (10),
	// SERVER-FINISHED (11): the handshake is over at frame 11, and the
	// records after it are application data.
	if !c.Established || c.HandshakeDone.Number != 11 {
		t.Errorf("established %v at frame %d, want frame 11", c.Established, c.HandshakeDone.Number)
	}
	if c.ClientSide.AppData.Records != 3 || c.ServerSide.AppData.Records != 1 {
		t.Errorf("application data records %d/%d, want 3 from the client and 1 from the server", c.ClientSide.AppData.Records, c.ServerSide.AppData.Records)
	}
	if c.Fingerprints().JA3S != "" {
		t.Errorf("JA3S %q for an SSLv2 server hello, which has no TLS fields", c.Fingerprints().JA3S)
	}
}

// tsharkFields returns tshark's fields of the one frame filter matches.
func tsharkFields(t *testing.T, path, filter string, fields ...string) []string {
	t.Helper()
	args := []string{"-n", "-r", path, "-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out := tsharktest.Output(t, args...)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 {
		t.Fatalf("tshark %s: %d frames, want 1", filter, len(lines))
	}
	v := strings.Split(lines[0], "\t")
	if len(v) != len(fields) {
		t.Fatalf("tshark %s: %d fields, want %d", filter, len(v), len(fields))
	}
	return v
}
