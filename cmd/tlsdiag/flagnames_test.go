package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/probe"
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

// Every setting a probe's texts point to is named by flags that the
// commands that probe (probe, exec) or at least probe list in their help.
func TestProbeSettingFlags(t *testing.T) {
	var out, errOut strings.Builder
	run([]string{"probe", "--help"}, &out, &errOut)
	help := out.String()
	for _, s := range probe.Settings {
		name, ok := probeSettingFlags[s]
		if !ok {
			t.Errorf("probe setting %s has no flag", s)
			continue
		}
		for _, part := range strings.Split(name, "/") {
			wants := []string{part + " ", part + "[=true|false]"}
			if !strings.HasPrefix(part, "--") {
				wants = []string{part + ", "} // a one-letter form, before its long one
			}
			if !slices.ContainsFunc(wants, func(w string) bool { return strings.Contains(help, w) }) {
				t.Errorf("probe --help does not list %s (%s names %s)", part, name, s)
			}
		}
	}
	for s := range probeSettingFlags {
		if !slices.Contains(probe.Settings, s) {
			t.Errorf("probeSettingFlags names %s, which is not in probe.Settings", s)
		}
	}
}
