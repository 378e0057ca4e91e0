// Package tlsparse turns the bytes of one direction of a TLS connection into
// typed records and handshake messages; it does no I/O.
//
// The parsers follow crypto/tls's handshake_messages.go and read with
// golang.org/x/crypto/cryptobyte, but where crypto/tls rejects a message for
// a protocol violation that does not stop us from reading it (a duplicate
// extension, an empty or dotted server name, trailing bytes inside an
// extension) tlsparse records a stable snake_case ID in the message's
// Anomalies field and carries on: a diagnostic tool must describe what a peer
// sent, not refuse it. Structural damage (a length that points past the end
// of its container) is an error naming the field, for example
// "tlsparse: client hello: cipher_suites: truncated".
//
// Parse functions copy what they keep, so their results may be stored,
// except ParseCertificate, whose result aliases its input; the Decoder hands
// out Item.Body slices that are only valid until the next call.
package tlsparse

//go:generate go run ./internal/gennames -dir internal/iana -o names_generated.go
