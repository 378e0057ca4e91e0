package main

import (
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// hugeHeapBytes is how much of the heap read asks the kernel to back with
// huge pages: about as large as read's heap grows (the memory limit
// bounds it), so that a read takes a fault per 2 MiB of heap instead of
// one per 4 KiB page.
const hugeHeapBytes = 32 << 20

// hugePageBytes is the size of a transparent huge page with 4 KiB pages
// (amd64, arm64). Where huge pages are larger, hugeHeap's advice covers
// less than it could, and nothing breaks.
const hugePageBytes = 2 << 20

// hugeHeap asks the kernel to back the start of the heap with transparent
// huge pages (where they are enabled only when asked for, as by default).
// Growing the heap by first touches is dear on a virtual machine: in a
// read of 100 MB of handshakes its 8,000 page faults took a fifth of its
// CPU samples. Go advises nothing for the heap, so this allocates a block the
// size of what read's heap reaches, which the runtime takes from the
// heap's start, marks it for huge pages, lets it go and collects it, so
// that the heap then grows into it. Where huge pages are off or always
// on, the advice changes nothing; a long read whose heap outgrows the
// block takes small pages beyond it, as before.
//
// The block must be free before read allocates. Left to the collection
// it starts itself, it is still alive when that collection marks it, and
// the read's first allocations grow the heap past it on small pages
// (about 1,000 more faults in four runs of ten). So collection is off
// while the block is allocated, and one collection, which finds little
// alive, frees it before hugeHeap returns.
func hugeHeap() {
	mapTables()
	gcPercent := debug.SetGCPercent(-1)
	b := make([]byte, hugeHeapBytes)
	adviseHuge(uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	runtime.KeepAlive(b)
	debug.SetGCPercent(gcPercent)
	runtime.GC()
}

// adviseHuge marks the huge pages that the n bytes at p touch for
// transparent huge pages, from the huge page where they start to the one
// where they end, and collapses the first into one huge page if it
// starts below p. The runtime maps the heap in aligned steps of 4 MiB,
// so these pages are the heap's, and the first holds what was allocated
// before the block: its small pages already touched would keep the rest
// of it, which the read fills first, on small pages too (a collapse
// costs a copy of those pages; the faults it saves cost more). Both are
// advice: on memory that is not the heap they change nothing it relies
// on, and where the kernel refuses them (MADV_COLLAPSE needs Linux 6.1)
// the heap stays as it was. The addresses stay integers: memory next to
// the block is no Go object a pointer may point to.
func adviseHuge(p, n uintptr) {
	start := p &^ (hugePageBytes - 1)
	end := (p + n + hugePageBytes - 1) &^ (hugePageBytes - 1)
	if madvise(start, end-start, unix.MADV_HUGEPAGE) != nil {
		return
	}
	if start != p {
		_ = madvise(start, hugePageBytes, unix.MADV_COLLAPSE)
	}
}

// madvise is madvise(2) on n bytes at address addr.
func madvise(addr, n uintptr, advice int) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
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
