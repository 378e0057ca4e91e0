package attribution

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// chainPrefix names the netfilter chains exec adds, followed by the pid of
// the process that added it and a counter: a chain left by a process that
// was killed before it could remove it is recognised and removed by the
// next one.
const chainPrefix = "TLSDIAG-EXEC-"

// cgroupPrefix names the cgroups exec makes, with the same pid and counter.
const cgroupPrefix = "tlsdiag-exec-"

var counter struct {
	sync.Mutex
	n int
}

// cgroupFlows runs a program in a cgroup of its own and logs, through
// NFLOG, the first packet of each flow a socket of that cgroup sends: a TCP
// SYN, or a UDP packet netfilter's connection tracking has not seen before.
// The rule matches in mangle POSTROUTING, after the destination NAT of
// OUTPUT, so the logged ends are those the capture shows on the wire
// (unless source NAT rewrites them afterwards).
type cgroupFlows struct {
	dir    string // the cgroup's directory
	path   string // the cgroup as the iptables cgroup match names it
	fd     int    // the cgroup's directory, for clone3's CLONE_INTO_CGROUP
	chain  string
	log    *nflog
	tables []string // the iptables-restore commands holding our rules
	// notes are remarks on what the attribution covers (an IP family
	// without rules).
	notes []string
}

// startCgroup makes the cgroup, binds an NFLOG group and installs the
// rules. On error nothing is left behind.
func startCgroup() (_ *cgroupFlows, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: making a cgroup and netfilter rules needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
	}
	restore, err := exec.LookPath("iptables-restore")
	if err != nil {
		return nil, fmt.Errorf("iptables-restore: %w", err)
	}
	mount, own, err := ownCgroup()
	if err != nil {
		return nil, err
	}
	removeStale(mount, own)
	counter.Lock()
	counter.n++
	n := counter.n
	counter.Unlock()
	name := fmt.Sprintf("%s%d-%d", cgroupPrefix, os.Getpid(), n)
	c := &cgroupFlows{
		dir:   filepath.Join(mount.dir(own), name),
		path:  filepath.Join(own, name),
		fd:    -1,
		chain: fmt.Sprintf("%s%d-%d", chainPrefix, os.Getpid(), n),
	}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("making the cgroup: %w", err)
	}
	if c.fd, err = unix.Open(c.dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("opening the cgroup %s: %w", c.dir, err)
	}
	if c.log, err = openNflog(c.chain); err != nil {
		return nil, err
	}
	if err := c.install(restore); err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	c.tables = append(c.tables, restore)
	if restore6, err := exec.LookPath("ip6tables-restore"); err != nil {
		c.notes = append(c.notes, "IPv6 flows are not attributed: "+err.Error())
	} else if err := c.install(restore6); err != nil {
		c.notes = append(c.notes, "IPv6 flows are not attributed: ip6tables: "+err.Error())
	} else {
		c.tables = append(c.tables, restore6)
	}
	go c.log.read()
	return c, nil
}

// rules are the chain and the jump to it, in iptables-restore's language.
func (c *cgroupFlows) rules() string {
	target := fmt.Sprintf("-j NFLOG --nflog-group %d --nflog-prefix %s --nflog-size %d", c.log.group, c.chain, nflogCopy)
	return fmt.Sprintf(`*mangle
:%[1]s - [0:0]
-A %[1]s -p tcp --syn %[2]s
-A %[1]s -p udp -m conntrack --ctstate NEW %[2]s
-I POSTROUTING 1 -m cgroup --path %[3]s -j %[1]s
COMMIT
`, c.chain, target, strconv.Quote(c.path))
}

func (c *cgroupFlows) install(restore string) error {
	return runRestore(restore, c.rules())
}

// runRestore applies script atomically without touching other rules.
func runRestore(restore, script string) error {
	cmd := exec.Command(restore, "--noflush", "-w")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(restore), err, bytes.TrimSpace(out))
	}
	return nil
}

// removal undoes a chain's rules: the jump, then the chain.
func removal(jump, chain string) string {
	return fmt.Sprintf("*mangle\n%s\n-F %s\n-X %s\nCOMMIT\n", jump, chain, chain)
}

// stop ends the logging and returns the flows seen; close removes what
// startCgroup made.
func (c *cgroupFlows) stop() ([]Flow, []string) {
	flows, notes := c.log.stop()
	return flows, append(append([]string(nil), c.notes...), notes...)
}

// close removes the rules, the NFLOG binding and the cgroup; it can be
// called more than once. A process of the tree still running (one that
// left the program in the background) is moved to exec's own cgroup so
// that the cgroup can go.
func (c *cgroupFlows) close() error {
	var errs []error
	jump := fmt.Sprintf("-D POSTROUTING -m cgroup --path %s -j %s", strconv.Quote(c.path), c.chain)
	for _, t := range c.tables {
		if err := runRestore(t, removal(jump, c.chain)); err != nil {
			errs = append(errs, err)
		}
	}
	c.tables = nil
	if c.log != nil {
		c.log.close()
	}
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	if c.dir != "" {
		if err := removeCgroup(c.dir); err != nil {
			errs = append(errs, err)
		}
		c.dir = ""
	}
	return errors.Join(errs...)
}

// removeCgroup removes a cgroup, first moving the processes still in it
// to its parent.
func removeCgroup(dir string) error {
	err := unix.Rmdir(dir)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("removing the cgroup %s: %w", dir, err)
	}
	procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, pid := range strings.Fields(string(procs)) {
		// One pid per write: the kernel takes one at a time.
		os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.procs"), []byte(pid), 0)
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing the cgroup %s: %w", dir, err)
	}
	return nil
}

// cgroupMount is the cgroup v2 hierarchy's mount.
type cgroupMount struct {
	point string // where it is mounted
	root  string // which cgroup is at point
}

// dir is where cgroup (as /proc/self/cgroup names it) is.
func (m cgroupMount) dir(cgroup string) string {
	rel, err := filepath.Rel(m.root, cgroup)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = cgroup
	}
	return filepath.Join(m.point, rel)
}

// ownCgroup finds the cgroup v2 mount and this process's cgroup in it.
func ownCgroup() (cgroupMount, string, error) {
	var m cgroupMount
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return m, "", fmt.Errorf("finding cgroup v2: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, fs := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(fs) >= 1 && fs[0] == "cgroup2" {
			m = cgroupMount{point: unescapeMount(fields[4]), root: unescapeMount(fields[3])}
			break
		}
	}
	if m.point == "" {
		return m, "", errors.New("no cgroup v2 hierarchy is mounted")
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return m, "", fmt.Errorf("finding this process's cgroup: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			if strings.HasSuffix(p, " (deleted)") {
				break
			}
			return m, p, nil
		}
	}
	return m, "", errors.New("this process is in no cgroup v2 cgroup")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// staleChain is an exec run's rule in iptables-save's output, compiled
// on first use: at package initialisation it was a fiftieth of the start
// of every command.
var staleChain = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^-A POSTROUTING (.* -j (` + chainPrefix + `(\d+)-\d+))$`)
})

// removeStale removes the chains and cgroups of exec runs whose process is
// gone (killed before it could clean up).
func removeStale(mount cgroupMount, own string) {
	for _, bin := range []string{"iptables", "ip6tables"} {
		save, err := exec.LookPath(bin + "-save")
		if err != nil {
			continue
		}
		out, err := exec.Command(save, "-t", "mangle").Output()
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(out), "\n") {
			m := staleChain().FindStringSubmatch(l)
			if m == nil || alive(m[3]) {
				continue
			}
			if restore, err := exec.LookPath(bin + "-restore"); err == nil {
				runRestore(restore, removal("-D POSTROUTING "+m[1], m[2]))
			}
		}
	}
	ents, _ := os.ReadDir(mount.dir(own))
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), cgroupPrefix)
		pid, _, _ := strings.Cut(rest, "-")
		if ok && e.IsDir() && !alive(pid) {
			unix.Rmdir(filepath.Join(mount.dir(own), e.Name()))
		}
	}
}

// alive reports whether process pid exists.
func alive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return true // not ours to judge
	}
	err = syscall.Kill(n, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Leftovers lists the chains and cgroups that exec runs of process pid
// made and that are still there.
func Leftovers(pid int) ([]string, error) {
	var left []string
	mark := fmt.Sprintf("%s%d-", chainPrefix, pid)
	for _, bin := range []string{"iptables-save", "ip6tables-save"} {
		save, err := exec.LookPath(bin)
		if err != nil {
			continue
		}
		out, err := exec.Command(save, "-t", "mangle").Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bin, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, mark) {
				left = append(left, bin+": "+l)
			}
		}
	}
	mount, own, err := ownCgroup()
	if err != nil {
		return left, nil
	}
	dirs, _ := filepath.Glob(filepath.Join(mount.dir(own), fmt.Sprintf("%s%d-*", cgroupPrefix, pid)))
	return append(left, dirs...), nil
}
