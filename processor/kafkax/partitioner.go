package kafkax

import "github.com/twmb/franz-go/pkg/kgo"

// KeyOrExplicit partitions keyed records like Kafka's default partitioner
// (murmur2 of the key, as the Java client does) and sends keyless records,
// such as ClockTicks, to the partition set on the record.
func KeyOrExplicit() kgo.Partitioner { return keyOrExplicit{} }

type keyOrExplicit struct{}

func (keyOrExplicit) ForTopic(t string) kgo.TopicPartitioner {
	return keyOrExplicitTP{kgo.StickyKeyPartitioner(nil).ForTopic(t)}
}

type keyOrExplicitTP struct{ kgo.TopicPartitioner }

func (keyOrExplicitTP) RequiresConsistency(*kgo.Record) bool { return true }

func (p keyOrExplicitTP) Partition(r *kgo.Record, n int) int {
	if len(r.Key) == 0 {
		return int(r.Partition) % n
	}
	return p.TopicPartitioner.Partition(r, n)
}
