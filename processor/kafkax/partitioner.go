package kafkax

import "github.com/twmb/franz-go/pkg/kgo"

// This file is the one place arrears decides which partition a key lives
// on. Everything that must agree with where the producer put an account
// (the processor's outputs, gen and bench producers, explain, tests) calls
// PartitionFor or produces through KeyOrExplicit.

// PartitionFor is the partition Kafka's default partitioner gives key among
// n partitions: murmur2 of the key with the sign bit cleared, modulo n, as
// the Java client and franz-go's StickyKeyPartitioner(nil) compute it. n
// must be positive; an empty key is hashed like any other (keyless records
// are the partitioner's business, not this function's).
func PartitionFor(key []byte, n int32) int32 {
	return int32(murmur2(key)&0x7fffffff) % n
}

// KeyOrExplicit is the partitioner arrears produces with. On the topics
// listed in explicit (the status changelog and the accepted events, kept
// co-partitioned with their input) every record goes to the partition set
// on it. Elsewhere a keyed record goes to PartitionFor(key, n) and a keyless
// one, such as a ClockTick, to the partition set on the record.
func KeyOrExplicit(explicit ...string) kgo.Partitioner {
	p := keyOrExplicit{manual: make(map[string]bool, len(explicit))}
	for _, t := range explicit {
		p.manual[t] = true
	}
	return p
}

type keyOrExplicit struct{ manual map[string]bool }

func (p keyOrExplicit) ForTopic(t string) kgo.TopicPartitioner {
	return keyOrExplicitTP{manual: p.manual[t]}
}

type keyOrExplicitTP struct{ manual bool }

func (keyOrExplicitTP) RequiresConsistency(*kgo.Record) bool { return true }

func (p keyOrExplicitTP) Partition(r *kgo.Record, n int) int {
	if p.manual || len(r.Key) == 0 {
		return int(r.Partition) % n
	}
	return int(PartitionFor(r.Key, int32(n)))
}

// murmur2 is Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2:
// seed 0x9747b28c, little-endian 4-byte blocks).
func murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
