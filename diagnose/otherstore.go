package diagnose

// A chain refused although the system store of the machine reading the
// capture trusts its root: the client did not read that store. The
// commonest cases are a program in a container image without CA
// certificates (Go built FROM scratch) and runtimes that carry their own
// bundle (Python requests' certifi, Node.js, Java).

import (
	"crypto/x509"
	"fmt"

	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// otherStore words a refused chain whose root, root, this machine's
// system store holds: the clause for the summary and the fix. ok is false
// when the root came from the user's own PEM files instead, or is not
// known to be the system's.
func (d *diagnosis) otherStore(root *x509.Certificate) (summary, fix string, ok bool) {
	if !d.rootsOf.FromSystem(root) {
		return "", "", false
	}
	cl := d.client()
	summary = fmt.Sprintf("the client most probably read another store than the system's, or none (likely): %s", eitherClient(cl, otherStoreReason))
	if d.cfgClient.Stack == fingerprint.StackUnknown {
		// Not a program the caller ran here (exec): the capture may
		// come from another machine.
		summary += "; less likely, the capture comes from a machine whose store is older than this one's"
	}
	fix = fmt.Sprintf("give the client the system's roots: %s; if that root was added to this machine by hand (a company's CA: update-ca-certificates from /usr/local/share/ca-certificates), add it where the client runs too; nothing changes on the server", eitherClient(cl, otherStoreFix))
	return summary, fix, true
}

// otherStoreReason says why a client of cl.Stack's kind reads another
// store than the system's.
func otherStoreReason(cl fingerprint.Client) string {
	switch cl.Stack {
	case fingerprint.StackGo:
		return "Go reads the system store (/etc/ssl/certs, or SSL_CERT_FILE and SSL_CERT_DIR) unless tls.Config.RootCAs replaces it, so the likely cause is a client running where that store is missing (a FROM scratch or distroless image without CA certificates) or pointed elsewhere"
	case fingerprint.StackPython:
		return "Python requests trusts certifi's bundle, not the system store, and Python's ssl module reads OpenSSL's default paths, which a Python built apart (pyenv, conda, python.org) may not point at the system's"
	case fingerprint.StackNode:
		return "Node.js trusts its own copy of Mozilla's roots, not the system store"
	case fingerprint.StackJava:
		return "Java trusts its own truststore ($JAVA_HOME/lib/security/cacerts), not the system store"
	case fingerprint.StackCurl:
		return "curl was given a CA file of its own (--cacert, CURL_CA_BUNDLE) or was built with a CA path other than the system's"
	case fingerprint.StackChromium:
		return "Chromium on Linux trusts its own root store and NSS database, not /etc/ssl/certs"
	}
	return "a container image without CA certificates, a runtime with its own bundle (Python requests' certifi, Node.js, Java's cacerts), or a CA file of the client's own (curl --cacert, SSL_CERT_FILE)"
}

// otherStoreFix says how a client of cl.Stack's kind comes to trust the
// system's roots.
func otherStoreFix(cl fingerprint.Client) string {
	switch cl.Stack {
	case fingerprint.StackGo:
		return "install or update the CA certificates where the client runs (Debian, Ubuntu: apt-get install ca-certificates; Alpine: apk add ca-certificates; a FROM scratch image: COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/), or build roots into the binary with `import _ \"golang.org/x/crypto/x509roots/fallback\"` (used only where the system has none); check that SSL_CERT_FILE, SSL_CERT_DIR and tls.Config.RootCAs do not replace the system's"
	case fingerprint.StackPython:
		return "REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt (or verify= that file), or the truststore package (truststore.inject_into_ssl()) to use the system's; for the ssl module, SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt (python3 -c 'import ssl; print(ssl.get_default_verify_paths())' shows where it looks)"
	case fingerprint.StackNode:
		return "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt in the node process's environment, or node --use-system-ca (Node.js 23.9 and later; --use-openssl-ca before)"
	case fingerprint.StackJava:
		return "import the root into the JVM's truststore (keytool -importcert -cacerts), or on Debian and Ubuntu keep it in step with the system's (package ca-certificates-java)"
	case fingerprint.StackCurl:
		return "drop --cacert, or point it at the system bundle (--cacert /etc/ssl/certs/ca-certificates.crt); curl -v names the CA file and path it used"
	}
	return oneTrustRootAdvice(cl)
}
