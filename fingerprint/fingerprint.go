// Package fingerprint computes the JA3, JA3S and JA4 fingerprints of TLS hellos.
//
// The functions are pure: they read a parsed hello and return strings, with
// no I/O and no clock, so the same hello always gives the same fingerprint.
// JA3 and JA3S follow Salesforce's definition (decimal code points, GREASE
// removed, MD5); JA4 follows FoxIO's specification (technical_details/JA4.md,
// BSD-3-Clause). FoxIO's other JA4+ methods (JA4S, JA4X, JA4H, …) carry a
// licence that is not open and are deliberately not implemented here.
//
// # SSLv2-compatible ClientHellos
//
// A ClientHello in the SSLv2 format (tlsparse.ClientHello.SSLv2) has no
// extensions and offers 3-byte cipher specs that neither JA3's nor JA4's
// format can write. References disagree on it: tshark and FoxIO's ja4
// tools compute nothing for such a hello, while Zeek's JA3 script
// fingerprints whatever Zeek's ssl_client_hello event reports, which Zeek
// also raises for SSLv2 hellos. This package follows tshark and FoxIO: JA3
// and JA4 return empty values for it, so that no fingerprint is shown that
// those tools would not produce (the tshark test checks this on the public
// SSLv2 captures). Callers that want to say something about such a client
// can use the SSLv2 flag itself, which is the more telling fact.
package fingerprint

import (
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// stackList is the capacity of the on-stack scratch lists: real hellos
// offer well under this many cipher suites or extensions, and longer lists
// still work, at the cost of a heap allocation.
const stackList = 128

// appendNonGREASE appends to dst the values of src that are not GREASE
// (RFC 8701), in order.
func appendNonGREASE[T ~uint16](dst []uint16, src []T) []uint16 {
	for _, v := range src {
		if !tlsparse.IsGREASE(uint16(v)) {
			dst = append(dst, uint16(v))
		}
	}
	return dst
}

// extensionTypes appends the non-GREASE extension types of exts, in wire
// order.
func extensionTypes(dst []uint16, exts []tlsparse.Extension) []uint16 {
	for _, e := range exts {
		if !tlsparse.IsGREASE(uint16(e.Type)) {
			dst = append(dst, uint16(e.Type))
		}
	}
	return dst
}
