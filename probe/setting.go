package probe

import "strconv"

// Setting is an input of a probe that its texts (causes, fixes, notes)
// point to: the roots the client trusts, its time limit, the versions it
// offers. The library names a setting as Config sets it; a command that
// sets it from a flag names the flag instead (Config.Names), so that
// library text never names a command-line flag.
type Setting uint8

// The settings.
const (
	SettingRootCAs       Setting = iota + 1 // Config.RootCAs: the roots the client trusts
	SettingWireRoots                        // Config.WireRoots: the roots the capture's chain is judged by
	SettingInsecure                         // Config.Insecure
	SettingCertificates                     // Config.Certificates: the client certificate and its key
	SettingMinVersion                       // Config.MinVersion
	SettingMaxVersion                       // Config.MaxVersion
	SettingCipherSuites                     // Config.CipherSuites
	SettingCurves                           // Config.Curves
	SettingALPN                             // Config.ALPN
	SettingServerName                       // Config.ServerName
	SettingResolve                          // Config.Resolve
	SettingMaxTime                          // Config.MaxTime
	SettingProxy                            // Config.Proxy
	SettingScan                             // Config.Scan
	SettingKeyLog                           // Config.KeyLog
	SettingPcap                             // Config.Pcap
	SettingProxyRootCAs                     // Config.ProxyRootCAs: the roots an https:// proxy's certificate is checked against
	SettingProxyInsecure                    // Config.ProxyInsecure
)

// Settings lists every Setting.
var Settings = []Setting{
	SettingRootCAs, SettingWireRoots, SettingInsecure, SettingCertificates,
	SettingMinVersion, SettingMaxVersion, SettingCipherSuites, SettingCurves, SettingALPN, SettingServerName,
	SettingResolve, SettingMaxTime, SettingProxy, SettingScan, SettingKeyLog, SettingPcap,
	SettingProxyRootCAs, SettingProxyInsecure,
}

// configNames are the settings' names as Config sets them.
var configNames = [...]string{
	SettingRootCAs: "RootCAs", SettingWireRoots: "WireRoots", SettingInsecure: "Insecure", SettingCertificates: "Certificates",
	SettingMinVersion: "MinVersion", SettingMaxVersion: "MaxVersion", SettingCipherSuites: "CipherSuites",
	SettingCurves: "Curves", SettingALPN: "ALPN", SettingServerName: "ServerName", SettingResolve: "Resolve",
	SettingMaxTime: "MaxTime", SettingProxy: "Proxy", SettingScan: "Scan", SettingKeyLog: "KeyLog", SettingPcap: "Pcap",
	SettingProxyRootCAs: "ProxyRootCAs", SettingProxyInsecure: "ProxyInsecure",
}

// String names s as Config sets it: "Config.MaxTime".
func (s Setting) String() string {
	if int(s) < len(configNames) && configNames[s] != "" {
		return "Config." + configNames[s]
	}
	return "setting(" + strconv.Itoa(int(s)) + ")"
}

// Names names settings in a probe's texts as the caller sets them (a
// command: its flags, "--max-time"); a setting it leaves out is named as
// Config sets it.
type Names map[Setting]string

// of names s.
func (n Names) of(s Setting) string {
	if name, ok := n[s]; ok {
		return name
	}
	return s.String()
}
