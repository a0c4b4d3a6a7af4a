//! ListObjectsV2 over one prefix: everything under it when no window is
//! given; with a window, folder by folder (`Delimiter='/'`), descending only
//! into folders whose dates can hold the window and keeping only the keys
//! whose time can ([`KeyWindow`]). Pages are followed with the SDK
//! paginator (1,000 keys a page at most).

use super::client::{Connection, map_sdk_error};
use super::{KeyWindow, S3Error, S3Object, S3Uri};

/// What one prefix gave.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    /// Selected objects, sorted by key.
    pub objects: Vec<S3Object>,
    /// Keys seen in the listings (selected or not).
    pub seen: u64,
    /// ListObjectsV2 requests sent.
    pub requests: u64,
}

/// List `uri`, keeping what `window` needs. A folder marker (a key ending
/// in `/`) is never an object to read.
pub(crate) async fn list_prefix(
    conn: &Connection,
    uri: &S3Uri,
    window: &KeyWindow,
) -> Result<Listed, S3Error> {
    let mut out = Listed::default();
    if window.is_open() {
        list_level(conn, uri, &uri.prefix, None, window, &mut out).await?;
    } else {
        // Depth first, in key order (a stack of folders, last pushed
        // first, so push each level's folders in reverse).
        let mut folders = vec![uri.prefix.clone()];
        while let Some(prefix) = folders.pop() {
            let mut sub = list_level(conn, uri, &prefix, Some("/"), window, &mut out).await?;
            sub.reverse();
            folders.extend(sub);
        }
    }
    out.objects.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// One `Prefix` (+ `Delimiter`) listing, every page: the wanted objects go
/// into `out`; the wanted sub-folders are returned.
async fn list_level(
    conn: &Connection,
    uri: &S3Uri,
    prefix: &str,
    delimiter: Option<&str>,
    window: &KeyWindow,
    out: &mut Listed,
) -> Result<Vec<String>, S3Error> {
    let mut pages = conn
        .client
        .list_objects_v2()
        .bucket(&uri.bucket)
        .prefix(prefix)
        .set_delimiter(delimiter.map(str::to_owned))
        .into_paginator()
        .send();
    let mut folders = Vec::new();
    while let Some(page) = pages.next().await {
        out.requests += 1;
        let page = page.map_err(|e| {
            map_sdk_error(
                &e,
                "ListObjectsV2",
                format!("s3://{}/{}", uri.bucket, prefix),
                &uri.bucket,
                conn,
            )
        })?;
        for obj in page.contents() {
            let Some(key) = obj.key() else { continue };
            out.seen += 1;
            if key.ends_with('/') || !window.wants_key(key) {
                continue;
            }
            out.objects.push(S3Object {
                bucket: uri.bucket.clone(),
                key: key.to_owned(),
                size: obj.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                etag: obj.e_tag().unwrap_or_default().to_owned(),
            });
        }
        for cp in page.common_prefixes() {
            if let Some(p) = cp.prefix() {
                if window.wants_folder(p) {
                    folders.push(p.to_owned());
                }
            }
        }
    }
    Ok(folders)
}
