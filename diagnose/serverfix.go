package diagnose

// The one table of server-side fixes: for each change made on a server,
// the setting that makes it in each common server. Verdicts name the
// change; serverFix renders it for the server the capture shows, or as a
// short list when the server is unknown.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// Server is a TLS server implementation whose settings a fix can name.
type Server string

// The servers the fix table knows. The names are stable (they appear in
// JSON output through the fix texts' prefixes and in tests).
const (
	ServerUnknown Server = ""
	ServerNginx   Server = "nginx"
	ServerApache  Server = "apache"
	ServerHAProxy Server = "haproxy"
	ServerCaddy   Server = "caddy"
	ServerGo      Server = "go"
	ServerJava    Server = "java"
	ServerNode    Server = "node"
	ServerPython  Server = "python"
)

// Servers lists the servers of the short list, the most common in front
// of TLS services first. Node.js and Python are not in it: their TLS
// settings are code (options of tls.createServer, methods of
// ssl.SSLContext) that only their own authors change, and each would
// lengthen every fix for an unknown server by a quarter; they are named
// when the capture shows them (RecognizeServer).
var Servers = []Server{ServerNginx, ServerApache, ServerHAProxy, ServerCaddy, ServerGo, ServerJava}

// AllServers lists every server the table knows: the short list, then
// those named only when recognised.
var AllServers = append(slices.Clone(Servers), ServerNode, ServerPython)

// Name is the server's name in a sentence.
func (s Server) Name() string {
	switch s {
	case ServerNginx:
		return "nginx"
	case ServerApache:
		return "Apache httpd"
	case ServerHAProxy:
		return "HAProxy"
	case ServerCaddy:
		return "Caddy"
	case ServerGo:
		return "Go crypto/tls"
	case ServerJava:
		return "Java (JSSE)"
	case ServerNode:
		return "Node.js"
	case ServerPython:
		return "Python ssl"
	}
	return "the server"
}

// ServerChange is one change made on a server to fix a verdict.
type ServerChange uint8

// The changes, each a row of the fix table.
const (
	// ChangeFullChain: send the intermediates after the leaf.
	ChangeFullChain ServerChange = iota + 1
	// ChangeRenew: install the renewed certificate and reload.
	ChangeRenew
	// ChangeCertName: serve a certificate that covers the name asked for.
	ChangeCertName
	// ChangeDefaultServer: the name matched no server block, so the
	// default one answered with its certificate.
	ChangeDefaultServer
	// ChangeServerName: the server refuses a name it is not configured
	// for.
	ChangeServerName
	// ChangeModernVersions: the server is limited to old versions.
	ChangeModernVersions
	// ChangeAllowTLS12: the server accepts TLS 1.3 only.
	ChangeAllowTLS12
	// ChangeCiphers: the server's suites exclude current clients (e.g.
	// RSA key exchange only).
	ChangeCiphers
	// ChangeGroups: the server's key exchange groups exclude those
	// current clients offer (e.g. X448 or FFDHE only).
	ChangeGroups
	// ChangeSignatures: the server signs its key exchange only with
	// SHA-1, which current clients no longer accept in TLS 1.2 (RFC 9155).
	ChangeSignatures
	// ChangeClientCertRequired: the server requires a client certificate.
	ChangeClientCertRequired
	// ChangeClientCA: the server does not trust the client certificate's
	// issuer.
	ChangeClientCA
	// ChangeClientSignatures: the server's CertificateRequest allows the
	// client only SHA-1 signatures, which current clients no longer make.
	ChangeClientSignatures
	// ChangeListenTLS: the port serves plaintext where TLS was expected.
	ChangeListenTLS
	// ChangeHTTP2: the server does not offer h2.
	ChangeHTTP2
	// ChangeRedirectPlain: plain HTTP reaches the TLS port; the server
	// can redirect it to https:// instead of refusing it.
	ChangeRedirectPlain
	// ChangeKeepAlive: the server closes idle keep-alive connections
	// sooner than its clients stop reusing them.
	ChangeKeepAlive
	// ChangeListenIPv6: the server listens on IPv4 only, and its name has
	// an IPv6 address too.
	ChangeListenIPv6
)

// ServerChanges lists every change, in the order of the README's table.
var ServerChanges = []ServerChange{
	ChangeFullChain, ChangeRenew, ChangeCertName, ChangeDefaultServer, ChangeServerName,
	ChangeModernVersions, ChangeAllowTLS12, ChangeCiphers, ChangeGroups, ChangeSignatures,
	ChangeClientCertRequired, ChangeClientCA, ChangeClientSignatures, ChangeListenTLS, ChangeHTTP2, ChangeRedirectPlain, ChangeKeepAlive,
	ChangeListenIPv6,
}

// String is the change's stable name.
func (c ServerChange) String() string {
	switch c {
	case ChangeFullChain:
		return "full_chain"
	case ChangeRenew:
		return "renew"
	case ChangeCertName:
		return "cert_name"
	case ChangeDefaultServer:
		return "default_server"
	case ChangeServerName:
		return "server_name"
	case ChangeModernVersions:
		return "modern_versions"
	case ChangeAllowTLS12:
		return "allow_tls12"
	case ChangeCiphers:
		return "ciphers"
	case ChangeGroups:
		return "groups"
	case ChangeSignatures:
		return "signatures"
	case ChangeClientCertRequired:
		return "client_cert_required"
	case ChangeClientCA:
		return "client_ca"
	case ChangeClientSignatures:
		return "client_signatures"
	case ChangeListenTLS:
		return "listen_tls"
	case ChangeHTTP2:
		return "http2"
	case ChangeRedirectPlain:
		return "redirect_plain"
	case ChangeKeepAlive:
		return "keepalive"
	case ChangeListenIPv6:
		return "listen_ipv6"
	}
	return fmt.Sprintf("server_change(%d)", uint8(c))
}

// serverFixes is the table: per change, per server, the setting. A server
// without an entry has nothing to set for that change (Caddy fetches and
// sends its chains itself). Texts are short: the short list names up to
// six of them in one fix.
var serverFixes = map[ServerChange]map[Server]string{
	ChangeFullChain: {
		ServerNginx:   "`ssl_certificate` must name the full chain, leaf first, then the intermediates (certbot: fullchain.pem, not cert.pem); then `nginx -t && nginx -s reload`",
		ServerApache:  "`SSLCertificateFile` with the leaf followed by the intermediates (httpd before 2.4.8: `SSLCertificateChainFile`); then `apachectl graceful`",
		ServerHAProxy: "the `crt` PEM file must hold the leaf, then the intermediates, then the key",
		ServerCaddy:   "with `tls cert.pem key.pem` the cert file must hold the full chain, leaf first (Caddy's own certificates come with their chain)",
		ServerGo:      "`tls.Certificate.Certificate` must hold the leaf then the intermediates: load the full-chain PEM with `tls.LoadX509KeyPair`",
		ServerJava:    "the keystore's key entry must carry the whole chain: import the CA's reply (leaf and intermediates) into the key's alias with `keytool -importcert`",
		ServerNode:    "the `cert` option of `https.createServer`/`tls.createServer` must hold the full-chain PEM, leaf first, then the intermediates",
		ServerPython:  "`SSLContext.load_cert_chain` with the full-chain PEM, leaf first (gunicorn `--certfile`, uvicorn `--ssl-certfile`)",
	},
	ChangeRenew: {
		ServerNginx:   "point `ssl_certificate`/`ssl_certificate_key` at the renewed files and run `nginx -t && nginx -s reload` (nginx serves the old certificate until reloaded)",
		ServerApache:  "put the renewed files in `SSLCertificateFile`/`SSLCertificateKeyFile` and run `apachectl graceful`",
		ServerHAProxy: "replace the `crt` file and reload HAProxy (or `set ssl cert` on the runtime API)",
		ServerCaddy:   "Caddy's automatic renewal failed: read its log (ACME errors); for a `tls cert key` pair, replace the files and `caddy reload`",
		ServerGo:      "restart the server, or load certificates through `tls.Config.GetCertificate` so a renewed file is picked up",
		ServerJava:    "import the renewed certificate into the keystore and restart the server",
		ServerNode:    "restart the server, or pass the renewed files to `server.setSecureContext({cert, key})`",
		ServerPython:  "restart the server (gunicorn, uvicorn) so that `load_cert_chain` reads the renewed files",
	},
	ChangeCertName: {
		ServerNginx:   "the `ssl_certificate` of the `server` block whose `server_name` lists the name must cover it (subjectAltName)",
		ServerApache:  "the `SSLCertificateFile` of the `<VirtualHost>` with that `ServerName`/`ServerAlias` must cover it",
		ServerHAProxy: "add a `crt` whose subjectAltName covers the name (HAProxy picks among its `crt` files by SNI)",
		ServerCaddy:   "put the name in the site address so Caddy gets a certificate for it",
		ServerGo:      "add a certificate for the name to `tls.Config.Certificates` (chosen by SNI) or return it from `GetCertificate`",
		ServerJava:    "the keystore must hold a key entry whose certificate covers the name",
		ServerNode:    "the `cert` must cover the name, or `server.addContext(name, …)`/`SNICallback` supply one that does",
		ServerPython:  "the certificate of `load_cert_chain` must cover the name, or `sni_callback` switch to a context whose certificate does",
	},
	ChangeDefaultServer: {
		ServerNginx:   "no `server_name` matched the SNI, so the `default_server` block answered with its certificate: add the name to `server_name` of the block that has its certificate, and let the default server refuse unknown names (`ssl_reject_handshake on;`)",
		ServerApache:  "no `<VirtualHost>` has the name as `ServerName`/`ServerAlias`, so the first one for the address answered: add the name (`SSLStrictSNIVHostCheck on` refuses unknown names)",
		ServerHAProxy: "no `crt` covers the name, so the bind's first (default) certificate was sent: add a `crt` for it (`strict-sni` refuses unknown names)",
		ServerCaddy:   "no site address matches the name: add it to a site block",
		ServerGo:      "no entry of `tls.Config.Certificates` covers the name, so Go sent `Certificates[0]`: add one (or refuse the name in `GetCertificate`)",
		ServerNode:    "no `server.addContext` entry matched the name, so the default `cert` was sent: add one for it",
		ServerPython:  "`sni_callback` kept the default context for the name, so its certificate was sent: set `ssl_socket.context` to one for the name",
	},
	ChangeServerName: {
		ServerNginx:   "add the name to `server_name` of the block that serves it (the default server refuses other names: `ssl_reject_handshake on`)",
		ServerApache:  "add the name as `ServerName`/`ServerAlias` of a `<VirtualHost>` (`SSLStrictSNIVHostCheck on` refuses other names)",
		ServerHAProxy: "add a `crt` for the name (`strict-sni` refuses names no certificate covers)",
		ServerCaddy:   "add the name to a site block",
		ServerGo:      "`GetCertificate` (or `Certificates`) has nothing for the name: add it",
		ServerJava:    "the server's `SNIMatcher` rejects the name: add it",
		ServerNode:    "`SNICallback` gives no context for the name: add it",
		ServerPython:  "`sni_callback` refuses the name (returns an alert): add it",
	},
	ChangeModernVersions: {
		ServerNginx:   "`ssl_protocols TLSv1.2 TLSv1.3;`",
		ServerApache:  "`SSLProtocol -all +TLSv1.2 +TLSv1.3`",
		ServerHAProxy: "`ssl-min-ver TLSv1.2` on the `bind` (or in `ssl-default-bind-options`)",
		ServerCaddy:   "`protocols tls1.2 tls1.3` in the `tls` block",
		ServerGo:      "`tls.Config{MinVersion: tls.VersionTLS12}` and no `MaxVersion` below TLS 1.3",
		ServerJava:    "`jdk.tls.server.protocols=TLSv1.2,TLSv1.3` (a JDK from 8u261 on for TLS 1.3)",
		ServerNode:    "`minVersion: 'TLSv1.2'` and no `maxVersion` below `'TLSv1.3'`",
		ServerPython:  "`SSLContext.minimum_version = ssl.TLSVersion.TLSv1_2` and no `maximum_version` below TLS 1.3",
	},
	ChangeAllowTLS12: {
		ServerNginx:   "`ssl_protocols TLSv1.2 TLSv1.3;` (the server allows TLS 1.3 only)",
		ServerApache:  "`SSLProtocol -all +TLSv1.2 +TLSv1.3`",
		ServerHAProxy: "`ssl-min-ver TLSv1.2` instead of `TLSv1.3` on the `bind`",
		ServerCaddy:   "`protocols tls1.2 tls1.3` in the `tls` block",
		ServerGo:      "`tls.Config.MinVersion = tls.VersionTLS12`",
		ServerJava:    "remove TLSv1.2 from `jdk.tls.disabledAlgorithms` and keep it in `jdk.tls.server.protocols`",
		ServerNode:    "`minVersion: 'TLSv1.2'`",
		ServerPython:  "`SSLContext.minimum_version = ssl.TLSVersion.TLSv1_2`",
	},
	ChangeCiphers: {
		ServerNginx:   "`ssl_ciphers` must include ECDHE AEAD suites, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305` (RSA key exchange alone, AES128-SHA…, is refused by current clients)",
		ServerApache:  "`SSLCipherSuite` must include ECDHE AEAD suites (ECDHE-RSA-AES128-GCM-SHA256…)",
		ServerHAProxy: "`ciphers` on the `bind` (or `ssl-default-bind-ciphers`) must include ECDHE AEAD suites",
		ServerCaddy:   "remove the `ciphers` restriction from the `tls` block",
		ServerGo:      "leave `tls.Config.CipherSuites` nil, or include the TLS_ECDHE_*_GCM suites",
		ServerJava:    "`jdk.tls.disabledAlgorithms` (and `jdk.tls.server.cipherSuites`) must leave the ECDHE GCM suites enabled",
		ServerNode:    "`ciphers` must include ECDHE AEAD suites, or be left at Node's default",
		ServerPython:  "`SSLContext.set_ciphers` must include ECDHE AEAD suites, e.g. `ECDHE+AESGCM:ECDHE+CHACHA20` (gunicorn `--ciphers`, uvicorn `--ssl-ciphers`)",
	},
	ChangeGroups: {
		ServerNginx:   "`ssl_ecdh_curve` must include a group current clients offer, e.g. `X25519:prime256v1:secp384r1` (the default, `auto`, does)",
		ServerApache:  "`SSLOpenSSLConfCmd Curves` must include X25519 or prime256v1 (or be removed)",
		ServerHAProxy: "`curves` on the `bind` (or `ssl-default-bind-curves`) must include X25519 or P-256",
		ServerCaddy:   "remove the `curves` restriction from the `tls` block, or include x25519 and secp256r1",
		ServerGo:      "leave `tls.Config.CurvePreferences` nil, or include `tls.X25519` and `tls.CurveP256`",
		ServerJava:    "`jdk.tls.namedGroups` must include x25519 and secp256r1",
		ServerNode:    "`ecdhCurve` must include X25519 or P-256 (the default, `auto`, does)",
		ServerPython:  "`SSLContext.set_ecdh_curve` names one curve: `prime256v1`, or leave it out (OpenSSL's default groups include X25519 and P-256)",
	},
	ChangeSignatures: {
		ServerNginx:   "`ssl_conf_command SignatureAlgorithms` (nginx 1.19.4 and later) must allow SHA-256 signatures, e.g. `RSA-PSS+SHA256:RSA+SHA256:ECDSA+SHA256`, or be removed",
		ServerApache:  "`SSLOpenSSLConfCmd SignatureAlgorithms` must allow SHA-256 signatures, e.g. `RSA-PSS+SHA256:RSA+SHA256:ECDSA+SHA256`, or be removed",
		ServerHAProxy: "`sigalgs` on the `bind` (or `ssl-default-bind-sigalgs`) must allow SHA-256 signatures, or be removed",
		ServerGo:      "leave `tls.Certificate.SupportedSignatureAlgorithms` nil, or include `tls.PSSWithSHA256` and `tls.PKCS1WithSHA256` (ECDSA: `tls.ECDSAWithP256AndSHA256`)",
		ServerJava:    "`jdk.tls.server.SignatureSchemes` must include rsa_pss_rsae_sha256 and rsa_pkcs1_sha256 (ECDSA: ecdsa_secp256r1_sha256), or be unset",
		ServerNode:    "`sigalgs` must allow SHA-256 signatures, e.g. `rsa_pss_rsae_sha256:rsa_pkcs1_sha256:ecdsa_secp256r1_sha256`, or be removed",
	},
	ChangeClientCertRequired: {
		ServerNginx:   "`ssl_verify_client on` requires a certificate issued by a CA of `ssl_client_certificate`; use `ssl_verify_client optional` if clients may come without one",
		ServerApache:  "`SSLVerifyClient require` requires a certificate from `SSLCACertificateFile`'s CAs; `SSLVerifyClient optional` if not",
		ServerHAProxy: "`verify required` on the `bind` requires a certificate from its `ca-file`; `verify optional` if not",
		ServerCaddy:   "`client_auth { mode require_and_verify }` in the `tls` block; `mode request` if not",
		ServerGo:      "`tls.Config.ClientAuth = tls.RequireAndVerifyClientCert` with `ClientCAs`; `VerifyClientCertIfGiven` if not",
		ServerJava:    "`setNeedClientAuth(true)` (Tomcat `clientAuth=\"true\"`) with the CAs of the truststore; `setWantClientAuth` if not",
		ServerNode:    "`requestCert: true, rejectUnauthorized: true` requires a certificate from a CA of `ca`; `rejectUnauthorized: false` (and check `req.socket.authorized`) if not",
		ServerPython:  "`verify_mode = ssl.CERT_REQUIRED` requires a certificate from a CA of `load_verify_locations` (uvicorn `--ssl-cert-reqs 2 --ssl-ca-certs`); `ssl.CERT_OPTIONAL` if not",
	},
	ChangeClientCA: {
		ServerNginx:   "`ssl_client_certificate` must hold the client certificate's issuer (and `ssl_verify_depth` cover its chain)",
		ServerApache:  "`SSLCACertificateFile` must hold the client certificate's issuer",
		ServerHAProxy: "the `ca-file` of the `bind` must hold the client certificate's issuer",
		ServerCaddy:   "the `client_auth` trust pool must hold the client certificate's issuer",
		ServerGo:      "`tls.Config.ClientCAs` must hold the client certificate's issuer",
		ServerJava:    "the truststore (`javax.net.ssl.trustStore`) must hold the client certificate's issuer",
		ServerNode:    "`ca` must hold the client certificate's issuer",
		ServerPython:  "`SSLContext.load_verify_locations` (gunicorn `--ca-certs`, uvicorn `--ssl-ca-certs`) must hold the client certificate's issuer",
	},
	ChangeClientSignatures: {
		ServerNginx:   "`ssl_conf_command ClientSignatureAlgorithms` (nginx 1.19.4 and later) must allow SHA-256 signatures, e.g. `RSA-PSS+SHA256:RSA+SHA256:ECDSA+SHA256`, or be removed",
		ServerApache:  "`SSLOpenSSLConfCmd ClientSignatureAlgorithms` must allow SHA-256 signatures, or be removed",
		ServerHAProxy: "`client-sigalgs` on the `bind` (or `ssl-default-bind-client-sigalgs`) must allow SHA-256 signatures, or be removed",
	},
	ChangeListenTLS: {
		ServerNginx:   "the port's `listen` lacks `ssl`: `listen 443 ssl;` with `ssl_certificate` and `ssl_certificate_key`",
		ServerApache:  "`SSLEngine on` in the port's `<VirtualHost>` (and `Listen 443 https`)",
		ServerHAProxy: "`bind :443 ssl crt /path/to/cert.pem`",
		ServerCaddy:   "a site address without `http://` and without a bare `:80`-style port",
		ServerGo:      "`ListenAndServeTLS` (or a `tls.NewListener`) instead of `ListenAndServe`",
		ServerJava:    "a TLS connector (Tomcat `SSLEnabled=\"true\"`, `SSLServerSocketFactory`)",
		ServerNode:    "`https.createServer({cert, key}, …)` instead of `http.createServer`",
		ServerPython:  "wrap the listening socket with `SSLContext.wrap_socket(sock, server_side=True)` (gunicorn `--certfile`/`--keyfile`, uvicorn `--ssl-certfile`/`--ssl-keyfile`)",
	},
	ChangeHTTP2: {
		ServerNginx:   "`listen 443 ssl http2;` (nginx 1.25.1 and later: `http2 on;`)",
		ServerApache:  "`Protocols h2 http/1.1` (mod_http2)",
		ServerHAProxy: "`alpn h2,http/1.1` on the `bind`",
		ServerCaddy:   "`protocols h1 h2` in the `servers` options (h2 is on by default)",
		ServerGo:      "serve with net/http, which offers h2 unless `TLSNextProto` is set to an empty map, or add \"h2\" to `tls.Config.NextProtos`",
		ServerJava:    "enable HTTP/2 on the connector (Tomcat `<UpgradeProtocol className=\"org.apache.coyote.http2.Http2Protocol\"/>`)",
		ServerNode:    "`http2.createSecureServer({allowHTTP1: true, …})` instead of `https.createServer`, which speaks HTTP/1.1 only",
	},
	ChangeRedirectPlain: {
		ServerNginx: "to redirect plain requests on the TLS port instead of answering 400: `error_page 497 https://$host$request_uri;`",
		ServerCaddy: "serve plain HTTP on its own port (Caddy redirects port 80 to https:// by itself)",
		ServerGo:    "net/http answers a plain request on its TLS port with a 400 of its own and cannot redirect it: serve plain HTTP on a port of its own with a handler that redirects to https://",
	},
	ChangeKeepAlive: {
		ServerNginx:   "`keepalive_timeout` (75s by default) longer than the clients' idle timeout (Go's `Transport.IdleConnTimeout` is 90s), and `keepalive_requests` (1000 by default) high enough",
		ServerApache:  "`KeepAliveTimeout` (5 s by default) longer than the clients' idle timeout",
		ServerHAProxy: "`timeout http-keep-alive` (and `timeout client`) longer than the clients' idle timeout",
		ServerCaddy:   "`idle_timeout` in the `servers` options (5m by default) longer than the clients' idle timeout",
		ServerGo:      "`http.Server.IdleTimeout` longer than the clients' idle timeout",
		ServerJava:    "the connector's keep-alive timeout longer than the clients' idle timeout (Tomcat `keepAliveTimeout`)",
		ServerNode:    "`server.keepAliveTimeout` (5 s by default) longer than the clients' idle timeout (Go's `Transport.IdleConnTimeout` is 90s)",
		ServerPython:  "the server's keep-alive timeout longer than the clients' idle timeout: uvicorn `--timeout-keep-alive` (5 s by default), gunicorn `--keep-alive`; http.server: the handler's `timeout`",
	},
	ChangeListenIPv6: {
		ServerNginx:   "a `listen [::]:443 ssl;` beside the IPv4 `listen` (nginx listens on IPv4 only unless told)",
		ServerApache:  "`Listen 443` (every address) or `Listen [::]:443` beside the IPv4 one, and the `<VirtualHost>` on `*:443`",
		ServerHAProxy: "`bind :::443 v4v6 ssl crt …` (or a second `bind` on `:::443`)",
		ServerCaddy:   "drop the `bind` that limits it to an IPv4 address (Caddy listens on every address by default)",
		ServerGo:      "listen on \"tcp\" and \":443\" (every address of both families), not \"tcp4\" or an IPv4 address",
		ServerJava:    "bind the connector to every address (`::`, or no address), not to `0.0.0.0` or an IPv4 address",
		ServerNode:    "`server.listen(443)` with no host (or `'::'`) listens on every address of both families, not `'0.0.0.0'`",
		ServerPython:  "bind to `::`, not `0.0.0.0` (gunicorn `--bind [::]:443`, uvicorn `--host ::`)",
	},
}

// ServerFix renders a change for srv: that server's setting alone when srv
// is known, otherwise the short list of every server that has one, most
// common first. It returns "" for a change the table does not know, and
// for a known server that has no setting for it: the other servers'
// settings would be wrong on it.
func ServerFix(c ServerChange, srv Server) string {
	if srv != ServerUnknown {
		if s, ok := serverFixes[c][srv]; ok {
			return srv.Name() + ": " + s
		}
		return ""
	}
	return shortFixes()[c]
}

// shortFixes is ServerFix's short list of each change, built once: most
// captures do not show the server software, and many of their verdicts
// name the same change. It is built on first use, not at the start of
// every command (a fiftieth of it).
var shortFixes = sync.OnceValue(func() map[ServerChange]string {
	lists := map[ServerChange]string{}
	for c, row := range serverFixes {
		var parts []string
		for _, s := range Servers {
			if text, ok := row[s]; ok {
				parts = append(parts, s.Name()+": "+text)
			}
		}
		lists[c] = strings.Join(parts, "; ")
	}
	return lists
})

// serverSide appends the server-side settings of one or more changes to
// a fix: "…; on the server, nginx: …". When the server was recognised the
// sentence says how.
//
// The text is built in d's buffer and made a string by d.text: the fixes
// of a capture's failures are a few long texts (a KB or two) again and
// again, and each was three strings of its own.
func (d *diagnosis) serverSide(fix string, cs ...ServerChange) string {
	srv, how := d.server()
	b := d.buf[:0]
	if fix != "" {
		b = append(append(b, fix...), "; "...)
	}
	if srv != ServerUnknown {
		b = append(b, "on the server ("...)
		b = append(b, srv.Name()...)
		b = append(b, ", "...)
		b = append(b, how...)
		b = append(b, "), "...)
	} else {
		b = append(b, "on the server, "...)
	}
	settings := 0
	for _, c := range cs {
		if s := ServerFix(c, srv); s != "" {
			if settings > 0 {
				b = append(b, "; "...)
			}
			b = append(b, s...)
			settings++
		}
	}
	d.buf = b
	if settings == 0 {
		return fix
	}
	return d.text(b)
}

// RecognizeServer names the server software from an HTTP response: its
// Server header, or the error page's text where a server writes its own
// (nginx signs its pages, Go's net/http answers a plaintext request to
// a TLS port with a sentence of its own), or for a server that sends no
// Server header the headers it does send (Node.js: see nodeHeaders).
// ServerUnknown when none says, and for a nil response.
func RecognizeServer(r *analysis.HTTPResponse) Server {
	if r == nil {
		return ServerUnknown
	}
	h := strings.ToLower(r.Server)
	switch {
	case strings.HasPrefix(h, "nginx"), strings.HasPrefix(h, "openresty"):
		return ServerNginx
	case strings.HasPrefix(h, "apache-coyote"):
		return ServerJava
	case strings.HasPrefix(h, "apache"):
		return ServerApache
	case strings.HasPrefix(h, "caddy"):
		return ServerCaddy
	case strings.HasPrefix(h, "haproxy"):
		return ServerHAProxy
	case strings.HasPrefix(h, "jetty"), strings.Contains(h, "glassfish"):
		return ServerJava
	// Python's servers: http.server ("BaseHTTP/0.6 Python/3.11.7"),
	// Werkzeug ("Werkzeug/3.1.8 Python/3.11.7"), gunicorn, uvicorn.
	case strings.HasPrefix(h, "basehttp/"), strings.HasPrefix(h, "werkzeug/"), strings.HasPrefix(h, "gunicorn"),
		strings.HasPrefix(h, "uvicorn"), strings.Contains(h, " python/"):
		return ServerPython
	case h != "":
		return ServerUnknown
	}
	if nodeHeaders(r) != "" {
		return ServerNode
	}
	page := strings.ToLower(r.Title + " " + r.Body)
	switch {
	case strings.Contains(page, "<center>nginx"), strings.Contains(page, "the plain http request was sent to https port"),
		strings.Contains(page, "no required ssl certificate was sent"):
		return ServerNginx
	case strings.Contains(page, "client sent an http request to an https server"):
		return ServerGo
	case strings.Contains(page, "speaking plain http to an ssl-enabled server port"):
		return ServerApache
	}
	return ServerUnknown
}

// nodeHeaders returns the headers that tell a Node.js server from a
// response without a Server header, quoted, or "": Express's
// "X-Powered-By: Express", or the "Connection: keep-alive" and
// "Keep-Alive: timeout=N" (", max=M" with maxRequestsPerSocket) that
// Node's http module adds to every kept-alive answer. Servers that send
// Keep-Alive name themselves in a Server header (Apache), or leave
// "Connection: keep-alive" out of HTTP/1.1 answers (Tomcat).
func nodeHeaders(r *analysis.HTTPResponse) string {
	switch {
	case r.Server != "":
		return ""
	case strings.HasPrefix(r.PoweredBy, "Express"):
		return fmt.Sprintf("'X-Powered-By: %s'", r.PoweredBy)
	case strings.EqualFold(r.Connection, "keep-alive") && statedTimeout(r.KeepAlive) >= 0:
		return fmt.Sprintf("'Connection: keep-alive' and 'Keep-Alive: %s'", r.KeepAlive)
	}
	return ""
}

// statedTimeout reads the seconds of a Keep-Alive header in Node's form,
// "timeout=N" or "timeout=N, max=M"; -1 when it is not that.
func statedTimeout(v string) int {
	rest, ok := strings.CutPrefix(v, "timeout=")
	if !ok {
		return -1
	}
	digits, requests, hasMax := strings.Cut(rest, ", max=")
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || len(digits) > 6 {
		return -1
	}
	if hasMax {
		if m, err := strconv.Atoi(requests); err != nil || m < 0 {
			return -1
		}
	}
	return n
}

// server is the server software the fix names: the one the caller knows
// (Config.Server, e.g. from a probe's response), else the one the
// capture's HTTP response shows, with how it was told.
func (d *diagnosis) server() (Server, string) {
	if d.srv != ServerUnknown {
		return d.srv, "from its HTTP response"
	}
	r := d.response
	srv := RecognizeServer(r)
	switch {
	case srv == ServerUnknown:
		return srv, ""
	case r.Frame.Number == 0:
		return srv, fmt.Sprintf("its Server header says '%s'", r.Server)
	case r.Server != "":
		return srv, fmt.Sprintf("its Server header says '%s', %s", r.Server, frameRef(r.Frame.Number))
	case srv == ServerNode:
		return srv, fmt.Sprintf("likely: no Server header, and %s as Node's http module sends, %s", nodeHeaders(r), frameRef(r.Frame.Number))
	}
	return srv, fmt.Sprintf("its own error page, %s", frameRef(r.Frame.Number))
}
