package main

import (
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/probe"
)

// The flags that text written for people points to. The library
// packages return facts (a port that was left out, a cap that was hit)
// and name the settings they point to as their Go API sets them; cmd
// words them and names the flag that changes the outcome. Each name here
// both defines its flag and names it in text, so that renaming a flag
// cannot leave a note that advises one that is gone.
const (
	flagCACert     = "cacert"
	flagKeyLog     = "keylog"
	flagTLSPort    = "tls-port"
	flagMaxPending = "max-pending"

	flagInsecure   = "insecure"
	flagCert       = "cert"
	flagKey        = "key"
	flagTLSMin     = "tls-min"
	flagTLSMax     = "tls-max"
	flagCiphers    = "ciphers"
	flagCurves     = "curves"
	flagALPN       = "alpn"
	flagServerName = "servername"
	flagResolve    = "resolve"
	flagMaxTime    = "max-time"
	flagProxy      = "proxy"
	flagProxyCA    = "proxy-cacert"
	flagProxyInsec = "proxy-insecure"
	flagScan       = "scan"
	flagWrite      = "write"

	// One-letter forms, which text names where the command's usage does.
	shortInsecure = "k"
	shortWrite    = "w"
)

// flagRef is how text names a flag: "--tls-port".
func flagRef(name string) string { return "--" + name }

// shortRef is how text names a flag's one-letter form: "-w".
func shortRef(short string) string { return "-" + short }

// settingFlags names the flag that sets each setting a verdict's fix can
// point to.
var settingFlags = map[diagnose.Setting]string{
	diagnose.SettingRoots:  flagRef(flagCACert),
	diagnose.SettingKeyLog: flagRef(flagKeyLog),
}

// probeSettingFlags names the flag of probe that sets each setting a
// probe's texts point to.
var probeSettingFlags = probe.Names{
	probe.SettingRootCAs:       flagRef(flagCACert),
	probe.SettingWireRoots:     flagRef(flagCACert),
	probe.SettingInsecure:      shortRef(shortInsecure) + "/" + flagRef(flagInsecure),
	probe.SettingCertificates:  flagRef(flagCert) + "/" + flagRef(flagKey),
	probe.SettingMinVersion:    flagRef(flagTLSMin),
	probe.SettingMaxVersion:    flagRef(flagTLSMax),
	probe.SettingCipherSuites:  flagRef(flagCiphers),
	probe.SettingCurves:        flagRef(flagCurves),
	probe.SettingALPN:          flagRef(flagALPN),
	probe.SettingServerName:    flagRef(flagServerName),
	probe.SettingResolve:       flagRef(flagResolve),
	probe.SettingMaxTime:       flagRef(flagMaxTime),
	probe.SettingProxy:         flagRef(flagProxy),
	probe.SettingScan:          flagRef(flagScan),
	probe.SettingKeyLog:        flagRef(flagKeyLog),
	probe.SettingPcap:          shortRef(shortWrite),
	probe.SettingProxyRootCAs:  flagRef(flagProxyCA),
	probe.SettingProxyInsecure: flagRef(flagProxyInsec),
}

// execSettingNames names the settings a correlation's texts point to when
// exec ran the program: the program's own settings, which exec does not
// set (its --cacert only judges the chain on the wire), and where a probe
// can try what the program cannot, probe's flag.
var execSettingNames = probe.Names{
	probe.SettingRootCAs:       "the program's CA file, or SSL_CERT_FILE for Go programs",
	probe.SettingWireRoots:     flagRef(flagCACert),
	probe.SettingInsecure:      "the program's option to skip verification",
	probe.SettingCertificates:  "the program's client certificate and key",
	probe.SettingMinVersion:    "the program's minimum TLS version",
	probe.SettingMaxVersion:    "the program's maximum TLS version",
	probe.SettingCipherSuites:  "the program's cipher suites",
	probe.SettingCurves:        "the program's groups (curves)",
	probe.SettingALPN:          "ALPN",
	probe.SettingServerName:    "the program's server name (SNI)",
	probe.SettingResolve:       "an /etc/hosts entry or tlsdiag probe " + flagRef(flagResolve),
	probe.SettingMaxTime:       "the program's time limit",
	probe.SettingProxy:         "the program's proxy setting",
	probe.SettingScan:          "tlsdiag probe " + flagRef(flagScan),
	probe.SettingKeyLog:        "SSLKEYLOGFILE",
	probe.SettingPcap:          shortRef(shortWrite),
	probe.SettingProxyRootCAs:  "the program's CA file for its proxy, or SSL_CERT_FILE for Go programs",
	probe.SettingProxyInsecure: "the program's option to skip verifying its proxy",
}
