package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// serverKind says what runs a scenario, for the README.
func serverKind(s tlslab.Scenario) string {
	if prog, ok := s.External(); ok {
		return prog + " s_server"
	}
	switch s {
	case tlslab.NotTLSServer:
		return "net/http, plaintext"
	case tlslab.ServerNoResponse, tlslab.ConnectionReset:
		return "raw TCP"
	case tlslab.NoTCPAnswer:
		return "raw TCP, full accept queue"
	case tlslab.ConnectionRefused:
		return "nothing listening"
	case tlslab.ProxyRefused, tlslab.ProxyAuthRequired, tlslab.ProxyAuthNegotiate, tlslab.ProxyUpstreamFailed, tlslab.ProxyTunnel, tlslab.ProxyTunnelChunked, tlslab.ProxyBlockPage, tlslab.ProxyIntercepting, tlslab.ProxyIdleCut:
		return "HTTP CONNECT proxy (Go)"
	case tlslab.ProxySOCKS5, tlslab.ProxySOCKS5NoMethod, tlslab.ProxySOCKS5Password:
		return "SOCKS5 proxy (Go)"
	}
	return "crypto/tls + net/http"
}

func clientKinds(r result) string {
	var kinds []string
	for _, c := range r.clients {
		k := "crypto/tls"
		if c.argv != nil {
			k = c.argv[0]
			if k == "openssl" {
				k = "openssl s_client"
			}
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return strings.Join(kinds, ", ")
}

func serverKinds(r result) string {
	var kinds []string
	for _, s := range r.servers {
		if k := serverKind(s.scenario); !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return strings.Join(kinds, "; ")
}

func category(r result) string {
	if r.category != "" {
		return "`" + r.category + "`"
	}
	var cs []string
	for _, c := range r.conns {
		cs = append(cs, "`"+c.category+"`")
	}
	return strings.Join(cs, ", ")
}

func madeAt(r result) string {
	if len(r.frames) == 0 {
		return "?"
	}
	return r.frames[0].Time.Format("2006-01-02 15:04:05")
}

func frameList(nums []int) string {
	if len(nums) == 0 {
		return "none"
	}
	s := make([]string, len(nums))
	for i, n := range nums {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// frameSpan names the first and last frame to or from port.
func frameSpan(frames []frame, port uint16) string {
	first, last := 0, 0
	for _, f := range frames {
		if f.SrcPort == port || f.DstPort == port {
			if first == 0 {
				first = f.Number
			}
			last = f.Number
		}
	}
	if first == 0 {
		return "none"
	}
	return fmt.Sprintf("%d-%d", first, last)
}

func anchor(file string) string {
	return strings.NewReplacer("/", "", ".", "").Replace(file)
}

func writeReadme(path string, started time.Time, versions []string, results []result) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`# testdata

Captures made by real TLS stacks on this machine's loopback, one (or a few)
per verdict category, and the certificates they use. **Generated** on %s UTC by

    sudo go run ./internal/tlslab/mkcaptures -out testdata

Do not edit by hand: change internal/tlslab/mkcaptures (or the scenarios in
internal/tlslab) and regenerate everything; the generator checks every
capture with tshark and fails if one does not show what its category needs,
and `+"`go test ./internal/tlslab/mkcaptures`"+` re-checks the committed files.

Made with:

%s

## Certificates: validate with `+"`--cacert testdata/certs/ca.pem`"+`

The lab's certificates are generated when the captures are made, relative to
that moment (the expired leaf's notAfter is 24 h before it, the not-yet-valid
leaf's notBefore 24 h after it). Validate at the capture's own timestamps, not
at the wall clock, and trust **only** certs/ca.pem:

| file | contents |
|---|---|
| certs/%s | the root "%s" alone — the only trust anchor. The intermediate is deliberately not in it, so that cert_incomplete_chain is detectable |
| certs/%s | "%s" (issued by the root; issues the server leaves), for reference |
| certs/%s | "%s", self-signed, trusted by nobody, for reference |
| certs/%s | "%s", issuer of the client certificate; the client_cert_required server's trust store |

Leaves are for good.test (other.test for the hostname mismatch), ECDSA
P-256, except the RSA 2048 leaves of cert_expired, cert_expired_tls13,
cert_rejected* and ok_mtu576 (whose server sends leaf, intermediate and
root). Clients always ask for good.test (SNI), except in
the sni_unrecognized captures (unknown.test). Serial numbers and names are
fixed (see internal/tlslab/certs.go); keys and signatures change with every
generation.

## Captures

Frame numbers below are tshark's (`+"`tshark -r FILE`"+`: 1-based, every frame
counts). Servers listen on 127.0.0.1 on the port named in each section (one
port per capture), clients use ephemeral ports. captures/expected.tsv lists
capture, server port and expected verdict for table-driven tests.

| capture | expected verdict | client | server | made (UTC) | bytes |
|---|---|---|---|---|---|
`, started.Format("2006-01-02 15:04"), "- "+strings.Join(versions, "\n- "),
		tlslab.CAFile, tlslab.RootName, tlslab.IntermediateFile, tlslab.IntermediateName,
		tlslab.UntrustedCAFile, tlslab.UntrustedRootName, tlslab.ClientCAFile, tlslab.ClientCAName)
	for _, r := range results {
		b.WriteString(tableRow(r))
	}
	p(`
Notes that hold for all of them:

- Loopback's MTU is 65536, so on lo every flight fits one segment (often one
  frame per flight). ok_mtu576.pcap is the exception: made between two network
  namespaces joined by a veth pair with MTU 576, its server flight spans many
  segments.
- The TLS 1.2 variants exist because in TLS 1.2 the Certificate travels in
  plaintext; the certificate scenarios' servers are therefore TLS 1.2 only.
- Alerts differ by client stack for the same problem: OpenSSL (curl,
  s_client) names the cause (certificate_expired, unknown_ca, bad_certificate
  for not-yet-valid), GnuTLS and crypto/tls say bad_certificate for every
  verification failure, and curl checks the host name only after the handshake.
- *.keylog files are NSS key logs of the clients' TLS secrets for captures
  with TLS 1.3 (` + "`tshark -o tls.keylog_file:captures/ok.keylog -r captures/ok.pcap`" + `).
`)
	for _, r := range results {
		b.WriteString(section(r))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// tableRow is a capture's row in the README's table.
func tableRow(r result) string {
	return fmt.Sprintf("| [%s](#%s) | %s | %s | %s | %s | %d |\n", r.file, anchor(r.file), category(r), clientKinds(r), serverKinds(r), madeAt(r), r.size)
}

// section is a capture's section of the README, from its heading on.
func section(r result) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n### %s\n\n", r.file)
	p("Expected verdict: %s. %s\n\n", category(r), r.how)
	if r.note != "" {
		p("Post-processing: %s.\n\n", r.note)
	}
	if len(r.conns) > 0 {
		p("| connection | server port | expected verdict | frames |\n|---|---|---|---|\n")
		for i, c := range r.conns {
			p("| %d | %d | `%s` | %s |\n", i+1, c.port, c.category, frameSpan(r.frames, c.port))
		}
		p("\n")
	}
	p("Servers: ")
	for i, s := range r.servers {
		if i > 0 {
			p(", ")
		}
		host := r.host
		p("tlslab `%s` on %s:%d (%s)", s.scenario, host, s.port, serverKind(s.scenario))
	}
	p(".\n\nClients, in order:\n\n")
	for _, c := range r.commands {
		p("    %s\n", c)
	}
	p("\nMade %s UTC, %d frames, %d bytes.", madeAt(r), len(r.frames), r.size)
	if r.keylog {
		p(" Key log: %s.", strings.TrimSuffix(r.file, ".pcap")+".keylog")
	}
	p(" What tshark shows (frames):\n\n")
	for _, c := range r.checks {
		p("- %s: %s\n", c.label, frameList(c.matching(r.frames)))
	}
	p("\n<details><summary><code>tshark -r %s</code></summary>\n\n```\n%s```\n</details>\n", r.file, r.listing)
	return b.String()
}

// spliceReadme updates the README at path for remade captures only (mkcaptures
// -only): their table rows and sections are replaced, or added at the end of
// the table and of the file.
func spliceReadme(path string, results []result) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(old)
	for _, r := range results {
		row := tableRow(r)
		prefix := "| [" + r.file + "](#"
		if i := strings.Index(s, prefix); i >= 0 {
			j := i + strings.IndexByte(s[i:], '\n') + 1
			s = s[:i] + row + s[j:]
		} else {
			end := strings.Index(s, "\nNotes that hold for all of them:")
			if end < 0 {
				return fmt.Errorf("%s: no table to add %s to", path, r.file)
			}
			s = s[:end] + row + s[end:]
		}
		sec := section(r)
		heading := "\n### " + r.file + "\n"
		if i := strings.Index(s, heading); i >= 0 {
			j := len(s)
			if k := strings.Index(s[i+len(heading):], "\n### "); k >= 0 {
				j = i + len(heading) + k
			}
			s = s[:i] + sec + s[j:]
		} else {
			s += sec
		}
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// writeExpected writes the machine-readable list of expected verdicts.
func writeExpected(path string, results []result) error {
	var b strings.Builder
	b.WriteString("# capture (relative to testdata)\tserver port\texpected verdict of every connection to that port\n")
	for _, r := range results {
		if r.category != "" {
			for _, s := range r.servers {
				fmt.Fprintf(&b, "%s\t%d\t%s\n", r.file, s.port, r.category)
			}
		}
		for _, c := range r.conns {
			fmt.Fprintf(&b, "%s\t%d\t%s\n", r.file, c.port, c.category)
		}
		if r.routed != nil {
			for _, c := range r.routed.twinConns {
				fmt.Fprintf(&b, "%s\t%d\t%s\n", r.routed.twin, c.port, c.category)
			}
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
