//! The read-only file seam the Lucene parsers read through.

use std::io;
use std::path::PathBuf;

/// A read-only Lucene directory: file names to random-access bytes. Implementations must be cheap to call
/// with large sequential ranges (the stored-fields reader streams `.fdt` in big blocks) and may prefetch.
pub trait Directory: Send + Sync {
    /// Names of the files in this directory (Lucene names: `segments_5`, `_0.si`, `_0.cfs`, ...).
    fn file_names(&self) -> Vec<String>;
    /// Length of a file in bytes; `NotFound` if absent.
    fn file_len(&self, name: &str) -> io::Result<u64>;
    /// Fills `buf` with the bytes at `offset`; `UnexpectedEof` if the file is shorter.
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Reads a whole (small) file.
    fn read_all(&self, name: &str) -> io::Result<Vec<u8>> {
        let len = usize::try_from(self.file_len(name)?).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name}: too large to read whole"),
            )
        })?;
        let mut buf = vec![0; len];
        self.read_at(name, 0, &mut buf)?;
        Ok(buf)
    }
}

/// A plain Lucene index directory on the local filesystem (tests, `lucene-gen` output).
#[derive(Debug, Clone)]
pub struct FsDirectory {
    root: PathBuf,
}

impl FsDirectory {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsDirectory { root: root.into() }
    }
}

impl Directory for FsDirectory {
    fn file_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    fn file_len(&self, name: &str) -> io::Result<u64> {
        Ok(std::fs::metadata(self.root.join(name))?.len())
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(self.root.join(name))?;
        file.read_exact_at(buf, offset)
    }
}
