//! Sequential streaming of one (large) file with read-ahead: the stored-fields reader walks `.fdt` front to
//! back without ever holding it whole, while a background thread fetches the next block (a ranged read from
//! disk or S3) and computes the file's CRC32 on the way; the footer is checked when the walk ends. Files of
//! one block or less are read on the caller's thread.
//!
//! The caller sees one contiguous window. Each block arrives with free room in front of it, so the unread
//! end of the window (the part of a chunk that straddles two blocks) is copied in front of the new block
//! instead of the block being appended to it. Memory: at most four buffers of 1.5 blocks (one being
//! decoded, one queued, one being read, one spare); a window larger than the room in front of a block (a
//! chunk bigger than half a block) grows one buffer to fit it.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use super::codec::{FOOTER_LEN, check_footer_fields};
use super::directory::Directory;
use super::error::{LuceneError, Result};

/// Default read size: large sequential reads suit both disks and object stores.
pub(crate) const DEFAULT_BLOCK: usize = 1 << 20;

/// The largest read size taken; larger requests are clamped (each buffer is 1.5 blocks).
const MAX_BLOCK: usize = 64 << 20;

/// Smaller blocks are read on the caller's thread: handing them over would cost more than reading them.
const MIN_READ_AHEAD_BLOCK: usize = 4096;

/// A file read front to back through a window.
pub(crate) struct FileStream {
    /// The file's name (also used in messages).
    pub(crate) label: String,
    len: u64,
    /// Holds the window in `buf[pos..end]`.
    buf: Vec<u8>,
    /// File offset of `buf[end]`: how much of the file has been read.
    read_to: u64,
    /// Read position inside `buf`.
    pos: usize,
    /// End of the bytes read into `buf`.
    end: usize,
    /// CRC32 of the file's bytes before the last 8 (the checksum itself) that have been read so far.
    crc: u32,
    feed: Feed,
}

/// One block of the file: `len` bytes at `data[at..]`, with free room in front.
struct Block {
    data: Vec<u8>,
    at: usize,
    len: usize,
    /// CRC32 of the file from its start through this block (excluding the last 8 bytes of the file).
    crc: u32,
}

/// Where blocks come from.
enum Feed {
    /// Read on the caller's thread, when asked.
    Inline(Reader),
    /// A read-ahead thread, one block ahead of the caller; spent buffers go back to it.
    Ahead {
        blocks: Receiver<io::Result<Block>>,
        spare: Sender<Vec<u8>>,
    },
}

/// Reads a file block by block, front to back, hashing it on the way.
struct Reader {
    dir: Arc<dyn Directory>,
    name: String,
    len: u64,
    block: usize,
    next: u64,
    crc: crc32fast::Hasher,
    spare: Vec<Vec<u8>>,
}

impl Reader {
    fn read(&mut self, mut data: Vec<u8>) -> io::Result<Block> {
        let n = self.block.min((self.len - self.next) as usize);
        // Room in front for the unread end of the caller's window (see the module comment).
        let at = self.block / 2;
        if data.len() < at + n {
            data.resize(at + n, 0);
        }
        self.dir
            .read_at(&self.name, self.next, &mut data[at..at + n])?;
        // The last 8 bytes of a file are its checksum, not covered by it.
        let hashed_end = self.len.saturating_sub(8);
        if self.next < hashed_end {
            let upto = (hashed_end - self.next).min(n as u64) as usize;
            self.crc.update(&data[at..at + upto]);
        }
        self.next += n as u64;
        Ok(Block {
            data,
            at,
            len: n,
            crc: self.crc.clone().finalize(),
        })
    }

    /// Reads every block in turn into `blocks`, until the end of the file, an error, or the caller leaving.
    fn run(mut self, blocks: SyncSender<io::Result<Block>>, spare: Receiver<Vec<u8>>) {
        while self.next < self.len {
            let buffer = spare.try_recv().unwrap_or_default();
            let block = self.read(buffer);
            let failed = block.is_err();
            if blocks.send(block).is_err() || failed {
                return;
            }
        }
    }
}

impl FileStream {
    /// Opens `name` (`len` bytes) for reading front to back, `block` bytes (1 B to 64 MiB) per read; files
    /// longer than one block (of at least 4 KiB) are read ahead on a background thread.
    pub(crate) fn open(dir: Arc<dyn Directory>, name: &str, len: u64, block: usize) -> Self {
        let block = block.clamp(1, MAX_BLOCK);
        let reader = |dir| Reader {
            dir,
            name: name.to_string(),
            len,
            block,
            next: 0,
            crc: crc32fast::Hasher::new(),
            spare: Vec::new(),
        };
        let feed = if len > block as u64 && block >= MIN_READ_AHEAD_BLOCK {
            let (block_tx, block_rx) = mpsc::sync_channel(1);
            let (spare_tx, spare_rx) = mpsc::channel();
            let ahead = reader(dir.clone());
            let started = std::thread::Builder::new()
                .name("read-ahead".into())
                .spawn(move || ahead.run(block_tx, spare_rx));
            match started {
                Ok(_) => Feed::Ahead {
                    blocks: block_rx,
                    spare: spare_tx,
                },
                // No thread to be had: read on the caller's thread instead.
                Err(_) => Feed::Inline(reader(dir)),
            }
        } else {
            Feed::Inline(reader(dir))
        };
        FileStream {
            label: name.to_string(),
            len,
            buf: Vec::new(),
            read_to: 0,
            pos: 0,
            end: 0,
            crc: 0,
            feed,
        }
    }

    /// File offset of the read position.
    pub(crate) fn offset(&self) -> u64 {
        self.read_to - (self.end - self.pos) as u64
    }

    /// The unread bytes in the window.
    pub(crate) fn window(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// True when every byte up to the end of the file is in the window.
    pub(crate) fn at_eof_window(&self) -> bool {
        self.read_to >= self.len
    }

    /// Makes at least `want` unread bytes available (or all that remain).
    pub(crate) fn fill(&mut self, want: usize) -> Result<()> {
        while self.end - self.pos < want && !self.at_eof_window() {
            let block = self.next_block()?;
            let left = self.end - self.pos;
            let spent = if left <= block.at {
                // The unread bytes go in front of the new block, which becomes the window's buffer.
                let mut data = block.data;
                let start = block.at - left;
                data[start..block.at].copy_from_slice(&self.buf[self.pos..self.end]);
                self.pos = start;
                self.end = block.at + block.len;
                std::mem::replace(&mut self.buf, data)
            } else {
                // More unread bytes than the room in front of a block: the window grows in its own buffer.
                self.buf.copy_within(self.pos..self.end, 0);
                if self.buf.len() < left + block.len {
                    self.buf.resize(left + block.len, 0);
                }
                self.buf[left..left + block.len]
                    .copy_from_slice(&block.data[block.at..block.at + block.len]);
                self.pos = 0;
                self.end = left + block.len;
                block.data
            };
            self.read_to += block.len as u64;
            self.crc = block.crc;
            self.recycle(spent);
        }
        Ok(())
    }

    fn next_block(&mut self) -> Result<Block> {
        let read = match &mut self.feed {
            Feed::Inline(reader) => {
                let buffer = reader.spare.pop().unwrap_or_default();
                reader.read(buffer)
            }
            Feed::Ahead { blocks, .. } => blocks
                .recv()
                .unwrap_or_else(|_| Err(io::Error::other("the read-ahead thread stopped"))),
        };
        read.map_err(|e| LuceneError::io(&self.label, e))
    }

    fn recycle(&mut self, buffer: Vec<u8>) {
        match &mut self.feed {
            Feed::Inline(reader) => reader.spare.push(buffer),
            // The thread may have finished; the buffer is then dropped here.
            Feed::Ahead { spare, .. } => {
                let _ = spare.send(buffer);
            }
        }
    }

    /// Reads the rest of the file and checks its footer against the CRC of everything before it.
    pub(crate) fn verify_to_end(mut self) -> Result<()> {
        // Keep only the last FOOTER_LEN bytes seen; read until the end of the file.
        loop {
            let skip = self.window().len().saturating_sub(FOOTER_LEN);
            self.consume(skip);
            if self.at_eof_window() {
                break;
            }
            self.fill(FOOTER_LEN + 1)?;
        }
        if self.len < FOOTER_LEN as u64 || self.window().len() < FOOTER_LEN {
            return Err(LuceneError::Truncated {
                file: self.label.clone(),
                offset: self.len,
                needed: FOOTER_LEN as u64,
            });
        }
        let footer_at = self.len - FOOTER_LEN as u64;
        check_footer_fields(&self.label, self.window(), footer_at, self.crc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lucene::codec::FOOTER_MAGIC;
    use crate::lucene::fuzzing::MemDirectory;

    /// `len` bytes of a file: a payload, then Lucene's footer with the payload's CRC.
    fn file(len: usize) -> Vec<u8> {
        let mut data: Vec<u8> = (0..len - FOOTER_LEN)
            .map(|i| (i * 131 % 251) as u8)
            .collect();
        data.extend_from_slice(&FOOTER_MAGIC.to_be_bytes());
        data.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&data);
        data.extend_from_slice(&u64::from(crc).to_be_bytes());
        data
    }

    fn stream(data: Vec<u8>, block: usize) -> FileStream {
        let len = data.len() as u64;
        let dir = MemDirectory([("_0.fdt".to_string(), data)].into());
        FileStream::open(Arc::new(dir), "_0.fdt", len, block)
    }

    #[test]
    fn every_block_size_gives_the_file_front_to_back_and_checks_its_footer() {
        for len in [16, 17, 4095, 3 * 4096 + 5, 300_000] {
            let data = file(len);
            for block in [1, 7, 4096, 10_000, 1 << 20] {
                let mut s = stream(data.clone(), block);
                // Windows of varying size (some larger than half a block), consumed in varying steps.
                for step in 0.. {
                    let want = [100, 30_000, 1, 9_000][step % 4];
                    s.fill(want).unwrap();
                    let at = s.offset() as usize;
                    assert_eq!(
                        s.window(),
                        &data[at..at + s.window().len()],
                        "{len}/{block}"
                    );
                    assert!(s.window().len() >= want.min(len - at), "{len}/{block}");
                    if s.at_eof_window() {
                        break;
                    }
                    s.consume([7, 20_000, 0, 5_000][step % 4]);
                }
                s.verify_to_end()
                    .unwrap_or_else(|e| panic!("{len}/{block}: {e}"));
                stream(data.clone(), block).verify_to_end().unwrap();
            }
        }
    }

    #[test]
    fn a_flipped_byte_or_a_short_file_is_an_error_naming_the_file() {
        for block in [7, 4096, 1 << 20] {
            let mut data = file(50_000);
            data[30_000] ^= 1;
            let err = stream(data, block).verify_to_end().unwrap_err().to_string();
            assert!(
                err.contains("_0.fdt") && err.contains("checksum mismatch"),
                "{err}"
            );
            let err = stream(vec![1; 10], block).verify_to_end().unwrap_err();
            assert!(matches!(err, LuceneError::Truncated { .. }), "{err}");
        }
    }

    #[test]
    fn a_failed_read_is_an_error_and_an_abandoned_stream_lets_its_reader_go() {
        // The directory holds fewer bytes than the length the stream was opened with.
        let dir = MemDirectory([("_0.fdt".to_string(), file(20_000))].into());
        let mut s = FileStream::open(Arc::new(dir), "_0.fdt", 50_000, 4096);
        let err = loop {
            match s.fill(1) {
                Ok(()) => {
                    let all = s.window().len();
                    s.consume(all);
                }
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("_0.fdt"), "{err}");
        // Dropped with blocks still to come: the read-ahead thread stops (and lets go of the directory)
        // instead of blocking forever on a block nobody will take.
        let dir: Arc<dyn Directory> =
            Arc::new(MemDirectory([("_0.fdt".to_string(), file(300_000))].into()));
        let mut s = FileStream::open(dir.clone(), "_0.fdt", 300_000, 4096);
        s.fill(1).unwrap();
        drop(s);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&dir) > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the read-ahead thread still holds the directory"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
