package fingerprint_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// specHello is the example ClientHello of FoxIO's JA4 specification
// (technical_details/JA4.md): its lists as sent.
func specHello() *tlsparse.ClientHello {
	ch := &tlsparse.ClientHello{
		Version:           0x0303,
		CipherSuites:      []tlsparse.CipherSuite{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		ServerName:        "example.com",
		SupportedVersions: []tlsparse.Version{0x0304, 0x0303},
		SignatureSchemes:  []tlsparse.SignatureScheme{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		ALPN:              []string{"h2", "http/1.1"},
	}
	for _, e := range []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015} {
		ch.Extensions = append(ch.Extensions, tlsparse.Extension{Type: tlsparse.ExtensionType(e)})
	}
	return ch
}

// TestJA4SpecificationExample checks the worked example of the JA4
// specification, in all four renderings.
func TestJA4SpecificationExample(t *testing.T) {
	got := fingerprint.JA4(specHello(), fingerprint.TCP)
	want := fingerprint.JA4Result{
		JA4:   "t13d1516h2_8daaf6152771_e5627efa2ab1",
		JA4R:  "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
		JA4O:  "t13d1516h2_acb858a92679_18f69afefd3d",
		JA4RO: "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601",
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestJA4ALPN checks the two ALPN characters, including the edge cases the
// specification spells out (its hex examples are the last five rows).
func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		name string
		alpn []string
		want string
	}{
		{"no extension", nil, "00"},
		{"empty list", []string{}, "00"},
		{"empty first value", []string{"", "h2"}, "00"},
		{"h2", []string{"h2", "http/1.1"}, "h2"},
		{"http/1.1", []string{"http/1.1"}, "h1"},
		{"spdy/3.1", []string{"spdy/3.1"}, "s1"},
		{"one character counts twice", []string{"x"}, "xx"},
		{"upper case kept", []string{"H2"}, "H2"},
		{"trailing punctuation", []string{"h2-"}, "6d"},
		{"leading space", []string{" h2"}, "22"},
		{"GREASE value skipped", []string{"\x0a\x0a", "h2"}, "h2"},
		{"GREASE value alone", []string{"\xfa\xfa"}, "00"},
		{"not GREASE: three bytes", []string{"\x0a\x0a\x0a"}, "0a"},
		{"spec 0xAB", []string{"\xab"}, "ab"},
		{"spec 0xAB 0xCD", []string{"\xab\xcd"}, "ad"},
		{"spec 0x30 0xAB", []string{"0\xab"}, "3b"},
		{"spec 0x30 0x31 0xAB 0xCD", []string{"01\xab\xcd"}, "3d"},
		{"spec 0x30 0xAB 0xCD 0x31", []string{"0\xab\xcd1"}, "01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := specHello()
			ch.ALPN = tt.alpn
			r := fingerprint.JA4(ch, fingerprint.TCP)
			if got := r.JA4[8:10]; got != tt.want {
				t.Errorf("ALPN %q: got %q, want %q (JA4 %s)", tt.alpn, got, tt.want, r.JA4)
			}
			for _, s := range []string{r.JA4R, r.JA4O, r.JA4RO} {
				if s[:10] != r.JA4[:10] {
					t.Errorf("prefix %q differs from JA4's %q", s[:10], r.JA4[:10])
				}
			}
		})
	}
}

// allGREASE is every GREASE value of RFC 8701, Section 2.
var allGREASE = []uint16{0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
	0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa}

// greased returns ch with GREASE values put before, between and after the
// entries of every list a fingerprint reads, the way browsers send them.
func greased(ch *tlsparse.ClientHello) *tlsparse.ClientHello {
	g := *ch
	i := 0
	next := func() uint16 { i++; return allGREASE[i%len(allGREASE)] }
	g.CipherSuites = nil
	for _, c := range ch.CipherSuites {
		g.CipherSuites = append(g.CipherSuites, tlsparse.CipherSuite(next()), c)
	}
	g.CipherSuites = append(g.CipherSuites, tlsparse.CipherSuite(next()))
	g.Extensions = nil
	for _, e := range ch.Extensions {
		g.Extensions = append(g.Extensions, tlsparse.Extension{Type: tlsparse.ExtensionType(next())}, e)
	}
	g.Extensions = append(g.Extensions, tlsparse.Extension{Type: tlsparse.ExtensionType(next()), Data: []byte{0}})
	g.SupportedVersions = append([]tlsparse.Version{tlsparse.Version(next())}, ch.SupportedVersions...)
	g.SupportedGroups = nil
	for _, x := range ch.SupportedGroups {
		g.SupportedGroups = append(g.SupportedGroups, tlsparse.NamedGroup(next()), x)
	}
	g.SignatureSchemes = nil
	for _, s := range ch.SignatureSchemes {
		g.SignatureSchemes = append(g.SignatureSchemes, tlsparse.SignatureScheme(next()), s)
	}
	g.ALPN = append([]string{string([]byte{0x2a, 0x2a})}, ch.ALPN...)
	return &g
}

// TestGREASEIgnored checks that GREASE values anywhere change neither JA3
// nor any JA4 rendering, and that all sixteen of them are taken out.
func TestGREASEIgnored(t *testing.T) {
	plain := specHello()
	plain.SupportedGroups = []tlsparse.NamedGroup{0x001d, 0x0017, 0x0018}
	plain.ECPointFormats = []uint8{0}
	g := greased(plain)
	if len(g.CipherSuites) <= len(plain.CipherSuites) || len(g.Extensions) <= len(plain.Extensions) {
		t.Fatal("greased hello has no GREASE")
	}
	if got, want := fingerprint.JA4(g, fingerprint.TCP), fingerprint.JA4(plain, fingerprint.TCP); got != want {
		t.Errorf("JA4 with GREASE\n got %+v\nwant %+v", got, want)
	}
	gotFull, gotHash := fingerprint.JA3(g)
	wantFull, wantHash := fingerprint.JA3(plain)
	if gotFull != wantFull || gotHash != wantHash {
		t.Errorf("JA3 with GREASE\n got %s %s\nwant %s %s", gotHash, gotFull, wantHash, wantFull)
	}
	const ja3 = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
		"27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
	if gotFull != ja3 {
		t.Errorf("JA3 %s, want %s", gotFull, ja3)
	}

	// A list of nothing but GREASE is an empty list.
	only := &tlsparse.ClientHello{Version: 0x0303}
	for _, v := range allGREASE {
		only.CipherSuites = append(only.CipherSuites, tlsparse.CipherSuite(v))
		only.Extensions = append(only.Extensions, tlsparse.Extension{Type: tlsparse.ExtensionType(v)})
		only.SupportedVersions = append(only.SupportedVersions, tlsparse.Version(v))
		only.SupportedGroups = append(only.SupportedGroups, tlsparse.NamedGroup(v))
	}
	if got, want := fingerprint.JA4(only, fingerprint.TCP).JA4R, "t12i000000__"; got != want {
		t.Errorf("all-GREASE hello: JA4_r %q, want %q", got, want)
	}
	if got, _ := fingerprint.JA3(only); got != "771,,,," {
		t.Errorf("all-GREASE hello: JA3 %q, want %q", got, "771,,,,")
	}
}

// TestJA4Version checks the version characters: supported_versions first,
// else the legacy version.
func TestJA4Version(t *testing.T) {
	tests := []struct {
		legacy    tlsparse.Version
		supported []tlsparse.Version
		want      string
	}{
		{0x0303, []tlsparse.Version{0x0304, 0x0303}, "13"},
		{0x0303, []tlsparse.Version{0x0303, 0x0304}, "13"}, // highest, not first
		{0x0303, []tlsparse.Version{0x3a3a, 0x0303}, "12"}, // GREASE is not the highest
		{0x0301, []tlsparse.Version{0x4a4a}, "10"},         // only GREASE: the legacy version
		{0x0303, nil, "12"},
		{0x0302, nil, "11"},
		{0x0301, nil, "10"},
		{0x0300, nil, "s3"},
		{0x0002, nil, "s2"},
		{0x0303, []tlsparse.Version{0x7f12}, "00"}, // TLS 1.3 draft 18
		{0x0200, nil, "00"},
		{0xfefd, nil, "d2"},
		{0xfeff, nil, "d1"},
		{0xfefd, []tlsparse.Version{0xfefc}, "d3"},
	}
	for _, tt := range tests {
		ch := &tlsparse.ClientHello{Version: tt.legacy, SupportedVersions: tt.supported}
		if got := fingerprint.JA4(ch, fingerprint.TCP).JA4[1:3]; got != tt.want {
			t.Errorf("legacy %v, supported_versions %v: %q, want %q", tt.legacy, tt.supported, got, tt.want)
		}
	}
}

// TestJA4Lists checks counts, the SNI marker, the empty-list hashes and
// when the signature algorithms' underscore appears.
func TestJA4Lists(t *testing.T) {
	ext := func(types ...uint16) []tlsparse.Extension {
		var es []tlsparse.Extension
		for _, e := range types {
			es = append(es, tlsparse.Extension{Type: tlsparse.ExtensionType(e)})
		}
		return es
	}
	many := make([]tlsparse.CipherSuite, 120)
	for i := range many {
		many[i] = tlsparse.CipherSuite(0x0100 + i)
	}
	tests := []struct {
		name      string
		ch        *tlsparse.ClientHello
		transport byte
		want      fingerprint.JA4Result
	}{{
		name: "nothing at all",
		ch:   &tlsparse.ClientHello{Version: 0x0303},
		want: fingerprint.JA4Result{
			JA4: "t12i000000_000000000000_000000000000", JA4R: "t12i000000__",
			JA4O: "t12i000000_000000000000_000000000000", JA4RO: "t12i000000__",
		},
	}, {
		// The SNI marker comes from the extension, even one whose name
		// could not be read; only SNI and ALPN: the extension hash is zeros
		// in both orders, as in FoxIO's socks-https-example output.
		name: "SNI and ALPN only",
		ch:   &tlsparse.ClientHello{Version: 0x0301, CipherSuites: []tlsparse.CipherSuite{0x0035}, Extensions: ext(0x0000, 0x0010), ALPN: []string{"h2"}},
		want: fingerprint.JA4Result{
			JA4: "t10d0102h2_" + hashOf("0035") + "_000000000000", JA4R: "t10d0102h2_0035_",
			JA4O: "t10d0102h2_" + hashOf("0035") + "_000000000000", JA4RO: "t10d0102h2_0035_0000,0010",
		},
	}, {
		name: "extensions without signature algorithms: no underscore",
		ch:   &tlsparse.ClientHello{Version: 0x0301, Extensions: ext(0xff01, 0x000a)},
		want: fingerprint.JA4Result{
			JA4: "t10i000200_000000000000_" + hashOf("000a,ff01"), JA4R: "t10i000200__000a,ff01",
			JA4O: "t10i000200_000000000000_" + hashOf("ff01,000a"), JA4RO: "t10i000200__ff01,000a",
		},
	}, {
		name:      "QUIC, counts capped at 99",
		ch:        &tlsparse.ClientHello{Version: 0x0303, CipherSuites: many, Extensions: ext(0x0039)},
		transport: fingerprint.QUIC,
		want: fingerprint.JA4Result{
			JA4: "q12i990100_" + hashOf(hexList(many)) + "_" + hashOf("0039"), JA4R: "q12i990100_" + hexList(many) + "_0039",
			JA4O: "q12i990100_" + hashOf(hexList(many)) + "_" + hashOf("0039"), JA4RO: "q12i990100_" + hexList(many) + "_0039",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transport := tt.transport
			if transport == 0 {
				transport = fingerprint.TCP
			}
			if got := fingerprint.JA4(tt.ch, transport); got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestNoFingerprint checks that nil and SSLv2-format hellos give none.
func TestNoFingerprint(t *testing.T) {
	v2 := &tlsparse.ClientHello{Version: 0x0301, SSLv2: true, CipherSuites: []tlsparse.CipherSuite{0x0035}, SSLv2Ciphers: []uint32{0x010080}}
	for _, ch := range []*tlsparse.ClientHello{nil, v2} {
		if r := fingerprint.JA4(ch, fingerprint.TCP); r != (fingerprint.JA4Result{}) {
			t.Errorf("JA4(%v) = %+v, want zero", ch, r)
		}
		if full, hash := fingerprint.JA3(ch); full != "" || hash != "" {
			t.Errorf("JA3(%v) = %q %q, want empty", ch, full, hash)
		}
	}
	if full, hash := fingerprint.JA3S(nil); full != "" || hash != "" {
		t.Errorf("JA3S(nil) = %q %q, want empty", full, hash)
	}
}

func hexList(cs []tlsparse.CipherSuite) string {
	var s []string
	for _, c := range cs {
		s = append(s, fmt.Sprintf("%04x", uint16(c)))
	}
	return strings.Join(s, ",")
}

// TestSSLv2Captures checks that the SSLv2-format ClientHellos of the public
// captures are parsed as such and get no fingerprint, as in tshark (whose
// agreement on those frames TestJA3AgreesWithTshark checks).
func TestSSLv2Captures(t *testing.T) {
	n := 0
	for _, name := range []string{"ssl-v2.pcap", "ssl.v3.pcap"} {
		for _, c := range analyse(t, publicFile("zeek", name)) {
			if c.ClientHello == nil || !c.ClientHello.SSLv2 {
				continue
			}
			n++
			if full, _ := fingerprint.JA3(c.ClientHello); full != "" {
				t.Errorf("%s %v: JA3 %q for an SSLv2 hello", name, c.Client, full)
			}
			if r := fingerprint.JA4(c.ClientHello, fingerprint.TCP); r != (fingerprint.JA4Result{}) {
				t.Errorf("%s %v: JA4 %+v for an SSLv2 hello", name, c.Client, r)
			}
		}
	}
	if n == 0 {
		t.Fatal("no SSLv2 ClientHello found in the public captures")
	}
	t.Logf("%d SSLv2 ClientHellos, no fingerprint", n)
}
