package probe

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/vocabtest"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// declared reports whether c is a class of the vocabulary: one of Classes,
// or the class of an alert description.
func declared(c Class) bool {
	_, alert := c.Alert()
	return slices.Contains(Classes, c) || alert
}

// TestEveryClassHasVerdicts checks that consistent knows every class:
// each is named by a verdict category's ClientClasses (diagnose) or has
// its entry in classVerdicts, and classVerdicts names no other class.
func TestEveryClassHasVerdicts(t *testing.T) {
	for _, c := range Classes {
		if _, ok := classVerdicts[c]; !ok && len(namedBy()[c]) == 0 {
			t.Errorf("%s: no category names it (ClientClasses in diagnose) and no entry in classVerdicts (correlate.go): say which wire verdicts agree with it", c)
		}
	}
	for c := range classVerdicts {
		if !slices.Contains(Classes, c) {
			t.Errorf("classVerdicts names %q, which is not in Classes", c)
		}
	}
}

// TestEveryCategoryHasAClass checks that every client error a verdict
// category names is a class of the vocabulary, and that a category no
// client error agrees with says why (diagnose's tests check that each
// category says one or the other). A new category makes this test fail
// until it names the client errors it goes with.
func TestEveryCategoryHasAClass(t *testing.T) {
	for _, cat := range diagnose.Categories {
		for _, c := range cat.ClientClasses() {
			if !declared(Class(c)) {
				t.Errorf("%s names the client error %q, which is not a class", cat, c)
			}
		}
		agreed := cat.IsCertificate() || len(cat.ClientClasses()) > 0
		if agreed == (cat.Unprobed() != "") {
			t.Errorf("%s: agreed with by a client error: %v; why none is: %q", cat, agreed, cat.Unprobed())
		}
		if !agreed {
			continue
		}
		found := false
		for _, c := range Classes {
			for _, p := range []Phase{PhaseResolve, PhaseConnect, PhaseProxyTLS, PhaseProxy, PhaseTLS, PhaseHTTP} {
				if a := classVerdicts[c]; !a.anyFailure && !a.anyVerdict && classAgrees(c, p, cat, nil) {
					found = true
				}
			}
		}
		for d := range 256 {
			found = found || slices.Contains(alertVerdicts(tlsparse.AlertDescription(d)), cat)
		}
		if !found {
			t.Errorf("%s: no client error class agrees with it by name", cat)
		}
	}
}

// TestClassFamilies checks the explicit family lists against the names:
// the cert_ and proxy_ classes, and alert classes that round-trip.
func TestClassFamilies(t *testing.T) {
	for _, c := range Classes {
		if got, want := c.IsCertificate(), strings.HasPrefix(string(c), "cert_"); got != want {
			t.Errorf("%s: IsCertificate() = %v, its name says %v", c, got, want)
		}
		if got, want := c.IsProxy(), strings.HasPrefix(string(c), "proxy_"); got != want {
			t.Errorf("%s: IsProxy() = %v, its name says %v", c, got, want)
		}
		if _, ok := c.Alert(); ok {
			t.Errorf("%s: a constant class that names an alert", c)
		}
	}
	for d := range 256 {
		got, ok := AlertClass(tlsparse.AlertDescription(d)).Alert()
		if !ok || got != tlsparse.AlertDescription(d) {
			t.Errorf("AlertClass(%d).Alert() = %d, %v", d, got, ok)
		}
	}
}

// TestClassesOnlyDeclared checks, in probe's non-test files, that no class
// is made from a string outside the declarations but by AlertClass.
func TestClassesOnlyDeclared(t *testing.T) {
	vocabtest.OnlyDeclared(t, ".", "Class", "AlertClass")
}
