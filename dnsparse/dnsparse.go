// Package dnsparse reads a DNS message (RFC 1035) from its bytes: the
// header, the questions, and the address and alias records of the answer
// section.
//
// It reads untrusted bytes and keeps what it returns bounded: at most
// MaxQuestions questions and MaxAnswers answers are kept whatever the
// counts say, compression pointers may only point back before the name
// that uses them (so they cannot loop), and a name is at most 255 octets
// (RFC 1035, Section 3.1). The authority and additional sections are not
// read.
package dnsparse

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Limits on what one message yields.
const (
	MaxQuestions = 4  // real queries carry one (RFC 9619)
	MaxAnswers   = 32 // address records of one name rarely exceed a dozen
	maxName      = 255
	headerLen    = 12
)

// Type is a resource record type (RFC 1035, Section 3.2.2; IANA DNS
// parameters).
type Type uint16

const (
	TypeA     Type = 1
	TypeNS    Type = 2
	TypeCNAME Type = 5
	TypeSOA   Type = 6
	TypePTR   Type = 12
	TypeMX    Type = 15
	TypeTXT   Type = 16
	TypeAAAA  Type = 28 // RFC 3596
	TypeSRV   Type = 33
	TypeOPT   Type = 41
	TypeSVCB  Type = 64 // RFC 9460
	TypeHTTPS Type = 65 // RFC 9460
	TypeANY   Type = 255
)

var typeNames = map[Type]string{
	TypeA: "A", TypeNS: "NS", TypeCNAME: "CNAME", TypeSOA: "SOA", TypePTR: "PTR",
	TypeMX: "MX", TypeTXT: "TXT", TypeAAAA: "AAAA", TypeSRV: "SRV", TypeOPT: "OPT",
	TypeSVCB: "SVCB", TypeHTTPS: "HTTPS", TypeANY: "ANY",
}

// String is the type's mnemonic, or TYPEn (RFC 3597, Section 5).
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// RCode is a response code (RFC 1035, Section 4.1.1; the four bits of
// the header, without EDNS's extension).
type RCode uint8

const (
	RCodeNoError  RCode = 0
	RCodeFormErr  RCode = 1
	RCodeServFail RCode = 2
	RCodeNXDomain RCode = 3 // the name does not exist
	RCodeNotImp   RCode = 4
	RCodeRefused  RCode = 5
)

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

// String is the code's mnemonic, or RCODEn.
func (r RCode) String() string {
	if int(r) < len(rcodeNames) {
		return rcodeNames[r]
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// Message is what a DNS message says.
type Message struct {
	ID        uint16
	Response  bool // QR: an answer, not a query
	Opcode    uint8
	Truncated bool // TC: the answer did not fit the datagram
	RCode     RCode
	// Counts are the header's QDCOUNT, ANCOUNT, NSCOUNT and ARCOUNT.
	Counts    [4]uint16
	Questions []Question
	// Answers are the answer section's records, up to MaxAnswers; Cut is
	// set when the section held more.
	Answers []Record
	Cut     bool
}

// Question is one entry of the question section.
type Question struct {
	Name  string // presentation form, no trailing dot; "." for the root
	Type  Type
	Class uint16
}

// Record is one resource record of the answer section. Addr is set for A
// and AAAA, Target for CNAME; other types keep only their header.
type Record struct {
	Name   string
	Type   Type
	Class  uint16
	TTL    uint32
	Addr   netip.Addr
	Target string
}

// Error is a message that could not be read: the offset of the field
// that failed, counted from the message's first byte.
type Error struct {
	Offset int
	Field  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("dns: %s at offset %d: %s", e.Field, e.Offset, e.Reason)
}

// Parse reads a message. On error it returns what it read before the
// failure (the header at least, when the message has one) and the error.
func Parse(b []byte) (*Message, error) {
	if len(b) < headerLen {
		return nil, &Error{0, "header", fmt.Sprintf("%d bytes, a header is %d", len(b), headerLen)}
	}
	// RFC 1035, Section 4.1.1.
	flags := binary.BigEndian.Uint16(b[2:])
	m := &Message{
		ID:        binary.BigEndian.Uint16(b),
		Response:  flags&0x8000 != 0,
		Opcode:    uint8(flags>>11) & 0xf,
		Truncated: flags&0x0200 != 0,
		RCode:     RCode(flags & 0xf),
	}
	for i := range m.Counts {
		m.Counts[i] = binary.BigEndian.Uint16(b[4+2*i:])
	}
	p := parser{msg: b, off: headerLen}
	for i := 0; i < int(m.Counts[0]); i++ {
		q, err := p.question()
		if err != nil {
			return m, err
		}
		if len(m.Questions) < MaxQuestions {
			m.Questions = append(m.Questions, q)
		}
	}
	for i := 0; i < int(m.Counts[1]); i++ {
		if len(m.Answers) == MaxAnswers {
			m.Cut = true
			break
		}
		r, err := p.record()
		if err != nil {
			return m, err
		}
		m.Answers = append(m.Answers, r)
	}
	return m, nil
}

type parser struct {
	msg []byte
	off int
}

func (p *parser) fail(field, reason string) error {
	return &Error{p.off, field, reason}
}

func (p *parser) uint16(field string) (uint16, error) {
	if len(p.msg)-p.off < 2 {
		return 0, p.fail(field, "message ends")
	}
	v := binary.BigEndian.Uint16(p.msg[p.off:])
	p.off += 2
	return v, nil
}

// question reads RFC 1035, Section 4.1.2.
func (p *parser) question() (Question, error) {
	name, err := p.name("question name")
	if err != nil {
		return Question{}, err
	}
	t, err := p.uint16("question type")
	if err != nil {
		return Question{}, err
	}
	c, err := p.uint16("question class")
	if err != nil {
		return Question{}, err
	}
	return Question{Name: name, Type: Type(t), Class: c}, nil
}

// record reads RFC 1035, Section 4.1.3.
func (p *parser) record() (Record, error) {
	name, err := p.name("record name")
	if err != nil {
		return Record{}, err
	}
	if len(p.msg)-p.off < 10 {
		return Record{}, p.fail("record header", "message ends")
	}
	h := p.msg[p.off:]
	r := Record{Name: name, Type: Type(binary.BigEndian.Uint16(h)), Class: binary.BigEndian.Uint16(h[2:]), TTL: binary.BigEndian.Uint32(h[4:])}
	n := int(binary.BigEndian.Uint16(h[8:]))
	p.off += 10
	if len(p.msg)-p.off < n {
		return r, p.fail("record data", fmt.Sprintf("%d bytes announced, %d left", n, len(p.msg)-p.off))
	}
	data := p.msg[p.off : p.off+n]
	switch r.Type {
	case TypeA, TypeAAAA: // RFC 1035, Section 3.4.1; RFC 3596, Section 2.2
		var ok bool
		if r.Addr, ok = netip.AddrFromSlice(data); !ok || (r.Type == TypeA) != (n == 4) {
			return r, p.fail("address", fmt.Sprintf("%d bytes for %s", n, r.Type))
		}
	case TypeCNAME: // RFC 1035, Section 3.3.1
		sub := parser{msg: p.msg[:p.off+n], off: p.off}
		if r.Target, err = sub.name("alias"); err != nil {
			return r, err
		}
		if sub.off != p.off+n {
			return r, sub.fail("alias", "bytes after the name")
		}
	}
	p.off += n
	return r, nil
}

// name reads a domain name (RFC 1035, Section 3.1 and 4.1.4) at p.off
// and moves past it. A compression pointer must point before the start of
// the labels it ends, so following pointers always goes backwards and
// ends.
func (p *parser) name(field string) (string, error) {
	var sb strings.Builder
	wire := 1 // the root's length octet
	off, start := p.off, p.off
	jumped := false
	for {
		if off >= len(p.msg) {
			return "", &Error{off, field, "message ends inside the name"}
		}
		l := int(p.msg[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if !jumped {
					p.off = off + 1
				}
				if sb.Len() == 0 {
					return ".", nil
				}
				return sb.String(), nil
			}
			if off+1+l > len(p.msg) {
				return "", &Error{off, field, "message ends inside a label"}
			}
			if wire += 1 + l; wire > maxName {
				return "", &Error{off, field, "name longer than 255 octets"}
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			writeLabel(&sb, p.msg[off+1:off+1+l])
			off += 1 + l
		case 0xc0:
			if off+2 > len(p.msg) {
				return "", &Error{off, field, "message ends inside a pointer"}
			}
			to := int(binary.BigEndian.Uint16(p.msg[off:]) & 0x3fff)
			if to >= start {
				return "", &Error{off, field, fmt.Sprintf("pointer to offset %d, not before the name", to)}
			}
			if !jumped {
				p.off = off + 2
				jumped = true
			}
			off, start = to, to
		default: // 0x40 (RFC 6891's extended labels, obsolete) and 0x80
			return "", &Error{off, field, fmt.Sprintf("label type 0x%02x", l&0xc0)}
		}
	}
}

// writeLabel writes a label in presentation form (RFC 4343, Section 2.1):
// dots and backslashes escaped, bytes outside printable ASCII as \DDD.
func writeLabel(sb *strings.Builder, l []byte) {
	for _, c := range l {
		switch {
		case c == '.' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c <= ' ' || c >= 0x7f:
			fmt.Fprintf(sb, "\\%03d", c)
		default:
			sb.WriteByte(c)
		}
	}
}
