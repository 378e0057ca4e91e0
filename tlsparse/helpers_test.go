package tlsparse

import mrand "math/rand"

// newRand returns a deterministic generator so that failures reproduce.
func newRand(seed int64) *mrand.Rand { return mrand.New(mrand.NewSource(seed)) }
