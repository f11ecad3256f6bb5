package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/kafkax"
)

// cmdTopicsACLs: `arrears topics acls [-apply] [-processor-user U] ...`:
// print the kafka-acls.sh commands granting each arrears role the ACLs it
// needs on the configured topics, groups and transactional id prefix
// (docs/security.md), or with -apply create them as the configured user (a
// super user).
func cmdTopicsACLs(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("topics acls", flag.ContinueOnError)
	var r kafkax.Roles
	fs.StringVar(&r.Processor, "processor-user", "processor", "SASL user of `arrears run`")
	fs.StringVar(&r.Sink, "sink-user", "sink", "SASL user of `arrears sink`")
	fs.StringVar(&r.Serve, "serve-user", "serve", "SASL user of `arrears serve`")
	txn := fs.String("txn-prefix", "", "transactional id prefix of the processors (default: processor.transactional_id up to its last '-')")
	commandConfig := fs.String("command-config", "admin.properties", "kafka-acls.sh --command-config: a super user's client properties")
	apply := fs.Bool("apply", false, "create the ACLs (as kafka.sasl.username, a super user) instead of printing them")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	r.ProcessorGroup, r.SinkGroup, r.TxnPrefix = cfg.Processor.GroupID, cfg.Sink.GroupID, *txn
	if r.TxnPrefix == "" {
		r.TxnPrefix = cfg.Processor.TransactionalID
		if i := strings.LastIndexByte(r.TxnPrefix, '-'); i > 0 {
			r.TxnPrefix = r.TxnPrefix[:i+1]
		}
	}
	acls := kafkax.ACLs(cfg.Kafka, r)
	if !*apply {
		for _, a := range acls {
			fmt.Printf("# %s\n%s\n", a.Role, a.Command(strings.Join(cfg.Kafka.Brokers, ","), *commandConfig))
		}
		return nil
	}
	cl, err := kgo.NewClient(cfg.Kafka.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := kafkax.CreateACLs(ctx, kadm.NewClient(cl), acls); err != nil {
		return cfg.Kafka.Explain(err)
	}
	fmt.Printf("ok: %d ACL grants for %s, %s, %s\n", len(acls), r.Processor, r.Sink, r.Serve)
	return nil
}
