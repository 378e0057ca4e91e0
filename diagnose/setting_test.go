package diagnose

import (
	"path/filepath"
	"strings"
	"testing"
)

// flagNames names the settings as a command would, for the tests that
// check a fix's advice word for word.
var flagNames = map[Setting]string{SettingRoots: "--cacert", SettingKeyLog: "--keylog"}

func TestSettingsNamed(t *testing.T) {
	for _, s := range Settings {
		if n := s.String(); strings.HasPrefix(n, "setting(") {
			t.Errorf("setting %d has no name: %s", s, n)
		}
	}
}

// A fix points to a setting by the name the caller gives it, and without
// one by its Go API: the library itself never names a command's flag.
func TestSettingNames(t *testing.T) {
	for _, tt := range []struct {
		file    string
		port    uint16
		setting Setting
	}{
		{"cert_untrusted_ca_go.pcap", 4433, SettingRoots},
		{"cert_rejected_go.pcap", 4433, SettingKeyLog},
	} {
		conns := analyseCapture(t, filepath.Join(capturesDir, tt.file), nil)
		if len(conns) == 0 {
			t.Fatalf("%s: no connection", tt.file)
		}
		text := func(cfg Config) string {
			v := Diagnose(conns[0], cfg)
			return v.Fix + "\n" + strings.Join(v.Warnings, "\n")
		}
		flag, api := flagNames[tt.setting], tt.setting.String()
		if lib := text(Config{}); !strings.Contains(lib, api) || strings.Contains(lib, flag) {
			t.Errorf("%s without names: want %q and not %q in\n%s", tt.file, api, flag, lib)
		}
		if cmd := text(Config{SettingNames: flagNames}); !strings.Contains(cmd, flag) || strings.Contains(cmd, api) {
			t.Errorf("%s with names: want %q and not %q in\n%s", tt.file, flag, api, cmd)
		}
	}
}
