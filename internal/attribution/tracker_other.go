//go:build !linux

package attribution

import (
	"errors"
	"os/exec"
	"time"
)

// DefaultSampleEvery is how often the sampling fallback looks at the
// program's sockets.
const DefaultSampleEvery = 200 * time.Microsecond

// Config says how to attribute.
type Config struct {
	Sampling    bool
	SampleEvery time.Duration
}

// Tracker attributes nothing outside Linux.
type Tracker struct{}

var errUnsupported = errors.New("attributing flows to a program needs Linux (cgroups, netfilter or /proc)")

// Start returns a tracker that finds no flows.
func Start(Config) *Tracker { return &Tracker{} }

// Method is Sampling: nothing exact is available.
func (t *Tracker) Method() Method { return Sampling }

// Fallback says that nothing is attributed here.
func (t *Tracker) Fallback() error { return errUnsupported }

// Prepare does nothing.
func (t *Tracker) Prepare(*exec.Cmd) {}

// Demote does nothing.
func (t *Tracker) Demote(error) {}

// Started does nothing.
func (t *Tracker) Started(int) {}

// Finish finds no flows.
func (t *Tracker) Finish() ([]Flow, []string, error) {
	return nil, []string{errUnsupported.Error()}, nil
}

// Close does nothing.
func (t *Tracker) Close() error { return nil }

// Leftovers finds nothing: nothing is made outside Linux.
func Leftovers(int) ([]string, error) { return nil, nil }
