package proxyparse

import (
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	connect := "CONNECT ts01-b.cloudsink.net:443 HTTP/1.0\r\nUser-Agent: x\r\n\r\n"
	tests := []struct {
		name           string
		client, server string // text, or hex when prefixed "hex:"
		want           Exchange
		notProxy       bool
	}{
		{name: "connect granted (https-connect.pcap)", client: connect,
			server: "HTTP/1.0 200 OK\r\nProxy-Agent: x\r\n\r\n\x16\x03\x01",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443,
				RequestEnd: len(connect), ReplyEnd: 35, Status: 200, StatusLine: "HTTP/1.0 200 OK", Outcome: Granted}},
		{name: "connect 403", client: connect, server: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443,
				RequestEnd: len(connect), ReplyEnd: 45, Status: 403, StatusLine: "HTTP/1.1 403 Forbidden", Outcome: Refused}},
		{name: "connect 407 with credentials", client: "CONNECT [::1]:8443 HTTP/1.1\r\nProxy-Authorization: Basic eA==\r\n\r\n",
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n",
			want: Exchange{Kind: KindHTTPConnect, Target: "[::1]:8443", Host: "::1", Port: 8443, RequestEnd: 64, ReplyEnd: 44,
				Status: 407, StatusLine: "HTTP/1.1 407 Proxy Authentication Required", Outcome: AuthRequired, Credentials: true, CredentialScheme: "Basic", ReplyPartial: true}},
		{name: "connect 407, then again with credentials, granted", client: connect + "CONNECT ts01-b.cloudsink.net:443 HTTP/1.1\r\nProxy-Authorization: NTLM TlRM\r\n\r\n",
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nContent-Length: 6\r\n\r\ndeniedHTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443, RequestEnd: len(connect) + 77, ReplyEnd: 97 + 39,
				Status: 200, StatusLine: "HTTP/1.1 200 Connection established", Outcome: Granted, Credentials: true, CredentialScheme: "NTLM", ReplyStart: 91 + 6, Retries: 1}},
		{name: "connect 407, its body not all there, then again", client: connect + connect,
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 50\r\n\r\nden",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443, RequestEnd: 2 * len(connect),
				ReplyStart: 66 + 50, Retries: 1}},
		{name: "connect 407 offering NTLM and Negotiate", client: connect,
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nproxy-authenticate: NTLM\r\nContent-Length: 0\r\n\r\n",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443, RequestEnd: len(connect), ReplyEnd: 122,
				Status: 407, StatusLine: "HTTP/1.1 407 Proxy Authentication Required", Outcome: AuthRequired, AuthSchemes: "Negotiate, NTLM"}},
		{name: "connect 407 with challenges in one field", client: connect,
			server: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"a, \\\"b\", charset=\"UTF-8\", Negotiate YII=\r\n\r\n",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443, RequestEnd: len(connect), ReplyEnd: 121,
				Status: 407, StatusLine: "HTTP/1.1 407 Proxy Authentication Required", Outcome: AuthRequired, AuthSchemes: "Basic, Negotiate"}},
		{name: "connect 100 then nothing", client: connect, server: "HTTP/1.1 100 Continue\r\n\r\n",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443, RequestEnd: len(connect)}},
		{name: "connect 504", client: connect, server: "HTTP/1.1 504 Gateway Timeout\r\n\r\n",
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443,
				RequestEnd: len(connect), ReplyEnd: 32, Status: 504, StatusLine: "HTTP/1.1 504 Gateway Timeout", Outcome: UpstreamFailed}},
		{name: "connect unanswered", client: connect,
			want: Exchange{Kind: KindHTTPConnect, Target: "ts01-b.cloudsink.net:443", Host: "ts01-b.cloudsink.net", Port: 443, RequestEnd: len(connect)}},
		{name: "CONNECT word but no request line", client: "CONNECT me\r\n", notProxy: true},
		{name: "socks4 granted (socks-https-example.pcap)", client: "hex:04 01 01bb 5db8d822 00", server: "hex:00 5a 0000 00000000",
			want: Exchange{Kind: KindSOCKS4, Target: "93.184.216.34:443", Host: "93.184.216.34", Port: 443, RequestEnd: 9, ReplyEnd: 8,
				Status: 0x5A, StatusLine: "SOCKS4 reply 0x5A (request granted)", Outcome: Granted}},
		{name: "socks4a rejected", client: "hex:04 01 01bb 00000001 7500 612e7465737400", server: "hex:00 5b 0000 00000000",
			want: Exchange{Kind: KindSOCKS4, Target: "a.test:443", Host: "a.test", Port: 443, RequestEnd: 17, ReplyEnd: 8,
				Status: 0x5B, StatusLine: "SOCKS4 reply 0x5B (request rejected or failed)", Outcome: Refused, Credentials: true}},
		{name: "socks5 no auth, host unreachable", client: "hex:05 01 00 05 01 00 03 06 612e74657374 01bb", server: "hex:05 00 05 04 00 01 00000000 0000",
			want: Exchange{Kind: KindSOCKS5, Target: "a.test:443", Host: "a.test", Port: 443, RequestEnd: 16, ReplyEnd: 12,
				Status: 4, StatusLine: "SOCKS5 reply 0x04 (host unreachable)", Outcome: UpstreamFailed}},
		{name: "socks5 no acceptable method", client: "hex:05 01 00", server: "hex:05 ff",
			want: Exchange{Kind: KindSOCKS5, RequestEnd: 3, ReplyEnd: 2, Status: 0xFF,
				StatusLine: "SOCKS5 method 0xFF (no acceptable authentication method among those the client offered)", Outcome: AuthRequired}},
		{name: "socks5 password rejected", client: "hex:05 01 02 01 01 75 01 70", server: "hex:05 02 01 01",
			want: Exchange{Kind: KindSOCKS5, RequestEnd: 8, ReplyEnd: 4, Status: 1,
				StatusLine: "SOCKS5 authentication status 0x01 (user name and password rejected)", Outcome: AuthRequired, Credentials: true}},
		{name: "socks5 password, ipv6 target granted", client: "hex:05 01 02 01 01 75 01 70 05 01 00 04 00000000000000000000000000000001 20fb",
			server: "hex:05 02 01 00 05 00 00 01 7f000001 1f90",
			want: Exchange{Kind: KindSOCKS5, Target: "[::1]:8443", Host: "::1", Port: 8443, RequestEnd: 30, ReplyEnd: 14,
				Status: 0, StatusLine: "SOCKS5 reply 0x00 (succeeded)", Outcome: Granted, Credentials: true}},
		{name: "socks5 ruleset", client: "hex:05 01 00 05 01 00 01 7f000001 01bb", server: "hex:05 00 05 02 00 01 00000000 0000",
			want: Exchange{Kind: KindSOCKS5, Target: "127.0.0.1:443", Host: "127.0.0.1", Port: 443, RequestEnd: 13, ReplyEnd: 12,
				Status: 2, StatusLine: "SOCKS5 reply 0x02 (connection not allowed by ruleset)", Outcome: Refused}},
		{name: "TLS record", client: "hex:16 03 01 00 10", notProxy: true},
		{name: "GET", client: "GET / HTTP/1.1\r\n\r\n", notProxy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := func(s string) []byte {
				if h, ok := strings.CutPrefix(s, "hex:"); ok {
					return unhex(t, h)
				}
				return []byte(s)
			}
			got, ok := Parse(dec(tt.client), dec(tt.server))
			if ok == tt.notProxy {
				t.Fatalf("Parse ok = %v, want %v", ok, !tt.notProxy)
			}
			if tt.notProxy {
				return
			}
			if got != tt.want {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
			if !Starts(dec(tt.client)) {
				t.Errorf("Starts = false for a proxy request")
			}
			// Every prefix of the client's bytes is incomplete or the
			// same request, never something else, and never panics.
			c, s := dec(tt.client), dec(tt.server)
			for i := range len(c) {
				x, ok := Parse(c[:i], s)
				if ok && x.Kind != tt.want.Kind {
					t.Errorf("prefix %d: kind %v", i, x.Kind)
				}
				if ok && x.RequestEnd > i {
					t.Errorf("prefix %d: request ends at %d, past the bytes", i, x.RequestEnd)
				}
			}
			for i := range len(s) {
				if x, _ := Parse(c, s[:i]); x.ReplyEnd > i {
					t.Errorf("server prefix %d: reply ends at %d, past the bytes", i, x.ReplyEnd)
				}
			}
		})
	}
}

func TestStarts(t *testing.T) {
	for _, s := range []string{"C", "CONN", "CONNECT ", "\x04", "\x04\x01", "\x05", "\x05\x02"} {
		if !Starts([]byte(s)) {
			t.Errorf("Starts(%q) = false", s)
		}
	}
	for _, s := range []string{"", "G", "GET ", "\x16\x03\x01", "\x04\x05", "\x05\x00", "CONNECTX"} {
		if Starts([]byte(s)) {
			t.Errorf("Starts(%q) = true", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("CONNECT a:443 HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"))
	f.Add(unhex(f, "0401 01bb 00000001 00 612e7465737400"), unhex(f, "005a000000000000"))
	f.Add(unhex(f, "050102 0101750170 05010003 06612e74657374 01bb"), unhex(f, "0502 0100 05000001 00000000 0000"))
	f.Fuzz(func(t *testing.T, client, server []byte) {
		x, ok := Parse(client, server)
		y, _ := Parse(client, server)
		if x != y {
			t.Fatal("not deterministic")
		}
		if ok && (x.RequestEnd > len(client) || x.ReplyEnd > len(server)) {
			t.Fatalf("offsets past the input: %+v", x)
		}
		if !ok && x != (Exchange{}) {
			t.Fatalf("not a proxy, yet %+v", x)
		}
	})
}
