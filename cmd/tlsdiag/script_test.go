package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain registers tlsdiag as a command of the test binary, so the
// testscript files in testdata/script run the real main without building it.
//
// With TLSDIAG_TEST_MAIN=1 the test binary is tlsdiag itself, for tests that
// need a separate process (signals, privilege drop).
func TestMain(m *testing.M) {
	execChild() // returns unless this is a program `tlsdiag exec` runs
	// The table format fits the terminal: tests write to buffers, not a
	// terminal, and set COLUMNS themselves.
	os.Unsetenv("COLUMNS")
	if os.Getenv("TLSDIAG_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"tlsdiag": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script/*.txtar. Each script
// can reach the repository's testdata via $TESTDATA.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTDATA", root)
			return nil
		},
	})
}
