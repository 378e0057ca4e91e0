package main

import (
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// hugeHeapBytes is how much of the heap read asks the kernel to back with
// huge pages: about as large as read's heap grows (the memory limit
// bounds it), so that a read takes a fault per 2 MiB of heap instead of
// one per 4 KiB page.
const hugeHeapBytes = 32 << 20

// hugeHeap asks the kernel to back the start of the heap with transparent
// huge pages (where they are enabled only when asked for, as by default).
// Growing the heap by first touches is dear on a virtual machine: in a
// read of 100 MB of handshakes its 8,000 page faults took a fifth of its
// CPU samples. Go advises nothing for the heap, so this allocates a block the
// size of what read's heap reaches, which the runtime takes from the
// heap's start, marks it for huge pages and lets it go: the first
// collection, which the block itself starts at once while little is
// alive, frees it, and the heap then grows into it. Where huge pages are
// off or always on, the advice changes nothing; a long read whose heap
// outgrows the block takes small pages beyond it, as before.
func hugeHeap() {
	mapTables()
	b := make([]byte, hugeHeapBytes)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // advice: nothing to do if refused
}

// mapTables maps gopacket's two 64 Ki-entry tables before the collection
// hugeHeap starts. They are 5 MB of globals holding pointers, zero but
// for a few entries, so every collection scans them, and the first scan
// faulted their untouched pages in one at a time: 1,300 faults. One
// MADV_POPULATE_READ per table maps them without a fault each (Linux
// 5.14; older kernels refuse it and fault them in as before).
func mapTables() {
	populate(unsafe.Pointer(&layers.EthernetTypeMetadata), unsafe.Sizeof(layers.EthernetTypeMetadata))
	populate(unsafe.Pointer(&layers.PPPTypeMetadata), unsafe.Sizeof(layers.PPPTypeMetadata))
}

// populate maps the whole pages of the n bytes at p for reading, without
// a fault for each.
func populate(p unsafe.Pointer, n uintptr) {
	page := uintptr(unix.Getpagesize())
	start := (uintptr(p) + page - 1) &^ (page - 1)
	end := (uintptr(p) + n) &^ (page - 1)
	if start >= end {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	_ = unix.Madvise(b, unix.MADV_POPULATE_READ) // advice: nothing to do if refused
}
