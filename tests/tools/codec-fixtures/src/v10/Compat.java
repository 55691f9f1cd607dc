import java.io.IOException;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.StoredFieldsReader;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.StoredFieldVisitor;
import org.apache.lucene.index.StoredFields;

/**
 * lucene-gen's Lucene 10 side (10.5, from Anserini), with the codec chosen by the system property {@code fixture.codec}
 * (see ../../README.md): Lucene's own, or the Elasticsearch, custom-codecs and k-NN ones in fixtures/.
 */
final class Compat {
  private Compat() {}

  static Codec codec(String mode) {
    String codec = System.getProperty("fixture.codec", "lucene104");
    switch (codec) {
      case "lucene104":
        return new Lucene104Codec(Lucene104Codec.Mode.valueOf(mode));
      case "es900":
        return new fixtures.Elasticsearch900Lucene101Codec(mode);
      case "knn10010":
        return new fixtures.KNN10010Codec(mode);
      case "knn10010+zstd":
        return new fixtures.KNN10010Codec("ZSTD");
      default:
        throw new IllegalArgumentException("fixture.codec: unknown codec " + codec);
    }
  }

  static LuceneGen.DocReader reader(LeafReader leaf) throws IOException {
    StoredFields fields = leaf.storedFields();
    return fields::document;
  }

  static LuceneGen.DocReader mergeReader(LeafReader leaf) {
    StoredFieldsReader r = ((CodecReader) leaf).getFieldsReader().getMergeInstance();
    return r::document;
  }

  abstract static class Visitor extends StoredFieldVisitor {
    abstract void string(FieldInfo field, String value);

    @Override
    public void stringField(FieldInfo field, String value) throws IOException {
      string(field, value);
    }
  }
}
