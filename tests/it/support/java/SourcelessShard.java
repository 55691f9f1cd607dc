// Writes one Lucene 8 shard shaped like an Elasticsearch 7 index whose documents are not all sendable, for the
// worker's "a document that cannot become a bulk action is a failed document" test. lucene-gen stores `_source`
// on every document, so this writes the three kinds a reader meets itself, with the real Lucene of Debian's
// liblucene8-java:
//
//   - document i: stored `_id` (Elasticsearch's Uid encoding of "doc:<i>": 0xFF then UTF-8) and `_source`
//     {"n":i}, except every K-th (i % K == 0), which has no `_source`, as with `_source: {enabled: false}`;
//   - every N-th document (i % N == 1) also has a nested document written before it in the same block, as
//     Elasticsearch writes nested objects: no stored `_id` (it is indexed only) and no `_source`.
//
// Usage (single-file launch, no javac step):
//   java -cp /usr/share/java/lucene-core-8.7.0.jar SourcelessShard.java DIR DOCS K N
// Prints one JSON line: {"docs":D,"without_source":W,"nested":X,"max_doc":M}.

import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.FSDirectory;

public class SourcelessShard {
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: SourcelessShard DIR DOCS K N");
      System.exit(2);
    }
    int docs = Integer.parseInt(args[1]);
    int sourcelessEvery = Integer.parseInt(args[2]);
    int nestedEvery = Integer.parseInt(args[3]);
    // `_id` of a nested document: indexed, not stored (IdFieldMapper.Defaults.NESTED_FIELD_TYPE).
    FieldType nestedId = new FieldType();
    nestedId.setTokenized(false);
    nestedId.setIndexOptions(IndexOptions.DOCS);
    nestedId.setStored(false);
    nestedId.setOmitNorms(true);
    nestedId.freeze();
    IndexWriterConfig config = new IndexWriterConfig();
    config.setUseCompoundFile(false);
    int withoutSource = 0;
    int nested = 0;
    int maxDoc = 0;
    try (IndexWriter writer = new IndexWriter(FSDirectory.open(Paths.get(args[0])), config)) {
      for (int i = 0; i < docs; i++) {
        byte[] utf8 = ("doc:" + i).getBytes(StandardCharsets.UTF_8);
        byte[] id = new byte[utf8.length + 1];
        id[0] = (byte) 0xFF;
        System.arraycopy(utf8, 0, id, 1, utf8.length);
        List<Document> block = new ArrayList<>();
        if (i % nestedEvery == 1) {
          Document child = new Document();
          child.add(new Field("_id", id, nestedId));
          block.add(child);
          nested++;
        }
        Document doc = new Document();
        doc.add(new StoredField("_id", id));
        if (i % sourcelessEvery == 0) {
          withoutSource++;
        } else {
          doc.add(new StoredField("_source", ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
        }
        block.add(doc);
        writer.addDocuments(block);
        maxDoc += block.size();
      }
      writer.forceMerge(1);
      writer.setLiveCommitData(Map.of("history_uuid", "sourceless-shard-history", "max_seq_no",
          Integer.toString(docs - 1), "local_checkpoint", Integer.toString(docs - 1)).entrySet());
      writer.commit();
    }
    System.out.printf("{\"docs\":%d,\"without_source\":%d,\"nested\":%d,\"max_doc\":%d}%n", docs,
        withoutSource, nested, maxDoc);
  }
}
