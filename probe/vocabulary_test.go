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
// each has its entry in classVerdicts, and classVerdicts names no other
// class.
func TestEveryClassHasVerdicts(t *testing.T) {
	for _, c := range Classes {
		if _, ok := classVerdicts[c]; !ok {
			t.Errorf("%s: no entry in classVerdicts (correlate.go): say which wire verdicts agree with it", c)
		}
	}
	for c := range classVerdicts {
		if !slices.Contains(Classes, c) {
			t.Errorf("classVerdicts names %q, which is not in Classes", c)
		}
	}
}

// unmappedCategories are the verdict categories no client error maps to
// by name, with the reason.
var unmappedCategories = map[diagnose.Category]string{
	diagnose.NotTLSClient:      "the probe always sends a ClientHello (a proxy's CONNECT is read as the proxy negotiation, not as plaintext)",
	diagnose.UDPBlocked:        "the probe speaks TLS over TCP: a QUIC attempt is read from captures only",
	diagnose.IncompleteCapture: "the probe captures its own connection from the first SYN: an incomplete capture says the capture lost packets, not what the client met",
}

// TestEveryCategoryHasAClass checks that every verdict category is named
// by the mapping from client errors to wire verdicts (classVerdicts or the
// alert table), or is listed in unmappedCategories with the reason. A new
// category makes this test fail until the probe knows which client error
// it goes with.
func TestEveryCategoryHasAClass(t *testing.T) {
	mapped := map[diagnose.Category]bool{}
	for _, a := range classVerdicts {
		for _, c := range a.verdicts {
			mapped[c] = true
		}
		for _, cs := range a.byPhase {
			for _, c := range cs {
				mapped[c] = true
			}
		}
	}
	for d := range 256 {
		for _, c := range alertVerdicts(tlsparse.AlertDescription(d)) {
			mapped[c] = true
		}
	}
	for _, c := range diagnose.Categories {
		why, unmapped := unmappedCategories[c]
		switch {
		case mapped[c] && unmapped:
			t.Errorf("%s is mapped and also listed as unmapped (%s)", c, why)
		case !mapped[c] && !unmapped:
			t.Errorf("no client error class maps to %s: add it to classVerdicts or alertVerdictTable (probe/correlate.go), or to unmappedCategories with the reason", c)
		}
	}
	for c := range unmappedCategories {
		if !slices.Contains(diagnose.Categories, c) {
			t.Errorf("unmappedCategories names %q, which is not a category", c)
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
