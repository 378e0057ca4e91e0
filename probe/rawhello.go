package probe

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// A raw hello is a ClientHello that crypto/tls cannot send — DHE suites,
// SHA-1 signatures, TLS 1.3 groups and suites it does not implement —
// written by hand to learn whether the server would choose what it
// offers. The server's first handshake message answers that; the
// handshake goes no further.
type rawHello struct {
	tls13      bool // offer TLS 1.3 alone (supported_versions), else TLS 1.2 alone
	suites     []uint16
	groups     []tls.CurveID
	sigalgs    []tls.SignatureScheme
	serverName string
	// x25519Share sends a key share for X25519 (random bytes are a valid
	// X25519 public key); without it a TLS 1.3 server that accepts one of
	// the groups asks for its share with a HelloRetryRequest.
	x25519Share bool
}

// goSignatureSchemes are crypto/tls's signature algorithms since Go 1.25,
// which dropped SHA-1 in TLS 1.2.
var goSignatureSchemes = []tls.SignatureScheme{
	tls.PSSWithSHA256, tls.ECDSAWithP256AndSHA256, tls.Ed25519, tls.PSSWithSHA384, tls.PSSWithSHA512,
	tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512, tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512,
}

// marshal encodes the hello as one TLS record.
func (h *rawHello) marshal() ([]byte, error) {
	random := make([]byte, 32)
	sessionID := make([]byte, 32)
	share := make([]byte, 32)
	for _, b := range [][]byte{random, sessionID, share} {
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
	}
	var body cryptobyte.Builder
	body.AddUint16(tls.VersionTLS12)
	body.AddBytes(random)
	body.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sessionID) })
	body.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, s := range h.suites {
			b.AddUint16(s)
		}
	})
	body.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // null compression
	body.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		if _, err := netip.ParseAddr(h.serverName); h.serverName != "" && err != nil {
			extension(b, uint16(tlsparse.ExtServerName), func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint8(0) // host_name
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(h.serverName)) })
				})
			})
		}
		extension(b, uint16(tlsparse.ExtSupportedGroups), func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, g := range h.groups {
					b.AddUint16(uint16(g))
				}
			})
		})
		extension(b, uint16(tlsparse.ExtECPointFormats), func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // uncompressed
		})
		extension(b, uint16(tlsparse.ExtSignatureAlgorithms), func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range h.sigalgs {
					b.AddUint16(uint16(s))
				}
			})
		})
		extension(b, uint16(tlsparse.ExtExtendedMasterSecret), func(*cryptobyte.Builder) {})
		extension(b, uint16(tlsparse.ExtRenegotiationInfo), func(b *cryptobyte.Builder) { b.AddUint8(0) })
		if h.tls13 {
			extension(b, uint16(tlsparse.ExtSupportedVersions), func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(tls.VersionTLS13) })
			})
			extension(b, uint16(tlsparse.ExtPSKModes), func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) }) // psk_dhe_ke
			})
			extension(b, uint16(tlsparse.ExtKeyShare), func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					if h.x25519Share {
						b.AddUint16(uint16(tls.X25519))
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(share) })
					}
				})
			})
		}
	})
	msg, err := body.Bytes()
	if err != nil {
		return nil, err
	}
	var rec cryptobyte.Builder
	rec.AddUint8(uint8(tlsparse.ContentTypeHandshake))
	rec.AddUint16(tls.VersionTLS10) // the record version of a first ClientHello
	rec.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(tlsparse.HandshakeTypeClientHello))
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(msg) })
	})
	return rec.Bytes()
}

func extension(b *cryptobyte.Builder, typ uint16, body func(*cryptobyte.Builder)) {
	b.AddUint16(typ)
	b.AddUint16LengthPrefixed(body)
}

// rawAnswer is how the server answered a raw hello: a ServerHello (or
// HelloRetryRequest) when it would go on with what the hello offers, else
// the alert it sent, or the error reading its answer.
type rawAnswer struct {
	hello *tlsparse.ServerHello
	alert tlsparse.AlertDescription
	err   error
}

// maxRawAnswer bounds what is read of the server's answer: its first
// handshake message must fit.
const maxRawAnswer = 1 << 16

// exchange writes hello on conn and reads the server's first handshake
// message or alert.
func exchange(ctx context.Context, conn net.Conn, hello []byte) rawAnswer {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if _, err := conn.Write(hello); err != nil {
		return rawAnswer{err: fmt.Errorf("sending the hello: %w", err)}
	}
	var handshake []byte
	header := make([]byte, 5)
	for read := 0; read < maxRawAnswer; {
		if _, err := io.ReadFull(conn, header); err != nil {
			return rawAnswer{err: fmt.Errorf("reading the server's answer: %w", err)}
		}
		h, err := tlsparse.ParseRecordHeader(header)
		if err != nil {
			return rawAnswer{err: err}
		}
		body := make([]byte, h.Length)
		if _, err := io.ReadFull(conn, body); err != nil {
			return rawAnswer{err: fmt.Errorf("reading the server's answer: %w", err)}
		}
		read += 5 + h.Length
		switch h.Type {
		case tlsparse.ContentTypeAlert:
			if len(body) < 2 {
				return rawAnswer{err: errors.New("a truncated alert")}
			}
			return rawAnswer{alert: tlsparse.AlertDescription(body[1])}
		case tlsparse.ContentTypeHandshake:
			handshake = append(handshake, body...)
			if len(handshake) < 4 {
				continue
			}
			n := int(handshake[1])<<16 | int(handshake[2])<<8 | int(handshake[3])
			if len(handshake) < 4+n {
				continue
			}
			if tlsparse.HandshakeType(handshake[0]) != tlsparse.HandshakeTypeServerHello {
				return rawAnswer{err: fmt.Errorf("the server answered with %s", tlsparse.HandshakeType(handshake[0]))}
			}
			sh, err := tlsparse.ParseServerHello(handshake[4 : 4+n])
			if err != nil {
				return rawAnswer{err: err}
			}
			return rawAnswer{hello: sh}
		default:
			return rawAnswer{err: fmt.Errorf("the server answered with a %s record", h.Type)}
		}
	}
	return rawAnswer{err: fmt.Errorf("no ServerHello in the first %d bytes", maxRawAnswer)}
}

// tryRaw makes the TCP connection (through the proxy when one is
// configured), sends the raw hello and reads the answer.
func (c *client) tryRaw(ctx context.Context, p *dialPlan, h *rawHello) rawAnswer {
	hello, err := h.marshal()
	if err != nil {
		return rawAnswer{err: err}
	}
	hctx, cancel := context.WithTimeout(ctx, min(scanTimeout, c.cfg.MaxTime))
	defer cancel()
	var o Outcome
	conn, err := c.transport(hctx, p, nil, &o)
	if err != nil {
		return rawAnswer{err: err}
	}
	defer conn.Close()
	return exchange(hctx, conn, hello)
}
