package diagnose

import "testing"

// BenchmarkDiagnose measures one verdict: with a visible chain (TLS 1.2,
// where CheckChain runs x509 verification) and without (TLS 1.3).
func BenchmarkDiagnose(b *testing.B) {
	p := newPKI(b)
	cfg := Config{Roots: PoolRoots(p.roots)}
	b.Run("tls12_chain", func(b *testing.B) {
		c := finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter))
		for b.Loop() {
			Diagnose(c, cfg)
		}
	})
	b.Run("tls12_expired_leaf_only", func(b *testing.B) {
		leaf := mkCert(b, certSpec{cn: "www.example.com", issuer: p.inter, dns: []string{"www.example.com"}, notAfter: captureTime.AddDate(0, 0, -1)})
		c := alert(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, leaf), 7, client, 45)
		for b.Loop() {
			Diagnose(c, cfg)
		}
	})
	b.Run("tls13", func(b *testing.B) {
		c := finish(serverHello(hello(tcpConn(), modernHello()), v13, 0x1301))
		for b.Loop() {
			Diagnose(c, cfg)
		}
	})
}

func BenchmarkDiagnoseCached(b *testing.B) {
	p := newPKI(b)
	cfg := Config{Roots: PoolRoots(p.roots), Cache: NewChainCache(0)}
	c := finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, p.leaf, p.inter))
	for b.Loop() {
		Diagnose(c, cfg)
	}
}

// BenchmarkReadSystemRoots times what every read with the system roots
// does in the background: reading and indexing this machine's roots.
func BenchmarkReadSystemRoots(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readSystemRoots(); err != nil {
			b.Fatal(err)
		}
	}
}
