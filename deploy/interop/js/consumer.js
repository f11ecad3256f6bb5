// Reads arrears' outputs as a Node user would: a kafkajs consumer, read_committed
// (readUncommitted: false), values decoded by avsc from nothing but schemas/*.avsc.
// Every value must be Avro single-object encoded (0xC3 0x01, 8-byte little-endian
// CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form, Avro binary): the
// fingerprint is computed here from the .avsc and checked on every record. With
// REGISTRY_URL set, Confluent-framed values (0x00, 4-byte schema id, Avro binary)
// are read too: the id's schema is fetched from the registry and must have the
// .avsc's fingerprint.
// Prints one JSON line per record: {topic, partition, offset, key, fingerprint,
// value} (decimals as decimal strings, timestamps as epoch millis, dates as days).
// Exits 0 once COUNT records were read, 1 if any record was refused (after
// COUNT), 2 if COUNT were not read within TIMEOUT_MS, 3 if the consumer failed.
//
//   node consumer.js SCHEMA_DIR BROKERS COUNT TIMEOUT_MS TOPIC=FILE.avsc...
'use strict';

const fs = require('fs');
const path = require('path');
const avro = require('avsc');
const { Kafka, logLevel } = require('kafkajs');

// CRC-64-AVRO (the Avro specification's Rabin fingerprint) over bytes.
const EMPTY = 0xc15d213aa4d7a795n;
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp;
});
function crc64avro(bytes) {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)];
  return fp;
}

// decimal logical type: the two's-complement big-endian unscaled value, as a
// decimal string with the schema's scale.
class Decimal extends avro.types.LogicalType {
  constructor(schema, opts) {
    super(schema, opts);
    this.scale = schema.scale || 0;
  }
  _fromValue(buf) {
    let n = 0n;
    for (const b of buf) n = (n << 8n) | BigInt(b);
    if (buf.length > 0 && buf[0] & 0x80) n -= 1n << BigInt(8 * buf.length);
    const neg = n < 0n;
    let s = (neg ? -n : n).toString().padStart(this.scale + 1, '0');
    if (this.scale > 0) s = s.slice(0, -this.scale) + '.' + s.slice(-this.scale);
    return (neg ? '-' : '') + s;
  }
  // Only field defaults are written: Avro JSON gives bytes as a string of code
  // points 0-255 ("\u0000" is 0).
  _toValue(x) {
    if (Buffer.isBuffer(x)) return x;
    if (typeof x === 'string') return Buffer.from(x, 'latin1');
    throw new Error('this consumer only reads decimals');
  }
  _resolve(type) {
    return avro.Type.isType(type, 'bytes') ? (x) => x : undefined;
  }
}

// reader parses one .avsc: its decoder and its single-object header.
function reader(file) {
  const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
  // avsc's schema() without attributes is the Parsing Canonical Form.
  const canonical = JSON.stringify(avro.Type.forSchema(schema).schema());
  const fp = crc64avro(Buffer.from(canonical, 'utf8'));
  const header = Buffer.alloc(10);
  header[0] = 0xc3;
  header[1] = 0x01;
  header.writeBigUInt64LE(fp, 2);
  const type = avro.Type.forSchema(schema, { logicalTypes: { decimal: Decimal } });
  return { type, header, fingerprint: '0x' + fp.toString(16).padStart(16, '0') };
}

// registrySchemas caches, per schema id, the CRC-64-AVRO fingerprint of the
// Parsing Canonical Form of the schema the registry holds under that id.
const registrySchemas = new Map();
async function registryFingerprint(id) {
  if (!registrySchemas.has(id)) {
    const resp = await fetch(`${process.env.REGISTRY_URL}/schemas/ids/${id}`);
    if (!resp.ok) throw new Error(`registry: schema id ${id}: HTTP ${resp.status}`);
    const canonical = JSON.stringify(avro.Type.forSchema(JSON.parse((await resp.json()).schema)).schema());
    registrySchemas.set(id, '0x' + crc64avro(Buffer.from(canonical, 'utf8')).toString(16).padStart(16, '0'));
  }
  return registrySchemas.get(id);
}

// decode returns the line fields of one value: fingerprint and value, or error.
async function decode(r, v) {
  if (v && v.length >= 5 && v[0] === 0 && process.env.REGISTRY_URL) {
    const id = v.readUInt32BE(1);
    const fp = await registryFingerprint(id);
    if (fp !== r.fingerprint) return { error: `schema id ${id} has fingerprint ${fp}, the .avsc ${r.fingerprint}` };
    return { schema_id: id, fingerprint: fp, value: r.type.fromBuffer(v.subarray(5)) };
  }
  if (!v || v.length < 10 || !v.subarray(0, 10).equals(r.header)) {
    const at = v && v.length >= 10 ? '0x' + v.readBigUInt64LE(2).toString(16).padStart(16, '0') : 'none';
    return { error: `not single-object encoded with ${r.fingerprint} (fingerprint ${at})` };
  }
  return { fingerprint: r.fingerprint, value: r.type.fromBuffer(v.subarray(10)) };
}

async function main() {
  const [schemaDir, brokers, count, timeoutMs, ...specs] = process.argv.slice(2);
  if (!specs.length) {
    console.error('usage: consumer.js SCHEMA_DIR BROKERS COUNT TIMEOUT_MS TOPIC=FILE.avsc...');
    process.exit(64);
  }
  const readers = {};
  for (const s of specs) {
    const [topic, file] = s.split('=');
    readers[topic] = reader(path.join(schemaDir, file));
  }
  const want = Number(count);
  let got = 0;
  let refused = 0;
  const kafka = new Kafka({
    clientId: 'arrears-interop-js',
    brokers: brokers.split(','),
    logLevel: logLevel.ERROR,
    logCreator: () => ({ level, log }) => process.stderr.write(`kafkajs ${level}: ${JSON.stringify(log)}\n`),
  });
  const consumer = kafka.consumer({ groupId: `arrears-interop-js-${process.pid}-${Date.now()}`, readUncommitted: false });
  const timer = setTimeout(() => {
    console.error(`consumer: read ${got} of ${want} records in ${timeoutMs} ms`);
    process.exit(2);
  }, Number(timeoutMs));
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  // A batch kafkajs cannot read (lz4, snappy or zstd without a plugin) crashes
  // the consumer for good: say so at once rather than at the timeout.
  consumer.on(consumer.events.CRASH, (e) => {
    console.error(`consumer: crashed after ${got} records: ${e.payload.error}`);
    process.exit(3);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(readers), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const line = { topic, partition, offset: message.offset, key: message.key && message.key.toString() };
      Object.assign(line, await decode(readers[topic], message.value));
      if (line.error) refused++;
      console.log(JSON.stringify(line));
      if (++got === want) done();
    },
  });
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  process.exit(refused ? 1 : 0);
}

main().catch((err) => {
  console.error(`consumer: ${err.stack || err}`);
  process.exit(3);
});
