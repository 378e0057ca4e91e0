package diagnose

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rootsChildEnv makes TestSystemRootsChild compare instead of returning.
const rootsChildEnv = "TLSDIAG_ROOTS_CHILD"

// TestSystemRootsAsCryptoX509 checks that Roots finds the same system roots
// as x509.SystemCertPool, which loads them once per process: each case
// runs TestSystemRootsChild in a process of its own, with SSL_CERT_FILE
// and SSL_CERT_DIR pointing at files made here (and once at this
// machine's own store).
func TestSystemRootsAsCryptoX509(t *testing.T) {
	if !lazySystemRoots {
		t.Fatalf("this test is for the systems where Roots reads the system roots itself")
	}
	dir := t.TempDir()
	a := mkCert(t, certSpec{cn: "Root A", ca: true})
	b := mkCert(t, certSpec{cn: "Root B", ca: true})
	b2 := mkCert(t, certSpec{cn: "Root B", ca: true, key: testKey(t, "Root B, second key")})
	c := mkCert(t, certSpec{cn: "Root C", ca: true})
	d := mkCert(t, certSpec{cn: "Root D", ca: true})
	e := mkCert(t, certSpec{cn: "Root E", ca: true})
	block := func(typ string, der []byte, headers map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers})
	}
	write := func(name string, parts ...[]byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Join(parts, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	symlink := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A certificate whose subject reads but which does not parse: its
	// public key is not a point on the curve.
	broken := bytes.Clone(c.cert.Raw)
	spki := bytes.Index(broken, c.cert.RawSubjectPublicKeyInfo)
	broken[spki+len(c.cert.RawSubjectPublicKeyInfo)-1] ^= 0xff
	if _, err := x509.ParseCertificate(broken); err == nil {
		t.Fatal("the broken certificate parses")
	}

	bundle := write("bundle.pem", []byte("# a bundle\n"), block("CERTIFICATE", a.cert.Raw, nil),
		block("PRIVATE KEY", []byte{1, 2, 3}, nil), block("CERTIFICATE", b.cert.Raw, map[string]string{"Comment": "skipped"}),
		block("CERTIFICATE", broken, nil), block("CERTIFICATE", a.cert.Raw, nil), block("CERTIFICATE", b2.cert.Raw, nil))
	write("certs/b.pem", block("CERTIFICATE", b.cert.Raw, nil))
	write("withbundle/bundle.pem", []byte("# a bundle\n"), block("CERTIFICATE", a.cert.Raw, nil),
		block("PRIVATE KEY", []byte{1, 2, 3}, nil), block("CERTIFICATE", b.cert.Raw, map[string]string{"Comment": "skipped"}),
		block("CERTIFICATE", broken, nil), block("CERTIFICATE", a.cert.Raw, nil), block("CERTIFICATE", b2.cert.Raw, nil))
	write("withbundle/d.pem", block("CERTIFICATE", d.cert.Raw, nil))
	write("withbundle/nearly.pem", []byte("# a bundle\n"), block("CERTIFICATE", c.cert.Raw, nil))
	write("certs/d.pem", block("CERTIFICATE", d.cert.Raw, nil), block("CERTIFICATE", b2.cert.Raw, nil))
	// As Debian's: files that are blocks of the bundle (not decoded
	// again), and one that starts as one but holds another root.
	write("certs/b2.pem", block("CERTIFICATE", b2.cert.Raw, nil))
	write("certs/broken.pem", block("CERTIFICATE", broken, nil))
	write("certs/b2e.pem", block("CERTIFICATE", b2.cert.Raw, nil), block("CERTIFICATE", e.cert.Raw, nil))
	symlink("d.pem", "certs/0123abcd.0")              // skipped: a name for a file of the same directory
	symlink(filepath.Join(dir, "c.pem"), "certs/c.0") // read: a link elsewhere
	write("c.pem", block("CERTIFICATE", c.cert.Raw, nil))
	write("onlybroken/x.pem", block("CERTIFICATE", broken, nil))
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	certs, missing := filepath.Join(dir, "certs"), filepath.Join(dir, "missing")

	cases := []struct {
		name       string
		file, dirs string // SSL_CERT_FILE, SSL_CERT_DIR; "" leaves the system's
		wantErr    bool
	}{
		{name: "this machine"},
		{name: "bundle and directories", file: bundle, dirs: certs + ":" + missing},
		{name: "bundle only", file: bundle, dirs: missing},
		{name: "bundle in a directory too", file: bundle, dirs: filepath.Join(dir, "withbundle")},
		{name: "bundle read from its directory", file: filepath.Join(dir, "withbundle", "bundle.pem"), dirs: filepath.Join(dir, "withbundle") + "/"},
		{name: "directory with a bundle only", file: filepath.Join(dir, "none.pem"), dirs: filepath.Join(dir, "withbundle")},
		{name: "directory only", file: filepath.Join(dir, "none.pem"), dirs: certs},
		{name: "nothing there", file: filepath.Join(dir, "none.pem"), dirs: missing},
		{name: "unreadable bundle, roots in a directory", file: dir, dirs: certs},
		{name: "unreadable bundle, no root", file: dir, dirs: filepath.Join(dir, "empty"), wantErr: true},
		{name: "unreadable bundle, only a root that does not parse", file: dir, dirs: filepath.Join(dir, "onlybroken"), wantErr: true},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSystemRootsChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), rootsChildEnv+"=1")
			if tt.file != "" {
				cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+tt.file, "SSL_CERT_DIR="+tt.dirs)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("roots agree")) {
				t.Fatalf("the child did not compare:\n%s", out)
			}
			if gotErr := bytes.Contains(out, []byte("both failed")); gotErr != tt.wantErr {
				t.Errorf("loading failed: %v, want %v:\n%s", gotErr, tt.wantErr, out)
			}
			t.Logf("%s", bytes.TrimSpace(out))
		})
	}
}

// TestSystemRootsChild compares, in a process of TestSystemRootsAsCryptoX509,
// the system roots as Roots and as crypto/x509 load them: the same error,
// or the same certificates (as a set: Roots groups them by subject, the
// only order a path's building sees).
func TestSystemRootsChild(t *testing.T) {
	if os.Getenv(rootsChildEnv) == "" {
		return // run by TestSystemRootsAsCryptoX509
	}
	want, wantErr := x509.SystemCertPool()
	roots, err := LoadRoots(true)
	if err != nil {
		t.Fatal(err)
	}
	got, gotErr := roots.Pool()
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("crypto/x509: %v; Roots: %v", wantErr, gotErr)
	}
	if wantErr != nil {
		if !strings.Contains(gotErr.Error(), wantErr.Error()) {
			t.Errorf("Roots' error %q does not say crypto/x509's %q", gotErr, wantErr)
		}
		t.Logf("roots agree: both failed: %v", gotErr)
		return
	}
	w, g := subjectsOf(want), subjectsOf(got)
	if !slices.Equal(w, g) {
		t.Fatalf("crypto/x509 has %d roots, Roots %d:\n%q\n%q", len(w), len(g), w, g)
	}
	t.Logf("roots agree: %d", len(g))
}

func subjectsOf(p *x509.CertPool) []string {
	var s []string
	for _, raw := range p.Subjects() { //nolint:staticcheck // a pool of our own, not the system verifier's
		s = append(s, string(raw))
	}
	slices.Sort(s)
	return s
}

// TestForChain checks that the pool ForChain gives a chain verifies it as
// the whole store does, holding only the roots it can end at.
func TestForChain(t *testing.T) {
	p := newPKI(t)
	// Two roots share the intermediate's issuer name: only the first
	// signed it. A cross-signed copy of the intermediate and an unrelated
	// root make up the rest of the store.
	impostor := mkCert(t, certSpec{cn: "Test Root CA", ca: true, key: testKey(t, "impostor")})
	other := mkCert(t, certSpec{cn: "Other Root", ca: true})
	cross := mkCert(t, certSpec{cn: "Test Root CA", ca: true, issuer: other, key: p.root.key})
	lone := mkCert(t, certSpec{cn: "lone.example.com", dns: []string{"lone.example.com"}})
	own := mkCert(t, certSpec{cn: "Own Root", ca: true})
	ownLeaf := mkCert(t, certSpec{cn: "own.example.com", issuer: own, dns: []string{"own.example.com"}})

	rf := &rootFiles{bySubject: map[string][][]byte{}, parsed: map[string]*x509.Certificate{}}
	for _, c := range []*testCert{impostor, other, p.root} {
		rf.addPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}), nil)
	}
	r := &Roots{ready: make(chan struct{}), own: certs(own), files: rf, pools: map[string]*x509.CertPool{}}
	close(r.ready)
	full, err := r.Pool()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(subjectsOf(full)); n != 4 {
		t.Fatalf("the whole store holds %d roots, want 4", n)
	}
	chains := map[string][]*x509.Certificate{
		"leaf and intermediate":  certs(p.leaf, p.inter),
		"leaf alone":             certs(p.leaf),
		"cross-signed path":      certs(p.leaf, p.inter, cross),
		"self-signed, untrusted": certs(lone),
		"own root":               certs(ownLeaf),
		"root sent too":          certs(p.leaf, p.inter, p.root),
	}
	for name, chain := range chains {
		t.Run(name, func(t *testing.T) {
			pool, err := r.ForChain(chain)
			if err != nil {
				t.Fatal(err)
			}
			if len(subjectsOf(pool)) >= len(subjectsOf(full)) && name != "cross-signed path" {
				t.Errorf("the chain's pool holds all %d roots", len(subjectsOf(full)))
			}
			if again, _ := r.ForChain(slices.Clone(chain)); again != pool {
				t.Error("the same issuers gave another pool")
			}
			if got, want := dumpProblems(CheckChain(chain, chain[0].DNSNames[0], captureTime, pool)),
				dumpProblems(CheckChain(chain, chain[0].DNSNames[0], captureTime, full)); got != want {
				t.Errorf("problems with the chain's pool:\n%s\nwith the whole store:\n%s", got, want)
			}
			inter := x509.NewCertPool()
			for _, c := range chain[1:] {
				inter.AddCert(c)
			}
			opts := x509.VerifyOptions{Intermediates: inter, CurrentTime: captureTime}
			opts.Roots = pool
			got, gotErr := chain[0].Verify(opts)
			opts.Roots = full
			want, wantErr := chain[0].Verify(opts)
			if (gotErr == nil) != (wantErr == nil) || len(got) != len(want) {
				t.Errorf("verifying: %d chains, %v; with the whole store %d chains, %v", len(got), gotErr, len(want), wantErr)
			}
		})
	}
	if _, ok := r.files.parsed[string(other.cert.Raw)]; !ok {
		t.Error("the cross-signed path's root was not parsed")
	}
}
