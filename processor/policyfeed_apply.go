package processor

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
)

// PolicyCodec encodes and decodes ar.policies values
// (schemas.EncodePolicy, schemas.DecodePolicy).
type PolicyCodec struct {
	Encode func(policy.Record) ([]byte, error)
	Decode func([]byte) (policy.Record, error)
}

// Applied is what ApplyPolicies did with one policy.
type Applied struct {
	Record policy.Record
	// Unchanged: the version in force at effective_from is already this
	// one; nothing was published.
	Unchanged bool
}

// ApplyPolicies validates files with the strict loader (all of them, as
// one set) and publishes each policy as a version effective from eff on
// kcfg.Topics.Policies. It refuses eff earlier than now+lead (lead:
// processor.policy_lead_time), so that every instance has read the
// version before any partition clock reaches it, and a second version of
// one policy at the same instant. Each record carries the policy's earlier
// versions (the compacted topic keeps only the last record of a name).
// Two concurrent applies of one policy may each miss the other's version
// in Previous: processors keep both, and the apply re-reads the topic after
// publishing and, when a policy's last record lacks a version the topic
// holds, publishes it again with every version (repairHistory), so
// compaction drops none.
func ApplyPolicies(ctx context.Context, kcfg kafkax.Config, codec PolicyCodec, files []policy.File, eff, now time.Time, lead time.Duration, log *slog.Logger) ([]Applied, error) {
	set, err := policy.LoadSet(files)
	if err != nil {
		return nil, err
	}
	eff = eff.UTC().Truncate(time.Millisecond)
	if earliest := now.Add(lead); eff.Before(earliest) {
		return nil, fmt.Errorf("effective_from %s is before now + processor.policy_lead_time (%s): %w",
			eff.Format(time.RFC3339), earliest.UTC().Format(time.RFC3339), ErrEffectiveTooSoon)
	}
	feed, err := NewPolicyFeed(kcfg, nil, codec.Decode, log)
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	// a topic created a moment ago may be missing from the first metadata
	for try := 0; try == 0 || feed.absent && try < 6; try++ {
		if try > 0 {
			time.Sleep(time.Second)
		}
		if _, err := feed.Sync(ctx); err != nil {
			return nil, err
		}
	}
	if feed.absent { // never let the broker auto-create it uncompacted
		return nil, fmt.Errorf("topic %s does not exist (run `arrears topics create`): %w", kcfg.Topics.Policies, ErrNoPolicyTopic)
	}
	data := map[string][]byte{}
	for _, f := range files {
		p, _ := policy.Load(f.Data, f.Name) // valid: LoadSet passed
		data[p.Name] = f.Data
	}
	var out []Applied
	var recs []*kgo.Record
	for _, p := range set.Policies() {
		history := feed.history(p.Name)
		rec := policy.Record{Name: p.Name, Version: p.Version, EffectiveFrom: eff, AppliedAt: now.UTC().Truncate(time.Millisecond),
			YAML: data[p.Name], Previous: history}
		if tl := feed.Timeline(); tl != nil {
			if v, ok := tl.Active(p.Name, eff); ok && v.Version == p.Version {
				out = append(out, Applied{Record: rec, Unchanged: true})
				continue
			}
		}
		for _, h := range history {
			if h.EffectiveFrom.Equal(eff) {
				return nil, fmt.Errorf("policy %s: version %s is already effective from %s: %w", p.Name, h.Version, eff.Format(time.RFC3339), ErrEffectiveTaken)
			}
		}
		v, err := codec.Encode(rec)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p.Name, err)
		}
		recs = append(recs, &kgo.Record{Topic: kcfg.Topics.Policies, Key: []byte(p.Name), Value: v})
		out = append(out, Applied{Record: rec})
	}
	if len(recs) == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(append(kcfg.ClientOpts(), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.UnknownTopicRetries(10))...) // a topic just created takes a moment to appear
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return nil, kcfg.Explain(fmt.Errorf("publish to %s: %w", kcfg.Topics.Policies, err))
	}
	if err := repairHistory(ctx, kcfg, codec, cl, set, log); err != nil {
		return out, err
	}
	return out, nil
}

// repairHistory re-reads the topic and republishes the last record of each
// of set's policies that lacks a version the topic holds (a concurrent
// apply's), with every version in Previous.
func repairHistory(ctx context.Context, kcfg kafkax.Config, codec PolicyCodec, cl *kgo.Client, set *policy.Set, log *slog.Logger) error {
	feed, err := NewPolicyFeed(kcfg, nil, codec.Decode, log)
	if err != nil {
		return err
	}
	defer feed.Close()
	if _, err := feed.Sync(ctx); err != nil {
		return err
	}
	for _, p := range set.Policies() {
		last, ok := feed.latest[p.Name]
		all := feed.history(p.Name)
		if !ok || len(last.Flatten()) >= len(all) {
			continue
		}
		missing := len(all) - len(last.Flatten())
		last.Previous = slices.DeleteFunc(all, func(r policy.Record) bool { return versionKey(r) == versionKey(last) })
		v, err := codec.Encode(last)
		if err != nil {
			return fmt.Errorf("policy %s: %w", p.Name, err)
		}
		log.Warn("policy record republished with the versions of a concurrent apply", "policy", p.Name, "added", missing)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: kcfg.Topics.Policies, Key: []byte(p.Name), Value: v}).FirstErr(); err != nil {
			return kcfg.Explain(fmt.Errorf("publish to %s: %w", kcfg.Topics.Policies, err))
		}
	}
	return nil
}

// ReadPolicies reads every published version (kcfg.Topics.Policies) into
// a timeline over base; nil when the topic holds none.
func ReadPolicies(ctx context.Context, kcfg kafkax.Config, decode func([]byte) (policy.Record, error), base *policy.Set, log *slog.Logger) (*policy.Timeline, error) {
	feed, err := NewPolicyFeed(kcfg, base, decode, log)
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	if _, err := feed.Sync(ctx); err != nil {
		return nil, err
	}
	return feed.Timeline(), nil
}
