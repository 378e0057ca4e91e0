package attribution

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// DefaultSampleEvery is how often the sampling fallback looks at the
// program's sockets.
const DefaultSampleEvery = 200 * time.Microsecond

// Config says how to attribute.
type Config struct {
	// Sampling skips the cgroup and samples /proc.
	Sampling bool
	// SampleEvery is the sampling period; zero means DefaultSampleEvery.
	SampleEvery time.Duration
}

// Tracker follows the flows of one program run: Start it, Prepare the
// command, call Started with its pid once it runs and Finish once it has
// exited. Close (idempotent) removes whatever is left, on every path.
type Tracker struct {
	cfg      Config
	method   Method
	cg       *cgroupFlows
	sm       *sampler
	fallback error
}

// Start prepares to follow a program about to be started: in a cgroup of
// its own when possible, else by sampling (Fallback says why).
func Start(cfg Config) *Tracker {
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = DefaultSampleEvery
	}
	t := &Tracker{cfg: cfg, method: Sampling}
	if cfg.Sampling {
		t.fallback = errors.New("sampling was asked for")
		return t
	}
	t.cg, t.fallback = startCgroup()
	if t.cg != nil {
		t.method = Cgroup
	}
	return t
}

// Method is how the flows are attributed.
func (t *Tracker) Method() Method { return t.method }

// Fallback says why the flows are sampled rather than exact; nil when they
// are exact.
func (t *Tracker) Fallback() error { return t.fallback }

// Prepare makes cmd start inside the cgroup (clone3's CLONE_INTO_CGROUP:
// the program is in it from its first instruction).
func (t *Tracker) Prepare(cmd *exec.Cmd) {
	if t.cg == nil {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = t.cg.fd
}

// Demote gives up the cgroup after cmd could not be started in it (a
// kernel without CLONE_INTO_CGROUP): the caller starts a fresh command,
// whose flows are then sampled.
func (t *Tracker) Demote(startErr error) {
	if t.cg == nil {
		return
	}
	t.cg.close()
	t.cg, t.method = nil, Sampling
	t.fallback = fmt.Errorf("starting the program in a cgroup: %w", startErr)
}

// Started begins sampling the tree of pid when there is no cgroup.
func (t *Tracker) Started(pid int) {
	if t.cg == nil && t.sm == nil {
		t.sm = startSampler(pid, t.cfg.SampleEvery)
	}
}

// Finish ends the following once the program has exited and removes the
// rules and the cgroup: the flows, sorted, and remarks on what they may
// lack.
func (t *Tracker) Finish() ([]Flow, []string, error) {
	var flows []Flow
	var notes []string
	switch {
	case t.cg != nil:
		flows, notes = t.cg.stop()
	case t.sm != nil:
		flows = t.sm.stop()
		t.sm = nil
	}
	return flows, notes, t.Close()
}

// Close removes the rules and the cgroup, if still there.
func (t *Tracker) Close() error {
	if t.sm != nil {
		t.sm.stop()
		t.sm = nil
	}
	if t.cg == nil {
		return nil
	}
	err := t.cg.close()
	t.cg = nil
	return err
}
