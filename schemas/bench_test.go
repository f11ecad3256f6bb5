package schemas

import (
	"context"
	"testing"
)

// BenchmarkDecodeEvent decodes a single-object InvoiceIssued, the bulk of a
// bill run; events/s = 1e9 / ns/op per core.
func BenchmarkDecodeEvent(b *testing.B) {
	ctx := context.Background()
	c := newCodec(b, Config{})
	for _, name := range []string{"invoice_issued", "payment_received"} {
		in, err := c.EncodeEvent(ctx, "ar.events", sampleEvents()[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := c.DecodeEvent(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	js, _ := EncodeEventJSON(sampleEvents()["invoice_issued"])
	b.Run("invoice_issued_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.DecodeEvent(ctx, js); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeEventParallel(b *testing.B) {
	ctx := context.Background()
	c := newCodec(b, Config{})
	in, _ := c.EncodeEvent(ctx, "ar.events", sampleEvents()["invoice_issued"])
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.DecodeEvent(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeAction(b *testing.B) {
	ctx := context.Background()
	c := newCodec(b, Config{})
	a := sampleAction()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.EncodeAction(ctx, "ar.dunning.actions", a); err != nil {
			b.Fatal(err)
		}
	}
}
