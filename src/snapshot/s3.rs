//! Snapshot repositories in S3, behind the same [`BlobSource`] seam: ranged `GetObject` reads, `HeadObject`
//! lengths, delimiter listings. The official SDK with the default credential chain; the standard endpoint
//! override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`) and path-style addressing make S3-compatible stores and
//! test servers work. The trait is synchronous (the Lucene parsers are), so this source owns a small runtime
//! and must be called from blocking threads, never from inside an async task.

use std::io;

use aws_sdk_s3::Client;

use super::blob::BlobSource;

pub struct S3BlobSource {
    runtime: tokio::runtime::Runtime,
    client: Client,
    bucket: String,
    /// Key prefix of the repository, without a trailing slash.
    prefix: String,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl S3BlobSource {
    /// Connects to `s3://bucket/prefix` in `region` (or the SDK's default region).
    pub fn connect(bucket: &str, prefix: &str, region: Option<&str>) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = runtime.block_on(async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(region) = region {
                loader = loader.region(aws_config::Region::new(region.to_string()));
            }
            let shared = loader.load().await;
            let config = aws_sdk_s3::config::Builder::from(&shared)
                .force_path_style(true)
                .build();
            Client::from_conf(config)
        });
        Ok(S3BlobSource {
            runtime,
            client,
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

impl BlobSource for S3BlobSource {
    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn len(&self, name: &str) -> io::Result<u64> {
        let key = self.key(name);
        self.runtime.block_on(async {
            let head = self
                .client
                .head_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    let service = e.into_service_error();
                    if service.is_not_found() {
                        io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("s3://{}/{key} not found", self.bucket),
                        )
                    } else {
                        io_err(format!("s3://{}/{key}: {service}", self.bucket))
                    }
                })?;
            head.content_length()
                .and_then(|l| u64::try_from(l).ok())
                .ok_or_else(|| io_err("object without a length"))
        })
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let key = self.key(name);
        let range = format!("bytes={}-{}", offset, offset + buf.len() as u64 - 1);
        self.runtime.block_on(async {
            let object = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .range(range)
                .send()
                .await
                .map_err(|e| {
                    io_err(format!(
                        "s3://{}/{key}: {}",
                        self.bucket,
                        e.into_service_error()
                    ))
                })?;
            let bytes = object.body.collect().await.map_err(io_err)?.into_bytes();
            if bytes.len() != buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("s3://{}/{key}: short read", self.bucket),
                ));
            }
            buf.copy_from_slice(&bytes);
            Ok(())
        })
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let full = if prefix.is_empty() {
            self.key("")
        } else {
            self.key(prefix.trim_end_matches('/'))
        };
        let full = if full.is_empty() || full.ends_with('/') {
            full
        } else {
            format!("{full}/")
        };
        self.runtime.block_on(async {
            let mut names = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full)
                .delimiter("/")
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    io_err(format!("{}: {}", self.location(), e.into_service_error()))
                })?;
                for object in page.contents() {
                    if let Some(key) = object.key() {
                        names.push(key.trim_start_matches(&full).to_string());
                    }
                }
                for common in page.common_prefixes() {
                    if let Some(p) = common.prefix() {
                        names.push(
                            p.trim_start_matches(&full)
                                .trim_end_matches('/')
                                .to_string(),
                        );
                    }
                }
            }
            names.sort();
            Ok(names)
        })
    }
}
