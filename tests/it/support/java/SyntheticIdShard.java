// Writes one Lucene 8 shard whose `_id` field is marked the way Elasticsearch marks a synthetic `_id` of a
// time_series index (`org.elasticsearch.index.mapper.SyntheticIdField`): the field type carries the attribute
// `SyntheticIdField.enabled: true` (which Lucene records in the segment's `.fnm`), and the id is not stored —
// Elasticsearch's stored-fields formats for it (`ES93BloomFilterStoredFieldsFormat`, later
// `TSDBStoredFieldsFormat`) skip its storage and rebuild it from `_tsid`, `@timestamp` and the routing hash.
// `_source` is stored as usual. The real Lucene of Debian's liblucene8-java writes it:
//
//   - document i for i in 0..DOCS: `_id` "tsdb-<i>" (indexed, not stored), `_source` {"n":i}.
//
// Usage (single-file launch, no javac step):
//   java -cp /usr/share/java/lucene-core-8.7.0.jar SyntheticIdShard.java DIR DOCS
// Prints one JSON line: {"docs":N}.

import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.Map;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.FSDirectory;

public class SyntheticIdShard {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: SyntheticIdShard DIR DOCS");
      System.exit(2);
    }
    int docs = Integer.parseInt(args[1]);
    FieldType syntheticId = new FieldType();
    syntheticId.putAttribute("SyntheticIdField.enabled", "true");
    syntheticId.setIndexOptions(IndexOptions.DOCS);
    syntheticId.setTokenized(false);
    syntheticId.setOmitNorms(true);
    syntheticId.setStored(false);
    syntheticId.freeze();
    IndexWriterConfig config = new IndexWriterConfig();
    config.setUseCompoundFile(false);
    try (IndexWriter writer = new IndexWriter(FSDirectory.open(Paths.get(args[0])), config)) {
      for (int i = 0; i < docs; i++) {
        Document doc = new Document();
        doc.add(new Field("_id", "tsdb-" + i, syntheticId));
        String source = "{\"n\":" + i + "}";
        doc.add(new StoredField("_source", source.getBytes(StandardCharsets.UTF_8)));
        writer.addDocument(doc);
      }
      writer.forceMerge(1);
      writer.setLiveCommitData(Map.of("history_uuid", "synthetic-id-shard-history", "max_seq_no",
          Integer.toString(docs - 1), "local_checkpoint", Integer.toString(docs - 1)).entrySet());
      writer.commit();
    }
    System.out.printf("{\"docs\":%d}%n", docs);
  }
}
