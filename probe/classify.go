package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/proxyparse"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Class is the stable snake_case name of what went wrong on the client's
// side of a probe. The names are part of the product's interface (the JSON
// field client.error_class): never rename one.
//
// Besides the constants below there is one family: TLSAlertPrefix followed
// by the RFC 8446 name of a fatal alert the server sent, e.g.
// "tls_alert_protocol_version", "tls_alert_handshake_failure" (see
// AlertClass).
type Class string

// The classes, roughly in the order a connection meets them.
const (
	ClassNone Class = "" // no error: the request succeeded

	DNSNotFound Class = "dns_not_found" // the name does not exist or has no address
	DNSTimeout  Class = "dns_timeout"   // the resolver did not answer in time
	DNSError    Class = "dns_error"     // any other resolver failure

	ProxyRefused       Class = "proxy_refused"        // nothing listens on the proxy's port
	ProxyConnectFailed Class = "proxy_connect_failed" // the proxy refused the tunnel: an error status to CONNECT, a SOCKS refusal (of the target or the credentials)
	ProxyError         Class = "proxy_error"          // any other failure reaching or talking to the proxy

	ConnectionRefused  Class = "connection_refused"  // the SYN was answered by a RST
	ConnectTimeout     Class = "connect_timeout"     // the TCP connection did not complete within Config.ConnectTimeout
	HostUnreachable    Class = "host_unreachable"    // no route to the host, or an ICMP error from a firewall (Linux: "no route to host", over IPv6 "permission denied")
	NetworkUnreachable Class = "network_unreachable" // no route to its network
	ConnectionReset    Class = "connection_reset"    // a RST ended the connection
	ConnectionClosed   Class = "connection_closed"   // the server closed the connection without an alert
	Timeout            Class = "timeout"             // Config.MaxTime (or an I/O timeout) ran out after the connection was made
	// TimeoutAwaitingHeaders: the handshake completed and the request
	// went out, but no response header came in time (Go's "Client.Timeout
	// exceeded while awaiting headers" and "timeout awaiting response
	// headers"): the server application, not TLS, is stuck.
	TimeoutAwaitingHeaders Class = "timeout_awaiting_headers"
	Canceled               Class = "canceled" // the probe was interrupted

	NotTLS Class = "not_tls" // the server answered with something that is not TLS (tls.RecordHeaderError)

	CertUnknownAuthority    Class = "cert_unknown_authority"      // the chain does not lead to a root the client trusts (x509.UnknownAuthorityError)
	CertExpired             Class = "cert_expired"                // a certificate of the chain has expired
	CertNotYetValid         Class = "cert_not_yet_valid"          // a certificate of the chain is not valid yet
	CertHostnameMismatch    Class = "cert_hostname_mismatch"      // the certificate is not valid for the name asked for (x509.HostnameError)
	CertNotAuthorizedToSign Class = "cert_not_authorized_to_sign" // an issuer of the chain is not a CA (also when an UnknownAuthorityError says so)
	CertIncompatibleUsage   Class = "cert_incompatible_usage"     // the extended key usage does not allow server authentication
	CertNameConstraints     Class = "cert_name_constraints"       // a CA's name constraints exclude the name
	CertInsecureAlgorithm   Class = "cert_insecure_algorithm"     // signed with an algorithm Go refuses (x509.InsecureAlgorithmError, also inside an UnknownAuthorityError)
	CertInvalid             Class = "cert_invalid"                // any other reason crypto/x509 or crypto/tls rejected the chain (unparsable, an RSA key over 8192 bits)

	ClientRejectedVersion Class = "client_rejected_version" // the server chose a version outside Config.MinVersion–MaxVersion
	ClientRejectedCipher  Class = "client_rejected_cipher"  // the server chose a cipher suite the client did not offer
	ClientRejectedALPN    Class = "client_rejected_alpn"    // the server chose an application protocol the client did not offer
	DowngradeDetected     Class = "downgrade_detected"      // the server's random carries a downgrade sentinel (RFC 8446, Section 4.1.3)
	RenegotiationRefused  Class = "renegotiation_refused"   // the server asked to renegotiate after the handshake and the client refused (crypto/tls's default: a tls.Config's Renegotiation is RenegotiateNever)
	TLSError              Class = "tls_error"               // any other failure of the handshake on the client's side

	HTTPError Class = "http_error" // the TLS handshake succeeded but the HTTP exchange failed
	Other     Class = "other"      // none of the above
)

// Classes lists every class but the tls_alert_ family, in the order of
// the constants.
var Classes = []Class{
	DNSNotFound, DNSTimeout, DNSError,
	ProxyRefused, ProxyConnectFailed, ProxyError,
	ConnectionRefused, ConnectTimeout, HostUnreachable, NetworkUnreachable,
	ConnectionReset, ConnectionClosed, Timeout, TimeoutAwaitingHeaders, Canceled,
	NotTLS,
	CertUnknownAuthority, CertExpired, CertNotYetValid, CertHostnameMismatch,
	CertNotAuthorizedToSign, CertIncompatibleUsage, CertNameConstraints, CertInsecureAlgorithm, CertInvalid,
	ClientRejectedVersion, ClientRejectedCipher, ClientRejectedALPN, DowngradeDetected, RenegotiationRefused, TLSError,
	HTTPError, Other,
}

// TLSAlertPrefix starts the class of a fatal alert from the server.
const TLSAlertPrefix = "tls_alert_"

// AlertClass returns the class of a fatal alert the server sent:
// "tls_alert_" followed by the alert's RFC 8446 name.
func AlertClass(d tlsparse.AlertDescription) Class {
	return Class(TLSAlertPrefix + d.String())
}

// Alert returns the alert a tls_alert_ class names, and whether it is one.
func (c Class) Alert() (tlsparse.AlertDescription, bool) {
	d, ok := alertClasses()[c]
	return d, ok
}

// alertClasses maps the class of every alert description back to it.
var alertClasses = sync.OnceValue(func() map[Class]tlsparse.AlertDescription {
	m := make(map[Class]tlsparse.AlertDescription, 256)
	for d := range 256 {
		m[AlertClass(tlsparse.AlertDescription(d))] = tlsparse.AlertDescription(d)
	}
	return m
})

// CertificateClasses are the classes of a client that rejected the
// server's certificate chain.
var CertificateClasses = []Class{
	CertUnknownAuthority, CertExpired, CertNotYetValid, CertHostnameMismatch,
	CertNotAuthorizedToSign, CertIncompatibleUsage, CertNameConstraints, CertInsecureAlgorithm, CertInvalid,
}

// ProxyClasses are the classes of a failure that was the proxy's.
var ProxyClasses = []Class{ProxyRefused, ProxyConnectFailed, ProxyError}

// IsCertificate reports whether the client rejected the server's
// certificate chain.
func (c Class) IsCertificate() bool { return slices.Contains(CertificateClasses, c) }

// IsProxy reports whether the failure was the proxy's.
func (c Class) IsProxy() bool { return slices.Contains(ProxyClasses, c) }

// Classify names what went wrong in err, an error returned by crypto/tls,
// net/http or the dialer. It is a pure function of the error chain: the
// most specific cause wins (a certificate error inside a *url.Error inside
// a proxy error is a certificate error, a refusal by the proxy is the
// proxy's).
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	if c := classifyProxy(err); c != ClassNone {
		return c
	}
	if c := classifyCertificate(err); c != ClassNone {
		return c
	}
	if d, ok := remoteAlert(err); ok {
		return AlertClass(d)
	}
	if d, ok := localAlert(err); ok && d == tlsparse.AlertNoRenegotiation {
		return RenegotiationRefused
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) || errors.Is(err, http.ErrSchemeMismatch) {
		return NotTLS
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return DNSNotFound
		case dnsErr.IsTimeout:
			return DNSTimeout
		}
		return DNSError
	}
	if c := classifySyscall(err); c != ClassNone {
		return c
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case isDialTimeout(err):
		return ConnectTimeout
	case awaitingHeaders(err):
		return TimeoutAwaitingHeaders
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return Timeout
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return ConnectionClosed
	}
	if c := classifyTLSMessage(err.Error()); c != ClassNone {
		return c
	}
	if isHTTPError(err) {
		return HTTPError
	}
	return Other
}

// classifyProxy recognises the errors net/http wraps in a "proxyconnect"
// *net.OpError (and so does the probe's own CONNECT for handshakes), and
// those of a SOCKS5 negotiation, which its SOCKS dialer wraps in a "socks
// connect" one.
func classifyProxy(err error) Class {
	var op *net.OpError
	for e := err; errors.As(e, &op); e = op.Err {
		if op.Op == "socks connect" {
			if _, ok := socksRefused(op.Err); ok {
				return ProxyConnectFailed
			}
			return proxyConnectClass(Classify(op.Err))
		}
		if op.Op != "proxyconnect" {
			continue
		}
		inner := op.Err
		if c := proxyConnectClass(Classify(inner)); c != ProxyError {
			return c
		}
		var status *connectStatusError
		if errors.As(inner, &status) || isPlainStatusText(inner) {
			return ProxyConnectFailed
		}
		return ProxyError
	}
	// net/http's Transport returns a proxy's refusal of CONNECT as the
	// bare reason phrase ("Forbidden", "Proxy Authentication Required")
	// inside the request's *url.Error, with no proxyconnect wrapper.
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil && isPlainStatusText(ue.Err) && statusFromText(ue.Err.Error()) != 0 {
		return ProxyConnectFailed
	}
	return ClassNone
}

// proxyConnectClass is the class of a failure reaching or talking to the
// proxy whose own cause has class inner: a refusal of the connection is
// the proxy's; an https:// proxy's own certificate, its alert or its
// answer that is no TLS, or the deadline, is said more precisely by
// inner's class (the phase, PhaseProxyTLS, says it was the proxy's TLS);
// anything else is a proxy error.
func proxyConnectClass(inner Class) Class {
	_, alert := inner.Alert()
	switch {
	case inner == ConnectionRefused:
		return ProxyRefused
	case inner.IsCertificate(), alert, inner == NotTLS, inner == Timeout, inner == Canceled:
		return inner
	}
	return ProxyError
}

// statusFromText returns the 4xx or 5xx status code whose standard reason
// phrase is text, or 0.
func statusFromText(text string) int {
	for code := 400; code < 600; code++ {
		if t := http.StatusText(code); t != "" && t == text {
			return code
		}
	}
	return 0
}

// connectStatusError is the probe's own CONNECT refusal (handshake mode).
type connectStatusError struct {
	Status string // "403 Forbidden"
}

func (e *connectStatusError) Error() string { return "proxy refused CONNECT: " + e.Status }

// proxyCategory is the wire's verdict category for a proxy's refusal of
// CONNECT, from the client's error: the probe's own keeps the status line
// ("407 Proxy Authentication Required"), net/http's only the reason phrase
// ("Proxy Authentication Required"), which is matched against the standard
// phrases.
//
// A SOCKS5 refusal says its outcome itself.
func proxyCategory(err error) (diagnose.Category, bool) {
	if outcome, ok := socksRefused(err); ok {
		return outcomeCategory[outcome], true
	}
	code := 0
	if f, ok := readSOCKSFailure(err.Error()); ok && f.refused() {
		return f.category(), true
	}
	var status *connectStatusError
	if errors.As(err, &status) {
		code, _ = strconv.Atoi(strings.SplitN(status.Status, " ", 2)[0])
	} else if inner := innermostErr(err); inner != nil && isPlainStatusText(inner) {
		code = statusFromText(inner.Error())
	}
	switch {
	case code == 0:
		return "", false
	case code == http.StatusProxyAuthRequired:
		return diagnose.ProxyAuthRequired, true
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return diagnose.ProxyUpstreamFailed, true
	}
	return diagnose.ProxyRefused, true
}

// socksRefused returns the outcome of a SOCKS5 proxy's refusal of the
// tunnel in err: the probe's own, or net/http's, whose SOCKS dialer
// returns untyped errors that only their text tells apart ("no acceptable
// authentication methods", "username/password authentication failed",
// "unknown error " and the reply code's name).
func socksRefused(err error) (proxyparse.Outcome, bool) {
	var refusal *socksRefusal
	if errors.As(err, &refusal) {
		return refusal.Outcome, true
	}
	inner := innermostErr(err)
	if inner == nil || reflect.TypeOf(inner).String() != "*errors.errorString" {
		return 0, false
	}
	switch msg := inner.Error(); msg {
	case "no acceptable authentication methods", "username/password authentication failed":
		return proxyparse.AuthRequired, true
	default:
		for code := 1; code < 256; code++ {
			if msg == "unknown error "+proxyparse.SOCKS5ReplyText(byte(code)) {
				return proxyparse.SOCKS5ReplyOutcome(byte(code)), true
			}
		}
	}
	return 0, false
}

// outcomeCategory is the wire's verdict category for each refusal the
// proxy analysis tells (diagnose's proxy verdicts).
var outcomeCategory = map[proxyparse.Outcome]diagnose.Category{
	proxyparse.Refused:        diagnose.ProxyRefused,
	proxyparse.AuthRequired:   diagnose.ProxyAuthRequired,
	proxyparse.UpstreamFailed: diagnose.ProxyUpstreamFailed,
}

// innermostErr follows Unwrap to the last error of the chain.
func innermostErr(err error) error {
	for err != nil {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
	return nil
}

// isPlainStatusText recognises net/http's CONNECT refusal: an error whose
// text is just the proxy's reason phrase ("Forbidden"), with no type and
// no wrapped cause.
func isPlainStatusText(err error) bool {
	if err == io.EOF || err == io.ErrUnexpectedEOF || errors.Unwrap(err) != nil || reflect.TypeOf(err).String() != "*errors.errorString" {
		return false
	}
	msg := err.Error()
	return msg != "" && !strings.Contains(msg, ":")
}

func classifyCertificate(err error) Class {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		insecure x509.InsecureAlgorithmError
		sysRoots x509.SystemRootsError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		// The issuer was found but could not be used: crypto/x509 says
		// why only in the text ("possibly because of …"), and then the
		// trust store is not the question.
		switch msg := unknown.Error(); {
		case strings.Contains(msg, "insecure algorithm"):
			return CertInsecureAlgorithm
		case strings.Contains(msg, "parent certificate cannot sign this kind of certificate"):
			return CertNotAuthorizedToSign
		}
		return CertUnknownAuthority
	case errors.As(err, &hostname):
		return CertHostnameMismatch
	case errors.As(err, &invalid):
		switch invalid.Reason {
		case x509.Expired:
			// crypto/x509 uses Expired for both ends of the validity
			// period; the detail says which ("current time … is before …").
			if strings.Contains(invalid.Detail, "is before") {
				return CertNotYetValid
			}
			return CertExpired
		case x509.NotAuthorizedToSign:
			return CertNotAuthorizedToSign
		case x509.IncompatibleUsage:
			return CertIncompatibleUsage
		case x509.CANotAuthorizedForThisName, x509.CANotAuthorizedForExtKeyUsage:
			return CertNameConstraints
		}
		return CertInvalid
	case errors.As(err, &insecure):
		return CertInsecureAlgorithm
	case errors.As(err, &sysRoots), errors.As(err, &verify):
		return CertInvalid
	}
	return ClassNone
}

// remoteAlert finds the alert the server sent. crypto/tls reports it as a
// *net.OpError with Op "remote error" around its unexported alert type (a
// uint8); tls.AlertError is the exported form QUIC connections use.
func remoteAlert(err error) (tlsparse.AlertDescription, bool) {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return tlsparse.AlertDescription(ae), true
	}
	return alertOf(err, "remote error")
}

// localAlert finds the alert the client itself sent to end the
// connection: crypto/tls reports it as a *net.OpError with Op "local
// error" around its unexported alert type, as it does the server's.
func localAlert(err error) (tlsparse.AlertDescription, bool) {
	return alertOf(err, "local error")
}

// alertOf finds crypto/tls's unexported alert type (a uint8) inside a
// *net.OpError whose Op is op.
func alertOf(err error, op string) (tlsparse.AlertDescription, bool) {
	var oe *net.OpError
	for e := err; errors.As(e, &oe); e = oe.Err {
		if oe.Op != op || oe.Err == nil {
			continue
		}
		v := reflect.ValueOf(oe.Err)
		if v.Kind() == reflect.Uint8 && v.Type().PkgPath() == "crypto/tls" {
			return tlsparse.AlertDescription(v.Uint()), true
		}
	}
	return 0, false
}

func classifySyscall(err error) Class {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ClassNone
	}
	switch errno {
	case syscall.ECONNREFUSED:
		return ConnectionRefused
	case syscall.ECONNRESET, syscall.EPIPE:
		return ConnectionReset
	case syscall.EHOSTUNREACH, syscall.EHOSTDOWN:
		return HostUnreachable
	case syscall.EACCES:
		// Linux's answer to an ICMPv6 "administratively prohibited" (or
		// policy, reject route) while connecting: a firewall's REJECT.
		if isDial(err) {
			return HostUnreachable
		}
	case syscall.ENETUNREACH, syscall.ENETDOWN:
		return NetworkUnreachable
	case syscall.ETIMEDOUT:
		if isDial(err) {
			return ConnectTimeout
		}
		return Timeout
	}
	return ClassNone
}

// ErrAwaitingHeaders marks a timeout that came after the request was
// written and before the first byte of the answer.
var ErrAwaitingHeaders = errors.New("timeout awaiting response headers")

// awaitingHeaders recognises a timeout while waiting for the response
// headers. net/http's own errors for it are unexported types, so their
// text is all there is: "Client.Timeout exceeded while awaiting headers"
// (http.Client.Timeout) and "net/http: timeout awaiting response headers"
// (Transport.ResponseHeaderTimeout).
func awaitingHeaders(err error) bool {
	if errors.Is(err, ErrAwaitingHeaders) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "Client.Timeout exceeded while awaiting headers") ||
		strings.Contains(msg, "timeout awaiting response headers")
}

func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isDialTimeout(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && op.Timeout()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// classifyTLSMessage recognises the client's own refusals, which crypto/tls
// returns as untyped errors: only their text says what happened.
func classifyTLSMessage(msg string) Class {
	switch {
	case strings.Contains(msg, "tls: server selected unsupported protocol version"),
		strings.Contains(msg, "tls: server selected an invalid version"):
		return ClientRejectedVersion
	case strings.Contains(msg, "tls: server chose an unconfigured cipher suite"):
		return ClientRejectedCipher
	case strings.Contains(msg, "tls: server selected unadvertised ALPN protocol"),
		strings.Contains(msg, "tls: server advertised unrequested ALPN extension"):
		return ClientRejectedALPN
	case strings.Contains(msg, "tls: downgrade attempt detected"):
		return DowngradeDetected
	case strings.Contains(msg, "tls: failed to parse certificate from server"),
		// crypto/tls's own limit on a certificate's RSA key (8192 bits,
		// GODEBUG tlsmaxrsasize): the certificate, not the handshake.
		strings.Contains(msg, "tls: server sent certificate containing RSA key larger than"):
		return CertInvalid
	case strings.Contains(msg, "tls: "):
		return TLSError
	}
	return ClassNone
}

// isHTTPError recognises net/http's own failures after the handshake,
// an HTTP/2 stream reset (RST_STREAM) among them.
func isHTTPError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "malformed HTTP") || strings.Contains(msg, "net/http:") ||
		strings.Contains(msg, "http: server") || strings.Contains(msg, "http2:") ||
		strings.Contains(msg, "stream error: stream ID ")
}
