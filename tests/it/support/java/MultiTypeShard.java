// Writes one Lucene 8 shard shaped like an Elasticsearch 5.x index with several mapping types, for the
// type-mapping tests: Elasticsearch 5.x stores each document's `_uid` ("type#id", a stored string) instead of
// `_id`, so the same id may exist once per type. lucene-gen writes `_id`, so this writes `_uid` itself, with
// the real Lucene of Debian's liblucene8-java:
//
//   - document "order#<i>" for i in 0..DOCS, `_source` {"kind":"order","n":i};
//   - document "refund#<i>" for every even i (the same ids as orders), `_source` {"kind":"refund","n":i};
//   - document "note#<i>" for every i % 5 == 0, `_source` {"kind":"note","n":i}.
//
// Usage (single-file launch, no javac step):
//   java -cp /usr/share/java/lucene-core-8.7.0.jar MultiTypeShard.java DIR DOCS
// Prints one JSON line: {"order":O,"refund":R,"note":N}.

import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.Map;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.FSDirectory;

public class MultiTypeShard {
  static void add(IndexWriter writer, String type, int i) throws Exception {
    Document doc = new Document();
    doc.add(new StringField("_uid", type + "#" + i, Field.Store.YES));
    String source = "{\"kind\":\"" + type + "\",\"n\":" + i + "}";
    doc.add(new StoredField("_source", source.getBytes(StandardCharsets.UTF_8)));
    writer.addDocument(doc);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: MultiTypeShard DIR DOCS");
      System.exit(2);
    }
    int docs = Integer.parseInt(args[1]);
    int orders = 0, refunds = 0, notes = 0;
    IndexWriterConfig config = new IndexWriterConfig();
    config.setUseCompoundFile(false);
    try (IndexWriter writer = new IndexWriter(FSDirectory.open(Paths.get(args[0])), config)) {
      for (int i = 0; i < docs; i++) {
        add(writer, "order", i);
        orders++;
        if (i % 2 == 0) {
          add(writer, "refund", i);
          refunds++;
        }
        if (i % 5 == 0) {
          add(writer, "note", i);
          notes++;
        }
      }
      writer.forceMerge(1);
      int total = orders + refunds + notes;
      writer.setLiveCommitData(Map.of("history_uuid", "multi-type-shard-history", "max_seq_no",
          Integer.toString(total - 1), "local_checkpoint", Integer.toString(total - 1)).entrySet());
      writer.commit();
    }
    System.out.printf("{\"order\":%d,\"refund\":%d,\"note\":%d}%n", orders, refunds, notes);
  }
}
