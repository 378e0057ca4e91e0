package main

import (
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/diagnose"
)

// Every setting a verdict's fix can point to is named by its flag, and
// the flag exists in the commands that diagnose.
func TestSettingFlags(t *testing.T) {
	for _, s := range diagnose.Settings {
		name, ok := settingFlags[s]
		if !ok {
			t.Errorf("setting %s has no flag", s)
			continue
		}
		for _, cmd := range []string{"read", "probe"} {
			var out, errOut strings.Builder
			if run([]string{cmd, "--help"}, &out, &errOut); !strings.Contains(out.String(), name+" ") {
				t.Errorf("%s --help does not list %s", cmd, name)
			}
		}
	}
}
