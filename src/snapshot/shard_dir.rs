//! A shard's Lucene files read straight from the repository: Lucene file names map to blobs, virtual `v__`
//! files come from their `meta_hash`, and multi-part blobs (`<blob>.part0`, `.part1`, …) are read as one file.
//! Nothing is copied to local disk; reads are ranged.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use super::blob::BlobSource;
use super::repository::FileInfo;
use crate::lucene::Directory;

pub(crate) struct ShardDirectory {
    source: Arc<dyn BlobSource>,
    /// `indices/<id>/<shard>/`
    prefix: String,
    /// The blob listing the files (`snap-<uuid>.dat`), which also holds the content of virtual files.
    file_list: String,
    files: BTreeMap<String, FileInfo>,
}

impl ShardDirectory {
    pub(crate) fn new(
        source: Arc<dyn BlobSource>,
        prefix: String,
        file_list: String,
        files: Vec<FileInfo>,
    ) -> Self {
        ShardDirectory {
            source,
            prefix,
            file_list,
            files: files
                .into_iter()
                .map(|f| (f.physical_name.clone(), f))
                .collect(),
        }
    }

    /// The commit file of this shard snapshot (exactly one `segments_N`).
    pub(crate) fn segments_file(&self) -> Option<String> {
        let mut names = self.files.keys().filter(|n| n.starts_with("segments_"));
        let first = names.next()?.clone();
        if names.next().is_some() {
            None
        } else {
            Some(first)
        }
    }

    /// The repository blob holding Lucene file `file`, as a path in the repository. `file` may carry context
    /// after a space (`_0.fdt doc 41`, as Lucene errors name it); a sub-file of a compound segment (`_0.fdt`
    /// packed into `_0.cfs`) is in the `.cfs` blob, and a virtual file in the file list itself. `None` for a
    /// name that is not one of this shard's files.
    pub(crate) fn blob_of(&self, file: &str) -> Option<String> {
        let name = file.split_whitespace().next()?;
        let info = self.files.get(name).or_else(|| {
            // Segment names are `_` + base 36; sub-file names continue with `.ext` or `_suffix`.
            let rest = name.strip_prefix('_')?;
            let end = rest.find(['.', '_']).unwrap_or(rest.len());
            self.files.get(&format!("_{}.cfs", &rest[..end]))
        })?;
        Some(if info.inline.is_some() {
            self.file_list.clone()
        } else {
            format!("{}{}", self.prefix, info.blob)
        })
    }

    fn info(&self, name: &str) -> io::Result<&FileInfo> {
        self.files.get(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name} is not in this shard snapshot"),
            )
        })
    }
}

impl Directory for ShardDirectory {
    fn file_names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    fn file_len(&self, name: &str) -> io::Result<u64> {
        Ok(self.info(name)?.length)
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let info = self.info(name)?;
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|e| *e <= info.length);
        if end.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("read past the end of {name} ({} bytes)", info.length),
            ));
        }
        if let Some(inline) = &info.inline {
            buf.copy_from_slice(&inline[offset as usize..offset as usize + buf.len()]);
            return Ok(());
        }
        let parts = info
            .part_size
            .map(|p| info.length.div_ceil(p).max(1))
            .unwrap_or(1);
        if parts == 1 {
            return self
                .source
                .read_at(&format!("{}{}", self.prefix, info.blob), offset, buf);
        }
        let part_size = info.part_size.unwrap_or(u64::MAX);
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let part = at / part_size;
            let within = at % part_size;
            let n = ((part_size - within) as usize).min(buf.len() - done);
            let blob = format!("{}{}.part{part}", self.prefix, info.blob);
            self.source
                .read_at(&blob, within, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::FsBlobSource;

    fn file(blob: &str, physical: &str, inline: bool) -> FileInfo {
        FileInfo {
            blob: blob.into(),
            physical_name: physical.into(),
            length: 4,
            part_size: None,
            inline: inline.then(|| vec![0; 4]),
        }
    }

    #[test]
    fn a_lucene_file_is_traced_to_the_blob_that_holds_it() {
        let dir = ShardDirectory::new(
            Arc::new(FsBlobSource::new("/nowhere")),
            "indices/abc/0/".into(),
            "indices/abc/0/snap-u1.dat".into(),
            vec![
                file("__a", "_0.cfe", false),
                file("__b", "_0.cfs", false),
                file("__c", "_1.fdt", false),
                file("v__d", "_0.si", true),
            ],
        );
        assert_eq!(dir.blob_of("_0.cfe").as_deref(), Some("indices/abc/0/__a"));
        assert_eq!(
            dir.blob_of("_1.fdt doc 41").as_deref(),
            Some("indices/abc/0/__c"),
            "context after the name"
        );
        assert_eq!(
            dir.blob_of("_0.fdt doc 3").as_deref(),
            Some("indices/abc/0/__b"),
            "packed into the compound file"
        );
        assert_eq!(
            dir.blob_of("_0_Lucene84_0.dvd").as_deref(),
            Some("indices/abc/0/__b")
        );
        assert_eq!(
            dir.blob_of("_0.si").as_deref(),
            Some("indices/abc/0/snap-u1.dat"),
            "a virtual file lives in the file list"
        );
        assert_eq!(dir.blob_of("_7.fdt"), None);
        assert_eq!(dir.blob_of("segments_N"), None);
        assert_eq!(dir.blob_of(""), None);
    }
}
