package kafkax

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMurmur2Java checks the hash against the values in Kafka's own
// UtilsTest.testMurmur2.
func TestMurmur2Java(t *testing.T) {
	cases := map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	}
	for k, want := range cases {
		if got := int32(murmur2([]byte(k))); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", k, got, want)
		}
	}
}

// TestPartitionForMatchesFranzGo compares PartitionFor with the client's
// default partitioner on account-like and random keys of every length.
func TestPartitionForMatchesFranzGo(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	tp := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := 0; i < 5000; i++ {
		key := []byte(fmt.Sprintf("ACC-%07d", i))
		if i%2 == 1 {
			key = make([]byte, rng.Intn(40)+1)
			rng.Read(key)
		}
		for _, n := range []int32{1, 3, 8, 12, 64, 1000} {
			want := int32(tp.Partition(&kgo.Record{Key: key}, int(n)))
			if got := PartitionFor(key, n); got != want {
				t.Fatalf("PartitionFor(%q, %d) = %d, franz-go says %d", key, n, got, want)
			}
		}
	}
}

func TestKeyOrExplicit(t *testing.T) {
	p := KeyOrExplicit("status")
	key := []byte("ACC-0000042")
	want := int(PartitionFor(key, 12))
	if want == 5 {
		t.Fatal("pick another key: its hash equals the explicit partition")
	}
	events, status := p.ForTopic("events"), p.ForTopic("status")
	if got := events.Partition(&kgo.Record{Key: key, Partition: 5}, 12); got != want {
		t.Errorf("keyed record on events went to %d, want %d", got, want)
	}
	if got := events.Partition(&kgo.Record{Partition: 7}, 12); got != 7 {
		t.Errorf("keyless record went to %d, want its partition 7", got)
	}
	if got := status.Partition(&kgo.Record{Key: key, Partition: 5}, 12); got != 5 {
		t.Errorf("keyed record on an explicit topic went to %d, want its partition 5", got)
	}
}
