package orgdoc

import (
	"encoding/binary"
	"hash/maphash"
)

// strSet is a set of strings for the streamed validation of a large
// document (Stream.Decode), where user ids and usernames are as many as the
// users: a million of them in a map[string]bool take ~50 bytes each, twice
// what the names themselves do. Here the members' bytes are packed, each
// after its length, into chunks of up to 1 MiB, and an open-addressing table
// (linear probing, at most half full) holds their positions: ~8 to 16 bytes
// per member plus its length. Members are never removed.
type strSet struct {
	seed   maphash.Seed
	chunks [][]byte
	slots  []uint32 // 0: empty; else 1 + chunk<<chunkBits | offset
	n      int
	// full is set when more than maxChunks chunks would be needed (4 GiB
	// of names); the set then stops growing and the caller must fail.
	full bool
}

const (
	chunkBits = 20
	chunkSize = 1 << chunkBits
	maxChunks = 1<<(32-chunkBits) - 1
)

func newStrSet() *strSet { return &strSet{seed: maphash.MakeSeed(), slots: make([]uint32, 16)} }

// at returns the member stored at position pos.
func (s *strSet) at(pos uint32) []byte {
	c := s.chunks[pos>>chunkBits]
	off := int(pos & (chunkSize - 1))
	n, k := binary.Uvarint(c[off:])
	return c[off+k : off+k+int(n)]
}

// find returns the slot of name: the one holding it, or the empty slot
// where it would go.
func (s *strSet) find(name string, h uint64) int {
	mask := len(s.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		p := s.slots[i]
		if p == 0 || string(s.at(p-1)) == name {
			return i
		}
	}
}

func (s *strSet) has(name string) bool {
	return s.slots[s.find(name, maphash.String(s.seed, name))] != 0
}

func (s *strSet) add(name string) {
	h := maphash.String(s.seed, name)
	i := s.find(name, h)
	if s.slots[i] != 0 || s.full {
		return
	}
	pos, ok := s.store(name)
	if !ok {
		s.full = true
		return
	}
	s.slots[i] = pos + 1
	s.n++
	if 2*s.n > len(s.slots) {
		s.grow()
	}
}

// store appends name to the chunks and returns its position. A name that
// does not fit the last chunk starts a new one (of its own size when it is
// longer than a chunk: it is then alone in it, at offset 0).
func (s *strSet) store(name string) (uint32, bool) {
	need := binary.MaxVarintLen64 + len(name)
	last := len(s.chunks) - 1
	if last < 0 || len(s.chunks[last])+need > cap(s.chunks[last]) {
		if len(s.chunks) >= maxChunks {
			return 0, false
		}
		size := max(need, 4096)
		if last >= 0 {
			// Chunks grow up to 1 MiB, so a small set stays small.
			size = max(need, min(2*cap(s.chunks[last]), chunkSize))
		}
		s.chunks = append(s.chunks, make([]byte, 0, size))
		last++
	}
	c := s.chunks[last]
	pos := uint32(last)<<chunkBits | uint32(len(c))
	c = binary.AppendUvarint(c, uint64(len(name)))
	s.chunks[last] = append(c, name...)
	return pos, true
}

func (s *strSet) grow() {
	old := s.slots
	s.slots = make([]uint32, 2*len(old))
	mask := len(s.slots) - 1
	for _, p := range old {
		if p == 0 {
			continue
		}
		i := int(maphash.Bytes(s.seed, s.at(p-1))) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = p
	}
}

// reset empties the set, keeping small buffers for reuse (the members of
// one group after another).
func (s *strSet) reset() {
	if len(s.slots) > 1<<12 {
		s.slots = make([]uint32, 16)
	} else {
		clear(s.slots)
	}
	if len(s.chunks) > 1 || (len(s.chunks) == 1 && cap(s.chunks[0]) > 1<<16) {
		s.chunks = nil
	} else if len(s.chunks) == 1 {
		s.chunks[0] = s.chunks[0][:0]
	}
	s.n, s.full = 0, false
}
