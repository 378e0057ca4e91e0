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
	// A hello allocated with its extensions (newClientHello, with its
	// arena of uint16 lists). An object
	// of more than 512 bytes that holds pointers takes 8 more, a header.
	for _, b := range []struct {
		name      string
		size, max uintptr
	}{
		{"clientHello13", unsafe.Sizeof(clientHello13{}) + 8, 1024},
		{"clientHello21", unsafe.Sizeof(clientHello21{}) + 8, 1280},
		{"serverHello2", unsafe.Sizeof(serverHello2{}), 240},
		{"serverHello6", unsafe.Sizeof(serverHello6{}), 384},
	} {
		if b.size > b.max {
			t.Errorf("%s takes %d bytes, more than the %d-byte size class", b.name, b.size, b.max)
		}
	}
}
