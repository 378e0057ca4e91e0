package analysis

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
)

// Stats are what reading a capture counted: capture's, and what the
// analysis ignored, held or moved.
type Stats struct {
	capture.Stats
	SequenceStats
	// SecretsProblems describes what went wrong with the pcapng Decryption
	// Secrets Blocks (blocks skipped, malformed key log lines), for notes.
	SecretsProblems []string
}

// Analyse reads a whole capture and returns its connections as Connections
// does, or hands them to Options.Emit as they finish. With shards = 0 all
// is done on the calling goroutine (capture.Run); with shards ≥ 1 the
// calling goroutine reads and decodes the frames and that many Builders,
// each on a goroutine of its own, take the connections between them
// (capture.RunSharded). The result is the same, order included. Options.Done
// and Early are for live captures and need shards = 0.
func Analyse(ctx context.Context, src capture.Source, opt Options, capOpt capture.Options, shards int) ([]*Connection, Stats, error) {
	var secrets *secretsUse
	if f, ok := src.(capture.SecretsSource); ok && opt.KeyLog != nil {
		secrets = useSecrets(f, opt.KeyLog)
	}
	if shards <= 0 || opt.Done != nil || opt.Early {
		b := NewBuilder(opt)
		st, err := capture.Run(ctx, src, b, capOpt)
		conns := b.Connections()
		return conns, Stats{st, b.Stats(), secrets.problems()}, err
	}
	var conns []*Connection
	emit := opt.Emit
	if emit == nil {
		emit = func(c *Connection) { conns = append(conns, c) }
	}
	seq := newSequencer(shards, opt, emit)
	hs := make([]capture.Handler, shards)
	for i := range hs {
		b := newBuilder(opt)
		b.seq, b.shard = seq, i
		hs[i] = b
	}
	st, err := capture.RunSharded(ctx, src, hs, capOpt)
	return conns, Stats{st, seq.end(), secrets.problems()}, err
}

// secretsUse follows what a capture file's secrets did.
type secretsUse struct {
	f     capture.SecretsSource
	found []string
}

// useSecrets adds to kl the TLS key log of every pcapng Decryption Secrets
// Block of f (secrets type TLS key log), as reading reaches it: the
// connections that begin after a block are opened with its secrets, and
// those kl held before.
func useSecrets(f capture.SecretsSource, kl *decrypt.KeyLog) *secretsUse {
	u := &secretsUse{f: f}
	f.OnDecryptionSecrets(func(ds capture.DecryptionSecrets) {
		if ds.Type != capture.SecretsTypeTLSKeyLog {
			return // SSH, WireGuard, ZigBee… secrets: not ours
		}
		if err := kl.Parse(bytes.NewReader(ds.Data)); err != nil && len(u.found) < 8 {
			u.found = append(u.found, fmt.Sprintf("%s: the Decryption Secrets Block at offset %d: %v", f.Name(), ds.Offset, err))
		}
	})
	return u
}

func (u *secretsUse) problems() []string {
	if u == nil {
		return nil
	}
	out := slices.Clone(u.found)
	for _, p := range u.f.SecretsProblems() {
		out = append(out, u.f.Name()+": "+p)
	}
	return out
}
