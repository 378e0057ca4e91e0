package diagnose

import "slices"

// Category is a verdict's stable snake_case name. The names are part of the
// product's interface (JSON output, verdict filters, exit status): never
// rename one.
type Category string

// categories registers every verdict category, in the order reports list
// them. A category is declared in the file of the rule that gives it: its
// constant and its categorySpec. Its line here is all the rest of the
// product needs: the list of categories (reports, filters, help), the
// README's table (TestREADMECategories), which client errors of a probe
// agree with it, its rule when it has one of its own, and the
// completeness tests.
var categories = []*categorySpec{
	&okCategory,
	&versionMismatchCategory,
	&noSharedCipherCategory,
	&handshakeFailureCategory,
	&certExpiredCategory,
	&certNotYetValidCategory,
	&certSelfSignedCategory,
	&certUntrustedCACategory,
	&certHostnameMismatchCategory,
	&certIncompleteChainCategory,
	&certRejectedCategory,
	&clientCertRequiredCategory,
	&alpnMismatchCategory,
	&renegotiationRefusedCategory,
	&sniUnrecognizedCategory,
	&legacyPolicyRefusedCategory,
	&notTLSServerCategory,
	&notTLSClientCategory,
	&serverNoResponseCategory,
	&clientAbandonedCategory,
	&proxyRefusedCategory,
	&proxyAuthRequiredCategory,
	&proxyUpstreamFailedCategory,
	&connectionRefusedCategory,
	&hostUnreachableCategory,
	&connectionResetCategory,
	&middleboxResetCategory,
	&middleboxDropCategory,
	&clientHelloSplitDroppedCategory,
	&pathMTUBlackholeCategory,
	&tlsInterceptedCategory,
	&heartbleedCategory,
	&clientClockSkewCategory,
	&noTCPAnswerCategory,
	&incompleteCaptureCategory,
	&udpBlockedCategory,
	&dnsFailureCategory,
}

// categorySpec declares one verdict category.
type categorySpec struct {
	name Category
	// meaning says when a connection gets the category, and serverFix
	// what to change on the server (nginx's setting; "—" when it is not
	// the server's to change, with whose it is in parentheses): the two
	// columns of the README's table of categories, in Markdown.
	meaning, serverFix string
	// certificate: the verdict is about the server's certificate chain.
	// A probe's client that rejected the chain for a reason of its own
	// (an issuer that is no CA, a usage, an algorithm) agrees with every
	// such verdict.
	certificate bool
	// clientClasses are the client errors of a probe (the stable names of
	// its error classes; "tls_alert_" and the name of a fatal alert the
	// server sent) that this verdict on the wire agrees with.
	clientClasses []string
	// unprobed says why no client error agrees with the verdict, when
	// none does.
	unprobed string
	// rule, when set, is the category's own check, run after the proxy,
	// QUIC and path rules and before the handshake's, in the order of
	// categories: ok reports that the connection is its case.
	rule func(d *diagnosis) (v Verdict, ok bool)
}

// Categories lists every category in the order reports show them.
var Categories = func() []Category {
	out := make([]Category, len(categories))
	for i, s := range categories {
		out[i] = s.name
	}
	return out
}()

// ownRules are the rules of the categories that have one, in their order.
var ownRules = func() []func(*diagnosis) (Verdict, bool) {
	var out []func(*diagnosis) (Verdict, bool)
	for _, s := range categories {
		if s.rule != nil {
			out = append(out, s.rule)
		}
	}
	return out
}()

func (c Category) spec() *categorySpec {
	if i := slices.IndexFunc(categories, func(s *categorySpec) bool { return s.name == c }); i >= 0 {
		return categories[i]
	}
	return nil
}

// IsCertificate reports whether c is a verdict about the server's
// certificate chain.
func (c Category) IsCertificate() bool {
	s := c.spec()
	return s != nil && s.certificate
}

// ClientClasses are the client errors of a probe, by the stable names of
// their classes, that the verdict c on the wire agrees with ("tls_alert_"
// and the alert's name for a fatal alert from the server). A client that
// rejected the certificate chain for a reason of its own also agrees with
// every IsCertificate verdict.
func (c Category) ClientClasses() []string {
	if s := c.spec(); s != nil {
		return s.clientClasses
	}
	return nil
}

// Unprobed says why no client error of a probe agrees with c, when none
// does.
func (c Category) Unprobed() string {
	if s := c.spec(); s != nil {
		return s.unprobed
	}
	return ""
}
