package analysis_test

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestCutClientHello reads the captures that a snap length cut
// (testdata/derived/*_snapN.pcap, made by editcap -s from the lab captures)
// and checks every ClientHello read only in part against the same
// connection in the uncut capture: the bytes read are its start, the SNI,
// versions and suites agree as far as they were read, and no fingerprint
// is computed from a part.
func TestCutClientHello(t *testing.T) {
	cuts, err := filepath.Glob("../testdata/derived/*_snap*.pcap")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^(.*)_snap\d+\.pcap$`)
	var found, withSNI int
	for _, cut := range cuts {
		m := name.FindStringSubmatch(filepath.Base(cut))
		if m == nil {
			continue
		}
		whole := map[string]*analysis.Connection{}
		for _, c := range run(t, filepath.Join("../testdata/captures", m[1]+".pcap"), analysis.Options{}) {
			whole[c.Client.String()] = c
		}
		for _, c := range run(t, cut, analysis.Options{}) {
			h := c.CutClientHello
			if h == nil {
				continue
			}
			found++
			w := whole[c.Client.String()]
			if w == nil || w.ClientHello == nil {
				t.Errorf("%s %v: no whole ClientHello in the uncut capture", cut, c.Client)
				continue
			}
			wh := w.ClientHello
			switch {
			case c.ClientHello != nil:
				t.Errorf("%s %v: both a whole and a cut ClientHello", cut, c.Client)
			case !h.Truncated || !bytes.HasPrefix(wh.Raw, h.Raw) || len(h.Raw) >= len(wh.Raw):
				t.Errorf("%s %v: cut hello of %d bytes is not a start of the whole %d", cut, c.Client, len(h.Raw), len(wh.Raw))
			case c.CutClientHelloSize != len(wh.Raw):
				t.Errorf("%s %v: declared size %d, whole hello %d bytes", cut, c.Client, c.CutClientHelloSize, len(wh.Raw))
			case h.ServerName != "" && h.ServerName != wh.ServerName:
				t.Errorf("%s %v: SNI %q, whole %q", cut, c.Client, h.ServerName, wh.ServerName)
			case !slices.Equal(h.CipherSuites, wh.CipherSuites[:min(len(h.CipherSuites), len(wh.CipherSuites))]):
				t.Errorf("%s %v: suites %v are no start of %v", cut, c.Client, h.CipherSuites, wh.CipherSuites)
			case h.OfferedVersions() != nil && !slices.Equal(h.OfferedVersions(), wh.OfferedVersions()):
				t.Errorf("%s %v: versions %v, whole %v", cut, c.Client, h.OfferedVersions(), wh.OfferedVersions())
			case c.CutClientHelloFrame.Number != w.ClientHelloFrame.Number:
				t.Errorf("%s %v: cut hello in frame %d, whole in %d", cut, c.Client, c.CutClientHelloFrame.Number, w.ClientHelloFrame.Number)
			case c.Fingerprints().JA3 != "" || c.Fingerprints().JA4 != "":
				t.Errorf("%s %v: fingerprint %q %q from a cut hello", cut, c.Client, c.Fingerprints().JA3, c.Fingerprints().JA4)
			}
			if h.ServerName != "" {
				withSNI++
			}
		}
	}
	if found < 3 || withSNI < 2 {
		t.Fatalf("%d cut ClientHellos, %d with their SNI read: the derived captures should hold more", found, withSNI)
	}
}
