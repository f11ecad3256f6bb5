package schemas

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func confluentFrame(id int, body []byte) []byte {
	b := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(b[1:], uint32(id))
	return append(b, body...)
}

// avroBody is the plain Avro binary of ev (no framing).
func avroBody(t testing.TB, ev event.Event) []byte {
	t.Helper()
	b, err := newCodec(t, Config{}).EncodeEvent(context.Background(), "t", ev)
	if err != nil {
		t.Fatal(err)
	}
	return b[soeHeader:]
}

func TestDecodeErrors(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	valid, err := c.EncodeEvent(ctx, "t", sampleEvents()["invoice_issued"])
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := Fingerprint(EventSchema)
	badFP := append([]byte{0xC3, 0x01}, valid[2:]...)
	badFP[2] ^= 0xFF
	for _, tc := range []struct {
		name string
		in   string
		want error
		msg  string
	}{
		{"empty", "", ErrMalformed, "malformed record: empty record"},
		{"garbage", "\x7fELF\x02\x01", ErrMalformed, "unrecognized wire format (first byte 0x7f)"},
		{"text", "hello", ErrMalformed, "unrecognized wire format"},
		{"confluent short", "\x00\x00\x01", ErrMalformed, "confluent header truncated"},
		{"confluent unknown id", string(confluentFrame(42, []byte{1, 2})), ErrUnknownSchema, "unknown schema id 42"},
		{"single short", "\xC3\x01\x00", ErrMalformed, "single-object header truncated"},
		{"single unknown fingerprint", string(badFP), ErrUnknownSchema, "unknown schema fingerprint 0x"},
		{"trailing bytes", string(valid) + "\x00", ErrMalformed, "1 trailing bytes after arrears.ArEvent"},
		{"bad json", `{"event_id": `, ErrMalformed, "invalid JSON"},
		{"json trailing", `{} {}`, ErrMalformed, "trailing data"},
		{"json array", ` [1]`, ErrMalformed, "unrecognized wire format"},
		{"json missing envelope", `{"event_time": 1, "source": "x", "account_id": "a", "payload": {"Release": {"hold_id": "h"}}}`,
			ErrMissingField, "missing required field event_id"},
		{"json missing amount", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"arrears.InvoiceIssued":
			{"invoice_id":"I","currency":"EUR","issue_date":"2025-01-01","due_date":"2025-01-31"}}}`,
			ErrMissingField, "payload.InvoiceIssued: missing required field amount"},
		{"json null amount", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"arrears.Refund":
			{"refund_id":"R","currency":"EUR","amount":null}}}`,
			ErrMissingField, "payload.Refund: missing required field amount"},
		{"json wrong type", `{"event_id":7,"event_time":1,"source":"s","account_id":"a","payload":{"Release":{"hold_id":"h"}}}`,
			ErrWrongType, "field event_id has wrong type: want string, got number"},
		{"json bool amount", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"Refund":
			{"refund_id":"R","currency":"EUR","amount":true}}}`,
			ErrWrongType, "payload.Refund: field amount has wrong type: want decimal, got boolean"},
		{"json too precise", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"Refund":
			{"refund_id":"R","currency":"EUR","amount":"1.23456"}}}`,
			ErrInvalidField, "more than 4 decimal places"},
		{"json exponent", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"Refund":
			{"refund_id":"R","currency":"EUR","amount":1e999999999}}}`,
			ErrInvalidField, "payload.Refund: field amount"},
		{"json bad date", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"InvoiceIssued":
			{"invoice_id":"I","currency":"EUR","amount":1,"issue_date":"01/02/2025","due_date":1}}}`,
			ErrInvalidField, `payload.InvoiceIssued: field issue_date: date "01/02/2025": want YYYY-MM-DD`},
		{"json unknown kind", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"arrears.Teleport":{}}}`,
			ErrInvalidField, `payload: unknown event type "arrears.Teleport"`},
		{"json two payloads", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"Release":{"hold_id":"h"},"Hold":{}}}`,
			ErrWrongType, "payload"},
		{"json unknown enum", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"AccountUpserted":
			{"segment":"gold","currency":"EUR"}}}`,
			ErrInvalidField, `payload.AccountUpserted: field segment: unknown symbol "gold"`},
		{"json bad installment", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"ArrangementCreated":
			{"arrangement_id":"A","type":"PROMISE","currency":"EUR","installments":[{"due_date":"2025-01-01","amount":1},{"due_date":"2025-02-01"}]}}}`,
			ErrMissingField, "payload.ArrangementCreated.installments[1]: missing required field amount"},
		{"json bad consent", `{"event_id":"e","event_time":1,"source":"s","account_id":"a","payload":{"AccountUpserted":
			{"segment":"prepaid","currency":"EUR","consents":["email","fax"]}}}`,
			ErrInvalidField, `field consents[1]: unknown symbol "fax"`},
		{"json int32 overflow", `{"event_id":"e","event_time":1,"source":"s","account_id":"","payload":{"ClockTick":{"partition":4294967296}}}`,
			ErrInvalidField, "payload.ClockTick: field partition: 4294967296 is not a 32-bit integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DecodeEvent(ctx, []byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.msg)
			}
			if Transient(err) {
				t.Errorf("%v is transient", err)
			}
		})
	}
	_ = fp
}

// TestTruncated feeds every prefix of every fixture: each must fail with a
// typed error, never panic or succeed.
func TestTruncated(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	for _, name := range sortedNames(sampleEvents()) {
		for _, ext := range []string{".bin", ".json"} {
			full, err := os.ReadFile(filepath.Join("testdata", name+ext))
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n < len(full)-1; n++ {
				_, err := c.DecodeEvent(ctx, full[:n])
				if err == nil {
					t.Errorf("%s%s[:%d] decoded", name, ext, n)
					continue
				}
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownSchema) {
					t.Errorf("%s%s[:%d]: untyped error %v", name, ext, n, err)
				}
			}
		}
	}
}

// TestJSONFriendly decodes the hand-written forms kcat users type.
func TestJSONFriendly(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	want := event.Event{ID: "e1", Time: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), Source: "kcat", Account: "A1",
		Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("12.5"),
			IssueDate: d("2025-03-01"), DueDate: d("2025-03-31"), BillCycle: "C2"}}
	for name, in := range map[string]string{
		"number and date strings": `{"event_id":"e1","event_time":1741942800000,"source":"kcat","account_id":"A1",
			"payload":{"InvoiceIssued":{"invoice_id":"I1","currency":"EUR","amount":12.50,
			"issue_date":"2025-03-01","due_date":"2025-03-31","bill_cycle":"C2"}}}`,
		"decimal string, RFC 3339 time": `  {"event_id":"e1","event_time":"2025-03-14T10:00:00+01:00","source":"kcat","account_id":"A1",
			"payload":{"arrears.InvoiceIssued":{"invoice_id":"I1","currency":"EUR","amount":"12.50",
			"issue_date":20148,"due_date":"2025-03-31","bill_cycle":{"string":"C2"}}}}`,
		"day numbers, extra field": `{"event_id":"e1","event_time":1741942800000,"source":"kcat","account_id":"A1",
			"payload":{"arrears.InvoiceIssued":{"invoice_id":"I1","currency":"EUR","amount":"+12.5",
			"issue_date":20148,"due_date":20178,"bill_cycle":{"string":"C2"},"extra_field":"ignored"}}}`,
	} {
		got, err := c.DecodeEvent(ctx, []byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v %+v\nwant %+v %+v", name, got, got.Body, want, want.Body)
		}
	}
	// Defaults of omitted fields.
	got, err := c.DecodeEvent(ctx, []byte(`{"event_id":"e","event_time":1741942800000,"source":"s","account_id":"",
		"payload":{"ClockTick":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Body.(*event.ClockTick); b.Partition != -1 {
		t.Errorf("partition default = %d, want -1", b.Partition)
	}
}

// TestStandardAvroJSON: goavro's own (legacy) Avro JSON writes decimals as
// bytes strings; amounts in that form are refused (INVALID_AMOUNT), as the
// reading was ambiguous ("12,50" was 21,129,515.5504), while the rest of
// the format still decodes.
func TestStandardAvroJSON(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	text, _ := Schema(EventSchema)
	std, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invoice_issued", "arrangement_created", "account_upserted", "hold"} {
		ev := sampleEvents()[name]
		native, _ := eventToNative(ev)
		js, err := std.TextualFromNative(nil, native)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.DecodeEvent(ctx, js)
		if name == "hold" { // no decimal in it
			if err != nil || !reflect.DeepEqual(got, ev) {
				t.Errorf("%s: %+v, %v\n%s", name, got.Body, err, js)
			}
			continue
		}
		if Code(err) != CodeInvalidAmount {
			t.Errorf("%s: %v (code %q), want %s\n%s", name, err, Code(err), CodeInvalidAmount, js)
		}
	}
}

func TestKnownIDsWithoutRegistry(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{KnownIDs: map[int]string{7: EventSchema}})
	ev := sampleEvents()["payment_received"]
	got, err := c.DecodeEvent(ctx, confluentFrame(7, avroBody(t, ev)))
	if err != nil || !reflect.DeepEqual(got, ev) {
		t.Fatalf("got %+v, %v", got, err)
	}
	_, err = c.DecodeEvent(ctx, confluentFrame(8, avroBody(t, ev)))
	var unk *UnknownSchemaError
	if !errors.As(err, &unk) || unk.ID != 8 || err.Error() != "unknown schema id 8" {
		t.Fatalf("unknown id: %v", err)
	}
	for _, bad := range []Config{
		{KnownIDs: map[int]string{0: EventSchema}},
		{KnownIDs: map[int]string{1: "arrears.Nope"}},
		{KnownIDs: map[int]string{1: `{"type":`}},
		{RegistryURL: "registry:8081"},
		{RegistryURL: "http://ok:8081,ftp://x"},
		{RegistryPassword: "secret"},
		{RegistryTimeout: -time.Second},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// TestRegistryEvolvedWriter: a producer registered a newer ArEvent with an
// extra envelope field; records are read by name and still decode.
func TestRegistryEvolvedWriter(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	text, _ := Schema(EventSchema)
	evolved := strings.Replace(text, `"fields": [`,
		`"fields": [{"name": "trace_id", "type": "string", "default": "", "doc": "added in v2"},`, 1)
	id, _, err := reg.RegisterSchema("ar.events-value", sr.Schema{Schema: evolved, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	w, err := goavro.NewCodec(evolved)
	if err != nil {
		t.Fatal(err)
	}
	ev := sampleEvents()["dispute_opened"]
	native, _ := eventToNative(ev)
	native["trace_id"] = "abc"
	body, err := w.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, Config{RegistryURL: reg.URL()})
	got, err := c.DecodeEvent(ctx, confluentFrame(id, body))
	if err != nil || !reflect.DeepEqual(got, ev) {
		t.Fatalf("got %+v, %v", got, err)
	}
	// Unknown ids are permanent (and remembered); registry trouble is transient.
	_, err = c.DecodeEvent(ctx, confluentFrame(4242, body))
	if !errors.Is(err, ErrUnknownSchema) || err.Error() != "unknown schema id 4242" || Transient(err) {
		t.Fatalf("unknown id: %v", err)
	}
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	_, err = c.DecodeEvent(ctx, confluentFrame(4242, body))
	if !errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("negative cache: %v", err)
	}
	_, err = c.DecodeEvent(ctx, confluentFrame(99, body))
	if !errors.Is(err, ErrRegistry) || !Transient(err) {
		t.Fatalf("registry down: %v", err)
	}
	if got, err := c.DecodeEvent(ctx, confluentFrame(id, body)); err != nil || !reflect.DeepEqual(got, ev) {
		t.Fatalf("cached id while registry down: %+v, %v", got, err)
	}
	enc := newCodec(t, Config{RegistryURL: reg.URL()})
	if _, err := enc.EncodeEvent(ctx, "ar.events", ev); !errors.Is(err, ErrRegistry) {
		t.Fatalf("encode with registry down: %v", err)
	}
}

func TestRegistryNoAutoRegister(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	c := newCodec(t, Config{RegistryURL: reg.URL(), DisableAutoRegister: true})
	ev := sampleEvents()["release"]
	_, err := c.EncodeEvent(ctx, "ar.events", ev)
	if !errors.Is(err, ErrUnknownSchema) || !strings.Contains(err.Error(), `"ar.events-value"`) {
		t.Fatalf("unregistered subject: %v", err)
	}
	text, _ := Schema(EventSchema)
	id, _, err := reg.RegisterSchema("ar.events-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.EncodeEvent(ctx, "ar.events", ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(binary.BigEndian.Uint32(b[1:5])); got != id {
		t.Fatalf("id %d, want %d", got, id)
	}
}

// TestRegistryFetchOnce: concurrent first sightings of an id share one
// registry request, and later records hit the cache.
func TestRegistryFetchOnce(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	text, _ := Schema(EventSchema)
	id, _, err := reg.RegisterSchema("ar.events-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
			fetches.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		return false
	})
	c := newCodec(t, Config{RegistryURL: reg.URL()})
	ev := sampleEvents()["invoice_issued"]
	in := confluentFrame(id, avroBody(t, ev))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			got, err := c.DecodeEvent(ctx, in)
			if err == nil && !reflect.DeepEqual(got, ev) {
				err = errors.New("decoded a different event")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d registry fetches, want 1", n)
	}
}
