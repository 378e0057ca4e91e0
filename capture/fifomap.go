package capture

// fifoMap is a map that holds at most size entries: putting one more
// forgets the one put longest ago (if it was not put again since). The
// books of copies and NATs remember the last segments and connections of
// a capture with it, in bounded memory.
type fifoMap[K comparable, V any] struct {
	m     map[K]fifoEntry[V]
	order []K    // the keys in the order put, a ring once full
	n     uint64 // entries put so far
	size  int
}

type fifoEntry[V any] struct {
	v V
	n uint64 // when it was put: its place in order
}

func newFIFOMap[K comparable, V any](size int) fifoMap[K, V] {
	return fifoMap[K, V]{size: size}
}

func (f *fifoMap[K, V]) len() int { return len(f.m) }

func (f *fifoMap[K, V]) get(k K) (V, bool) {
	e, ok := f.m[k]
	return e.v, ok
}

// put sets k to v, as the newest entry.
func (f *fifoMap[K, V]) put(k K, v V) {
	if f.m == nil {
		f.m = make(map[K]fifoEntry[V]) // grown as needed: most captures need few
	}
	f.n++
	if len(f.order) < f.size {
		f.order = append(f.order, k)
	} else {
		i := (f.n - 1) % uint64(f.size)
		if old, ok := f.m[f.order[i]]; ok && old.n == f.n-uint64(f.size) {
			delete(f.m, f.order[i])
		}
		f.order[i] = k
	}
	f.m[k] = fifoEntry[V]{v: v, n: f.n}
}

// replace sets k, which f holds, to v, keeping its place.
func (f *fifoMap[K, V]) replace(k K, v V) {
	e := f.m[k]
	e.v = v
	f.m[k] = e
}

func (f *fifoMap[K, V]) delete(k K) { delete(f.m, k) }
