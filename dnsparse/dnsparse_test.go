package dnsparse

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answer is a response for good.test: a CNAME to www.good.test (its
// name compressed against the question) and an A record for it.
const answer = "1234 8180 0001 0002 0000 0000" +
	"04676f6f6404746573740000010001" + // good.test A IN
	"c00c 0005 0001 0000003c 0006 03777777c00c" + // good.test CNAME www.good.test
	"c027 0001 0001 0000003c 0004 0a000009" // www.good.test A 10.0.0.9

func TestParseAnswer(t *testing.T) {
	m, err := Parse(unhex(t, answer))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 0x1234 || !m.Response || m.RCode != RCodeNoError || m.Truncated {
		t.Errorf("header = %+v", m)
	}
	if len(m.Questions) != 1 || m.Questions[0] != (Question{"good.test", TypeA, 1}) {
		t.Errorf("questions = %+v", m.Questions)
	}
	want := []Record{
		{Name: "good.test", Type: TypeCNAME, Class: 1, TTL: 60, Target: "www.good.test"},
		{Name: "www.good.test", Type: TypeA, Class: 1, TTL: 60, Addr: netip.MustParseAddr("10.0.0.9")},
	}
	if len(m.Answers) != len(want) {
		t.Fatalf("answers = %+v", m.Answers)
	}
	for i := range want {
		if m.Answers[i] != want[i] {
			t.Errorf("answer %d = %+v, want %+v", i, m.Answers[i], want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name, hex string
		offset    int
		field     string
	}{
		{"short header", "1234 0100 0001", 0, "header"},
		{"question cut", "1234 0100 0001 0000 0000 0000 04676f6f64", 17, "question name"},
		{"pointer loop", "1234 0100 0001 0000 0000 0000 c00c 0001 0001", 12, "question name"},
		{"pointer forward", "1234 0100 0001 0000 0000 0000 c00e 0001 0001 00", 12, "question name"},
		{"pointer to pointer loop", "1234 0100 0001 0000 0000 0000 01 61 c00c 0001 0001", 14, "question name"},
		{"label type 0x40", "1234 0100 0001 0000 0000 0000 41 0001 0001", 12, "question name"},
		{"no type", "1234 0100 0001 0000 0000 0000 00 00", 13, "question type"},
		{"A of 3 bytes", "1234 8180 0000 0001 0000 0000 00 0001 0001 00000001 0003 0a0000", 23, "address"},
		{"rdata past end", "1234 8180 0000 0001 0000 0000 00 0001 0001 00000001 0004 0a00", 23, "record data"},
		{"alias past rdata", "1234 8180 0000 0001 0000 0000 00 0005 0001 00000001 0002 0161 00", 25, "alias"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(unhex(t, tt.hex))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Offset != tt.offset || e.Field != tt.field {
				t.Errorf("err = %v, want %s at offset %d", err, tt.field, tt.offset)
			}
		})
	}
}

func TestNameLimit(t *testing.T) {
	// 4 labels of 63 octets: 256 octets on the wire with the root.
	b := unhex(t, "1234 0100 0001 0000 0000 0000")
	for range 4 {
		b = append(b, 63)
		b = append(b, strings.Repeat("a", 63)...)
	}
	b = append(b, 0, 0, 1, 0, 1)
	if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), "255") {
		t.Errorf("err = %v, want the 255-octet limit", err)
	}
	// Two octets shorter: 255 with the root.
	b = unhex(t, "1234 0100 0001 0000 0000 0000")
	for _, n := range []int{63, 63, 63, 61} {
		b = append(b, byte(n))
		b = append(b, strings.Repeat("a", n)...)
	}
	b = append(b, 0, 0, 1, 0, 1)
	if _, err := Parse(b); err != nil {
		t.Errorf("a 255-octet name: %v", err)
	}
}

func TestAnswersCapped(t *testing.T) {
	b := unhex(t, "1234 8180 0001 ffff 0000 0000 04676f6f64047465737400 0001 0001")
	for range MaxAnswers + 5 {
		b = append(b, unhex(t, "c00c 0001 0001 0000003c 0004 0a000009")...)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Answers) != MaxAnswers || !m.Cut {
		t.Errorf("%d answers, cut %v; want %d, cut", len(m.Answers), m.Cut, MaxAnswers)
	}
}

func TestLabelEscapes(t *testing.T) {
	m, err := Parse(unhex(t, "1234 0100 0001 0000 0000 0000 03 612e1b 00 0001 0001"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Questions[0].Name; got != `a\.\027` {
		t.Errorf("name = %q", got)
	}
}

func TestStrings(t *testing.T) {
	if TypeAAAA.String() != "AAAA" || Type(999).String() != "TYPE999" {
		t.Error(TypeAAAA, Type(999))
	}
	if RCodeNXDomain.String() != "NXDOMAIN" || RCode(11).String() != "RCODE11" {
		t.Error(RCodeNXDomain, RCode(11))
	}
}

// compare checks what Parse read against golang.org/x/net/dns/dnsmessage,
// an independent reading: when both read the message, the header,
// questions and answers agree.
func compare(t *testing.T, b []byte) {
	t.Helper()
	m, err := Parse(b)
	var p dnsmessage.Parser
	h, perr := p.Start(b)
	if err != nil || perr != nil {
		return
	}
	if h.ID != m.ID || h.Response != m.Response || int(h.RCode) != int(m.RCode) || h.Truncated != m.Truncated {
		t.Fatalf("header %+v, dnsmessage %+v", m, h)
	}
	qs, qerr := p.AllQuestions()
	if qerr != nil {
		return
	}
	for i, q := range m.Questions {
		if i < len(qs) && !sameName(q.Name, qs[i].Name) {
			t.Fatalf("question %d %q, dnsmessage %q", i, q.Name, qs[i].Name)
		}
	}
	for i, r := range m.Answers {
		h, err := p.AnswerHeader()
		if err != nil {
			return
		}
		if uint16(h.Type) != uint16(r.Type) || h.TTL != r.TTL {
			t.Fatalf("answer %d %+v, dnsmessage %+v", i, r, h)
		}
		switch h.Type {
		case dnsmessage.TypeA:
			a, err := p.AResource()
			if err != nil {
				return // dnsmessage stays on this record
			}
			if netip.AddrFrom4(a.A) != r.Addr {
				t.Fatalf("answer %d %v, dnsmessage %v", i, r.Addr, a.A)
			}
		case dnsmessage.TypeAAAA:
			a, err := p.AAAAResource()
			if err != nil {
				return
			}
			if netip.AddrFrom16(a.AAAA) != r.Addr {
				t.Fatalf("answer %d %v, dnsmessage %v", i, r.Addr, a.AAAA)
			}
		case dnsmessage.TypeCNAME:
			c, err := p.CNAMEResource()
			if err != nil {
				return
			}
			if !sameName(r.Target, c.CNAME) {
				t.Fatalf("answer %d %q, dnsmessage %q", i, r.Target, c.CNAME)
			}
		default:
			if p.SkipAnswer() != nil {
				return
			}
		}
	}
}

// sameName reports whether a name read by Parse (no trailing dot, "." for
// the root) is dnsmessage's; names with escaped bytes are not compared, as
// the two escape them differently.
func sameName(ours string, theirs dnsmessage.Name) bool {
	if strings.Contains(ours, `\`) {
		return true
	}
	return strings.TrimSuffix(ours, ".") == strings.TrimSuffix(theirs.String(), ".")
}

func TestAgainstDNSMessage(t *testing.T) {
	compare(t, unhex(t, answer))
}

func FuzzParse(f *testing.F) {
	f.Add(unhex(f, answer))
	f.Add(unhex(f, "1234 0100 0001 0000 0000 0000 c00c 0001 0001"))
	f.Add(unhex(f, "1234 8183 0001 0000 0000 0000 076d697373696e6704746573740000010001"))
	// A CNAME to the root: Parse says ".", dnsmessage ".".
	f.Add(unhex(f, "1234 8180 0001 0001 0000 0000 0161047465737400 0001 0001 c00c 0005 0001 0000003c 0001 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m1, err1 := Parse(b)
		m2, err2 := Parse(b)
		if (err1 == nil) != (err2 == nil) || (m1 == nil) != (m2 == nil) {
			t.Fatal("not deterministic")
		}
		if m1 != nil && (len(m1.Questions) > MaxQuestions || len(m1.Answers) > MaxAnswers) {
			t.Fatalf("%d questions, %d answers", len(m1.Questions), len(m1.Answers))
		}
		compare(t, b)
	})
}
