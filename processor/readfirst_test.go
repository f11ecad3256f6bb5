package processor_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/testkit"
)

// TestReadFirstOrder on the real Kafka: a bulk topic (12 partitions) has
// a backlog of 12,000 records; fetches are bounded to 4 KiB, 2 KiB a
// partition, compressed: a fetch holds about 270 bulk records of two
// partitions) and one record is on each partition of the read-first topic.
// They come within the first two fetches; then, five times, three more are
// produced there and come within the next two fetches (without the order
// the client's rotation reaches the read-first partitions about once in
// 15 fetches: 0 to 3240 bulk records came first in a round), and no poll
// hands a bulk record before a read-first one.
func TestReadFirstOrder(t *testing.T) {
	k := testkit.KafkaConfig(t, 1)
	id := "t" + testkit.ID()
	bulk, pay := id+".bulk", id+".pay"
	cl, err := kgo.NewClient(k.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	for topic, n := range map[string]int32{bulk: 12, pay: 3} {
		if _, err := adm.CreateTopic(ctx, n, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	defer adm.DeleteTopics(context.Background(), bulk, pay)
	pr, err := kgo.NewClient(append(k.ClientOpts(), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(2048))...)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	payments := func(tag string) []*kgo.Record {
		var rs []*kgo.Record
		for p := range int32(3) {
			rs = append(rs, &kgo.Record{Topic: pay, Partition: p, Value: []byte(tag)})
		}
		return rs
	}
	filler := strings.Repeat("i", 90)
	recs := payments("warm-up")
	for i := range 12000 {
		recs = append(recs, &kgo.Record{Topic: bulk, Partition: int32(i % 12), Value: fmt.Appendf(nil, "%s%05d", filler, i)})
	}
	if err := pr.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	opts := append(k.ClientOpts(), kgo.ConsumeTopics(bulk, pay), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(4096), kgo.FetchMaxPartitionBytes(2048))
	c, err := kgo.NewClient(append(opts, processor.ReadFirst([]string{pay})...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// poll until 3 records with tag came; the bulk records polled before
	// the last of them
	until := func(tag string) (bulkSeen int) {
		got := 0
		for got < 3 {
			fs := c.PollRecords(ctx, 10000)
			if err := ctx.Err(); err != nil {
				t.Fatalf("%d of 3 %s records after %d bulk ones: %v", got, tag, bulkSeen, err)
			}
			sawBulk := false
			fs.EachRecord(func(r *kgo.Record) {
				if r.Topic == bulk {
					sawBulk = true
					if got < 3 {
						bulkSeen++
					}
					return
				}
				if sawBulk {
					t.Errorf("a read-first record (partition %d) after a bulk record in one poll", r.Partition)
				}
				if string(r.Value) == tag {
					got++
				}
			})
		}
		return bulkSeen
	}
	seen := []int{until("warm-up")}
	for round := range 5 { // rotation alone would pass one round in about five
		if err := pr.ProduceSync(ctx, payments(fmt.Sprint("payment ", round))...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, until(fmt.Sprint("payment ", round)))
	}
	for i, n := range seen {
		if n > 600 {
			t.Errorf("round %d: %d bulk records were polled before the 3 read-first records (produced first in round 0)", i, n)
		}
	}
	t.Logf("bulk records polled before the read-first ones, the warm-up then 5 rounds: %v", seen)
}
