package diagnose

import (
	"encoding/pem"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestOwnRootsRankIntermediate: a leaf sent alone whose issuer's name says
// neither root nor intermediate reads as an untrusted root; when the user
// passed a root of the issuer's organisation with --cacert, the issuer is
// most likely that root's intermediate, which the server should send, and
// the fix says so. A root of another organisation changes nothing but the
// way to confirm (the roots were given already).
func TestOwnRootsRankIntermediate(t *testing.T) {
	p := newPKI(t)
	corp := mkCert(t, certSpec{cn: "Corp CA 2", ca: true, issuer: p.root})
	leaf := mkCert(t, certSpec{cn: "www.example.com", issuer: corp, dns: []string{"www.example.com"}})
	other := mkCert(t, certSpec{cn: "Other Root", org: "elsewhere", ca: true})
	// A leaf signed directly by a second root of the organisation.
	corpRoot := mkCert(t, certSpec{cn: "Corp Root CA", ca: true})
	rootLeaf := mkCert(t, certSpec{cn: "www.example.com", issuer: corpRoot, dns: []string{"www.example.com"}})
	given := func(c *testCert) *Roots {
		r, err := LoadRoots(false, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name    string
		roots   *Roots
		cat     Category
		summary []string
		fix     []string
	}{
		{"no roots given", PoolRoots(p.roots), CertUntrustedCA,
			[]string{"'CN=Corp CA 2,O=tlsdiag test'"}, []string{"run tlsdiag again with --cacert"}},
		{"the organisation's root given", given(p.root), CertIncompleteChain,
			[]string{"the roots given with --cacert include 'CN=Test Root CA,O=tlsdiag test', of the same organisation (O=tlsdiag test)", "may be a root of its own"},
			[]string{"configure it to send the intermediate 'CN=Corp CA 2,O=tlsdiag test'"}},
		{"an issuer named root keeps its reading", given(p.root), CertUntrustedCA,
			[]string{"'CN=Corp Root CA,O=tlsdiag test'"}, []string{"add that root's PEM file to the roots given with --cacert"}},
		{"another organisation's root given", given(other), CertUntrustedCA,
			[]string{"'CN=Corp CA 2,O=tlsdiag test'"}, []string{"add that root's PEM file to the roots given with --cacert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := leaf
			if strings.Contains(tt.name, "named root") {
				sent = rootLeaf
			}
			c := alert(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, sent), 7, client, tlsparse.AlertBadCertificate)
			v := Diagnose(c, Config{Roots: tt.roots, SettingNames: flagNames})
			if v.Category != tt.cat {
				t.Fatalf("category %s, want %s: %s | fix: %s", v.Category, tt.cat, v.Summary, v.Fix)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary %q lacks %q", v.Summary, s)
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(v.Fix, s) {
					t.Errorf("fix %q lacks %q", v.Fix, s)
				}
			}
		})
	}
}
