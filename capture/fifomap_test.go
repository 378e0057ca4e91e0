package capture

import (
	"math/rand/v2"
	"testing"
)

// TestFIFOMap compares fifoMap with a plain model of it over random puts,
// puts again, replaces and deletes: at most size entries, the one put
// longest ago forgotten first, an entry put again counted from then.
func TestFIFOMap(t *testing.T) {
	const size, keys = 7, 20
	type put struct {
		k, v  int
		alive bool
	}
	var puts []put // every put, oldest first; the last size are the ring
	modelGet := func(k int) (int, bool) {
		for i := len(puts) - 1; i >= 0 && i >= len(puts)-size; i-- {
			if puts[i].k == k && puts[i].alive {
				return puts[i].v, true
			}
		}
		return 0, false
	}
	modelLen := func() int {
		n := 0
		for i := max(len(puts)-size, 0); i < len(puts); i++ {
			if puts[i].alive {
				n++
			}
		}
		return n
	}
	kill := func(k int) {
		for i := range puts {
			if puts[i].k == k {
				puts[i].alive = false
			}
		}
	}
	f := newFIFOMap[int, int](size)
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		k, v := rng.IntN(keys), rng.Int()
		switch op := rng.IntN(10); {
		case op < 6:
			f.put(k, v)
			kill(k)
			puts = append(puts, put{k, v, true})
		case op < 8:
			if _, ok := modelGet(k); ok {
				f.replace(k, v)
				for i := len(puts) - 1; i >= 0; i-- {
					if puts[i].k == k && puts[i].alive {
						puts[i].v = v
						break
					}
				}
			}
		default:
			f.delete(k)
			kill(k)
		}
		for k := range keys {
			got, gotOK := f.get(k)
			want, wantOK := modelGet(k)
			if got != want || gotOK != wantOK {
				t.Fatalf("step %d: get(%d) = %d, %v; want %d, %v", step, k, got, gotOK, want, wantOK)
			}
		}
		if f.len() != modelLen() {
			t.Fatalf("step %d: len %d, want %d", step, f.len(), modelLen())
		}
	}
}
