package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// The fault proxies run embedded in the test process (toxiproxy as a
// library): no binary to build or port for its API, toxics are added and
// removed by direct calls, and a proxy dies with the test.
var (
	tpOnce   sync.Once
	tpServer *toxiproxy.ApiServer
)

// Proxy is one TCP fault proxy in front of an upstream address.
type Proxy struct {
	t    testing.TB
	p    *toxiproxy.Proxy
	Addr string // where clients connect
}

// NewProxy listens on listen ("127.0.0.1:0" for any free port) and forwards
// to upstream until the test ends.
func NewProxy(t testing.TB, name, listen, upstream string) *Proxy {
	t.Helper()
	tpOnce.Do(func() { tpServer = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()) })
	p := toxiproxy.NewProxy(tpServer, name, listen, upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("proxy %s on %s: %v", name, listen, err)
	}
	t.Cleanup(p.Stop)
	return &Proxy{t: t, p: p, Addr: p.Listen}
}

// Toxic is a toxiproxy toxic: Type is latency, timeout, reset_peer, ...;
// Stream is upstream (client to server) or downstream.
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// Add adds toxics (each in both directions if Stream is empty).
func (p *Proxy) Add(toxics ...Toxic) {
	p.t.Helper()
	for _, tx := range toxics {
		streams := []string{tx.Stream}
		if tx.Stream == "" {
			streams = []string{"upstream", "downstream"}
		}
		for _, st := range streams {
			tx := tx
			tx.Stream, tx.Name = st, tx.Name+"_"+st
			if tx.Toxicity == 0 {
				tx.Toxicity = 1
			}
			b, err := json.Marshal(tx)
			if err != nil {
				p.t.Fatal(err)
			}
			if _, err := p.p.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
				p.t.Fatalf("add toxic %s: %v", tx.Name, err)
			}
		}
	}
}

// Clear removes every toxic; traffic flows normally again.
func (p *Proxy) Clear() { p.p.Toxics.ResetToxics(context.Background()) }

// Latency delays every chunk by ms (± jitter) in both directions.
func Latency(ms, jitter int) Toxic {
	return Toxic{Name: "latency", Type: "latency", Attributes: map[string]any{"latency": ms, "jitter": jitter}}
}

// Resets resets (TCP RST) every connection after ms of carrying data.
func Resets(ms int) Toxic {
	return Toxic{Name: "reset", Type: "reset_peer", Attributes: map[string]any{"timeout": ms}}
}

// Blackhole drops every byte and keeps connections open (a partition that
// neither refuses nor closes): the timeout toxic with no timeout.
func Blackhole() Toxic {
	return Toxic{Name: "blackhole", Type: "timeout", Attributes: map[string]any{"timeout": 0}}
}
