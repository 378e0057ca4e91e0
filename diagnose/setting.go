package diagnose

import "strconv"

// Setting is an input of tlsdiag itself that a fix can point to: the
// roots it trusts, the key log it decrypts with. The library names a
// setting as its Go API sets it; a command that sets it from a flag names
// the flag instead (Config.SettingNames), so that library text never
// names a command-line flag.
type Setting uint8

const (
	// SettingRoots adds trusted roots (Config.Roots).
	SettingRoots Setting = iota + 1
	// SettingKeyLog gives the TLS secrets a client wrote
	// (analysis.Options.KeyLog), as a file.
	SettingKeyLog
)

// Settings lists every Setting.
var Settings = []Setting{SettingRoots, SettingKeyLog}

// String names s as the Go API sets it.
func (s Setting) String() string {
	switch s {
	case SettingRoots:
		return "Config.Roots"
	case SettingKeyLog:
		return "Options.KeyLog"
	}
	return "setting(" + strconv.Itoa(int(s)) + ")"
}

// setting names s in a fix: as the caller names it, else as the Go API
// sets it.
func (d *diagnosis) setting(s Setting) string {
	if n, ok := d.settingNames[s]; ok {
		return n
	}
	return s.String()
}
