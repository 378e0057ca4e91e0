package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// gen emits code for the tree with symbolic jump targets: every test
// jumps to a "true" or a "false" label, and/or/not only route the labels
// (short-circuit), so every jump goes forward, as classic BPF requires.
type gen struct {
	link   Link
	ins    []bpf.Instruction
	jumps  map[int]jump // index of a conditional jump → its targets
	labels []int        // label → index of the instruction it names; -1 until placed
}

type jump struct {
	cond   bpf.JumpTest
	val    uint32
	jt, jf int // labels
}

func (g *gen) newLabel() int {
	g.labels = append(g.labels, -1)
	return len(g.labels) - 1
}

func (g *gen) place(l int) { g.labels[l] = len(g.ins) }

func (g *gen) emit(in bpf.Instruction) { g.ins = append(g.ins, in) }

func (g *gen) jump(cond bpf.JumpTest, val uint32, jt, jf int) {
	if g.jumps == nil {
		g.jumps = map[int]jump{}
	}
	g.jumps[len(g.ins)] = jump{cond, val, jt, jf}
	g.ins = append(g.ins, nil)
}

func (g *gen) node(n node, t, f int) {
	switch n := n.(type) {
	case andNode:
		mid := g.newLabel()
		g.node(n.a, mid, f)
		g.place(mid)
		g.node(n.b, t, f)
	case orNode:
		mid := g.newLabel()
		g.node(n.a, t, mid)
		g.place(mid)
		g.node(n.b, t, f)
	case notNode:
		g.node(n.a, f, t)
	case cmpNode:
		g.load(n.kind, n.off, n.size, n.indirect)
		if n.mask != 0 {
			g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: n.mask})
		}
		if n.lo == n.hi {
			g.jump(bpf.JumpEqual, n.lo, t, f)
			return
		}
		mid := g.newLabel()
		g.jump(bpf.JumpGreaterOrEqual, n.lo, mid, f)
		g.place(mid)
		g.jump(bpf.JumpGreaterThan, n.hi, f, t)
	case bitsNode:
		g.load(loadNet, n.off, n.size, false)
		g.jump(bpf.JumpBitsSet, n.bits, t, f)
	default:
		panic(fmt.Sprintf("filter: unknown node %T", n))
	}
}

// load puts a value of the packet into A.
func (g *gen) load(kind loadKind, off uint32, size int, indirect bool) {
	nh := uint32(0)
	if g.link == Ethernet {
		nh = 14
	}
	switch {
	case kind == loadEtype && g.link == Cooked:
		g.emit(bpf.LoadExtension{Num: bpf.ExtProto})
	case kind == loadEtype:
		g.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
	case indirect:
		g.emit(bpf.LoadMemShift{Off: nh})
		g.emit(bpf.LoadIndirect{Off: nh + off, Size: size})
	default:
		g.emit(bpf.LoadAbsolute{Off: nh + off, Size: size})
	}
}

// resolve turns the labels into skips.
func (g *gen) resolve() ([]bpf.Instruction, error) {
	out := make([]bpf.Instruction, len(g.ins))
	copy(out, g.ins)
	for i, j := range g.jumps {
		jt, jf := g.labels[j.jt]-i-1, g.labels[j.jf]-i-1
		if jt < 0 || jf < 0 {
			panic("filter: backward jump")
		}
		if jt > maxJump || jf > maxJump {
			return nil, fmt.Errorf("too long for the built-in compiler (%d instructions; a jump reaches beyond %d): split it or use the libpcap build", len(g.ins), maxJump)
		}
		out[i] = bpf.JumpIf{Cond: j.cond, Val: j.val, SkipTrue: uint8(jt), SkipFalse: uint8(jf)}
	}
	if len(out) > maxInstructions {
		return nil, fmt.Errorf("too long (%d instructions)", len(out))
	}
	return out, nil
}
