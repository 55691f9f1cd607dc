//! Snapshot repositories in S3, behind the same [`BlobSource`] seam: ranged `GetObject` reads, `HeadObject`
//! lengths, delimiter listings. The client comes from the one SDK configuration builder ([`crate::aws_sdk`]:
//! `aws.profile`, `aws.region`, the standard endpoint override, path-style addressing). The trait is
//! synchronous (the Lucene parsers are), so this source owns a small runtime and must be called from blocking
//! threads, never from inside an async task.

use std::io;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;

use super::blob::BlobSource;
use crate::aws_sdk;
use crate::config::{AwsSettings, S3Location};

pub struct S3BlobSource {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// The repository's bucket and key prefix.
    location: S3Location,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl S3BlobSource {
    /// Connects to the repository at `location` with the SDK configuration of `aws` (loaded on this source's
    /// own runtime), in the bucket's `region` when given.
    pub fn connect(
        location: S3Location,
        aws: &AwsSettings,
        region: Option<&str>,
    ) -> io::Result<Self> {
        let runtime = runtime()?;
        let config = runtime.block_on(aws_sdk::load(aws));
        let client = aws_sdk::s3_client(&config, region);
        Ok(S3BlobSource {
            runtime,
            client,
            location,
        })
    }

    /// Reads the repository at `location` with an already loaded configuration (tests build one pointing at
    /// moto_server).
    pub fn with_config(location: S3Location, config: &SdkConfig) -> io::Result<Self> {
        Ok(S3BlobSource {
            runtime: runtime()?,
            client: aws_sdk::s3_client(config, None),
            location,
        })
    }

    /// The object of blob `name`.
    fn object(&self, name: &str) -> S3Location {
        self.location.join(name)
    }
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

impl BlobSource for S3BlobSource {
    fn location(&self) -> String {
        self.location.to_string()
    }

    fn len(&self, name: &str) -> io::Result<u64> {
        let object = self.object(name);
        self.runtime.block_on(async {
            let head = self
                .client
                .head_object()
                .bucket(&object.bucket)
                .key(&object.key)
                .send()
                .await
                .map_err(|e| {
                    let service = e.into_service_error();
                    if service.is_not_found() {
                        io::Error::new(io::ErrorKind::NotFound, format!("{object} not found"))
                    } else {
                        io_err(format!("{object}: {service}"))
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
        let object = self.object(name);
        let range = format!("bytes={}-{}", offset, offset + buf.len() as u64 - 1);
        self.runtime.block_on(async {
            let response = self
                .client
                .get_object()
                .bucket(&object.bucket)
                .key(&object.key)
                .range(range)
                .send()
                .await
                .map_err(|e| io_err(format!("{object}: {}", e.into_service_error())))?;
            let bytes = response.body.collect().await.map_err(io_err)?.into_bytes();
            if bytes.len() != buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{object}: short read"),
                ));
            }
            buf.copy_from_slice(&bytes);
            Ok(())
        })
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        // Keys directly under `<repository prefix>/<prefix>/`.
        let full = self.location.join(prefix).prefix();
        self.runtime.block_on(async {
            let mut names = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.location.bucket)
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
