package capture

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// TestMemoryBound checks the promise behind DefaultMaxConnections: the
// assembler's own state for that many connections fits in 64 MiB.
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 200,000 connections")
	}
	a := NewAssembler(discardHandler{}, Options{})
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	ts := time.Unix(1700000000, 0)
	for i := range DefaultMaxConnections + 1000 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1234)
		a.Segment(&Segment{Src: src, Dst: srv, SYN: true, Seq: 1}, Frame{Number: int64(i + 1), Time: ts})
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	used := m1.HeapAlloc - m0.HeapAlloc
	t.Logf("%d connections: %.1f MiB, %d bytes each", a.Open(), float64(used)/(1<<20), used/uint64(a.Open()))
	if a.Open() != DefaultMaxConnections || a.Stats().ConnsEvicted != 1000 {
		t.Errorf("%d open, %d evicted", a.Open(), a.Stats().ConnsEvicted)
	}
	if used > 64<<20 {
		t.Errorf("%.1f MiB for %d connections, want at most 64", float64(used)/(1<<20), a.Open())
	}
	runtime.KeepAlive(a)
}

// TestConnSize guards the size of a connection's assembler state: 288
// bytes is a size class of Go's allocator, and a field that pushes it
// past (as the stale-acknowledgment fields did, placed after the small
// ones) costs every connection the next class, 320 bytes.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 288 {
		t.Errorf("conn is %d bytes, more than the 288-byte size class", n)
	}
}
