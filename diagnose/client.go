package diagnose

// Advice that depends on which program the client is: recognised from its
// ClientHello (fingerprint.Recognize), never assumed.

import (
	"fmt"

	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// clientName names the recognised client in a summary, with how sure the
// recognition is: "a Go crypto/tls client (Go ≥ 1.26, almost certain: …)".
// It returns "" for an unrecognised client.
func clientName(cl fingerprint.Client) string {
	switch cl.Stack {
	case fingerprint.StackUnknown:
		return ""
	case fingerprint.StackGo:
		return fmt.Sprintf("a Go crypto/tls client (%s; %s: %s)", cl.Go.Release(), cl.Certainty, cl.Reason)
	}
	if cl.Also != fingerprint.StackUnknown {
		return fmt.Sprintf("a %s client, or else a %s one (%s: %s)", cl.Stack, cl.Also, cl.Certainty, cl.Reason)
	}
	return fmt.Sprintf("a %s client (%s: %s)", cl.Stack, cl.Certainty, cl.Reason)
}

// eitherClient gives the advice for the recognised client, and when its
// hello is also another program's (cl.Also), the advice for each, most
// probable first: "Python: …; curl: …".
func eitherClient(cl fingerprint.Client, advice func(fingerprint.Client) string) string {
	if cl.Also == fingerprint.StackUnknown {
		return advice(cl)
	}
	first, second := cl, cl
	first.Also, second.Stack, second.Also = fingerprint.StackUnknown, cl.Also, fingerprint.StackUnknown
	if a, b := advice(first), advice(second); a != b {
		return "if the client is " + programName(first.Stack) + ": " + a + "; if it is " + programName(second.Stack) + ": " + b
	}
	return advice(first)
}

// programName is the short name of a stack in "if the client is …".
func programName(s fingerprint.Stack) string {
	switch s {
	case fingerprint.StackCurl:
		return "curl"
	case fingerprint.StackPython:
		return "Python"
	case fingerprint.StackNode:
		return "Node.js"
	}
	return s.String()
}

// knownClient is the client as the hello says (seen) or as the caller
// knows it (named, Config.Client): the caller's, unless the hello is
// likely another library's. Programs on OpenSSL (curl, Python, Node.js,
// s_client) share its hello, so between them the name decides.
func knownClient(seen, named fingerprint.Client) fingerprint.Client {
	switch {
	case named.Stack == fingerprint.StackUnknown:
		return seen
	case seen.Stack == named.Stack:
		// The name settles which of two programs with the same hello.
		seen.Also = fingerprint.StackUnknown
		return seen
	case seen.Stack == fingerprint.StackUnknown, seen.Certainty < fingerprint.Likely, onOpenSSL(seen.Stack) && onOpenSSL(named.Stack):
		return named
	}
	return seen
}

// onOpenSSL reports whether the stack is OpenSSL's libssl or a program on it.
func onOpenSSL(s fingerprint.Stack) bool {
	switch s {
	case fingerprint.StackOpenSSL, fingerprint.StackCurl, fingerprint.StackPython, fingerprint.StackNode:
		return true
	}
	return false
}

// goKeyLogSnippet is the three lines that make a Go program write its TLS
// secrets: crypto/tls ignores SSLKEYLOGFILE.
const goKeyLogSnippet = `f, _ := os.OpenFile("keys.log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); ` +
	`cfg := &tls.Config{KeyLogWriter: f}; ` +
	`client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}`

// clientKeyLogAdvice says how to get the client's TLS secrets, for the
// client that sent the hello, and to read the capture again with them
// (given with keyLog).
func clientKeyLogAdvice(cl fingerprint.Client, keyLog string) string {
	if readsKeyLogEnv(cl.Stack) && readsKeyLogEnv(cl.Also) {
		return fmt.Sprintf("run the client (%s or %s) with SSLKEYLOGFILE=keys.log in its environment%s, then read the capture again with %s keys.log", cl.Stack, cl.Also, pythonKeyLogNote(cl.Stack, cl.Also), keyLog)
	}
	return eitherClient(cl, func(cl fingerprint.Client) string { return oneClientKeyLogAdvice(cl, keyLog) })
}

// readsKeyLogEnv reports whether the stack writes its TLS secrets to the
// file SSLKEYLOGFILE names.
func readsKeyLogEnv(s fingerprint.Stack) bool {
	switch s {
	case fingerprint.StackCurl, fingerprint.StackPython, fingerprint.StackChromium, fingerprint.StackFirefox, fingerprint.StackGnuTLS:
		return true
	}
	return false
}

// pythonKeyLogNote says from which release Python honours SSLKEYLOGFILE
// (ssl.create_default_context reads it since Python 3.8), when one of the
// stacks is Python's.
func pythonKeyLogNote(a, b fingerprint.Stack) string {
	if a == fingerprint.StackPython || b == fingerprint.StackPython {
		return " (Python's ssl.create_default_context reads it from 3.8 on)"
	}
	return ""
}

// oneClientKeyLogAdvice is clientKeyLogAdvice for cl.Stack alone.
func oneClientKeyLogAdvice(cl fingerprint.Client, keyLog string) string {
	then := ", then read the capture again with " + keyLog + " keys.log"
	if readsKeyLogEnv(cl.Stack) {
		return fmt.Sprintf("run the client (%s) with SSLKEYLOGFILE=keys.log in its environment%s%s", cl.Stack, pythonKeyLogNote(cl.Stack, fingerprint.StackUnknown), then)
	}
	switch cl.Stack {
	case fingerprint.StackGo:
		return "Go ignores SSLKEYLOGFILE: set tls.Config.KeyLogWriter in the client (" + goKeyLogSnippet + ")" + then
	case fingerprint.StackOpenSSL:
		return "run openssl s_client with -keylogfile keys.log (programs on libssl write key logs only if they call SSL_CTX_set_keylog_callback)" + then
	case fingerprint.StackNode:
		return "run the client with node --tls-keylog=keys.log (or NODE_OPTIONS=--tls-keylog=keys.log in its environment)" + then
	case fingerprint.StackJava:
		return "Java writes no key log itself: run the client JVM with a key-log agent that writes TLS 1.3 secrets too (extract-tls-secrets: java -javaagent:extract-tls-secrets.jar=keys.log …)" + then
	}
	return "make the client write its TLS secrets (SSLKEYLOGFILE=keys.log for curl, Python, browsers and GnuTLS; openssl s_client -keylogfile keys.log; Go: tls.Config.KeyLogWriter)" + then +
		"; or run `tlsdiag probe`, which decrypts its own connection"
}

// trustRootAdvice says how to make the client trust a root, for the
// client that sent the hello.
func trustRootAdvice(cl fingerprint.Client) string {
	return eitherClient(cl, oneTrustRootAdvice)
}

// oneTrustRootAdvice is trustRootAdvice for cl.Stack alone.
func oneTrustRootAdvice(cl fingerprint.Client) string {
	switch cl.Stack {
	case fingerprint.StackGo:
		return "in the Go client set tls.Config.RootCAs to a pool holding it, or point SSL_CERT_FILE at a PEM file with it (or add it to the system store: update-ca-certificates)"
	case fingerprint.StackCurl:
		return "curl --cacert root.pem (or add it to the system store: update-ca-certificates)"
	case fingerprint.StackPython:
		return "ssl.create_default_context(cafile=\"root.pem\"), or SSL_CERT_FILE, or the system store; requests reads its own bundle instead (certifi's, or the system store where the distribution patched it so): verify=\"root.pem\" or REQUESTS_CA_BUNDLE"
	case fingerprint.StackOpenSSL:
		return "openssl s_client -CAfile root.pem, or SSL_CERT_FILE, or the system store (update-ca-certificates)"
	case fingerprint.StackGnuTLS:
		return "gnutls-cli --x509cafile=root.pem (wget: --ca-certificate=root.pem), or the system store (update-ca-certificates)"
	case fingerprint.StackNode:
		return "NODE_EXTRA_CA_CERTS=/path/root.pem in the node process's environment, read as it starts; or the ca option of tls.connect or https.request"
	case fingerprint.StackJava:
		return "keytool -importcert it into the JVM's truststore (or -Djavax.net.ssl.trustStore)"
	case fingerprint.StackChromium:
		return "import it as a trusted authority: Chrome and Edge on Windows and macOS trust the system's store (certmgr.msc, Keychain Access); Chromium on Linux reads its NSS database (certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n root -i root.pem, or Settings, Privacy and security, Manage certificates)"
	case fingerprint.StackFirefox:
		return "import it into the browser's or the system's certificate store as a trusted authority"
	}
	return "the system store (update-ca-certificates), or the client's own setting (Go: tls.Config.RootCAs or SSL_CERT_FILE; curl --cacert; openssl -CAfile; Java: keytool -importcert)"
}

// isBrowser reports whether the hello is a browser's: its user trusts
// for themselves, not for a site's other visitors. Chromium only: its
// captures (testdata/field/browser) show its behaviour.
func isBrowser(cl fingerprint.Client) bool {
	return cl.Stack == fingerprint.StackChromium
}

// verifyLogAdvice says where the client tells why it refused the
// server's certificate: a browser has no log but an error page, whose
// code tells the reasons apart (Chromium sends certificate_unknown for
// each of them).
func verifyLogAdvice(cl fingerprint.Client) string {
	if cl.Stack == fingerprint.StackJava {
		return "check the client's log for its verification error (Java: the SSLHandshakeException's cause, such as \"PKIX path building failed\"; run the JVM with -Djavax.net.debug=ssl:handshake to log the handshake and the chain it got)"
	}
	if cl.Stack == fingerprint.StackChromium {
		return "the browser's error page names the reason: net::ERR_CERT_AUTHORITY_INVALID for an issuer it does not trust (a private CA, or an intermediate the server did not send), net::ERR_CERT_DATE_INVALID for an expired certificate (or a wrong clock), net::ERR_CERT_COMMON_NAME_INVALID for a name the certificate does not cover; its certificate viewer shows the chain the server sent"
	}
	return "check the client's log for its verification error"
}

// clientVersionAdvice says how to make the client offer TLS 1.2 and 1.3,
// for the client that sent the hello; other is the advice for any other
// client.
func clientVersionAdvice(cl fingerprint.Client, other string) string {
	if cl.Stack == fingerprint.StackJava {
		return "run the client JVM with -Djdk.tls.client.protocols=TLSv1.2,TLSv1.3, neither listed in its jdk.tls.disabledAlgorithms (TLS 1.3 needs a JDK from 8u261 on)"
	}
	return other
}
