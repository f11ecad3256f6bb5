// Decodes arrears' output records with Apache Avro for Java (the jars
// deploy/local/interop.sh copies from Maven Central) and nothing but an .avsc:
// BinaryMessageDecoder reads Avro single-object encoding and refuses a record
// whose fingerprint is not the schema's (SchemaNormalization's CRC-64-AVRO of
// the Parsing Canonical Form). Each FILE holds one record value; with no FILE,
// standard input holds one. Prints one JSON line per record
// (GenericData.toString, decimals as numbers); exits 1 on the first refusal.
//
//   java -cp "$JAVA_CP" deploy/interop/java/Decode.java SCHEMA.avsc [FILE...]
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;

public class Decode {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: Decode SCHEMA.avsc [FILE...]");
      System.exit(64);
    }
    Schema schema = new Schema.Parser().parse(new File(args[0]));
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    BinaryMessageDecoder<GenericRecord> decoder = new BinaryMessageDecoder<>(model, schema);
    System.err.printf("schema %s fingerprint 0x%016x%n", schema.getFullName(),
        SchemaNormalization.parsingFingerprint64(schema));
    int n = Math.max(args.length - 1, 1);
    for (int i = 0; i < n; i++) {
      String name = args.length > 1 ? args[i + 1] : "stdin";
      byte[] b = args.length > 1 ? Files.readAllBytes(Path.of(name)) : System.in.readAllBytes();
      try {
        GenericRecord rec = decoder.decode(ByteBuffer.wrap(b));
        System.out.println(model.toString(rec));
      } catch (Exception e) {
        System.err.printf("%s: %s%n", name, e);
        System.exit(1);
      }
    }
  }
}
