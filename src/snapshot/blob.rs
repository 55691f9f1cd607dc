//! The one I/O seam of the snapshot reader: a repository's blobs by name, with ranged reads. The filesystem
//! implementation reads in place (no copy); an S3 implementation plugs in behind the same trait.

use std::io;
use std::path::PathBuf;

/// Read-only access to a snapshot repository's blobs (`index-N`, `indices/<id>/0/__abc`, ...).
pub trait BlobSource: Send + Sync {
    /// A human-readable location for messages (`/mnt/repo`, `s3://bucket/prefix`).
    fn location(&self) -> String;
    fn len(&self, name: &str) -> io::Result<u64>;
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Names directly under `prefix` (a "directory"), sorted.
    fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
    fn read_all(&self, name: &str) -> io::Result<Vec<u8>> {
        let len = usize::try_from(self.len(name)?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "blob too large"))?;
        let mut buf = vec![0; len];
        self.read_at(name, 0, &mut buf)?;
        Ok(buf)
    }
    fn exists(&self, name: &str) -> bool {
        self.len(name).is_ok()
    }
}

/// A repository on a filesystem (`type: fs` repositories, or a copy of one).
#[derive(Debug, Clone)]
pub struct FsBlobSource {
    root: PathBuf,
}

impl FsBlobSource {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsBlobSource { root: root.into() }
    }

    fn path(&self, name: &str) -> io::Result<PathBuf> {
        if name.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("blob name `{name}` is not a plain relative path"),
            ));
        }
        Ok(self.root.join(name))
    }
}

impl BlobSource for FsBlobSource {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn len(&self, name: &str) -> io::Result<u64> {
        Ok(std::fs::metadata(self.path(name)?)?.len())
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        std::fs::File::open(self.path(name)?)?.read_exact_at(buf, offset)
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let dir = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.path(prefix.trim_end_matches('/'))?
        };
        let mut names: Vec<String> = std::fs::read_dir(dir)?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }
}
