// Package quic reads the TLS handshake of QUIC connections from their UDP
// datagrams: it recognises QUIC v1 (RFC 9000) and v2 (RFC 9369) long
// headers, derives the Initial keys from the client's first Destination
// Connection ID (RFC 9001, Section 5.2), removes header protection,
// decrypts Initial packets (and Handshake and 1-RTT packets when given
// the TLS secrets), reassembles the CRYPTO streams and returns the TLS
// handshake messages they carry, unparsed, with the frames that carried
// them. Version Negotiation, Retry (with its integrity tag checked) and
// CONNECTION_CLOSE are facts of the connection. Nothing here prints.
package quic
