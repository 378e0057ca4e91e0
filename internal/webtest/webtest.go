// Package webtest finds the programs the tests of the picture formats run:
// node with Mermaid's parser, which checks the mermaid format as GitHub
// and GitLab will read it, and a headless Chromium, which loads the html
// format as a person will.
package webtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireEnv names the environment variable that turns a missing node,
// Mermaid or Chromium from a skipped test into a failure. CI sets it
// (make deps installs them), so that the checks never pass by skipping.
const RequireEnv = "TLSDIAG_REQUIRE_BROWSER"

// missing skips the test, or fails it when RequireEnv is set.
func missing(t testing.TB, what, why string) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s, and %s is set: %s", what, RequireEnv, why)
	}
	t.Skipf("%s (make deps installs it): %s", what, why)
}

// Mermaid returns node's path and the directory holding Mermaid's parser
// and the script that runs it (dir, relative to the test's package, is
// where package.json is; scripts/install-deps.sh runs npm ci there).
func Mermaid(t testing.TB, dir, why string) (node string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node not found", why)
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "mermaid", "package.json")); err != nil {
		missing(t, "Mermaid not installed in "+dir+" (npm ci there)", why)
		return ""
	}
	return node
}

// Chromium returns the path of a Chromium (or Chrome) that runs headless.
func Chromium(t testing.TB, why string) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium not found", why)
	return ""
}
