package diagnose

import (
	"fmt"
	"slices"
	"sync"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// alertCause is the one place that maps an alert to a cause: by its
// description, by who sent it and by when (phase). Certificate alerts
// from the client are refined by what the chain on the wire shows.
func (d *diagnosis) alertCause(a *analysis.Alert, ph phase) certCause {
	fromClient := a.Sender == client
	if !a.Known() {
		switch {
		case fromClient && ph == phaseServerFlight:
			// TLS 1.3: the client judged the server's encrypted flight,
			// whose visible part is mostly the certificate.
			return d.pickCert(CertRejected)
		case !fromClient && ph == phaseClientFlight:
			// TLS 1.3: the server judged the client's flight: its
			// certificate (RFC 8446, Section 4.4.2.4).
			return certCause{ClientCertRequired, nil}
		}
		return certCause{HandshakeFailure, nil}
	}
	switch a.Description {
	case tlsparse.AlertProtocolVersion, tlsparse.AlertInappropriateFallback:
		return certCause{VersionMismatch, nil}
	case tlsparse.AlertNoApplicationProtocol:
		return certCause{ALPNMismatch, nil}
	case tlsparse.AlertUnrecognizedName:
		return certCause{SNIUnrecognized, nil}
	case tlsparse.AlertCertificateRequired:
		return certCause{ClientCertRequired, nil}
	case tlsparse.AlertHandshakeFailure, tlsparse.AlertInsufficientSecurity:
		switch {
		case fromClient:
		case ph == phaseClientFlight && d.c.CertificateRequest != nil && d.c.ClientCertificates <= 0:
			return certCause{ClientCertRequired, nil}
		case d.tls13OnlyRefused(a, ph):
			return certCause{VersionMismatch, nil}
		case ph == phaseHello && (d.cipherSuspect() || d.rsaKexSuspect()):
			return certCause{NoSharedCipher, nil}
		}
		return certCause{HandshakeFailure, nil}
	case tlsparse.AlertBadCertificate, tlsparse.AlertUnsupportedCertificate, tlsparse.AlertCertificateUnknown,
		tlsparse.AlertCertificateExpired, tlsparse.AlertUnknownCA, tlsparse.AlertCertificateRevoked:
		if !fromClient {
			if d.c.CertificateRequest != nil || d.c.ClientCertificates >= 0 {
				return certCause{ClientCertRequired, nil}
			}
			return certCause{HandshakeFailure, nil}
		}
		switch a.Description {
		case tlsparse.AlertCertificateExpired:
			return d.pickCert(CertExpired, CertExpired, CertNotYetValid)
		case tlsparse.AlertUnknownCA:
			if cc := d.pickCert(CertUntrustedCA, CertSelfSigned, CertUntrustedCA, CertIncompleteChain); cc.prob != nil {
				return cc
			}
			// OpenSSL also says unknown_ca for an issuer that is not a
			// CA (X509_V_ERR_INVALID_CA): a defect every client refuses
			// explains it better than another trust store.
			return d.pickCert(CertUntrustedCA, CertRejected)
		case tlsparse.AlertCertificateRevoked:
			// Revocation is not visible passively.
			return certCause{CertRejected, nil}
		}
		return d.pickCert(CertRejected)
	case tlsparse.AlertAccessDenied:
		if !fromClient && ph == phaseClientFlight && d.c.ClientCertificates > 0 {
			// The server checked the client's certificate and refused it
			// (RFC 8446, Section 6.2): GnuTLS says so for one it does not
			// trust (testdata/field/servers).
			return certCause{ClientCertRequired, nil}
		}
	case tlsparse.AlertDecodeError, tlsparse.AlertIllegalParameter, tlsparse.AlertDecryptError:
		if !fromClient && ph == phaseClientFlight && a.Description == tlsparse.AlertDecryptError && d.c.ClientCertificates > 0 {
			// The server could not verify the client's CertificateVerify:
			// a key that is not the certificate's (RFC 8446, Section 4.4.3).
			return certCause{ClientCertRequired, nil}
		}
		if !fromClient && ph == phaseClientFlight && a.Description == tlsparse.AlertDecodeError && d.c.CertificateRequest != nil && d.c.ClientCertificates == 0 {
			// GnuTLS answers an empty Certificate with decode_error in
			// TLS 1.2 when it requires one (testdata/field/servers).
			return certCause{ClientCertRequired, nil}
		}
		if fromClient && ph == phaseServerFlight {
			if cc, ok := d.unusableCert(a); ok {
				return cc
			}
		}
	}
	return certCause{HandshakeFailure, nil}
}

// unusableCert picks, for a client's decode_error, illegal_parameter or
// decrypt_error after the server's flight, a certificate the client
// cannot use: crypto/tls answers a certificate crypto/x509 does not parse
// with decode_error, and a handshake signature it will not check with the
// leaf's key (an RSA key under 1024 bits) with illegal_parameter (TLS
// 1.2) or decrypt_error (TLS 1.3). The alert does not name the
// certificate, so the problem is likely, not sure.
func (d *diagnosis) unusableCert(a *analysis.Alert) (certCause, bool) {
	i := slices.IndexFunc(d.probs, func(p CertProblem) bool { return p.Unusable })
	if i < 0 {
		return certCause{}, false
	}
	p := &d.probs[i]
	p.Certainty = Likely
	p.Why = fmt.Sprintf("%s does not name the certificate, but it is what Go sends for a certificate it cannot parse or a key it will not use", alertName(*a))
	p.Alternative = "another fault in the server's flight, which the client's log names"
	return certCause{p.Category, p}, true
}

// harmlessWarning lists the warning alerts a handshake survives.
func harmlessWarning(desc tlsparse.AlertDescription) bool {
	switch desc {
	case tlsparse.AlertCloseNotify, tlsparse.AlertUserCanceled, tlsparse.AlertNoRenegotiation,
		// OpenSSL and Apache warn unrecognized_name and go on (only old
		// Java clients stop: see warningUnrecognizedName).
		tlsparse.AlertUnrecognizedName,
		// SSL 3.0's no_certificate; the server's fatal alert follows if
		// it insists.
		tlsparse.AlertNoCertificate:
		return true
	}
	return false
}

// alertName names an alert as on the wire, "encrypted" when it was and no
// key log opened it.
func alertName(a analysis.Alert) string {
	if a.Encrypted && !a.Decrypted {
		return "encrypted"
	}
	return a.Description.String()
}

// alertText names an alert in a sentence: "alert unknown_ca", "an
// encrypted alert", "alert bad_certificate (decrypted)".
func alertText(a analysis.Alert) string {
	switch {
	case a.Decrypted:
		return alertTexts()[a.Description] + " (decrypted)"
	case a.Encrypted:
		return "an encrypted alert"
	}
	return alertTexts()[a.Description]
}

// alertTexts are the texts of the plain alerts, built once: a verdict
// names its alert in several sentences. They are built on first use, not
// at the start of every command (a fiftieth of it).
var alertTexts = sync.OnceValue(func() *[256]string {
	var t [256]string
	for d := range t {
		t[d] = "alert " + tlsparse.AlertDescription(d).String()
	}
	return &t
})

// alertMeaning explains the alerts whose name does not say enough, from
// RFC 8446 Section 6.2 and what implementations send them for.
func alertMeaning(desc tlsparse.AlertDescription) string {
	switch desc {
	case tlsparse.AlertDecryptError:
		return "a signature or Finished did not verify (a wrong key, or a middlebox altering the handshake)"
	case tlsparse.AlertBadRecordMAC:
		return "a record did not decrypt (keys disagree, or the bytes were altered on the way)"
	case tlsparse.AlertIllegalParameter:
		return "a field was out of range or inconsistent with the rest of the handshake"
	case tlsparse.AlertDecodeError:
		return "a message could not be parsed"
	case tlsparse.AlertUnexpectedMessage:
		return "a message came out of order"
	case tlsparse.AlertInternalError:
		return "an error unrelated to the peer (out of memory, a misconfiguration)"
	case tlsparse.AlertInsufficientSecurity:
		return "the peer requires stronger parameters than offered"
	case tlsparse.AlertHandshakeFailure:
		return "no acceptable set of parameters"
	}
	return ""
}
