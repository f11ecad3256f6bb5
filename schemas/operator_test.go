package schemas

import (
	"context"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
	"github.com/linkedin/goavro/v2"
)

// previousEventSchema is history/ar_event.2.avsc, ar_event.avsc before the
// operator events were appended.
func previousEventSchema(t *testing.T) *schema {
	t.Helper()
	var last *schema
	for _, h := range historicSchemas {
		if h.name == EventSchema && strings.Contains(h.text, `"AccountReopened"`) && !strings.Contains(h.text, `"ExemptionSet"`) {
			last = h
		}
	}
	if last == nil {
		t.Fatal("history/ has no ArEvent schema ending with AccountReopened")
	}
	return last
}

// TestOperatorEventsCompatibility is the "how we checked" of
// docs/schemas.md for the operator events appended to the payload union:
//
//   - BACKWARD: every kind the previous schema has, written by the
//     previous writer (its fingerprint on the record), decodes with the new
//     schema to the same event;
//   - FORWARD for the old kinds: a reader on the previous schema, given
//     the new writer schema (registry or known_writers), resolves every
//     old-kind record the new writer writes to the same event, and a plain
//     goavro codec of the previous schema reads the same bytes (the union
//     indexes and bodies of the old kinds did not move);
//   - a new kind read by the previous reader fails for that record alone,
//     INVALID_FIELD naming the payload branch: the processor dead-letters
//     it once and goes on.
func TestOperatorEventsCompatibility(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	prev := previousEventSchema(t)
	cur := builtins()[EventSchema]
	oldReader, err := goavro.NewCodec(prev.text)
	if err != nil {
		t.Fatal(err)
	}
	forward, err := resolveWriter(cur.text, prev.text)
	if err != nil {
		t.Fatalf("the previous reader refuses the new writer schema as a whole: %v", err)
	}
	if forward == nil {
		t.Fatal("no projection: the schemas decode alike, the union did not grow")
	}
	oldKinds, newKinds := 0, 0
	for _, name := range sortedNames(sampleEvents()) {
		want := sampleEvents()[name]
		b, err := c.EncodeEvent(ctx, "ar.events", want)
		if err != nil {
			t.Fatal(err)
		}
		body := b[soeHeader:]
		native, _, err := cur.codec.NativeFromBinary(body)
		if err != nil {
			t.Fatal(err)
		}
		projected, perr := forward(native)
		if want.Body.Kind() > event.KindAccountReopened {
			newKinds++
			if Code(perr) != CodeInvalidField || !strings.Contains(perr.Error(), "arrears."+want.Body.Kind().String()) {
				t.Errorf("%s read by the previous reader: %v (code %q), want %s naming the branch", name, perr, Code(perr), CodeInvalidField)
			}
			continue
		}
		oldKinds++
		// BACKWARD: the previous writer's record (same body, its fingerprint).
		old := append([]byte(nil), b...)
		binary.LittleEndian.PutUint64(old[2:10], prev.fp)
		if got, err := c.DecodeEvent(ctx, old); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s written with the previous schema: %+v, %v", name, got, err)
		}
		// FORWARD: resolved onto the previous schema.
		if perr != nil {
			t.Errorf("%s: the previous reader cannot resolve it: %v", name, perr)
			continue
		}
		m, _ := projected.(map[string]any)
		if got, err := eventFromNative(m); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s resolved onto the previous schema: %+v, %v", name, got, err)
		}
		// And a plain codec of the previous schema reads the bytes as they are.
		direct, rest, err := oldReader.NativeFromBinary(body)
		if err != nil || len(rest) != 0 {
			t.Errorf("%s: previous schema's goavro codec: %v (%d bytes left)", name, err, len(rest))
			continue
		}
		if got, err := eventFromNative(direct.(map[string]any)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s read by the previous schema's codec: %+v, %v", name, got, err)
		}
	}
	// new: the 12 operator events and the 3 group events (ar_event.3.avsc and .4 -> current)
	if oldKinds != 16 || newKinds != 15 {
		t.Errorf("checked %d old and %d new kinds, want 16 and 15", oldKinds, newKinds)
	}
}

// TestOperatorEventsRefused: the bounds of the operator events name the
// field, on the binary and the JSON path alike.
func TestOperatorEventsRefused(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{MaxTextBytes: 64})
	long := strings.Repeat("x", 65)
	for name, tc := range map[string]struct {
		body  event.Body
		code  string
		field string
	}{
		"empty exemption":      {&event.ExemptionSet{}, CodeInvalidText, "payload.ExemptionSet: field exemption"},
		"empty cleared":        {&event.ExemptionCleared{Reason: "x"}, CodeInvalidText, "payload.ExemptionCleared: field exemption"},
		"until out of range":   {&event.ExemptionSet{Exemption: "VIP", Until: t0.AddDate(300, 0, 0)}, CodeInvalidTime, "until"},
		"long cease reason":    {&event.CeaseContact{Active: true, Reason: long}, CodeInvalidText, "payload.CeaseContact: field reason"},
		"empty call id":        {&event.CallLogged{Outcome: event.CallRefused}, CodeInvalidID, "call_id"},
		"long call note":       {&event.CallLogged{CallID: "C", Outcome: event.CallRefused, Note: long}, CodeInvalidText, "note"},
		"empty callback id":    {&event.CallbackScheduled{At: t0}, CodeInvalidID, "callback_id"},
		"callback at zero":     {&event.CallbackScheduled{CallbackID: "CB"}, CodeInvalidTime, "at"},
		"empty note id":        {&event.NoteAdded{Text: "t"}, CodeInvalidID, "note_id"},
		"empty note":           {&event.NoteAdded{NoteID: "N"}, CodeInvalidText, "payload.NoteAdded: field text"},
		"long note":            {&event.NoteAdded{NoteID: "N", Text: long}, CodeInvalidText, "payload.NoteAdded: field text"},
		"negative write-off":   {&event.WriteOffRequested{WriteOffID: "W", Currency: "EUR", Amount: -1_0000}, CodeInvalidAmount, "amount"},
		"write-off currency":   {&event.WriteOffRequested{WriteOffID: "W", Currency: "EURO", Amount: 1_0000}, CodeUnknownCurrency, "currency"},
		"write-off cents":      {&event.WriteOffRequested{WriteOffID: "W", Currency: "JPY", Amount: 1_5000}, CodeInvalidAmount, "amount"},
		"empty write-off id":   {&event.WriteOffRequested{Currency: "EUR"}, CodeInvalidID, "writeoff_id"},
		"long agency":          {&event.AgencyRecalled{AgencyID: strings.Repeat("a", 300)}, CodeInvalidID, "agency_id"},
		"empty returning":      {&event.AgencyReturned{Outcome: event.AgencyRecovered}, CodeInvalidID, "agency_id"},
		"empty case":           {&event.LegalCaseUpdated{Status: event.LegalClosed}, CodeInvalidID, "case_id"},
		"judgement no ccy":     {&event.LegalCaseUpdated{CaseID: "L", Status: event.LegalJudgement, Amount: 1}, CodeUnknownCurrency, "currency"},
		"negative judgement":   {&event.LegalCaseUpdated{CaseID: "L", Status: event.LegalJudgement, Currency: "EUR", Amount: -1_0000}, CodeInvalidAmount, "amount"},
		"long erasure reason":  {&event.AccountErased{Reason: long}, CodeInvalidText, "payload.AccountErased: field reason"},
		"no consents accepted": {&event.ContactPreferencesChanged{}, "", ""},
		"accepted legal close": {&event.LegalCaseUpdated{CaseID: "L", Status: event.LegalClosed}, "", ""},
	} {
		ev := env("ev-x", tc.body)
		bin, err := c.EncodeEvent(ctx, "ar.events", ev)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		js, err := EncodeEventJSON(ev)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for path, b := range map[string][]byte{"binary": bin, "json": js} {
			_, err := c.DecodeEvent(ctx, b)
			if Code(err) != tc.code || (err != nil && !strings.Contains(err.Error(), tc.field)) {
				t.Errorf("%s (%s): %v (code %q), want %q naming %s", name, path, err, Code(err), tc.code, tc.field)
			}
		}
	}
	// An unknown enum symbol (JSON) and index (binary) name the field.
	js := []byte(`{"event_id":"e","event_time":1741944413589,"source":"api:ann","account_id":"A",` +
		`"payload":{"arrears.CallLogged":{"call_id":"C","outcome":"VOICEMAIL"}}}`)
	if _, err := c.DecodeEvent(ctx, js); Code(err) != CodeInvalidField || !strings.Contains(err.Error(), "outcome") {
		t.Errorf("unknown call outcome: %v (code %q)", err, Code(err))
	}
	bin, _ := c.EncodeEvent(ctx, "ar.events", env("e", &event.LegalCaseUpdated{CaseID: "L", Status: event.LegalClosed}))
	i := len(bin) - 6 // status index, before reference null, currency null, amount 0x01 0x00, reason null
	if bin[i] != byte(2*(event.LegalClosed-1)) {
		t.Fatalf("status byte at %d is %#x", i, bin[i])
	}
	bin[i] = 2 * 4 // index 4: beyond CLOSED
	if _, err := c.DecodeEvent(ctx, bin); Code(err) != CodeMalformed || !strings.Contains(err.Error(), "status") {
		t.Errorf("unknown legal status index: %v (code %q)", err, Code(err))
	}
}
