//! `pull` (docker/cli `image/pull.go`): `Using default tag`, the daemon's
//! progress on stdout (redrawn on a terminal, status lines elsewhere),
//! then the full reference that was pulled.

use berth_api::types::image::PullOptions;
use berth_client::Client;

use super::args::PullArgs;
use super::auth;
use crate::errors::{CliError, CmdResult};
use crate::progress::{show, Target};
use crate::reference::ImageRef;
use crate::stdio::Stdio;

/// Docker Hub's registry, as a normalized reference names it.
const DEFAULT_DOMAIN: &str = "docker.io";

/// Whether the first path component of `name` is a registry (it has a
/// `.` or a port, or is `localhost`), as `reference.splitDockerDomain`
/// decides.
pub fn has_domain(name: &str) -> bool {
    match name.split_once('/') {
        Some((first, _)) => {
            first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase())
        }
        None => false,
    }
}

/// The fully qualified form of `r` (`reference.ParseNormalizedNamed` then
/// `String()`): `busybox` is `docker.io/library/busybox:latest`.
pub fn normalized(r: &ImageRef) -> String {
    let mut s = if has_domain(&r.name) {
        r.name
            .strip_prefix("index.docker.io/")
            .map_or_else(|| r.name.clone(), |rest| format!("{DEFAULT_DOMAIN}/{rest}"))
    } else if r.name.contains('/') {
        format!("{DEFAULT_DOMAIN}/{}", r.name)
    } else {
        format!("{DEFAULT_DOMAIN}/library/{}", r.name)
    };
    if let Some(t) = &r.tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = &r.digest {
        s.push('@');
        s.push_str(d);
    }
    s
}

/// `pull`.
pub async fn pull(client: &Client, args: &PullArgs, io: &mut Stdio) -> CmdResult {
    let image = ImageRef::parse(&args.name).map_err(CliError::msg)?;
    let untagged = !args.name.contains('@') && {
        let last = args.name.rsplit('/').next().unwrap_or_default();
        !last.contains(':')
    };
    if untagged && !args.quiet {
        io.out("Using default tag: latest\n").await;
    }
    let mut stream = client
        .image_pull(&PullOptions {
            from_image: image.name.clone(),
            tag: image.api_tag(),
            platform: args.platform.clone().filter(|p| !p.is_empty()),
            auth: auth::for_image(&image.name),
        })
        .await?;
    let target = if args.quiet {
        Target::Discard
    } else {
        Target::Stdout
    };
    show(&mut stream, io, target).await?;
    io.out(&format!("{}\n", normalized(&image))).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_normalized_like_docker() {
        let n = |s: &str| normalized(&ImageRef::parse(s).unwrap());
        assert_eq!(n("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(n("team/app:v1"), "docker.io/team/app:v1");
        assert_eq!(
            n("127.0.0.1:5000/multilayer"),
            "127.0.0.1:5000/multilayer:latest"
        );
        assert_eq!(n("localhost/a@sha256:ab"), "localhost/a@sha256:ab");
        assert_eq!(n("index.docker.io/library/x:1"), "docker.io/library/x:1");
        assert!(!has_domain("busybox"));
        assert!(has_domain("registry.example/a"));
    }
}
