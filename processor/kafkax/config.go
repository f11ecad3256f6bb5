package kafkax

import (
	"compress/gzip"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/tlsconf"
)

// Topics names the topics arrears reads and writes (DESIGN.md defaults).
type Topics struct {
	// Events is the main input (default "ar.events").
	Events string `yaml:"events"`
	// ExtraInputs are further input topics, co-partitioned with Events.
	ExtraInputs []string `yaml:"extra_inputs"`
	// ReadFirst are input topics (events or extra_inputs) whose partitions
	// every fetch asks for first, in this order, and each poll hands over
	// first (default none): payments on their own topic never queue behind
	// a burst of bulk input such as a bill run's invoices. An account's
	// events on two topics are then applied in the order they were read,
	// not produced: a payment read before its invoice is unapplied credit
	// until the invoice arrives. docs/processing.md "Read first".
	ReadFirst []string `yaml:"read_first"`
	// Actions receives dunning actions (default "ar.dunning.actions").
	Actions string `yaml:"actions"`
	// Risk receives risk events (default "ar.risk.events").
	Risk string `yaml:"risk"`
	// Status is the compacted account status / state changelog (default "ar.account.status").
	Status string `yaml:"status"`
	// GL receives journal entries (default "ar.gl").
	GL string `yaml:"gl"`
	// DLQ receives rejected input with its reason (default "ar.dlq").
	DLQ string `yaml:"dlq"`
	// Accepted receives, in the processor's transaction, every input record
	// the processor accepted, value unchanged (default "ar.events.accepted").
	// The ClickHouse sink lands facts from it, so a rejected record never
	// reaches analytics.
	Accepted string `yaml:"accepted"`
	// Policies is the compacted topic of published policy versions, key
	// the policy name, one partition (default "ar.policies";
	// docs/policies.md "Lifecycle"). Every processor reads it from the
	// start; `arrears policy apply` writes it. Absent or empty: the policy
	// files on disk alone decide.
	Policies string `yaml:"policies"`
	// GroupContributions is the compacted internal repartition topic of
	// collections groups (default "ar.internal.group-contributions"): the
	// account stage writes each account's contribution keyed by its parent
	// group, the group stage reads it (docs/processing.md "Collections
	// groups"). Used when processor.groups.enabled.
	GroupContributions string `yaml:"group_contributions"`
	// GroupChangelog is the compacted changelog of the group stage's state,
	// co-partitioned with GroupContributions (default
	// "ar.internal.group-changelog").
	GroupChangelog string `yaml:"group_changelog"`
}

// Groups lists the collections-group topics that are set.
func (t Topics) Groups() []string {
	var out []string
	for _, n := range []string{t.GroupContributions, t.GroupChangelog} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Headers of an accepted-events record (Topics.Accepted) naming the input
// record it copies: topic, partition and offset, the last two in ASCII
// decimal. The processor writes them; the sink lands them as the rows'
// coordinates.
const (
	HeaderSrcTopic     = "src_topic"
	HeaderSrcPartition = "src_partition"
	HeaderSrcOffset    = "src_offset"
)

// PrefixedTopics names every topic prefix+"."+role (events, actions, risk,
// status, gl, dlq, accepted): private topics for tests, bench and tools.
func PrefixedTopics(prefix string) Topics {
	return Topics{
		Events: prefix + ".events", Actions: prefix + ".actions", Risk: prefix + ".risk",
		Status: prefix + ".status", GL: prefix + ".gl", DLQ: prefix + ".dlq", Accepted: prefix + ".accepted",
		Policies:           prefix + ".policies",
		GroupContributions: prefix + ".group-contributions", GroupChangelog: prefix + ".group-changelog",
	}
}

// Inputs lists every input topic, Events first.
func (t Topics) Inputs() []string { return append([]string{t.Events}, t.ExtraInputs...) }

// Outputs lists every output topic.
func (t Topics) Outputs() []string {
	return []string{t.Actions, t.Risk, t.Status, t.GL, t.DLQ, t.Accepted}
}

// Config is how arrears reaches Kafka.
type Config struct {
	// Brokers are seed brokers (default ["127.0.0.1:9092"]).
	Brokers []string `yaml:"brokers"`
	// Topics names the topics (defaults above).
	Topics Topics `yaml:"topics"`
	// Partitions is the partition count `topics create` uses for every topic (default 12).
	Partitions int `yaml:"partitions"`
	// ReplicationFactor for created topics (default 1; 3 in production).
	ReplicationFactor int `yaml:"replication_factor"`
	// ClientID identifies this process to the brokers (default "arrears").
	ClientID string `yaml:"client_id"`
	// DialTimeout bounds connection attempts (default 10s).
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Compression is the batch compression of every record arrears produces
	// (outputs, dead letters, ticks, gen and bench input): none, gzip (at
	// its fastest level), snappy, lz4 or zstd (default gzip). gzip is the one codec every Kafka
	// client decodes without a plugin (kafkajs reads only gzip out of the
	// box and fails on lz4, snappy and zstd batches); lz4 or zstd cost less
	// CPU when every consumer supports them.
	Compression string `yaml:"compression"`
	// TLS encrypts and verifies the broker connections (default off; the
	// block every arrears connection shares, verification never off).
	TLS tlsconf.Config `yaml:"tls"`
	// SASL authenticates this client (default none); the password only
	// from ARREARS_KAFKA_SASL_PASSWORD or ..._FILE (docs/security.md).
	SASL SASL `yaml:"sasl"`
}

// Compression codecs of kafka.compression.
const (
	CompressionNone   = "none"
	CompressionGzip   = "gzip"
	CompressionSnappy = "snappy"
	CompressionLz4    = "lz4"
	CompressionZstd   = "zstd"
)

// codecs maps kafka.compression to franz-go's codec. gzip compresses at its
// fastest level: on 64 KiB of ar.events records about 260 MB/s and 5.6:1,
// against level 6's 110-180 MB/s and 6.1:1 (lz4: 400 MB/s, 3.9:1).
var codecs = map[string]func() kgo.CompressionCodec{
	CompressionNone:   kgo.NoCompression,
	CompressionGzip:   func() kgo.CompressionCodec { return kgo.GzipCompression().WithLevel(gzip.BestSpeed) },
	CompressionSnappy: kgo.SnappyCompression, CompressionLz4: kgo.Lz4Compression, CompressionZstd: kgo.ZstdCompression,
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		Brokers: []string{"127.0.0.1:9092"},
		Topics: Topics{
			Events: "ar.events", Actions: "ar.dunning.actions", Risk: "ar.risk.events",
			Status: "ar.account.status", GL: "ar.gl", DLQ: "ar.dlq", Accepted: "ar.events.accepted",
			Policies:           "ar.policies",
			GroupContributions: "ar.internal.group-contributions", GroupChangelog: "ar.internal.group-changelog",
		},
		Partitions:        12,
		ReplicationFactor: 1,
		ClientID:          "arrears",
		DialTimeout:       10 * time.Second,
		Compression:       CompressionGzip,
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka.brokers: at least one broker is required"))
	}
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("kafka.brokers[%d]: %q is not host:port", i, b))
		}
	}
	names := map[string]string{}
	check := func(field, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("kafka.topics.%s: must not be empty", field))
			return
		}
		if other, dup := names[v]; dup {
			errs = append(errs, fmt.Errorf("kafka.topics.%s: %q already used by %s", field, v, other))
		}
		names[v] = field
	}
	check("events", c.Topics.Events)
	for i, t := range c.Topics.ExtraInputs {
		check(fmt.Sprintf("extra_inputs[%d]", i), t)
	}
	for i, t := range c.Topics.ReadFirst {
		if !slices.Contains(c.Topics.Inputs(), t) {
			errs = append(errs, fmt.Errorf("kafka.topics.read_first[%d]: %q is not an input (events or extra_inputs)", i, t))
		}
	}
	check("actions", c.Topics.Actions)
	check("risk", c.Topics.Risk)
	check("status", c.Topics.Status)
	check("gl", c.Topics.GL)
	check("dlq", c.Topics.DLQ)
	check("accepted", c.Topics.Accepted)
	check("policies", c.Topics.Policies)
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("kafka.partitions: %d must be >= 1", c.Partitions))
	}
	if c.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("kafka.replication_factor: %d must be >= 1", c.ReplicationFactor))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("kafka.dial_timeout: %s must be > 0", c.DialTimeout))
	}
	if codecs[c.Compression] == nil {
		errs = append(errs, fmt.Errorf("kafka.compression: %q is not none, gzip, snappy, lz4 or zstd", c.Compression))
	}
	errs = append(errs, c.validateSecurity()...)
	return errors.Join(errs...)
}
