package analysis

import "testing"

// TestDNSOnPort443IsNotQUIC reads nDPI's dnscrypt-v1-and-resolver-pings.pcap
// (testdata/public/ndpi): DNS queries to DNSCrypt resolvers on UDP port
// 443, padded to 1,540 bytes and so sent in IP fragments, whose query ID
// and flags read as a QUIC long header of some unknown version. They are
// DNS, not 30 QUIC connections of versions that cannot be read.
func TestDNSOnPort443IsNotQUIC(t *testing.T) {
	for _, c := range analyse(t, publicFile("ndpi", "dnscrypt-v1-and-resolver-pings.pcap"), Options{}) {
		if c.QUIC != nil {
			t.Errorf("%s → %s read as QUIC version %s", c.Client, c.Server, c.QUIC.Version)
		}
	}
}
