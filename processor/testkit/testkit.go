// Package testkit gives integration tests the real local stack: it connects
// to Kafka, Redis and ClickHouse at the addresses `make up` starts (or the
// ARREARS_TEST_* overrides), creates uniquely named topics and key prefixes
// per test, and fails (never skips) when a service is missing, unless the
// tests run with -short. It does network IO and is imported only by tests.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// KafkaAddr, RedisAddr and ClickHouseAddr are where the local stack listens.
var (
	KafkaAddr      = env("ARREARS_TEST_KAFKA", "127.0.0.1:9092")
	RedisAddr      = env("ARREARS_TEST_REDIS", "127.0.0.1:6379")
	RedisCluster   = strings.Split(env("ARREARS_TEST_REDIS_CLUSTER", "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"), ",")
	ClickHouseAddr = env("ARREARS_TEST_CLICKHOUSE", "127.0.0.1:9000")
)

// Integration marks a test as needing the real stack: under -short it skips;
// otherwise every named service must answer or the test fails.
func Integration(t testing.TB, services ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the local stack (make up); skipped with -short")
	}
	for _, s := range services {
		addr := map[string]string{"kafka": KafkaAddr, "redis": RedisAddr, "clickhouse": ClickHouseAddr, "redis-cluster": RedisCluster[0]}[s]
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			t.Fatalf("%s is not reachable at %s (start the stack with `make up`): %v", s, addr, err)
		}
		c.Close()
	}
}

// ID returns a short random id for naming test resources.
func ID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// KafkaConfig returns a kafkax.Config whose topics are unique to this test,
// created with the given partition count and deleted at the end.
func KafkaConfig(t testing.TB, partitions int) kafkax.Config {
	t.Helper()
	Integration(t, "kafka")
	c := kafkax.Defaults()
	c.Brokers = []string{KafkaAddr}
	return PrivateTopics(t, c, partitions)
}

// PrivateTopics is c with topics unique to this test, created (as c's
// client) with the given partition count and deleted at the end.
func PrivateTopics(t testing.TB, c kafkax.Config, partitions int) kafkax.Config {
	t.Helper()
	id := ID()
	c.Partitions = partitions
	c.Topics = kafkax.PrefixedTopics("t" + id)
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := kafkax.CreateTopics(ctx, adm, c); err != nil {
		t.Fatalf("create topics: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, append(c.Topics.Inputs(), append(append(c.Topics.Outputs(), c.Topics.Policies), c.Topics.Groups()...)...)...)
		cl.Close()
	})
	return c
}

// Redis returns a client for the standalone Redis and a key prefix unique to
// this test; the test's keys are deleted at the end.
func Redis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return scoped(t, "redis", func() redis.UniversalClient { return redis.NewClient(&redis.Options{Addr: RedisAddr}) })
}

// RedisClusterClient returns a client for the 3-master test cluster
// (`make redis-cluster-up`) and a unique key prefix.
func RedisClusterClient(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return scoped(t, "redis-cluster", func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: RedisCluster})
	})
}

// scoped checks that service is up, then opens a client and picks a unique
// key prefix; the prefix's keys are deleted and the client closed at the end.
func scoped(t testing.TB, service string, open func() redis.UniversalClient) (redis.UniversalClient, string) {
	t.Helper()
	Integration(t, service)
	rdb := open()
	prefix := "t" + ID()
	t.Cleanup(func() { DeletePrefix(rdb, prefix); rdb.Close() })
	return rdb, prefix
}

// DeletePrefix deletes every key starting with prefix (on every master).
func DeletePrefix(rdb redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Keys sharing a hash tag ({pN}: one partition) go in one DEL, as a node
	// that loses its data loses a partition's keys together, never half of
	// them.
	del := func(ctx context.Context, c *redis.Client) error {
		byTag := map[string][]string{}
		it := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			tag := k
			if i := strings.IndexByte(k, '{'); i >= 0 {
				if j := strings.IndexByte(k[i:], '}'); j > 0 {
					tag = k[i : i+j+1]
				}
			}
			byTag[tag] = append(byTag[tag], k)
		}
		for _, keys := range byTag {
			c.Del(ctx, keys...)
		}
		return it.Err()
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		_ = c.ForEachMaster(ctx, del)
	case *redis.Client:
		_ = del(ctx, c)
	}
}

// DueWakeups counts, over partitions 0..partitions-1 of the processor state
// under prefix, the timers at or before their partition's clock: wake-ups
// the processor has still to fire. Committed input offsets do not say a run
// is done: processor.max_wakes_per_txn spreads a burst of wake-ups over the
// transactions after the one that committed the last offset.
func DueWakeups(rdb redis.UniversalClient, prefix string, partitions int) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	for p := 0; p < partitions; p++ {
		key := prefix + ":{p" + strconv.Itoa(p) + "}:"
		clock, err := rdb.HGet(ctx, key+"meta", "clock").Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return 0, err
		}
		c, err := rdb.ZCount(ctx, key+"timers", "-inf", clock).Result()
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

// WaitWakeupsFired waits until DueWakeups is 0, reporting false after timeout.
func WaitWakeupsFired(rdb redis.UniversalClient, prefix string, partitions int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if n, err := DueWakeups(rdb, prefix, partitions); err == nil && n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Consume reads every committed record of topic from the start until n
// records arrived or the timeout passed.
func Consume(t testing.TB, brokers []string, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	c := kafkax.Defaults()
	c.Brokers = brokers
	return ConsumeWith(t, c, topic, n, timeout)
}

// ConsumeWith is Consume as a client of c (its TLS and SASL).
func ConsumeWith(t testing.TB, c kafkax.Config, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(c.ClientOpts(), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		out = append(out, fs.Records()...)
	}
	return out
}
