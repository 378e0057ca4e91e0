package replay

import "time"

// bucket paces the frames: a token bucket of bytes that fills at rate
// bytes per second up to burst bytes. Times are durations since the
// start, so that it is a pure function of the times it is given.
//
// The burst bounds how far the sender catches up after a stall (a sleep
// that overslept, the scheduler running something else): a stall longer
// than the burst lowers the average rate rather than sending a long run
// of frames at line rate, which is what the rate reached reports.
type bucket struct {
	rate   float64 // bytes per second
	burst  float64 // bytes
	tokens float64
	last   time.Duration
}

// pacingBurst is how much time's worth of frames the bucket holds: more
// than a sleep overshoots on a busy machine (nanosleep: up to 2-3 ms when
// both cores are taken), little next to a receiver's ring (5 ms at
// 2 Gbit/s is 1.25 MB).
const pacingBurst = 5 * time.Millisecond

// newBucket returns an empty bucket for bits per second that holds at
// least one frame of largest bytes.
func newBucket(bits float64, largest int) *bucket {
	rate := bits / 8
	return &bucket{rate: rate, burst: max(rate*pacingBurst.Seconds(), float64(largest))}
}

// refill adds the tokens earned since the last refill.
func (b *bucket) refill(now time.Duration) {
	if now > b.last {
		b.tokens = min(b.burst, b.tokens+b.rate*(now-b.last).Seconds())
		b.last = now
	}
}

// take spends n bytes' worth of tokens if the bucket has them.
func (b *bucket) take(n int) bool {
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// wait returns how long until the bucket holds n bytes' worth.
func (b *bucket) wait(n int) time.Duration {
	if b.tokens >= float64(n) {
		return 0
	}
	return time.Duration((float64(n) - b.tokens) / b.rate * float64(time.Second))
}
