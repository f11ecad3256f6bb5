"""Decodes arrears' output records with fastavro from nothing but an .avsc file:
each FILE holds one record value in Avro single-object encoding (0xC3 0x01, the
schema's CRC-64-AVRO fingerprint little-endian, Avro binary). The fingerprint is
checked against the one fastavro computes from the schema's Parsing Canonical
Form (printed to stderr); a mismatch fails the run. Prints one JSON line per
record (decimals and dates as strings).

  python3 decode.py SCHEMA.avsc FILE...
"""

import io
import json
import sys

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: decode.py SCHEMA.avsc FILE...")
    with open(sys.argv[1]) as f:
        raw = json.load(f)
    want = bytes.fromhex(fingerprint(to_parsing_canonical_form(raw), "CRC-64-AVRO"))
    schema = parse_schema(raw)
    print("schema %s fingerprint 0x%s" % (schema["name"], want[::-1].hex()), file=sys.stderr)
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            b = f.read()
        if b[:2] != b"\xc3\x01":
            sys.exit("%s: not single-object encoded (starts %s)" % (path, b[:2].hex()))
        if b[2:10] != want:
            sys.exit("%s: fingerprint %s, the schema's is %s" % (path, b[2:10][::-1].hex(), want[::-1].hex()))
        rec = fastavro.schemaless_reader(io.BytesIO(b[10:]), schema, None)
        print(json.dumps(rec, default=str, sort_keys=True))


if __name__ == "__main__":
    main()
