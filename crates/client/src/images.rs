//! The one image endpoint `run` needs before the image API lands:
//! `POST /images/create` (pull), as a stream of progress messages.

use serde::de::DeserializeOwned;

use crate::client::{Call, Client};
use crate::error::Result;
use crate::stream::JsonStream;
use crate::Method;

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
        let call = Call::new(Method::POST, "/images/create")
            .query("fromImage", from_image)
            .query_opt("tag", (!tag.is_empty()).then_some(tag))
            .query_opt("platform", platform.filter(|p| !p.is_empty()));
        let resp = self.send(call).await?;
        Ok(JsonStream::new(resp.into_body()))
    }
}
