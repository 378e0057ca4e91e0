package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// ecsFields reads the vendored ECS field list: field name → ECS type.
func ecsFields(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/ecs/fields.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[3]] = r[4]
	}
	return out
}

func ecsAllowed(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("testdata/ecs/allowed_values.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, vals, _ := strings.Cut(sc.Text(), ": ")
		out[name] = strings.Fields(vals)
	}
	return out
}

// flatten maps each leaf of a JSON document to its dotted name; a list of
// scalars is one field, as ECS counts it.
func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(name, e, out)
		}
		return
	}
	out[prefix] = v
}

// Every field the ecs format writes outside tlsdiag.* is an ECS 8.x field,
// of its ECS type, with an allowed value where ECS lists them; and the
// issue's field list is all there for a TLS 1.2 connection with a
// certificate.
func TestECSFieldsAreECS(t *testing.T) {
	fields, allowed := ecsFields(t), ecsAllowed(t)
	seen := map[string]bool{}
	for _, file := range []string{"../testdata/demo.pcap", "../testdata/public/ja4/ipv6.pcapng", "../testdata/public/zeek/client-certificate.pcap", "../testdata/public/ja4/quic-tls-handshake.pcapng"} {
		var b bytes.Buffer
		if err := Write(&b, FormatECS, pipelineResults(t, file), Options{}); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			var doc map[string]any
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatalf("%s line %d: %v", file, i+1, err)
			}
			flat := map[string]any{}
			flatten("", doc, flat)
			for name, v := range flat {
				seen[name] = true
				if strings.HasPrefix(name, "tlsdiag.") {
					continue
				}
				typ, ok := fields[name]
				if !ok {
					t.Errorf("%s: %s is not an ECS field", file, name)
					continue
				}
				if err := ecsTypeOK(typ, v); err != "" {
					t.Errorf("%s: %s = %v: %s", file, name, v, err)
				}
				if vals, ok := allowed[name]; ok {
					for _, x := range asList(v) {
						if !slices.Contains(vals, x.(string)) {
							t.Errorf("%s: %s = %q, not an allowed value", file, name, x)
						}
					}
				}
			}
		}
	}
	for _, want := range []string{
		"@timestamp", "event.kind", "event.category", "event.type", "event.outcome", "event.duration",
		"source.ip", "source.port", "destination.ip", "destination.port",
		"network.transport", "network.type", "network.community_id",
		"tls.version", "tls.version_protocol", "tls.cipher", "tls.curve", "tls.established", "tls.resumed",
		"tls.next_protocol", "tls.client.server_name", "tls.client.ja3", "tls.client.supported_ciphers", "tls.server.ja3s",
		"tls.server.x509.subject.distinguished_name", "tls.server.x509.issuer.distinguished_name",
		"tls.server.x509.not_before", "tls.server.x509.not_after", "tls.server.x509.alternative_names",
		"tls.server.x509.serial_number", "tls.server.x509.signature_algorithm", "tls.server.x509.public_key_algorithm",
		"tls.server.x509.public_key_size", "tls.server.hash.sha256",
		"tlsdiag.verdict.category", "tlsdiag.verdict.summary", "tlsdiag.verdict.fix",
		"tlsdiag.verdict.evidence_frames", "tlsdiag.verdict.warnings", "tlsdiag.ja4",
	} {
		if !seen[want] {
			t.Errorf("no document has %s", want)
		}
	}
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func ecsTypeOK(typ string, v any) string {
	for _, x := range asList(v) {
		switch typ {
		case "keyword", "wildcard", "match_only_text", "text", "constant_keyword":
			if _, ok := x.(string); !ok {
				return "want a string for " + typ
			}
		case "long", "integer", "short", "byte":
			f, ok := x.(float64)
			if !ok || f != float64(int64(f)) {
				return "want an integer for " + typ
			}
		case "boolean":
			if _, ok := x.(bool); !ok {
				return "want a bool"
			}
		case "date":
			s, _ := x.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return "want an RFC 3339 date"
			}
		case "ip":
			s, _ := x.(string)
			if _, err := netip.ParseAddr(s); err != nil {
				return "want an IP address"
			}
		default:
			return "type " + typ + " not checked"
		}
	}
	return ""
}
