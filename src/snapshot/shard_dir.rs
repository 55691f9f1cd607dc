//! A shard's Lucene files read straight from the repository: Lucene file names map to blobs, virtual `v__`
//! files come from their `meta_hash`, and multi-part blobs (`<blob>.part0`, `.part1`, …) are read as one file.
//! Nothing is copied to local disk; reads are ranged.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use super::blob::BlobSource;
use super::repository::FileInfo;
use crate::lucene::Directory;

pub struct ShardDirectory {
    source: Arc<dyn BlobSource>,
    /// `indices/<id>/<shard>/`
    prefix: String,
    files: BTreeMap<String, FileInfo>,
}

impl ShardDirectory {
    pub fn new(source: Arc<dyn BlobSource>, prefix: String, files: Vec<FileInfo>) -> Self {
        ShardDirectory {
            source,
            prefix,
            files: files
                .into_iter()
                .map(|f| (f.physical_name.clone(), f))
                .collect(),
        }
    }

    /// The commit file of this shard snapshot (exactly one `segments_N`).
    pub fn segments_file(&self) -> Option<String> {
        let mut names = self.files.keys().filter(|n| n.starts_with("segments_"));
        let first = names.next()?.clone();
        if names.next().is_some() {
            None
        } else {
            Some(first)
        }
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
