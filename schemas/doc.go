// Package schemas owns arrears' wire formats: the Avro schemas (the .avsc
// files in this directory, embedded in the binary) of ar.events and of every
// output topic, and the Codec that turns Kafka record values into the domain
// types of processor/event and back.
//
// # Schemas
//
// arrears.ArEvent (ar.events) is an envelope (event_id, event_time, source,
// account_id) around a payload union with one record per event.Kind, named
// exactly like the Kind. The outputs are arrears.DunningAction,
// arrears.RiskEvent, arrears.AccountStatus, arrears.GLEntry and
// arrears.DeadLetter. Money is bytes/decimal(18,4) next to a currency string;
// calendar days are int/date; instants are long/timestamp-millis; closed sets
// of the event package (segment, channel, adjustment type, dispute outcome,
// arrangement type, action type) are Avro enums, free-form codes are strings;
// optional fields are ["null", T] with default null.
//
// # Wire formats
//
// Decoding detects the format from the bytes:
//
//   - Confluent: 0x00, a 4-byte big-endian schema id, Avro binary. The id is
//     resolved from Config.KnownIDs, ids this codec registered, or the Schema
//     Registry (franz-go pkg/sr), and cached. Unknown ids are
//     UnknownSchemaError (ErrUnknownSchema); registry trouble is ErrRegistry,
//     the only transient error.
//   - Avro single-object encoding: 0xC3 0x01, the 8-byte little-endian
//     CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form as the
//     Avro specification defines it (pcf.go; goavro's own fingerprint
//     differs), Avro binary. Fingerprints of the owned schemas, their
//     previous versions (history/) and KnownIDs schemas are known; so are
//     the goavro fingerprints arrears wrote before, for the transition
//     (LegacyFingerprint, docs/schemas.md).
//   - Avro JSON: the first non-space byte is '{'.
//
// # Evolution
//
// A writer schema of one of our records other than ours (a registry id's,
// a file of Config.KnownWriters, a previous version in history/) is
// resolved onto ours by the Avro specification's rules once, when it is
// first seen (resolve.go): fields by name, defaults for fields it lacks,
// promotions, union branches by name. A writer that cannot be resolved
// (a field we need without default, a changed type) is refused for each of
// its records with ErrIncompatibleSchema naming the field
// (INCOMPATIBLE_SCHEMA); KnownIDs and KnownWriters refuse it at New. A
// union branch or enum symbol we lack fails only the records using it.
// docs/schemas.md states the compatibility rules and how to evolve.
//
// Encoding writes the Confluent format under the subject "<topic>-value"
// when Config.RegistryURL is set (registering the schema unless
// DisableAutoRegister), single-object encoding otherwise.
//
// # JSON for humans
//
// To make kcat integration easy, Avro JSON input is read leniently:
// decimals may be JSON numbers (12.5) or decimal strings ("12.50", "-3"),
// never exponents, and not the standard Avro-JSON bytes string, whose
// reading was ambiguous ("12,50" read as bytes is 21,129,515.5504); dates
// may be day numbers or "YYYY-MM-DD";
// timestamps may be epoch millis or RFC 3339 strings; unions may use the full
// name ({"arrears.InvoiceIssued": {...}}) or the short one
// ({"InvoiceIssued": {...}}); an optional field may be given bare ("reason":
// "x") or wrapped ({"string": "x"}), and may be left out. EncodeEventJSON
// writes decimals as decimal strings so its output is unambiguous.
//
// # Bounds
//
// No input can make a decoder allocate beyond a small multiple of its own
// size: goavro's MaxBlockCount and MaxBlockSize are set at init
// (limits.go), and the hand-written reader bounds every length and count
// by the bytes left and arrays by max_items. DecodeEvent then checks the
// event against Config's bounds (limits.go, checker): ids non-empty, valid
// UTF-8 and at most max_id_bytes; other strings valid UTF-8 and at most
// max_text_bytes (invalid UTF-8 in JSON is caught before encoding/json
// replaces it); currencies active ISO 4217 codes (event.Currency.Known);
// amounts within max_amount with at most the currency's minor units;
// instants and days within min_time..max_time; time zones resolvable
// (time/tzdata is linked in); a ClockTick without account. Each refusal is
// a FieldError naming the field, and Code(err) gives its dead-letter code.
// The output decoders (status, actions, risk, GL, dead letters) are bounded
// in memory the same way but do not apply the event bounds: they read what
// arrears itself wrote.
//
// # Performance
//
// Records written with exactly the owned schemas (same fingerprint, or a
// registry id whose schema is identical) are read and written by
// hand-written Avro code (binary.go, fastevent.go, fastencode.go), kept
// byte-identical to goavro by tests and checked against it by the fuzz
// target; other writer schemas and JSON go through goavro or encoding/json.
// Parsed schemas and registry ids are cached for the Codec's lifetime.
//
// # IO
//
// The package does no IO except the Schema Registry client, which is only
// contacted for ids it has not cached (at most Config.MaxSchemaIDs are)
// and for the first encode per subject, and New reading the
// Config.KnownWriters directory.
// Decoding never panics on input; errors wrap the sentinels of errors.go and
// read as reasons fit for a dead-letter record.
package schemas
