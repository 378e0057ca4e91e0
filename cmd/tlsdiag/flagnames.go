package main

import "github.com/tlsdiag/tlsdiag/diagnose"

// The flags that text written for people points to. The library
// packages return facts (a port that was left out, a cap that was hit);
// cmd words them and names the flag that changes the outcome. Each name
// here both defines its flag and names it in text, so that renaming a
// flag cannot leave a note that advises one that is gone.
const (
	flagCACert     = "cacert"
	flagKeyLog     = "keylog"
	flagTLSPort    = "tls-port"
	flagMaxPending = "max-pending"
)

// flagRef is how text names a flag: "--tls-port".
func flagRef(name string) string { return "--" + name }

// settingFlags names the flag that sets each setting a verdict's fix can
// point to.
var settingFlags = map[diagnose.Setting]string{
	diagnose.SettingRoots:  flagRef(flagCACert),
	diagnose.SettingKeyLog: flagRef(flagKeyLog),
}
