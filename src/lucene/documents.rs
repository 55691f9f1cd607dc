//! The live documents of a shard in checkpoint order, streamed: one segment's `.fdt` at a time, chunk by
//! chunk through a bounded window; the file's checksum is verified when its last chunk has been read.

use std::sync::Arc;

use super::error::{LuceneError, Result};
use super::input::Input;
use super::shard::Segment;
use super::stored_fields::{self, Buffers, Chunk, Format, StoredField};
use super::stream::FileStream;

/// A live document: its global number in the shard and its stored fields in stored order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    pub global_doc: u64,
    pub fields: Vec<StoredField>,
}

/// Iterator over live documents from a global doc number on.
pub struct Documents {
    segments: Arc<Vec<Segment>>,
    from: u64,
    segment: usize,
    open: Option<OpenSegment>,
    failed: bool,
    block: usize,
    /// Every document below this global doc number that this iterator yielded came from a stored-fields file
    /// whose whole-file checksum has been verified (see [`Documents::verified_below`]).
    verified_below: u64,
}

struct OpenSegment {
    stream: Option<FileStream>,
    format: Format,
    chunk: Chunk,
    bufs: Buffers,
    /// Next doc index inside `chunk`.
    next: u32,
    have_chunk: bool,
}

impl Documents {
    pub(crate) fn new(segments: Arc<Vec<Segment>>, from: u64) -> Self {
        // Start at the segment holding `from` (segments are in global order).
        let segment = segments
            .iter()
            .position(|s| from < s.doc_base + u64::from(s.summary.max_doc))
            .unwrap_or(segments.len());
        Documents {
            segments,
            from,
            segment,
            open: None,
            failed: false,
            block: super::stream::DEFAULT_BLOCK,
            verified_below: from,
        }
    }

    /// The global doc number below which every document yielded so far is verified: its segment's
    /// stored-fields file was read to the end and its footer checksum matched. A document is decoded and
    /// yielded before the end of its file is reached (files are streamed), so a damaged byte may reach a
    /// yielded document before the checksum catches it; whoever makes yielded documents durable (the worker's
    /// checkpoint) must not move past this number. `u64::MAX` once the iteration ended without an error.
    pub(crate) fn verified_below(&self) -> u64 {
        self.verified_below
    }

    /// Sets the read size for stored fields (default 1 MiB; larger suits high-latency stores like S3).
    pub fn with_read_block(mut self, bytes: usize) -> Self {
        self.block = bytes.max(1);
        self
    }

    fn open_segment(&self, seg: &Segment) -> Result<OpenSegment> {
        let fdt = format!("{}.fdt", seg.summary.name);
        let fdm = format!("{}.fdm", seg.summary.name);
        let len = seg
            .files
            .file_len(&fdt)
            .map_err(|e| LuceneError::io(&fdt, e))?;
        let mut stream = FileStream::open(seg.files.clone(), &fdt, len, self.block);
        let fdm_data = match seg.files.file_len(&fdm) {
            Ok(_) => Some(
                seg.files
                    .read_all(&fdm)
                    .map_err(|e| LuceneError::io(&fdm, e))?,
            ),
            Err(_) => None,
        };
        let format =
            stored_fields::open(&mut stream, fdm_data.as_deref().map(|d| (fdm.as_str(), d)))?;
        Ok(OpenSegment {
            stream: Some(stream),
            format,
            chunk: Chunk::default(),
            bufs: Buffers::default(),
            next: 0,
            have_chunk: false,
        })
    }

    /// Reads the rest of the open segment's stored-fields file without decoding it and checks its checksum,
    /// so the documents already yielded from it count as verified (a handoff calls this before it
    /// checkpoints). Nothing to do between segments.
    pub(crate) fn verify_open_segment(&mut self) -> Result<()> {
        let Some(seg) = self.segments.get(self.segment) else {
            return Ok(());
        };
        if let Some(stream) = self.open.as_mut().and_then(|open| open.stream.take()) {
            stream.verify_to_end()?;
            self.verified_below = self
                .verified_below
                .max(seg.doc_base + u64::from(seg.summary.max_doc));
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<StoredDocument>> {
        loop {
            let Some(seg) = self.segments.get(self.segment) else {
                self.verified_below = u64::MAX;
                return Ok(None);
            };
            if self.open.is_none() {
                let opened = self.open_segment(seg)?;
                self.open = Some(opened);
            }
            let open = self
                .open
                .as_mut()
                .ok_or_else(|| LuceneError::corrupt("documents", 0, "segment not open"))?;
            if !open.have_chunk || open.next >= open.chunk.docs {
                let expected_base = if open.have_chunk {
                    open.chunk.doc_base + open.chunk.docs
                } else {
                    0
                };
                if expected_base >= seg.summary.max_doc {
                    // Every chunk read: check the whole file's checksum, then move to the next segment.
                    if let Some(stream) = open.stream.take() {
                        stream.verify_to_end()?;
                    }
                    self.verified_below = self
                        .verified_below
                        .max(seg.doc_base + u64::from(seg.summary.max_doc));
                    self.open = None;
                    self.segment += 1;
                    continue;
                }
                let stream = open
                    .stream
                    .as_mut()
                    .ok_or_else(|| LuceneError::corrupt("documents", 0, "stream closed"))?;
                read_next_chunk(stream, &open.format, &mut open.chunk, &mut open.bufs)?;
                if open.chunk.doc_base != expected_base
                    || open.chunk.doc_base + open.chunk.docs > seg.summary.max_doc
                {
                    return Err(LuceneError::corrupt(
                        &stream.label,
                        stream.offset(),
                        format!(
                            "chunk covers docs {}..{}, expected to start at {expected_base} within maxDoc {}",
                            open.chunk.doc_base,
                            open.chunk.doc_base + open.chunk.docs,
                            seg.summary.max_doc
                        ),
                    ));
                }
                open.have_chunk = true;
                open.next = 0;
            }
            let i = open.next;
            open.next += 1;
            let local = open.chunk.doc_base + i;
            let global = seg.doc_base + u64::from(local);
            if global < self.from || seg.live.as_ref().is_some_and(|live| !live.contains(local)) {
                continue;
            }
            let (start, end) = (
                open.chunk.offsets[i as usize],
                open.chunk.offsets[i as usize + 1],
            );
            if start > end || end > open.chunk.data.len() {
                return Err(LuceneError::corrupt(
                    "stored fields",
                    0,
                    "document bytes outside the chunk",
                ));
            }
            let data = open.chunk.data.slice(start..end);
            let names = |n: u32| seg.field_name(n);
            let mut fields = Vec::new();
            // The document's label is built only when it is needed: for an error.
            stored_fields::decode_document(
                "",
                &data,
                open.chunk.num_fields[i as usize],
                seg.endian(),
                &names,
                &mut fields,
            )
            .map_err(|e| e.in_file(format!("{}.fdt doc {local}", seg.summary.name)))?;
            return Ok(Some(StoredDocument {
                global_doc: global,
                fields,
            }));
        }
    }
}

/// Reads the next chunk, growing the window until the whole chunk is in it.
fn read_next_chunk(
    stream: &mut FileStream,
    format: &Format,
    chunk: &mut Chunk,
    bufs: &mut Buffers,
) -> Result<()> {
    let mut want = 64 * 1024;
    loop {
        stream.fill(want)?;
        let base = stream.offset();
        let label = stream.label.clone();
        let window = stream.window();
        let mut input = Input::with_base(&label, window, format.endian, base);
        match stored_fields::read_chunk(&mut input, format, chunk, bufs) {
            Ok(used) => {
                stream.consume(used);
                return Ok(());
            }
            Err(LuceneError::Truncated { needed, .. }) if !stream.at_eof_window() => {
                // The window ends inside the chunk: fetch what is missing (each fill reads at least a block).
                let needed = usize::try_from(needed).unwrap_or(usize::MAX);
                want = window.len().saturating_add(needed).max(want);
            }
            Err(e) => return Err(e),
        }
    }
}

impl Iterator for Documents {
    type Item = Result<StoredDocument>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(Some(doc)) => Some(Ok(doc)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
