//! Sequential streaming of one (large) file through a bounded window, with the file's CRC32 computed on the
//! way: the stored-fields reader walks `.fdt` front to back without ever holding it whole, and the footer is
//! checked when the walk ends. Memory is the window (≥ 1 MiB, growing only to fit one compressed chunk).

use std::sync::Arc;

use super::codec::{FOOTER_LEN, check_footer_fields};
use super::directory::Directory;
use super::error::{LuceneError, Result};

/// Default read size: large sequential reads suit both disks and object stores.
pub const DEFAULT_BLOCK: usize = 1 << 20;

/// A file read front to back through a window.
pub struct FileStream {
    dir: Arc<dyn Directory>,
    /// The file's name (also used in messages).
    pub label: String,
    len: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_start: u64,
    /// Read position inside `buf`.
    pos: usize,
    crc: crc32fast::Hasher,
    /// Bytes fetched per read.
    block: usize,
    /// Bytes `[0, hashed)` of the file are in `crc`.
    hashed: u64,
}

impl FileStream {
    pub fn open(dir: Arc<dyn Directory>, name: &str, len: u64) -> Self {
        FileStream {
            dir,
            label: name.to_string(),
            len,
            buf: Vec::new(),
            buf_start: 0,
            pos: 0,
            crc: crc32fast::Hasher::new(),
            block: DEFAULT_BLOCK,
            hashed: 0,
        }
    }

    /// Sets how many bytes each read fetches (at least 1).
    pub fn with_block(mut self, block: usize) -> Self {
        self.block = block.max(1);
        self
    }

    /// File offset of the read position.
    pub fn offset(&self) -> u64 {
        self.buf_start + self.pos as u64
    }

    /// The unread bytes in the window.
    pub fn window(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    /// True when every byte up to the end of the file is in the window.
    pub fn at_eof_window(&self) -> bool {
        self.buf_start + self.buf.len() as u64 >= self.len
    }

    /// Makes at least `want` unread bytes available (or all that remain). Returns false at end of file.
    pub fn fill(&mut self, want: usize) -> Result<bool> {
        if self.window().len() >= want || self.at_eof_window() {
            return Ok(!self.window().is_empty() || !self.at_eof_window());
        }
        // Hash and drop the consumed prefix (the footer region is never hashed).
        let consumed_end = self.buf_start + self.pos as u64;
        self.hash_until(consumed_end);
        self.buf.drain(..self.pos);
        self.buf_start = consumed_end;
        self.pos = 0;
        let read_to =
            (self.buf_start + self.buf.len() as u64 + want.max(self.block) as u64).min(self.len);
        let have_end = self.buf_start + self.buf.len() as u64;
        let n = (read_to - have_end) as usize;
        let old = self.buf.len();
        self.buf.resize(old + n, 0);
        self.dir
            .read_at(&self.label, have_end, &mut self.buf[old..])
            .map_err(|e| LuceneError::io(&self.label, e))?;
        Ok(true)
    }

    fn hash_until(&mut self, end: u64) {
        let limit = end.min(self.len.saturating_sub(8));
        if limit > self.hashed && self.hashed >= self.buf_start {
            let from = (self.hashed - self.buf_start) as usize;
            let to = (limit - self.buf_start) as usize;
            if let Some(bytes) = self.buf.get(from..to) {
                self.crc.update(bytes);
                self.hashed = limit;
            }
        }
    }

    /// Reads the rest of the file and checks its footer against the CRC of everything before it.
    pub fn verify_to_end(mut self) -> Result<()> {
        while !self.at_eof_window() {
            let all = self.window().len();
            self.consume(all);
            self.fill(self.block)?;
        }
        self.hash_until(self.len);
        if self.len < FOOTER_LEN as u64 || self.hashed != self.len - 8 {
            return Err(LuceneError::Truncated {
                file: self.label.clone(),
                offset: self.len,
                needed: FOOTER_LEN as u64,
            });
        }
        let footer_at = self.len - FOOTER_LEN as u64;
        let from = (footer_at - self.buf_start) as usize;
        let footer = self
            .buf
            .get(from..)
            .ok_or_else(|| LuceneError::corrupt(&self.label, footer_at, "footer not in window"))?;
        let crc = self.crc.clone().finalize();
        check_footer_fields(&self.label, footer, footer_at, crc)
    }
}
