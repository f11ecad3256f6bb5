package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// This file is for tooling, not for the processor: `arrears bench`, the
// processor's benchmarks and cleanup in tests call these; the processing
// path never does.

// BytesPerAccount is Redis's own memory accounting (MEMORY USAGE) of the
// account hashes of partitions 0..n-1 divided by the accounts in them, and
// that account count.
func (s *Store) BytesPerAccount(ctx context.Context, n int) (float64, int64, error) {
	var bytes, accounts int64
	for p := int32(0); p < int32(n); p++ {
		key := s.key(p, "acct")
		m, err := s.rdb.MemoryUsage(ctx, key, 0).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, 0, fmt.Errorf("redis memory usage of %s: %w", key, err)
		}
		c, err := s.rdb.HLen(ctx, key).Result()
		if err != nil {
			return 0, 0, fmt.Errorf("redis hlen %s: %w", key, err)
		}
		bytes += m
		accounts += c
	}
	if accounts == 0 {
		return 0, 0, nil
	}
	return float64(bytes) / float64(accounts), accounts, nil
}

// Drop deletes every key of partition p in one call (tools, bench cleanup).
func (s *Store) Drop(ctx context.Context, p int32) error {
	if err := s.rdb.Del(ctx, s.keys(p)...).Err(); err != nil {
		return fmt.Errorf("redis drop partition %d: %w", p, err)
	}
	return nil
}
