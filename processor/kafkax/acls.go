package kafkax

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Roles names the principals and the consumer groups the ACLs of an arrears
// deployment are for (docs/security.md "Kafka").
type Roles struct {
	// Processor, Sink and Serve are the SASL users of `arrears run`,
	// `arrears sink` and `arrears serve` (the principals User:<name>).
	Processor, Sink, Serve string
	// ProcessorGroup and SinkGroup are processor.group_id and sink.group_id.
	ProcessorGroup, SinkGroup string
	// TxnPrefix prefixes every processor instance's transactional id
	// (processor.transactional_id, one per instance).
	TxnPrefix string
}

// ACL is one grant: a principal may do Operations on the named resources,
// matched literally or, with Prefixed, by prefix. It prints as one
// `kafka-acls.sh --add` command and applies as one CreateACLs request.
type ACL struct {
	Role             string
	Principal        string
	Operations       []kadm.ACLOperation
	Topics           []string
	Groups           []string
	TransactionalIDs []string
	Prefixed         bool
}

// ACLs are the grants each role needs and nothing more:
//   - processor: Read its inputs, the changelog (restore), the policy
//     versions (ar.policies) and its group;
//     Write every output and the inputs (clock ticks of the ticker, records
//     forwarded to the partition owning their key); Write (which implies
//     Describe) the transactional ids starting with TxnPrefix;
//   - sink: Read every output (the accepted events included), the policy
//     versions, the group changelog (the group exposure history) and its
//     group;
//     Write the dead-letter topic (records it cannot land);
//   - serve: Write the events topic (the operator API); Read the policy
//     versions (its account view explains as the processor decides; no
//     group); Describe the group-contributions topic (its partition count
//     places the group store's nodes, for the account view's group).
//
// Admin tools (`topics create|delete`, `policy apply`, bench) run as a super user.
func ACLs(c Config, r Roles) []ACL {
	user := func(n string) string { return "User:" + n }
	read, write := []kadm.ACLOperation{kadm.OpRead}, []kadm.ACLOperation{kadm.OpWrite}
	inputs, outputs := c.Topics.Inputs(), c.Topics.Outputs()
	return []ACL{
		{Role: "processor", Principal: user(r.Processor), Operations: read,
			Topics: append(slices.Clone(inputs), c.Topics.Status, c.Topics.Policies), Groups: []string{r.ProcessorGroup}},
		{Role: "processor", Principal: user(r.Processor), Operations: write, Topics: append(slices.Clone(outputs), inputs...)},
		// the group stage (processor.groups): its topics and consumer group;
		// it writes the group events (GroupContext, GroupServiceChange, GroupConditions) to
		// the events topic in its own transaction
		{Role: "processor", Principal: user(r.Processor), Operations: read, Topics: c.Topics.Groups(),
			Groups: []string{r.ProcessorGroup + GroupsGroupSuffix}},
		{Role: "processor", Principal: user(r.Processor), Operations: write, Topics: append(c.Topics.Groups(), c.Topics.Events)},
		{Role: "processor", Principal: user(r.Processor), Operations: write, TransactionalIDs: []string{r.TxnPrefix}, Prefixed: true},
		{Role: "sink", Principal: user(r.Sink), Operations: read, Topics: append(slices.Clone(outputs), c.Topics.Policies, c.Topics.GroupChangelog),
			Groups: []string{r.SinkGroup}},
		{Role: "sink", Principal: user(r.Sink), Operations: write, Topics: []string{c.Topics.DLQ}},
		{Role: "serve", Principal: user(r.Serve), Operations: write, Topics: []string{c.Topics.Events}},
		{Role: "serve", Principal: user(r.Serve), Operations: read, Topics: []string{c.Topics.Policies}},
		{Role: "serve", Principal: user(r.Serve), Operations: []kadm.ACLOperation{kadm.OpDescribe}, Topics: []string{c.Topics.GroupContributions}},
	}
}

// GroupsGroupSuffix makes the group stage's consumer group from
// processor.group_id (processor.groups.group_id's default).
const GroupsGroupSuffix = "-groups"

// Command is a as a kafka-acls.sh invocation; bootstrap and commandConfig
// (a client properties file of a super user) start it.
func (a ACL) Command(bootstrap, commandConfig string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka-acls.sh --bootstrap-server %s --command-config %s --add --allow-principal %s", bootstrap, commandConfig, a.Principal)
	for _, op := range a.Operations {
		fmt.Fprintf(&b, " --operation %s", opName(op))
	}
	if a.Prefixed {
		b.WriteString(" --resource-pattern-type prefixed")
	}
	for _, t := range a.Topics {
		fmt.Fprintf(&b, " --topic %s", t)
	}
	for _, g := range a.Groups {
		fmt.Fprintf(&b, " --group %s", g)
	}
	for _, x := range a.TransactionalIDs {
		fmt.Fprintf(&b, " --transactional-id %s", x)
	}
	return b.String()
}

// opName is kafka-acls.sh's spelling of op (Read, Write, Describe, ...).
func opName(op kadm.ACLOperation) string {
	s := strings.ToLower(op.String())
	return strings.ToUpper(s[:1]) + s[1:]
}

// Builder is a as kadm's ACL builder (any host).
func (a ACL) Builder() *kadm.ACLBuilder {
	b := kadm.NewACLs().Allow(a.Principal).AllowHosts().Operations(a.Operations...).
		MaybeTopics(a.Topics...).MaybeGroups(a.Groups...).MaybeTransactionalIDs(a.TransactionalIDs...)
	if a.Prefixed {
		b = b.ResourcePatternType(kadm.ACLPatternPrefixed)
	}
	return b
}

// CreateACLs creates acls (an existing one is left as is); adm must
// authenticate as a super user.
func CreateACLs(ctx context.Context, adm *kadm.Client, acls []ACL) error {
	for _, a := range acls {
		res, err := adm.CreateACLs(ctx, a.Builder())
		if err != nil {
			return fmt.Errorf("create ACLs of %s: %w", a.Principal, err)
		}
		for _, r := range res {
			if r.Err != nil {
				return fmt.Errorf("create ACL %s %s on %s %s: %w", a.Principal, r.Operation, r.Type, r.Name, r.Err)
			}
		}
	}
	return nil
}
