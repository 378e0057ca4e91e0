package diagnose

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestServerFixTable checks the table row by row: every change has an
// nginx entry, the settings each server is known by appear where they
// belong, a known server gets its own setting only, and an unknown one
// gets the list in the order of Servers.
func TestServerFixTable(t *testing.T) {
	for _, c := range ServerChanges {
		if _, ok := serverFixes[c]; !ok {
			t.Errorf("%s has no row", c)
		}
		if strings.HasPrefix(c.String(), "server_change(") {
			t.Errorf("change %d has no name", uint8(c))
		}
	}
	if len(serverFixes) != len(ServerChanges) {
		t.Errorf("the table has %d rows, ServerChanges lists %d", len(serverFixes), len(ServerChanges))
	}
	want := []struct {
		change ServerChange
		server Server
		says   []string
	}{
		{ChangeFullChain, ServerNginx, []string{"ssl_certificate", "fullchain.pem", "cert.pem", "leaf first", "nginx -t && nginx -s reload"}},
		{ChangeKeepAlive, ServerNginx, []string{"keepalive_timeout", "keepalive_requests", "IdleConnTimeout"}},
		{ChangeKeepAlive, ServerApache, []string{"KeepAliveTimeout"}},
		{ChangeKeepAlive, ServerHAProxy, []string{"timeout http-keep-alive"}},
		{ChangeKeepAlive, ServerCaddy, []string{"idle_timeout"}},
		{ChangeKeepAlive, ServerGo, []string{"http.Server.IdleTimeout"}},
		{ChangeKeepAlive, ServerJava, []string{"keepAliveTimeout"}},
		{ChangeFullChain, ServerApache, []string{"SSLCertificateFile", "SSLCertificateChainFile"}},
		{ChangeFullChain, ServerHAProxy, []string{"crt"}},
		{ChangeFullChain, ServerGo, []string{"tls.Certificate", "LoadX509KeyPair"}},
		{ChangeFullChain, ServerJava, []string{"keystore", "keytool"}},
		{ChangeRenew, ServerNginx, []string{"nginx -s reload"}},
		{ChangeRenew, ServerCaddy, []string{"caddy reload"}},
		{ChangeDefaultServer, ServerNginx, []string{"server_name", "default_server", "ssl_reject_handshake"}},
		{ChangeDefaultServer, ServerHAProxy, []string{"strict-sni"}},
		{ChangeDefaultServer, ServerGo, []string{"Certificates[0]"}},
		{ChangeServerName, ServerNginx, []string{"server_name", "ssl_reject_handshake"}},
		{ChangeModernVersions, ServerNginx, []string{"ssl_protocols TLSv1.2 TLSv1.3"}},
		{ChangeModernVersions, ServerApache, []string{"SSLProtocol"}},
		{ChangeModernVersions, ServerHAProxy, []string{"ssl-min-ver TLSv1.2"}},
		{ChangeAllowTLS12, ServerGo, []string{"MinVersion", "VersionTLS12"}},
		{ChangeAllowTLS12, ServerJava, []string{"jdk.tls.disabledAlgorithms"}},
		{ChangeCiphers, ServerNginx, []string{"ssl_ciphers", "ECDHE"}},
		{ChangeCiphers, ServerApache, []string{"SSLCipherSuite"}},
		{ChangeCiphers, ServerHAProxy, []string{"ciphers"}},
		{ChangeCiphers, ServerJava, []string{"jdk.tls.disabledAlgorithms"}},
		{ChangeGroups, ServerNginx, []string{"ssl_ecdh_curve", "X25519:prime256v1"}},
		{ChangeGroups, ServerApache, []string{"SSLOpenSSLConfCmd Curves"}},
		{ChangeGroups, ServerHAProxy, []string{"curves", "ssl-default-bind-curves"}},
		{ChangeGroups, ServerGo, []string{"CurvePreferences"}},
		{ChangeGroups, ServerJava, []string{"jdk.tls.namedGroups"}},
		{ChangeSignatures, ServerNginx, []string{"ssl_conf_command SignatureAlgorithms", "RSA+SHA256"}},
		{ChangeSignatures, ServerApache, []string{"SSLOpenSSLConfCmd SignatureAlgorithms"}},
		{ChangeSignatures, ServerHAProxy, []string{"sigalgs", "ssl-default-bind-sigalgs"}},
		{ChangeSignatures, ServerGo, []string{"SupportedSignatureAlgorithms"}},
		{ChangeSignatures, ServerJava, []string{"jdk.tls.server.SignatureSchemes"}},
		{ChangeClientSignatures, ServerNginx, []string{"ssl_conf_command ClientSignatureAlgorithms"}},
		{ChangeClientSignatures, ServerApache, []string{"SSLOpenSSLConfCmd ClientSignatureAlgorithms"}},
		{ChangeClientSignatures, ServerHAProxy, []string{"client-sigalgs", "ssl-default-bind-client-sigalgs"}},
		{ChangeClientCertRequired, ServerNginx, []string{"ssl_verify_client", "ssl_client_certificate"}},
		{ChangeClientCertRequired, ServerApache, []string{"SSLVerifyClient"}},
		{ChangeClientCertRequired, ServerHAProxy, []string{"verify required"}},
		{ChangeClientCertRequired, ServerGo, []string{"ClientAuth", "RequireAndVerifyClientCert"}},
		{ChangeClientCA, ServerGo, []string{"ClientCAs"}},
		{ChangeListenTLS, ServerNginx, []string{"listen 443 ssl"}},
		{ChangeListenTLS, ServerApache, []string{"SSLEngine on"}},
		{ChangeListenTLS, ServerGo, []string{"ListenAndServeTLS"}},
		{ChangeHTTP2, ServerNginx, []string{"listen 443 ssl http2", "http2 on"}},
		{ChangeHTTP2, ServerHAProxy, []string{"alpn h2"}},
		{ChangeKeepAlive, ServerNode, []string{"server.keepAliveTimeout", "5 s by default", "IdleConnTimeout"}},
		{ChangeKeepAlive, ServerPython, []string{"uvicorn `--timeout-keep-alive`", "gunicorn `--keep-alive`"}},
		{ChangeFullChain, ServerNode, []string{"`cert`", "leaf first"}},
		{ChangeFullChain, ServerPython, []string{"load_cert_chain", "--certfile", "--ssl-certfile"}},
		{ChangeModernVersions, ServerNode, []string{"minVersion: 'TLSv1.2'"}},
		{ChangeModernVersions, ServerPython, []string{"minimum_version = ssl.TLSVersion.TLSv1_2"}},
		{ChangeGroups, ServerNode, []string{"ecdhCurve"}},
		{ChangeGroups, ServerPython, []string{"set_ecdh_curve", "one curve"}},
		{ChangeClientCertRequired, ServerNode, []string{"requestCert: true, rejectUnauthorized: true", "`ca`"}},
		{ChangeClientCertRequired, ServerPython, []string{"ssl.CERT_REQUIRED", "load_verify_locations"}},
		{ChangeHTTP2, ServerNode, []string{"http2.createSecureServer"}},
		{ChangeListenIPv6, ServerNode, []string{"server.listen(443)"}},
	}
	for _, w := range want {
		got := ServerFix(w.change, w.server)
		if !strings.HasPrefix(got, w.server.Name()+": ") {
			t.Errorf("%s for %s: %q does not start with the server's name", w.change, w.server, got)
		}
		for _, s := range w.says {
			if !strings.Contains(got, s) {
				t.Errorf("%s for %s: %q does not say %q", w.change, w.server, got, s)
			}
		}
		for _, other := range AllServers {
			if other != w.server && strings.Contains(got, other.Name()+": ") {
				t.Errorf("%s for %s names %s too: %q", w.change, w.server, other, got)
			}
		}
	}
	// Unknown server: every entry of the row, in the order of Servers.
	for _, c := range ServerChanges {
		got := ServerFix(c, ServerUnknown)
		last := -1
		for _, s := range Servers {
			text, ok := serverFixes[c][s]
			i := strings.Index(got, s.Name()+": "+text)
			switch {
			case ok && i < 0:
				t.Errorf("%s, unknown server: the list lacks %s", c, s)
			case ok && i < last:
				t.Errorf("%s, unknown server: %s is out of order", c, s)
			case !ok && strings.Contains(got, s.Name()+": "):
				t.Errorf("%s, unknown server: %s has no entry but is listed", c, s)
			}
			last = max(last, i)
		}
	}
	// Node.js and Python are named only when recognised: the short list
	// leaves them out.
	for _, c := range ServerChanges {
		for _, s := range []Server{ServerNode, ServerPython} {
			if got := ServerFix(c, ServerUnknown); strings.Contains(got, s.Name()+": ") {
				t.Errorf("%s, unknown server: the short list names %s", c, s)
			}
		}
	}
	if got := ServerFix(ServerChange(200), ServerNginx); got != "" {
		t.Errorf("an unknown change renders %q", got)
	}
	// A known server without a setting for the change gets none: the
	// other servers' settings would be wrong on it.
	for _, c := range ServerChanges {
		for _, s := range AllServers {
			if _, ok := serverFixes[c][s]; ok {
				continue
			}
			if got := ServerFix(c, s); got != "" {
				t.Errorf("%s for %s, which has no setting for it: %q", c, s, got)
			}
		}
	}
}

func TestRecognizeServer(t *testing.T) {
	tests := []struct {
		header, title, body string
		want                Server
	}{
		{"nginx/1.22.1", "", "", ServerNginx},
		{"nginx", "", "", ServerNginx},
		{"openresty/1.21.4.1", "", "", ServerNginx}, // OpenResty is nginx and takes its directives
		{"Apache/2.4.57 (Debian)", "", "", ServerApache},
		{"Apache-Coyote/1.1", "", "", ServerJava}, // Tomcat, not Apache httpd
		{"Caddy", "", "", ServerCaddy},
		{"Jetty(9.4.z-SNAPSHOT)", "", "", ServerJava},
		{"BaseHTTP/0.6 Python/3.11.7", "", "", ServerPython}, // testdata/field/nodepy
		{"Werkzeug/3.1.8 Python/3.11.7", "", "", ServerPython},
		{"gunicorn", "", "", ServerPython},
		{"uvicorn", "", "", ServerPython},
		{"cloudflare", "400 The plain HTTP request was sent to HTTPS port", "", ServerUnknown}, // a header that names another server wins
		{"", "400 The plain HTTP request was sent to HTTPS port", "", ServerNginx},
		{"", "400 No required SSL certificate was sent", "", ServerNginx},
		{"", "", "<hr><center>nginx</center>", ServerNginx},
		{"", "", "Client sent an HTTP request to an HTTPS server.", ServerGo},
		{"", "Bad Request", "bad request", ServerUnknown},
	}
	for _, tt := range tests {
		if got := RecognizeServer(&analysis.HTTPResponse{Server: tt.header, Title: tt.title, Body: tt.body}); got != tt.want {
			t.Errorf("RecognizeServer(%q, %q, %q) = %q, want %q", tt.header, tt.title, tt.body, got, tt.want)
		}
	}
	if got := RecognizeServer(nil); got != ServerUnknown {
		t.Errorf("RecognizeServer(nil) = %q", got)
	}
	// Servers without a Server header, by the headers they send.
	headers := []struct {
		server, keepAlive, connection, poweredBy string
		want                                     Server
	}{
		{"", "timeout=5", "keep-alive", "", ServerNode}, // Node.js 20's https server (testdata/field/nodepy)
		{"", "timeout=5, max=100", "keep-alive", "", ServerNode},
		{"", "", "", "Express", ServerNode},
		{"", "timeout=20", "", "", ServerUnknown},                // Tomcat answering HTTP/1.1: no Connection header
		{"", "timeout=5, max=100", "Keep-Alive", "", ServerNode}, // header values are case-insensitive
		{"Apache/2.4.57", "timeout=5, max=100", "Keep-Alive", "", ServerApache},
		{"", "timeout=abc", "keep-alive", "", ServerUnknown},
		{"", "max=5", "keep-alive", "", ServerUnknown},
		{"", "", "keep-alive", "PHP/8.2", ServerUnknown},
	}
	for _, tt := range headers {
		r := &analysis.HTTPResponse{Server: tt.server, KeepAlive: tt.keepAlive, Connection: tt.connection, PoweredBy: tt.poweredBy}
		if got := RecognizeServer(r); got != tt.want {
			t.Errorf("RecognizeServer(%+v) = %q, want %q", r, got, tt.want)
		}
	}
}

func TestDefaultCertificate(t *testing.T) {
	tests := []struct {
		sni   string
		names []string
		want  bool
	}{
		{"unknown.test", []string{"other.test"}, true},
		{"api.example.com", []string{"www.example.com"}, false},
		{"example.com", []string{"*.example.com"}, false},
		{"shop.example.org", []string{"example.com", "www.example.com"}, true},
		{"10.0.0.1", []string{"example.com"}, false},
		{"localhost", []string{"localhost.localdomain"}, true},
	}
	for _, tt := range tests {
		d := &diagnosis{hello: helloFor(tt.sni), chain: chainFor(t, tt.names)}
		if got := d.defaultCertificate(); got != tt.want {
			t.Errorf("SNI %q, certificate for %v: default certificate %v, want %v", tt.sni, tt.names, got, tt.want)
		}
	}
}

func helloFor(sni string) *tlsparse.ClientHello { return &tlsparse.ClientHello{ServerName: sni} }

// chainFor is a leaf with the names only: defaultCertificate reads
// nothing else.
func chainFor(t *testing.T, names []string) []*x509.Certificate {
	t.Helper()
	return []*x509.Certificate{{DNSNames: names}}
}
