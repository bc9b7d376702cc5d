//! The image endpoints (docker/cli's `client/image_*.go`) as typed
//! methods of [`Client`]: pull, list, inspect, history, tag, remove and
//! prune. Save and load, which move whole tars, are in `image_archive`.

use berth_api::types::filters::Filters;
use berth_api::types::image::{
    DeleteItem, HistoryResponseItem, ImageInspect, ImageSummary, JsonMessage, ListOptions,
    PruneReport, PullOptions, RemoveOptions,
};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::client::{Call, Client};
use crate::error::Result;
use crate::stream::{ByteStream, JsonStream, MAX_BODY};
use crate::Method;

/// Docker's query form of a boolean flag (`1`).
const TRUE: &str = "1";

/// `/images/{name}{rest}`. Names keep their `/`, `:` and `@` as Docker's
/// client sends them (the router's catch-all route takes them whole);
/// anything else unsafe in a path is percent-encoded.
pub(crate) fn image_path(name: &str, rest: &str) -> String {
    let mut out = String::from("/images/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str(rest);
    out
}

fn filters_query(call: Call, filters: &Filters) -> Call {
    call.query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()))
}

impl Client {
    /// `POST /images/create?fromImage=&tag=&platform=`: pulls an image,
    /// answering Docker's JSON progress messages (decoded as `T`) one per
    /// line. A failed pull may still answer 200 and report the failure in
    /// a message's `error`.
    pub async fn image_create<T: DeserializeOwned>(
        &self,
        from_image: &str,
        tag: &str,
        platform: Option<&str>,
    ) -> Result<JsonStream<T>> {
        self.image_pull_as(&PullOptions {
            from_image: from_image.to_string(),
            tag: tag.to_string(),
            platform: platform.map(str::to_string),
            ..PullOptions::default()
        })
        .await
    }

    /// `POST /images/create` for a pull as `docker pull` asks for it:
    /// `fromImage`, `tag` (a tag or a digest), `platform`, and the
    /// credentials in `X-Registry-Auth` when there are any.
    pub async fn image_pull(&self, options: &PullOptions) -> Result<JsonStream<JsonMessage>> {
        self.image_pull_as(options).await
    }

    async fn image_pull_as<T: DeserializeOwned>(
        &self,
        options: &PullOptions,
    ) -> Result<JsonStream<T>> {
        let tag = options.tag.as_str();
        let mut call = Call::new(Method::POST, "/images/create")
            .query("fromImage", &options.from_image)
            .query_opt("tag", (!tag.is_empty()).then_some(tag))
            .query_opt(
                "platform",
                options.platform.as_deref().filter(|p| !p.is_empty()),
            );
        if !options.auth.is_empty() {
            call = call.header("X-Registry-Auth", options.auth.encode_header());
        }
        let resp = self.send(call).await?;
        Ok(JsonStream::new(resp.into_body()))
    }

    /// `GET /images/json?all=&filters=`.
    pub async fn image_list(&self, options: &ListOptions) -> Result<Vec<ImageSummary>> {
        let mut call = Call::new(Method::GET, "/images/json");
        if options.all {
            call = call.query("all", TRUE);
        }
        self.json(filters_query(call, &options.filters)).await
    }

    /// `GET /images/{name}/json`.
    pub async fn image_inspect(&self, name: &str) -> Result<ImageInspect> {
        self.json(Call::new(Method::GET, image_path(name, "/json")))
            .await
    }

    /// `GET /images/{name}/json` as the daemon's bytes, every field and its
    /// order kept (what `image inspect` prints and runs templates over).
    pub async fn image_inspect_raw(&self, name: &str) -> Result<Bytes> {
        let resp = self
            .send(Call::new(Method::GET, image_path(name, "/json")))
            .await?;
        ByteStream::new(resp.into_body()).collect(MAX_BODY).await
    }

    /// `GET /images/{name}/history`, newest step first.
    pub async fn image_history(&self, name: &str) -> Result<Vec<HistoryResponseItem>> {
        self.json(Call::new(Method::GET, image_path(name, "/history")))
            .await
    }

    /// `POST /images/{source}/tag?repo=&tag=`: names image `source` as
    /// `repo:tag` (the daemon takes an empty tag as `latest`).
    pub async fn image_tag(&self, source: &str, repo: &str, tag: &str) -> Result<()> {
        let call = Call::new(Method::POST, image_path(source, "/tag"))
            .query("repo", repo)
            .query_opt("tag", (!tag.is_empty()).then_some(tag));
        self.empty(call).await
    }

    /// `DELETE /images/{name}?force=&noprune=`: what was untagged and
    /// deleted, in the daemon's order.
    pub async fn image_remove(
        &self,
        name: &str,
        options: &RemoveOptions,
    ) -> Result<Vec<DeleteItem>> {
        let mut call = Call::new(Method::DELETE, image_path(name, ""));
        if options.force {
            call = call.query("force", TRUE);
        }
        if !options.prune_children {
            call = call.query("noprune", TRUE);
        }
        self.json(call).await
    }

    /// `POST /images/prune?filters=` (`dangling=false` prunes every unused
    /// image, not only the untagged ones).
    pub async fn images_prune(&self, filters: &Filters) -> Result<PruneReport> {
        self.json(filters_query(
            Call::new(Method::POST, "/images/prune"),
            filters,
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_paths_keep_reference_punctuation() {
        assert_eq!(
            image_path("127.0.0.1:5000/a/b:v1", "/json"),
            "/images/127.0.0.1:5000/a/b:v1/json"
        );
        assert_eq!(
            image_path("a@sha256:ab", "/history"),
            "/images/a@sha256:ab/history"
        );
        assert_eq!(image_path("a b?#", ""), "/images/a%20b%3F%23");
    }
}
