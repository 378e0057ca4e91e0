package attribution

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// sampler collects the TCP connections of a process tree by reading
// /proc/PID/fd and the tree's /proc/PID/net/tcp{,6} again and again.
type sampler struct {
	root  int
	every time.Duration
	stopc chan struct{}
	done  chan struct{}

	mu   sync.Mutex
	seen map[Flow]bool
	// known are the inodes already resolved (read by sample only).
	known map[string]bool
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{root: pid, every: every, stopc: make(chan struct{}), done: make(chan struct{}),
		seen: map[Flow]bool{}, known: map[string]bool{}}
	go func() {
		defer close(s.done)
		runtime.LockOSThread() // its own thread: samples are not held up by the scheduler
		defer runtime.UnlockOSThread()
		for {
			s.sample()
			select {
			case <-s.stopc:
				return
			case <-time.After(s.every):
			}
		}
	}()
	return s
}

func (s *sampler) stop() []Flow {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Flow
	for f := range s.seen {
		out = append(out, f)
	}
	sortFlows(out)
	return out
}

// sample reads the socket inodes of every process of the tree and looks
// the new ones up in the tree's view of /proc/net/tcp and tcp6 (read only
// when there is a new one: the tables can be long).
func (s *sampler) sample() {
	var fresh []string
	for _, pid := range processTree(s.root) {
		dir := fmt.Sprintf("/proc/%d/fd/", pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			link, err := os.Readlink(dir + e.Name())
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(link, "socket:["); ok {
				ino = strings.TrimSuffix(ino, "]")
				if !s.known[ino] && !slices.Contains(fresh, ino) {
					fresh = append(fresh, ino)
				}
			}
		}
	}
	if len(fresh) == 0 {
		return
	}
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", s.root, table))
		if err != nil {
			continue
		}
		for _, ino := range fresh {
			i := bytes.Index(b, []byte(" "+ino+" "))
			if i < 0 {
				continue
			}
			start := bytes.LastIndexByte(b[:i], '\n') + 1
			end := bytes.IndexByte(b[i:], '\n')
			if end < 0 {
				end = len(b) - i
			}
			fields := strings.Fields(string(b[start : i+end]))
			if len(fields) < 10 || fields[9] != ino {
				continue
			}
			local, err1 := parseProcAddr(fields[1])
			remote, err2 := parseProcAddr(fields[2])
			if err1 != nil || err2 != nil || remote.Port() == 0 {
				continue // a listener, or not yet connected
			}
			s.mu.Lock()
			s.known[ino] = true
			s.seen[Flow{Proto: TCP, Local: local, Remote: remote}] = true
			s.mu.Unlock()
		}
	}
}

// processTree lists root and its descendants, from
// /proc/PID/task/TID/children.
func processTree(root int) []int {
	pids := []int{root}
	for i := 0; i < len(pids) && len(pids) < 4096; i++ {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pids[i]))
		for _, t := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pids[i], t.Name()))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && !slices.Contains(pids, pid) {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// parseProcAddr reads /proc/net/tcp's "0100007F:1F90": the address in the
// kernel's byte order (32-bit words, little-endian on the machines Linux
// runs this on), the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	if !ok || (len(addrHex) != 8 && len(addrHex) != 32) {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	var raw []byte
	for i := 0; i < len(addrHex); i += 8 {
		var w uint32
		if _, err := fmt.Sscanf(addrHex[i:i+8], "%08X", &w); err != nil {
			return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
		}
		raw = append(raw, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	var port uint16
	if _, err := fmt.Sscanf(portHex, "%04X", &port); err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q: %w", s, err)
	}
	a, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(a.Unmap(), port), nil
}
