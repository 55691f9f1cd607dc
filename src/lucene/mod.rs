//! Pure parsers for the Lucene files a snapshot holds (segments_N, .si, compound, .fnm, stored fields, live docs, soft deletes). Lands with issue #6.
