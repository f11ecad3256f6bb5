package kafkax

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestCompression(t *testing.T) {
	if got := Defaults().Compression; got != CompressionGzip {
		t.Errorf("default kafka.compression %q, want gzip (the codec every client decodes without a plugin)", got)
	}
	for _, c := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		cfg := Defaults()
		cfg.Compression = c
		if err := cfg.Validate(); err != nil {
			t.Errorf("kafka.compression %q: %v", c, err)
		}
	}
	for _, c := range []string{"", "LZ4", "brotli"} {
		cfg := Defaults()
		cfg.Compression = c
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "kafka.compression") {
			t.Errorf("kafka.compression %q: got %v, want an error naming kafka.compression", c, err)
		}
	}
}

// TestClientOptsCompress: the codec reaches the client: a batch built with
// ClientOpts carries the configured codec's attribute bits.
func TestClientOptsCompress(t *testing.T) {
	for name, want := range map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression().WithLevel(1), "zstd": kgo.ZstdCompression(),
		"": kgo.GzipCompression().WithLevel(1),
	} {
		cfg := Defaults()
		cfg.Compression = name
		cl, err := kgo.NewClient(cfg.ClientOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		got := cl.OptValue(kgo.ProducerBatchCompression)
		cl.Close()
		codecs, ok := got.([]kgo.CompressionCodec)
		if !ok || len(codecs) != 1 || codecs[0] != want {
			t.Errorf("kafka.compression %q: client compresses with %v, want %v", name, got, want)
		}
	}
}

// TestReadFirstIsAnInput: kafka.topics.read_first names inputs only.
func TestReadFirstIsAnInput(t *testing.T) {
	c := Defaults()
	c.Topics.ExtraInputs = []string{"ar.payments"}
	c.Topics.ReadFirst = []string{"ar.payments"}
	if err := c.Validate(); err != nil {
		t.Fatalf("an extra input read first: %v", err)
	}
	c.Topics.ReadFirst = []string{"ar.payments", "ar.gl"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "kafka.topics.read_first[1]") {
		t.Errorf("an output read first: %v", err)
	}
}
