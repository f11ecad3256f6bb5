package main

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/cmd/arrears/api"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// TestServeFollowsVersions: serve's environment follows ar.policies after
// start, so the account view explains with a version published after
// serve read the topic (it used to keep the versions of its start).
func TestServeFollowsVersions(t *testing.T) {
	cfg := config.Defaults()
	cfg.Kafka = testkit.KafkaConfig(t, 1)
	cfg.Core.PolicyDir, cfg.Core.Scorecard = "../../deploy/policies", "../../deploy/risk/scorecard.yaml"
	env, err := loadEnv(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := processor.NewPolicyFeed(cfg.Kafka, env.Policies, schemas.DecodePolicy, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := feed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	env.Versions = feed.Timeline()
	envs := make(chan *core.Env, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		followVersions(ctx, feed, env, func(e *core.Env) { envs <- e }, 100*time.Millisecond, quietLog())
	}()
	defer func() { cancel(); <-done }()

	now := time.Now().UTC().Truncate(time.Second)
	eff := now.Add(2 * time.Hour)
	version := publishVersion(t, cfg.Kafka, "../../deploy/policies/postpaid.yaml", eff, now)

	at := eff.Add(24 * time.Hour)
	st := &core.State{}
	up := event.Event{ID: "up", Time: at, Source: "crm", Account: "ACC-V", Body: &event.AccountUpserted{
		Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email}}}
	if _, err := core.Apply(st, up, at, env); err != nil {
		t.Fatal(err)
	}
	if v := api.NewAccountView(st, at, env); v.Policy != nil && v.Policy.Version == version {
		t.Fatalf("the start's environment already explains with %s", version)
	}
	select {
	case e := <-envs:
		v := api.NewAccountView(st, at, e)
		if v.Policy == nil || v.Policy.Name != "postpaid-standard" || v.Policy.Version != version {
			t.Fatalf("account view after the publish explains with %+v, want postpaid-standard@%s", v.Policy, version)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no environment with the version published after start within 30s")
	}
}
