package diagnose

import (
	"path/filepath"
	"testing"
)

// TestFieldRevproxyCaptures reads the captures of curl through an nginx
// reverse proxy to HTTPS upstreams (testdata/field/revproxy, see its
// README), as `read` does, across the capture's connections: captured on
// the proxy, the upstream connection's client is the server of the front
// leg whose request came just before, so the verdict says the client is
// likely a reverse proxy and its fix names the proxy's settings first
// (proxy_ssl_server_name, proxy_ssl_trusted_certificate, proxy_ssl_name);
// on the upstream's link alone, the proxies' SNI settings come as a
// possibility. The controls (expected-controls.tsv) read as before, and
// none of their texts calls the client a proxy.
func TestFieldRevproxyCaptures(t *testing.T) {
	dir := testdataDir + "/field/revproxy"
	roots := rootsFile(t, filepath.Join(dir, "root.pem"))
	checkExpectedWith(t, dir, "expected.tsv", expectedRead{roots: roots, whole: true})
	checkExpectedWith(t, dir, "expected-controls.tsv", expectedRead{roots: roots, whole: true, never: "reverse proxy"})
	// With curl's key log, which opens the front leg: the upstream
	// connection's verdict names the proxy's 502 to that request.
	checkExpectedWith(t, dir, "expected-keylog.tsv", expectedRead{roots: roots, withKeys: true, whole: true})
	checkExpectedWith(t, dir, "expected-controls-keylog.tsv", expectedRead{roots: roots, withKeys: true, whole: true, never: "reverse proxy"})
}
