"""Feeds arrears a small book as a Python user would: confluent-kafka (librdkafka)
with its DEFAULT partitioner, values written by fastavro from nothing but
schemas/ar_event.avsc, in Avro single-object encoding or in Confluent framing.

The plan (JSON on stdin) says what to write; one phase per run:
  book      AccountUpserted and InvoiceIssued for every account, and the payments
            whose "payer" is "default", all through the default partitioner
  payments  the payments whose "payer" is "murmur2", through a second producer
            configured with partitioner=murmur2_random (another team's producer)
  ticks     one ClockTick per partition and simulated day, produced to that
            partition explicitly, by source "arrears-ticker"

  python3 producer.py PHASE SCHEMA_DIR < plan.json

Plan: {"brokers", "topic", "partitions", "start" (RFC 3339, UTC), "tick_days",
"confluent_id" (the schema id of Confluent-framed records) or "registry" (a Schema
Registry URL: the schema is registered under "<topic>-value" and framed records
carry the id the registry gives), "accounts": [{"id",
"segment", "invoice" (decimal string), "paid" (decimal string or null),
"payer": "default" | "murmur2", "framing": "single" | "confluent"}]}.
Prints one JSON line per delivered record: {"key", "partition", "offset", "id"}.
"""

import datetime
import decimal
import io
import json
import os
import struct
import sys
import urllib.request

import fastavro
from confluent_kafka import Producer
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form


def load_schema(schema_dir):
    with open(os.path.join(schema_dir, "ar_event.avsc")) as f:
        raw = json.load(f)
    # Avro single-object encoding: 0xC3 0x01, then the schema's CRC-64-AVRO
    # fingerprint of its Parsing Canonical Form, little-endian (fastavro's hex
    # string is already in that byte order).
    fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(raw), "CRC-64-AVRO"))
    return parse_schema(raw), fp


def register(registry, subject, schema_dir):
    """Registers ar_event.avsc under subject with a Schema Registry's REST API,
    as Confluent's serializers do, and returns its schema id."""
    with open(os.path.join(schema_dir, "ar_event.avsc")) as f:
        body = json.dumps({"schema": f.read()}).encode()
    req = urllib.request.Request("%s/subjects/%s/versions" % (registry.rstrip("/"), subject), data=body,
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["id"]


class Writer:
    def __init__(self, schema_dir, confluent_id):
        self.schema, self.fp = load_schema(schema_dir)
        self.confluent_id = confluent_id

    def encode(self, datum, framing):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, self.schema, datum)
        body = buf.getvalue()
        if framing == "single":
            return b"\xc3\x01" + self.fp + body
        if framing == "confluent":
            return b"\x00" + struct.pack(">I", self.confluent_id) + body
        raise ValueError("framing %r is not single or confluent" % framing)


def envelope(event_id, at, account, kind, body):
    # The payload union's branch is chosen by name with fastavro's tuple notation.
    return {"event_id": event_id, "event_time": at, "source": "interop-python",
            "account_id": account, "payload": ("arrears." + kind, body)}


def book(plan, start):
    """The records of phase "book": (account, framing, datum) in order."""
    issue = start.date()
    for a in plan["accounts"]:
        yield a, envelope(a["id"] + "-up", start, a["id"], "AccountUpserted", {
            "segment": a["segment"], "parent_id": None, "credit_class": None, "currency": "EUR",
            "timezone": "Europe/Berlin", "credit_limit": decimal.Decimal("500"),
            "consents": ["email", "sms", "letter"], "exemptions": []})
        yield a, envelope(a["id"] + "-inv", start, a["id"], "InvoiceIssued", {
            "invoice_id": a["id"] + "-INV-1", "currency": "EUR", "amount": decimal.Decimal(a["invoice"]),
            "issue_date": issue, "due_date": issue + datetime.timedelta(days=14), "bill_cycle": None})


def payments(plan, start, payer):
    paid_at = start + datetime.timedelta(days=5)
    for a in plan["accounts"]:
        if a.get("paid") and a.get("payer", "default") == payer:
            yield a, envelope(a["id"] + "-pay", paid_at, a["id"], "PaymentReceived", {
                "payment_id": a["id"] + "-PAY-1", "currency": "EUR", "amount": decimal.Decimal(a["paid"]),
                "method": "bank_transfer", "invoice_ids": []})


class Feed:
    """One confluent-kafka producer; remembers where librdkafka put each record."""

    def __init__(self, plan, extra=None):
        conf = {"bootstrap.servers": plan["brokers"], "client.id": "arrears-interop-python",
                "enable.idempotence": True, "linger.ms": 5}
        conf.update(extra or {})
        self.p = Producer(conf)
        self.failed = []

    def send(self, topic, value, key=None, partition=None, event_id=""):
        def done(err, msg):
            if err is not None:
                self.failed.append("%s: %s" % (event_id, err))
                return
            print(json.dumps({"key": key, "partition": msg.partition(), "offset": msg.offset(), "id": event_id}))

        kw = {"key": key} if key is not None else {}
        if partition is not None:
            kw["partition"] = partition
        while True:
            try:
                self.p.produce(topic, value=value, on_delivery=done, **kw)
                break
            except BufferError:
                self.p.poll(0.1)
        self.p.poll(0)

    def close(self):
        left = self.p.flush(60)
        if left or self.failed:
            sys.exit("producer: %d records undelivered, failures: %s" % (left, self.failed[:5]))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("book", "payments", "ticks"):
        sys.exit("usage: producer.py book|payments|ticks SCHEMA_DIR < plan.json")
    phase, schema_dir = sys.argv[1], sys.argv[2]
    plan = json.load(sys.stdin)
    start = datetime.datetime.fromisoformat(plan["start"].replace("Z", "+00:00"))
    topic = plan["topic"]
    confluent_id = plan.get("confluent_id", 0)
    if plan.get("registry") and phase != "ticks":
        confluent_id = register(plan["registry"], topic + "-value", schema_dir)
    w = Writer(schema_dir, confluent_id)
    if phase == "ticks":
        # A ClockTick has no key: the partition is chosen explicitly.
        f = Feed(plan)
        for day in range(1, plan["tick_days"] + 1):
            at = start + datetime.timedelta(days=day)
            for p in range(plan["partitions"]):
                ev = {"event_id": "tick-%d-%d" % (p, int(at.timestamp() * 1000)), "event_time": at,
                      "source": "arrears-ticker", "account_id": "",
                      "payload": ("arrears.ClockTick", {"partition": p})}
                f.send(topic, w.encode(ev, "single"), partition=p, event_id=ev["event_id"])
        f.close()
        return
    if phase == "book":
        f, recs = Feed(plan), list(book(plan, start)) + list(payments(plan, start, "default"))
    else:
        # Another team's producer: librdkafka with the Java client's partitioner.
        f, recs = Feed(plan, {"partitioner": "murmur2_random"}), list(payments(plan, start, "murmur2"))
    for a, datum in recs:
        f.send(topic, w.encode(datum, a.get("framing", "single")), key=a["id"], event_id=datum["event_id"])
    f.close()


if __name__ == "__main__":
    main()
