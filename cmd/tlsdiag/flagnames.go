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

// probeSettingFlags names the flag of probe (and exec) that sets each
// setting a probe's texts point to.
var probeSettingFlags = probe.Names{
	probe.SettingRootCAs:      flagRef(flagCACert),
	probe.SettingInsecure:     shortRef(shortInsecure) + "/" + flagRef(flagInsecure),
	probe.SettingCertificates: flagRef(flagCert) + "/" + flagRef(flagKey),
	probe.SettingMinVersion:   flagRef(flagTLSMin),
	probe.SettingMaxVersion:   flagRef(flagTLSMax),
	probe.SettingCipherSuites: flagRef(flagCiphers),
	probe.SettingCurves:       flagRef(flagCurves),
	probe.SettingALPN:         flagRef(flagALPN),
	probe.SettingServerName:   flagRef(flagServerName),
	probe.SettingResolve:      flagRef(flagResolve),
	probe.SettingMaxTime:      flagRef(flagMaxTime),
	probe.SettingProxy:        flagRef(flagProxy),
	probe.SettingScan:         flagRef(flagScan),
	probe.SettingKeyLog:       flagRef(flagKeyLog),
	probe.SettingPcap:         shortRef(shortWrite),
}
