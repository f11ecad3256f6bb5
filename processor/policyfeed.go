package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
)

// PolicyFeed keeps one instance's copy of the published policy versions
// (kafka.topics.policies) current: a consumer outside any group reads the
// topic from the start, and Sync reads on up to the end offsets of the
// moment it is called. Every valid version of every record, including the
// earlier versions a record carries, is kept; the Timeline built from them
// over the base set (the files on disk) is pure data the core decides with
// (core.Env.Versions). docs/policies.md "Lifecycle".
//
// A PolicyFeed is used by one goroutine (the processing loop).
type PolicyFeed struct {
	topic  string
	cl     *kgo.Client
	adm    *kadm.Client
	decode func([]byte) (policy.Record, error)
	base   *policy.Set
	log    *slog.Logger

	consuming bool
	next      map[int32]int64 // next offset to read, per partition
	versions  []policy.Version
	seen      map[string]bool          // name|version|effective_from already kept
	latest    map[string]policy.Record // the last record of each name
	timeline  *policy.Timeline
	synced    time.Time // the wall time of the last successful Sync
	absent    bool      // the last Sync found no topic
}

// NewPolicyFeed builds a feed of kcfg.Topics.Policies over base (the files
// on disk; nil: none). decode reads one record value (schemas.DecodePolicy).
// It does no IO until Sync.
func NewPolicyFeed(kcfg kafkax.Config, base *policy.Set, decode func([]byte) (policy.Record, error), log *slog.Logger) (*PolicyFeed, error) {
	// metadata at most 500 ms old: a topic created meanwhile is seen by the next Sync
	cl, err := kgo.NewClient(append(kcfg.ClientOpts(), kgo.FetchMaxWait(100*time.Millisecond), kgo.MetadataMinAge(500*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("policy feed client: %w", err)
	}
	return &PolicyFeed{topic: kcfg.Topics.Policies, cl: cl, adm: kadm.NewClient(cl), decode: decode, base: base, log: log,
		next: map[int32]int64{}, seen: map[string]bool{}, latest: map[string]policy.Record{}}, nil
}

// Close closes the feed's client.
func (f *PolicyFeed) Close() { f.cl.Close() }

// Timeline is the versions read so far over the base; nil while no
// version is known (the files decide alone).
func (f *PolicyFeed) Timeline() *policy.Timeline { return f.timeline }

// Synced is the wall time of the last successful Sync (zero: none yet).
func (f *PolicyFeed) Synced() time.Time { return f.synced }

// Sync reads every record written to the topic before the call. An absent
// topic counts as empty. It reports whether the timeline changed.
func (f *PolicyFeed) Sync(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	ends, err := f.adm.ListEndOffsets(ctx, f.topic)
	if err != nil {
		return false, fmt.Errorf("policy versions: end offsets of %s: %w", f.topic, err)
	}
	want := map[int32]int64{}
	var missing bool
	ends.Each(func(o kadm.ListedOffset) {
		switch {
		case errors.Is(o.Err, kerr.UnknownTopicOrPartition):
			missing = true
		case o.Err != nil:
			err = errors.Join(err, fmt.Errorf("partition %d: %w", o.Partition, o.Err))
		case o.Offset > f.next[o.Partition]:
			want[o.Partition] = o.Offset
		}
	})
	if err != nil {
		return false, fmt.Errorf("policy versions: end offsets of %s: %w", f.topic, err)
	}
	f.absent = missing || len(ends) == 0
	if f.absent {
		f.synced = time.Now()
		return false, nil // no topic: the files decide
	}
	if !f.consuming {
		start := map[string]map[int32]kgo.Offset{f.topic: {}}
		ends.Each(func(o kadm.ListedOffset) { start[f.topic][o.Partition] = kgo.NewOffset().AtStart() })
		f.cl.AddConsumePartitions(start)
		f.consuming = true
	}
	before := len(f.versions)
	for len(want) > 0 {
		fetches := f.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return false, fmt.Errorf("policy versions: read %s up to its end: %w", f.topic, ctx.Err())
		}
		fetches.EachError(func(_ string, p int32, err error) {
			f.log.Debug("policy versions: fetch error", "topic", f.topic, "partition", p, "err", err) // retried until syncTimeout
		})
		fetches.EachRecord(func(r *kgo.Record) {
			f.take(r)
			f.next[r.Partition] = r.Offset + 1
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	f.synced = time.Now()
	if len(f.versions) == before {
		return false, nil
	}
	tl, err := policy.NewTimeline(f.base, f.versions)
	if err != nil {
		return false, fmt.Errorf("policy versions: %w", err)
	}
	f.timeline = tl
	return true, nil
}

// take keeps the valid versions of one record. An invalid one is logged
// and skipped by every instance alike (the same code reads the same
// bytes), so decisions still agree.
func (f *PolicyFeed) take(r *kgo.Record) {
	if r.Value == nil {
		return // a tombstone: versions are never withdrawn (docs/policies.md)
	}
	rec, err := f.decode(r.Value)
	if err != nil {
		f.log.Error("policy record skipped: cannot decode", "topic", r.Topic, "offset", r.Offset, "err", err)
		return
	}
	f.latest[rec.Name] = rec
	for _, v := range rec.Flatten() {
		key := versionKey(v)
		if f.seen[key] {
			continue
		}
		loaded, err := policy.LoadRecord(v)
		if err != nil {
			f.log.Error("policy version skipped: invalid", "topic", r.Topic, "offset", r.Offset, "policy", v.Name, "version", v.Version, "err", err)
			continue
		}
		f.seen[key] = true
		f.versions = append(f.versions, loaded)
	}
}

// syncTimeout bounds one Sync.
const syncTimeout = 30 * time.Second

// history is every valid version of name the feed read, from any record,
// ordered by effective_from then applied_at (the Previous of its next
// record).
func (f *PolicyFeed) history(name string) []policy.Record {
	var out []policy.Record
	for _, v := range f.versions {
		if v.Name == name {
			out = append(out, v.Record)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].EffectiveFrom.Equal(out[j].EffectiveFrom) {
			return out[i].EffectiveFrom.Before(out[j].EffectiveFrom)
		}
		return out[i].AppliedAt.Before(out[j].AppliedAt)
	})
	return out
}

// versionKey identifies one version of a policy: name, version and
// effective_from.
func versionKey(r policy.Record) string {
	return r.Name + "|" + r.Version + "|" + r.EffectiveFrom.UTC().Format(time.RFC3339Nano)
}

// UsePolicies makes the processor decide with the feed's versions: before
// a polled batch is applied, the feed is synced when its last sync is
// older than processor.policy_refresh. Call before Run.
func (p *Processor) UsePolicies(f *PolicyFeed) {
	p.feed = f
	p.baseEnv = p.d.env
}

// refreshPolicies syncs the feed when due and, when the versions changed,
// swaps the environment the partitions decide with. It runs in the loop's
// goroutine between transactions, while no partition step runs.
func (p *Processor) refreshPolicies(ctx context.Context) error {
	if p.feed == nil || time.Since(p.feed.Synced()) < p.d.cfg.PolicyRefresh && !p.feed.Synced().IsZero() {
		return nil
	}
	changed, err := p.feed.Sync(ctx)
	if err != nil || !changed {
		return err
	}
	env := core.Env{}
	if p.baseEnv != nil {
		env = *p.baseEnv
	}
	env.Versions = p.feed.Timeline()
	p.d.env = &env
	p.d.m.policyVersions.Set(float64(env.Versions.Len()))
	p.d.log.Info("policy versions updated", "versions", env.Versions.Len())
	return nil
}
