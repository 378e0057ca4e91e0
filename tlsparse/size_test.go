package tlsparse

import (
	"testing"
	"unsafe"
)

// TestHelloSizes guards the size of the hellos, parsed once per
// connection: at 480 bytes a ClientHello took a 480-byte allocation and
// at 176 a ServerHello a 192-byte one; at most 448 and 160 they take
// allocations of those size classes. Keep the fields of fixed size
// together, after the slices.
func TestHelloSizes(t *testing.T) {
	if n := unsafe.Sizeof(ClientHello{}); n > 448 {
		t.Errorf("ClientHello is %d bytes, more than the 448-byte size class", n)
	}
	if n := unsafe.Sizeof(ServerHello{}); n > 160 {
		t.Errorf("ServerHello is %d bytes, more than the 160-byte size class", n)
	}
}
