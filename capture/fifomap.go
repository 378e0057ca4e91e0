package capture

// fifoMap is a map that holds at most size entries: putting one more
// forgets the one put longest ago (if it was not put again since). The
// books of copies and NATs remember the last segments and connections of
// a capture with it, in bounded memory.
//
// The entries live in a ring, in the order put; the map holds only each
// key's place in it. A book puts an entry for each SYN (NATs) or segment
// (copies) and forgets one as often, so the map's slots are kept small: a
// map of whole entries spent a third of the decoding of a capture of
// short connections growing and rehashing itself.
type fifoMap[K comparable, V any] struct {
	m    map[K]uint32 // a key's place in ring
	ring []fifoEntry[K, V]
	next uint32 // the place of the next entry put, once ring is full
	size int
}

// fifoPresize bounds the entries a fifoMap makes room for at once.
const fifoPresize = 4096

type fifoEntry[K comparable, V any] struct {
	k    K
	v    V
	live bool // false once deleted or put again elsewhere
}

func newFIFOMap[K comparable, V any](size int) fifoMap[K, V] {
	return fifoMap[K, V]{size: size}
}

func (f *fifoMap[K, V]) len() int { return len(f.m) }

func (f *fifoMap[K, V]) get(k K) (V, bool) {
	i, ok := f.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	return f.ring[i].v, true
}

// put sets k to v, as the newest entry.
func (f *fifoMap[K, V]) put(k K, v V) {
	if f.m == nil {
		// Made at the first put, the size of a NAT book's SYNs at most:
		// growing the map and the ring from nothing was half their cost
		// on a capture of short connections.
		n := min(f.size, fifoPresize)
		f.m, f.ring = make(map[K]uint32, n), make([]fifoEntry[K, V], 0, n)
	}
	if i, ok := f.m[k]; ok {
		f.ring[i].live = false // put again: its old place no longer holds it
	}
	var i uint32
	if len(f.ring) < f.size {
		i = uint32(len(f.ring))
		f.ring = append(f.ring, fifoEntry[K, V]{})
	} else {
		i = f.next
		f.next = (f.next + 1) % uint32(f.size)
		if old := &f.ring[i]; old.live {
			delete(f.m, old.k)
		}
	}
	f.ring[i] = fifoEntry[K, V]{k: k, v: v, live: true}
	f.m[k] = i
}

// replace sets k, which f holds, to v, keeping its place.
func (f *fifoMap[K, V]) replace(k K, v V) {
	if i, ok := f.m[k]; ok {
		f.ring[i].v = v
	}
}

func (f *fifoMap[K, V]) delete(k K) {
	if i, ok := f.m[k]; ok {
		f.ring[i].live = false
		delete(f.m, k)
	}
}
