package capture

// SecretsTypeTLSKeyLog is the secrets type of a pcapng Decryption Secrets
// Block holding an NSS key log (SSLKEYLOGFILE lines), as written by
// `editcap --inject-secrets tls,keys.txt` and Wireshark.
const SecretsTypeTLSKeyLog = 0x544c534b

// DecryptionSecrets is the content of one pcapng Decryption Secrets Block
// (pcapng specification, Section 4.7).
type DecryptionSecrets struct {
	Type   uint32 // SecretsTypeTLSKeyLog, or another type the caller may ignore
	Data   []byte
	Offset int64 // of the block, in the (decompressed) file
}

// maxSecretsBlock bounds one Decryption Secrets Block kept: a key log of
// about 100,000 TLS 1.3 connections. A larger block is skipped and
// reported.
const maxSecretsBlock = 64 << 20

// maxPendingSecrets bounds the secrets held until OnDecryptionSecrets is
// called.
const maxPendingSecrets = maxSecretsBlock

// OnDecryptionSecrets makes the File call fn with the content of every
// pcapng Decryption Secrets Block, wherever it is in the file: at once for
// those already read, then as reading reaches them, on the goroutine
// reading the File. A block is seen when reading reaches it, before the
// packets that follow it are returned. It does nothing for a pcap file.
func (f *File) OnDecryptionSecrets(fn func(DecryptionSecrets)) {
	s := f.ng
	if s == nil {
		return
	}
	for _, ds := range s.pending {
		fn(ds)
	}
	s.pending, s.held = nil, 0
	s.deliver = fn
}

// SecretsProblems describes the Decryption Secrets Blocks that were not
// kept (over the size limit, malformed), for a warning.
func (f *File) SecretsProblems() []string {
	if f.ng == nil {
		return nil
	}
	return f.ng.skipped
}
