package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The block is collected before hugeHeap returns: a collection still
// marking it would leave the read's first allocations to grow the heap
// past it, on small pages.
func TestHugeHeapFreesBlock(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hugeHeap()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown >= hugeHeapBytes/2 {
		t.Fatalf("hugeHeap left %d more bytes allocated; the %d-byte block is still alive", grown, hugeHeapBytes)
	}
}

// adviseHuge covers the huge pages at both ends of a block that starts and
// ends inside them, and collapses the first, which holds pages touched
// before the block.
func TestAdviseHugeWholePages(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, 12<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	base := (addr(mem) + hugePageBytes - 1) &^ (hugePageBytes - 1)
	first := base + hugePageBytes // a huge page, all inside mem
	off := int(first - addr(mem))
	mem[off] = 1 // touched before the block, as the heap's start is
	block := first + 12<<10
	n := uintptr(hugePageBytes + 1<<20) // ends in the middle of the next huge page
	adviseHuge(block, n)

	// The first and the last small page of the two huge pages.
	for _, a := range []uintptr{first, first + 2*hugePageBytes - 4<<10} {
		flags, hugeKB := smapsOf(t, a)
		if !strings.Contains(" "+flags+" ", " hg ") {
			t.Errorf("page at block%+d: VmFlags %q, want hg", int64(a)-int64(block), flags)
		}
		if a == first && thpEnabled() && hugeKB < hugePageBytes>>10 {
			t.Errorf("first huge page (touched before the block): AnonHugePages %d kB, want it collapsed (%d kB)", hugeKB, hugePageBytes>>10)
		}
	}
	if mem[off] != 1 {
		t.Errorf("the collapse lost a byte written before it")
	}
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// smapsOf returns the VmFlags and AnonHugePages (kB) of the mapping that
// holds address a, from /proc/self/smaps.
func smapsOf(t *testing.T, a uintptr) (flags string, hugeKB int) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				if in {
					break
				}
				in = uint64(a) >= l && uint64(a) < h
				continue
			}
		}
		if !in {
			continue
		}
		switch fields[0] {
		case "AnonHugePages:":
			hugeKB, _ = strconv.Atoi(fields[1])
		case "VmFlags:":
			flags = strings.Join(fields[1:], " ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return flags, hugeKB
}

// thpEnabled reports whether transparent huge pages are on, always or
// when advised.
func thpEnabled() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
}
