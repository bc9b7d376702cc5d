//! `docker save` and `docker load` (docker/cli's `client/image_save.go`,
//! `image_load.go`): image tars streamed from and to the daemon, never
//! held whole in memory.

use berth_api::types::image::JsonMessage;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::{Call, Client};
use crate::error::Result;
use crate::images::image_path;
use crate::stream::{ByteStream, JsonStream};
use crate::Method;

/// How much of a loaded tar is read per chunk sent.
const CHUNK: usize = 256 << 10;

impl Client {
    /// `GET /images/get?names=` (one image: `GET /images/{name}/get`): the
    /// `docker save` tar of `names`, chunk by chunk. An unknown name fails
    /// before the first byte.
    pub async fn image_save(&self, names: &[String]) -> Result<ByteStream> {
        let call = match names {
            [one] => Call::new(Method::GET, image_path(one, "/get")),
            many => many
                .iter()
                .fold(Call::new(Method::GET, "/images/get"), |c, n| {
                    c.query("names", n)
                }),
        };
        let resp = self.send(call).await?;
        Ok(ByteStream::new(resp.into_body()))
    }

    /// `POST /images/load?quiet=`: uploads the tar read from `input` as it
    /// is read, and answers the daemon's messages (`{"stream":"Loaded
    /// image: ..."}`, or an `errorDetail` when the tar is refused).
    pub async fn image_load<R>(&self, input: R, quiet: bool) -> Result<JsonStream<JsonMessage>>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        let call =
            Call::new(Method::POST, "/images/load").query("quiet", if quiet { "1" } else { "0" });
        let resp = self
            .send_stream(call, "application/x-tar", read_chunks(input))
            .await?;
        Ok(JsonStream::new(resp.into_body()))
    }
}

/// `input` as a stream of chunks, ending at EOF or after the first error.
fn read_chunks<R>(input: R) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send
where
    R: AsyncRead + Send + Unpin + 'static,
{
    futures_util::stream::unfold(Some(input), |state| async move {
        let mut input = state?;
        let mut buf = BytesMut::with_capacity(CHUNK);
        match input.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buf.freeze()), Some(input))),
            Err(e) => Some((Err(e), None)),
        }
    })
}
