//! A shard's Lucene commit opened for reading every live document in checkpoint order: segments sorted by
//! name (plain string order, as the upstream reader does), segments without live documents left out, and a
//! global document number = sum of `maxDoc` of the earlier segments + the local doc id. Deleted documents take
//! positions but are never yielded, so a resume offset never skips or repeats a live document.

use std::sync::Arc;

use super::compound::{self, Entries};
use super::directory::Directory;
use super::error::{LuceneError, Result};
use super::field_infos::{self, FieldInfo};
use super::input::Endian;
use super::live_docs::{self, DocSet, DocsWithField};
use super::segment_info::{self, SegmentInfo};
use super::segments::{self, SegmentCommitInfo};
use super::stored_fields;

/// Facts about one segment, from metadata only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSummary {
    pub name: String,
    pub max_doc: u32,
    pub hard_deletes: u32,
    pub soft_deletes: u32,
    pub codec: String,
    pub lucene_version: String,
    pub compound: bool,
}

impl SegmentSummary {
    pub fn live_docs(&self) -> u64 {
        u64::from(
            self.max_doc
                .saturating_sub(self.hard_deletes)
                .saturating_sub(self.soft_deletes),
        )
    }
}

/// One open segment.
pub(crate) struct Segment {
    pub(crate) summary: SegmentSummary,
    pub(crate) info: SegmentInfo,
    /// Where the segment's own files are (the `.cfs` contents for compound segments).
    pub(crate) files: Arc<dyn Directory>,
    /// Live documents; `None` means all are live.
    pub(crate) live: Option<DocSet>,
    pub(crate) doc_base: u64,
    /// Field numbers and names, sorted by number (looked up for every stored field of every document).
    field_names: Vec<(u32, Arc<str>)>,
}

impl Segment {
    pub(crate) fn endian(&self) -> Endian {
        self.info.endian
    }

    /// The name of field `number`, if the field infos have it.
    pub(crate) fn field_name(&self, number: u32) -> Option<Arc<str>> {
        self.field_names
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| self.field_names[i].1.clone())
    }
}

/// Opens every segment of the commit `segments_file` (or the newest one).
pub(crate) fn open_segments(
    dir: &Arc<dyn Directory>,
    segments_file: Option<&str>,
) -> Result<Vec<Segment>> {
    let name = match segments_file {
        Some(name) => name.to_string(),
        None => dir
            .file_names()
            .into_iter()
            .filter(|n| segments::generation(n).is_some())
            .max_by_key(|n| segments::generation(n))
            .ok_or_else(|| {
                LuceneError::corrupt("segments_N", 0, "the directory holds no segments_N commit")
            })?,
    };
    let data = dir.read_all(&name).map_err(|e| LuceneError::io(&name, e))?;
    let infos = segments::parse(&name, &data)?;
    let mut out = Vec::new();
    for commit in &infos.segments {
        if let Some(segment) = open_segment(dir, commit)? {
            out.push(segment);
        }
    }
    out.sort_by(|a, b| a.summary.name.cmp(&b.summary.name));
    let mut base = 0u64;
    for segment in &mut out {
        segment.doc_base = base;
        base += u64::from(segment.summary.max_doc);
    }
    Ok(out)
}

fn read(dir: &dyn Directory, name: &str) -> Result<Vec<u8>> {
    dir.read_all(name).map_err(|e| LuceneError::io(name, e))
}

fn gen36(generation: i64) -> String {
    let mut n = generation as u64;
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Opens a segment; `None` when it has no live document (the upstream reader drops such leaves).
fn open_segment(dir: &Arc<dyn Directory>, commit: &SegmentCommitInfo) -> Result<Option<Segment>> {
    let si_name = format!("{}.si", commit.name);
    let info = segment_info::parse(&si_name, &read(dir.as_ref(), &si_name)?, &commit.id)?;
    let summary = SegmentSummary {
        name: commit.name.clone(),
        max_doc: info.max_doc,
        hard_deletes: commit.del_count,
        soft_deletes: commit.soft_del_count,
        codec: commit.codec.clone(),
        lucene_version: info.lucene_version.clone(),
        compound: info.compound,
    };
    if commit.del_count.saturating_add(commit.soft_del_count) >= info.max_doc {
        return Ok(None);
    }
    let files: Arc<dyn Directory> = if info.compound {
        let cfe = format!("{}.cfe", commit.name);
        let cfs = format!("{}.cfs", commit.name);
        let cfs_len = dir.file_len(&cfs).map_err(|e| LuceneError::io(&cfs, e))?;
        let entries =
            compound::parse_entries(&cfe, &read(dir.as_ref(), &cfe)?, &commit.name, cfs_len)?;
        Arc::new(CompoundDirectory {
            parent: dir.clone(),
            cfs,
            entries,
        })
    } else {
        dir.clone()
    };
    check_stored_fields(files.as_ref(), commit)?;
    let (fnm, fields) = if commit.field_infos_gen == -1 {
        let fnm = format!("{}.fnm", commit.name);
        let fields = field_infos::parse(&fnm, &read(files.as_ref(), &fnm)?)?;
        (fnm, fields)
    } else {
        let fnm = format!("{}_{}.fnm", commit.name, gen36(commit.field_infos_gen));
        let fields = field_infos::parse(&fnm, &read(dir.as_ref(), &fnm)?)?;
        (fnm, fields)
    };
    field_infos::check_stored_id(&fnm, &fields).map_err(|e| naming_codec(e, &commit.codec))?;
    let mut live = if commit.del_gen == -1 {
        None
    } else {
        let liv = format!("{}_{}.liv", commit.name, gen36(commit.del_gen));
        Some(live_docs::parse_live_docs(
            &liv,
            &read(dir.as_ref(), &liv)?,
            info.max_doc,
            commit.del_count,
        )?)
    };
    if commit.soft_del_count > 0 {
        let soft = soft_deleted(dir, &files, commit, &fields, info.max_doc)?;
        let mut set = live.take().unwrap_or_else(|| DocSet::full(info.max_doc));
        let mut removed = 0;
        for doc in 0..info.max_doc {
            if soft.contains(doc) && set.contains(doc) {
                set.remove(doc);
                removed += 1;
            }
        }
        if removed != commit.soft_del_count {
            return Err(LuceneError::corrupt(
                &format!("{} soft deletes", commit.name),
                0,
                format!(
                    "{removed} documents are soft-deleted, but segments_N says {}",
                    commit.soft_del_count
                ),
            ));
        }
        live = Some(set);
    }
    let mut field_names: Vec<(u32, Arc<str>)> = fields
        .iter()
        .map(|f| (f.number, Arc::<str>::from(f.name.as_str())))
        .collect();
    field_names.sort_by_key(|(number, _)| *number);
    Ok(Some(Segment {
        summary,
        info,
        files,
        live,
        doc_base: 0,
        field_names,
    }))
}

/// The segment's stored-fields format is one the reader decodes (from the `.fdt` header alone), so that an
/// unsupported codec is reported when the shard is opened (the preflight does that at plan time), naming the
/// format, the segment's codec and the file.
fn check_stored_fields(files: &dyn Directory, commit: &SegmentCommitInfo) -> Result<()> {
    let fdt = format!("{}.fdt", commit.name);
    let Ok(len) = files.file_len(&fdt) else {
        return Err(LuceneError::unsupported(
            &fdt,
            "stored fields layout",
            format!("{} (the segment has no {fdt})", commit.codec),
        ));
    };
    // An index header is at most 9 + 255 (codec name) + 16 (id) + 1 + 255 (suffix) bytes.
    let mut head = vec![0; len.min(536) as usize];
    files
        .read_at(&fdt, 0, &mut head)
        .map_err(|e| LuceneError::io(&fdt, e))?;
    stored_fields::check_header(&fdt, &head).map_err(|e| naming_codec(e, &commit.codec))
}

/// An unsupported format, named with the segment's codec.
fn naming_codec(e: LuceneError, codec: &str) -> LuceneError {
    match e {
        LuceneError::Unsupported { file, what, name } => LuceneError::Unsupported {
            file,
            what,
            name: format!("{name}` of segment codec `{codec}"),
        },
        other => other,
    }
}

/// Docs that have a value in the soft-deletes field.
fn soft_deleted(
    dir: &Arc<dyn Directory>,
    files: &Arc<dyn Directory>,
    commit: &SegmentCommitInfo,
    fields: &[FieldInfo],
    max_doc: u32,
) -> Result<DocSet> {
    let what = format!("{} soft deletes", commit.name);
    let field = fields.iter().find(|f| f.soft_deletes).ok_or_else(|| {
        LuceneError::corrupt(
            &what,
            0,
            "softDelCount > 0 but no field is the soft-deletes field",
        )
    })?;
    let format = field
        .attributes
        .get("PerFieldDocValuesFormat.format")
        .ok_or_else(|| {
            LuceneError::corrupt(&what, 0, "soft-deletes field has no doc values format")
        })?;
    let suffix = field
        .attributes
        .get("PerFieldDocValuesFormat.suffix")
        .map(String::as_str)
        .unwrap_or("0");
    let (holder, stem): (&dyn Directory, String) = if field.dv_gen == -1 {
        (files.as_ref(), format!("{}_{format}_{suffix}", commit.name))
    } else {
        (
            dir.as_ref(),
            format!("{}_{}_{format}_{suffix}", commit.name, gen36(field.dv_gen)),
        )
    };
    let dvm_name = format!("{stem}.dvm");
    let dvd_name = format!("{stem}.dvd");
    let entry = live_docs::find_numeric_entry(&dvm_name, &read(holder, &dvm_name)?, field.number)?;
    if entry == DocsWithField::None || entry == DocsWithField::All {
        return live_docs::read_disi(&dvd_name, &[], Endian::Big, &entry, max_doc);
    }
    let dvd = read(holder, &dvd_name)?;
    super::codec::verify_footer(&dvd_name, &dvd)?;
    let endian = if format.starts_with("Lucene9") {
        Endian::Little
    } else {
        Endian::Big
    };
    live_docs::read_disi(&dvd_name, &dvd, endian, &entry, max_doc)
}

/// The files packed inside a `.cfs`, as a directory.
struct CompoundDirectory {
    parent: Arc<dyn Directory>,
    cfs: String,
    entries: Entries,
}

impl Directory for CompoundDirectory {
    fn file_names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    fn file_len(&self, name: &str) -> std::io::Result<u64> {
        self.entries.get(name).map(|(_, len)| *len).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{name} is not in {}", self.cfs),
            )
        })
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let (start, len) = self.entries.get(name).copied().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{name} is not in {}", self.cfs),
            )
        })?;
        if offset.saturating_add(buf.len() as u64) > len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("read past the end of {name}"),
            ));
        }
        self.parent.read_at(&self.cfs, start + offset, buf)
    }
}
