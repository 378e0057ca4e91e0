package analysis

import (
	"testing"
	"unsafe"
)

// TestRecordSize guards the size of the record, made once per connection:
// at 1,544 bytes it took a 1,792-byte allocation; at most 1,536 it takes a
// 1,536-byte one, 14% less per connection. Keep small fields (bools, small
// enums) next to each other, and rarely used ones behind a pointer.
func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(Connection{}); n > 1536 {
		t.Errorf("Connection is %d bytes, more than the 1536-byte size class", n)
	}
}

// TestTrackerSize guards the size of the per-connection parsing state
// (536 bytes took a 576-byte allocation): see TestRecordSize.
func TestTrackerSize(t *testing.T) {
	if n := unsafe.Sizeof(tracker{}); n > 512 {
		t.Errorf("tracker is %d bytes, more than the 512-byte size class", n)
	}
}
