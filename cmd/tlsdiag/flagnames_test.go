package main

import (
	"regexp"
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

// flagInText is a command-line flag in prose ("--max-time", "-w"), with
// what comes before it.
var flagInText = regexp.MustCompile(`(^|[^\w-])(--?[a-z][a-z0-9-]*)`)

// quoted is a command quoted in text: "`nginx -t && nginx -s reload`".
var quoted = regexp.MustCompile("`[^`]*`")

// foreignFlags lists the flags text names that exec's help does not list,
// unless the text names one as probe's ("tlsdiag probe --scan") and
// probe's help lists it: exec runs another program, so its texts advise
// that program's settings, not probe's flags. Quoted commands (a server's
// own) are not read.
func foreignFlags(text string) []string {
	text = quoted.ReplaceAllString(text, "``")
	var execHelp, probeHelp, errOut strings.Builder
	run([]string{"exec", "--help"}, &execHelp, &errOut)
	run([]string{"probe", "--help"}, &probeHelp, &errOut)
	var out []string
	for _, m := range flagInText.FindAllStringSubmatchIndex(text, -1) {
		flag := text[m[4]:m[5]]
		help := execHelp.String()
		if strings.HasSuffix(text[:m[4]], "tlsdiag probe ") {
			help = probeHelp.String()
		}
		if !strings.Contains(help, flag+" ") && !strings.Contains(help, flag+", ") {
			out = append(out, flag)
		}
	}
	return out
}

// Every setting exec's correlations point to has a name, and each name
// is the program's setting or a flag that exists where the name says.
func TestExecSettingNames(t *testing.T) {
	for _, s := range probe.Settings {
		name, ok := execSettingNames[s]
		if !ok {
			t.Errorf("probe setting %s has no name for exec", s)
			continue
		}
		if f := foreignFlags(name); len(f) > 0 {
			t.Errorf("exec names %s %q: %v is not a flag of the command it names", s, name, f)
		}
	}
	// The check can fail: probe's own names are not exec's flags.
	if f := foreignFlags("raise " + probeSettingFlags[probe.SettingMaxTime]); len(f) != 1 {
		t.Errorf("probe's %s passes as exec's", probeSettingFlags[probe.SettingMaxTime])
	}
}
