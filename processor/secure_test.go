package processor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// secureHarness is a harness on the secured broker (deploy/local/
// kafka-secure.sh): the test's own clients are the super user admin, the
// processor instances User:processor with exactly the processor ACLs
// kafkax.ACLs grants on this test's topics, group and transactional ids.
func secureHarness(t *testing.T, partitions int) *harness {
	admin := testkit.SecureKafka(t, "admin")
	h := newHarnessOn(t, testkit.PrivateTopics(t, admin, partitions))
	h.env = fullEnv(t)
	proc := testkit.SecureKafka(t, "processor")
	h.kafkaFor = func(k kafkax.Config) kafkax.Config { k.SASL = proc.SASL; return k }
	var grants []kafkax.ACL
	for _, a := range kafkax.ACLs(h.kcfg, kafkax.Roles{Processor: "processor", Sink: "sink", Serve: "serve",
		ProcessorGroup: h.group, SinkGroup: h.group + "-sink", TxnPrefix: h.group + "-"}) {
		if a.Role == "processor" {
			grants = append(grants, a)
		}
	}
	cl, err := kgo.NewClient(admin.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkax.CreateACLs(ctx, adm, grants); err != nil {
		t.Fatal(err)
	}
	// ACLs reach the broker's authorizer through the metadata log.
	waitFor(t, "the processor ACLs to apply", 30*time.Second, func() bool {
		return kafkax.Ping(ctx, h.kafkaFor(h.kcfg), h.group, append(h.kcfg.Topics.Inputs(), h.kcfg.Topics.Outputs()...)...) == nil
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, a := range grants {
			_, _ = adm.DeleteACLs(ctx, a.Builder())
		}
		cl.Close()
	})
	return h
}

// TestSecureExactlyOnce: the exactly-once happy path over SASL_SSL
// (SCRAM-SHA-512) with ACLs on, the processor holding only its own ACLs:
// states equal an undisturbed reference run, every action and risk event
// exactly once, every bad record dead-lettered once.
func TestSecureExactlyOnce(t *testing.T) {
	h := secureHarness(t, 6)
	recs := h.workload(13, 6000, 300, 97)
	stop := h.start("a")
	h.produceAll(recs)
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	ref := h.referenceRun()
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
	compareActions(t, h.actionIDs(), ref.actions)
	compareRisk(t, h.riskIDs(), ref.risk)
	h.checkDLQ(6000 / 97)
}

// TestSecureProcessorRefused: a processor whose password is wrong, or whose
// principal has no ACL, stops with an error naming kafka and the cause
// instead of rejoining its group forever.
func TestSecureProcessorRefused(t *testing.T) {
	h := secureHarness(t, 3)
	for name, tc := range map[string]struct {
		user, password string
		want           error
	}{
		"wrong password": {user: "processor", password: "wrong-password-42", want: kafkax.ErrAuthentication},
		"no ACLs":        {user: "nobody", want: kafkax.ErrAuthorization},
	} {
		t.Run(name, func(t *testing.T) {
			k := h.kcfg
			k.SASL = testkit.SecureKafka(t, tc.user).SASL
			if tc.password != "" {
				k.SASL.Password = tc.password
			}
			cfg := processor.Defaults()
			cfg.GroupID, cfg.TransactionalID, cfg.Time = h.group, h.group+"-x", processor.TimeSimulated
			p, err := processor.New(cfg, k, redisstore.New(h.rdb, h.pref), h.codec, h.env, processor.NewMetrics(nil),
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			err = p.Run(ctx)
			if ctx.Err() != nil || !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "kafka: ") {
				t.Fatalf("Run = %v (context %v), want %v", err, ctx.Err(), tc.want)
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
