package kafkax

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientOpts are the options every arrears client starts from: brokers,
// kafka.tls and kafka.sasl; a client that produces compresses its batches
// with kafka.compression (the default, gzip, when the field is empty, as in
// a Config built without Defaults).
func (c Config) ClientOpts() []kgo.Opt {
	codec := codecs[c.Compression]
	if codec == nil {
		codec = codecs[Defaults().Compression]
	}
	return append([]kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.DialTimeout(c.DialTimeout),
		kgo.ProducerBatchCompression(codec()),
	}, c.securityOpts()...)
}

// topicConfigs returns per-topic configs: the status topic is compacted (it is
// the changelog), the others delete by time.
func (c Config) topicConfigs(topic string) map[string]*string {
	s := func(v string) *string { return &v }
	if topic == c.Topics.Policies { // every version a replay needs is in each key's last record
		return map[string]*string{"cleanup.policy": s("compact"), "min.compaction.lag.ms": s("60000")}
	}
	if topic == c.Topics.Status || topic == c.Topics.GroupContributions || topic == c.Topics.GroupChangelog {
		return map[string]*string{
			"cleanup.policy":            s("compact"),
			"min.compaction.lag.ms":     s("60000"),
			"segment.ms":                s("3600000"),
			"min.cleanable.dirty.ratio": s("0.2"),
		}
	}
	return map[string]*string{"cleanup.policy": s("delete")}
}

// CreateTopics creates every arrears topic that does not exist yet with
// c.Partitions partitions, and ar.policies with one (a reader sees the
// versions in the order they were applied). It returns the names it created.
func CreateTopics(ctx context.Context, adm *kadm.Client, c Config) ([]string, error) {
	var created []string
	parts := map[string]int32{c.Topics.Policies: 1}
	for _, t := range append(c.Topics.Inputs(), append(append(c.Topics.Outputs(), c.Topics.Policies), c.Topics.Groups()...)...) {
		n, ok := parts[t]
		if !ok {
			n = int32(c.Partitions)
		}
		resp, err := adm.CreateTopic(ctx, n, int16(c.ReplicationFactor), c.topicConfigs(t), t)
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists):
		case err != nil:
			return created, c.Explain(fmt.Errorf("create topic %s: %w", t, err))
		case resp.Err != nil:
			return created, c.Explain(fmt.Errorf("create topic %s: %w", t, resp.Err))
		default:
			created = append(created, t)
		}
	}
	return created, nil
}

// ErrNotCoPartitioned is returned by CheckTopics when topics that must share
// a partition count do not.
var ErrNotCoPartitioned = errors.New("topics are not co-partitioned")

// CheckTopics verifies that every arrears topic exists and that all inputs and
// the status changelog have the same partition count (state is owned per input
// partition and the changelog partition must match). It returns that count.
func CheckTopics(ctx context.Context, adm *kadm.Client, c Config) (int, error) {
	all := append(c.Topics.Inputs(), c.Topics.Outputs()...)
	md, err := adm.ListTopics(ctx, all...)
	if err != nil {
		return 0, c.Explain(fmt.Errorf("list topics: %w", err))
	}
	if err := c.denied(md, all); err != nil {
		return 0, err
	}
	var missing []string
	for _, t := range all {
		if d, ok := md[t]; !ok || d.Err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return 0, fmt.Errorf("missing topics %v (run `arrears topics create`)", missing)
	}
	want := len(md[c.Topics.Events].Partitions)
	for _, t := range append(c.Topics.Inputs(), c.Topics.Status) {
		if got := len(md[t].Partitions); got != want {
			return 0, fmt.Errorf("%w: %s has %d partitions, %s has %d", ErrNotCoPartitioned, t, got, c.Topics.Events, want)
		}
	}
	return want, nil
}
