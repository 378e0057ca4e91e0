package analysis

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// zeekRow is one line of a Zeek ssl.log baseline.
type zeekRow map[string]string

func readZeekLog(t *testing.T, path string) []zeekRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fields []string
	var rows []zeekRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(rest, "\t")
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		vals := strings.Split(line, "\t")
		row := zeekRow{}
		for i, f := range fields {
			if i < len(vals) {
				row[f] = vals[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// zeekVersion maps Zeek's version names to ours.
var zeekVersion = map[string]string{
	"SSLv3": "SSL 3.0", "TLSv10": "TLS 1.0", "TLSv11": "TLS 1.1", "TLSv12": "TLS 1.2", "TLSv13": "TLS 1.3",
	"TLSv13-draft23": "TLS 1.3 draft 23",
}

// zeekDifferences lists deliberate differences from Zeek, by baseline file
// and field, with the reason.
var zeekDifferences = map[string]string{
	"scripts.base.protocols.ssl.tls13-experiment.ssl.log version":                "Zeek names Google's experimental version 0x7e01 unknown-32257; tlsdiag prints the code point in hex",
	"scripts.base.protocols.ssl.tls13-experiment.ssl.log resumed":                "Zeek falls back to its TLS 1.2 rule (session ID echoed) for the unknown version 0x7e01; that echo is TLS 1.3's middlebox compatibility mode, and the server's encrypted flight is a full handshake, so tlsdiag says not resumed",
	"scripts.base.protocols.ssl.tls-1.2-late-protocol-error.ssl.log established": "Zeek stops at the client's garbled Finished; the client then sent application data and the server answered it, which both do only once the handshake is complete (RFC 5246, Section 7.4.9), so tlsdiag says established (Connection.FinishedImplied)",
}

// TestAgreesWithZeek compares version, cipher, curve, server_name, resumed,
// last_alert, next_protocol and established with Zeek's ssl.log baselines
// for the public captures.
func TestAgreesWithZeek(t *testing.T) {
	dir := publicFile("zeek")
	index := readIndex(t, filepath.Join(dir, "ssl-log-baselines", "INDEX.tsv"))
	for _, entry := range index {
		t.Run(entry.baseline, func(t *testing.T) {
			rows := readZeekLog(t, filepath.Join(dir, "ssl-log-baselines", entry.baseline))
			var conns []*Connection
			for _, p := range entry.pcaps {
				conns = append(conns, analyse(t, filepath.Join(dir, p), Options{})...)
			}
			for _, row := range rows {
				if strings.HasPrefix(row["version"], "DTLS") {
					continue // DTLS is not TCP; tlsdiag does not analyse it.
				}
				c := findConn(conns, row)
				if c == nil {
					t.Errorf("no connection %s:%s -> %s:%s", row["id.orig_h"], row["id.orig_p"], row["id.resp_h"], row["id.resp_p"])
					continue
				}
				compareZeek(t, entry.baseline, row, c)
			}
		})
	}
}

type indexEntry struct {
	baseline string
	pcaps    []string
}

func readIndex(t *testing.T, path string) []indexEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []indexEntry
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 2 {
			continue
		}
		out = append(out, indexEntry{baseline: f[0], pcaps: f[1:]})
	}
	return out
}

func findConn(conns []*Connection, row zeekRow) *Connection {
	for _, c := range conns {
		if c.Client.Addr().String() == row["id.orig_h"] && strconv.Itoa(int(c.Client.Port())) == row["id.orig_p"] &&
			c.Server.Addr().String() == row["id.resp_h"] && strconv.Itoa(int(c.Server.Port())) == row["id.resp_p"] {
			return c
		}
	}
	return nil
}

func compareZeek(t *testing.T, baseline string, row zeekRow, c *Connection) {
	t.Helper()
	unset := func(s string) string {
		if s == "-" {
			return ""
		}
		return s
	}
	boolStr := func(b bool) string {
		if b {
			return "T"
		}
		return "F"
	}
	var version, cipher, curve string
	if c.Version != 0 {
		version = c.Version.String()
	}
	if c.Cipher != 0 || c.ServerHello != nil {
		cipher = c.Cipher.String()
	}
	if c.Group != 0 {
		curve = c.Group.String()
	}
	sni := ""
	if c.ClientHello != nil {
		sni = c.ClientHello.ServerName
	}
	lastAlert := ""
	if n := len(c.Alerts); n > 0 && !c.Alerts[n-1].Encrypted {
		lastAlert = c.Alerts[n-1].Description.String()
	}
	checks := []struct{ field, want, got string }{
		{"version", mapZeek(zeekVersion, unset(row["version"])), version},
		{"cipher", unset(row["cipher"]), cipher},
		{"curve", unset(row["curve"]), curve},
		{"server_name", unset(row["server_name"]), sni},
		{"resumed", row["resumed"], boolStr(c.Resumed)},
		{"last_alert", unset(row["last_alert"]), lastAlert},
		{"next_protocol", unset(row["next_protocol"]), c.ALPN},
		{"established", row["established"], boolStr(c.Established)},
	}
	for _, ch := range checks {
		if ch.want == ch.got {
			continue
		}
		if why, ok := zeekDifferences[baseline+" "+ch.field]; ok {
			t.Logf("%s: %s differs (zeek %q, tlsdiag %q): %s", c.Client, ch.field, ch.want, ch.got, why)
			continue
		}
		t.Errorf("%s -> %s: %s = %q, zeek says %q", c.Client, c.Server, ch.field, ch.got, ch.want)
	}
}

func mapZeek(m map[string]string, s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	return s
}
