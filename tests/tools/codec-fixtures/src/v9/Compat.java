import java.io.IOException;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.StoredFieldsReader;
import org.apache.lucene.codecs.lucene99.Lucene99Codec;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.StoredFieldVisitor;
import org.apache.lucene.index.StoredFields;

/**
 * lucene-gen's Lucene 9.9 side, with the codec chosen by the system property {@code fixture.codec}
 * (see ../../README.md): Lucene's own, or the Elasticsearch, custom-codecs and k-NN ones in fixtures/.
 */
final class Compat {
  private Compat() {}

  static Codec codec(String mode) {
    String codec = System.getProperty("fixture.codec", "lucene99");
    switch (codec) {
      case "lucene99":
        return new Lucene99Codec(Lucene99Codec.Mode.valueOf(mode));
      case "es814":
        return new fixtures.Elasticsearch814Codec(mode);
      case "zstd":
        return new fixtures.Zstd99Codec();
      case "zstd_no_dict":
        return new fixtures.ZstdNoDict99Codec();
      case "knn990":
        return new fixtures.KNN990Codec(mode);
      case "knn990+zstd":
        return new fixtures.KNN990Codec("ZSTD");
      case "knn990+zstd_no_dict":
        return new fixtures.KNN990Codec("ZSTD_NO_DICT");
      case "knn9120":
        return new fixtures.KNN9120Codec(mode);
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
