//! Every `inspect` (docker/cli `system/inspect.go` and each object's own
//! `inspect`): the daemon's JSON as is, in an indented array or through a
//! template; `inspect` without `--type` tries a container, then an image,
//! as Docker's autodetection does.

use berth_api::types::network::NetworkInspectOptions;
use berth_client::{Client, ClientError};
use bytes::Bytes;
use serde_json::Value;

use crate::cli::{ContainerInspectArgs, InspectArgs};
use crate::commands::container::indent_json;
use crate::commands::image::args::ImageInspectArgs;
use crate::commands::network::NetworkInspectArgs;
use crate::commands::volume::VolumeInspectArgs;
use crate::errors::{CliError, CmdResult};
use crate::format::output;
use crate::format::template::Template;
use crate::stdio::Stdio;

/// The object kinds a lookup may find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Image,
    Volume,
    Network,
}

/// What a lookup asks for beyond the name (`--size`, `--verbose`).
#[derive(Debug, Clone, Copy, Default)]
struct Detail {
    size: bool,
    verbose: bool,
}

/// The raw JSON of `name` as `kind`.
async fn fetch(
    client: &Client,
    kind: Kind,
    name: &str,
    detail: Detail,
) -> Result<Bytes, ClientError> {
    match kind {
        Kind::Container => client.container_inspect_raw(name, detail.size).await,
        Kind::Image => client.image_inspect_raw(name).await,
        Kind::Volume => Ok(client.volume_inspect_with_raw(name).await?.1),
        Kind::Network => {
            // Decoded to check the answer is a network; printed as the
            // daemon sent it, as docker/cli's `NetworkInspectWithRaw`.
            let options = NetworkInspectOptions {
                verbose: detail.verbose,
                scope: String::new(),
            };
            Ok(client.network_inspect_with_raw(name, &options).await?.1)
        }
    }
}

/// Looks every name up among `kinds` (the first kind that has it wins)
/// and prints what was found; the names found nowhere are the error, one
/// line each, after the output: the daemon's own words when one kind was
/// asked for, Docker's `No such object` when several were tried.
async fn inspect_as(
    client: &Client,
    kinds: &[Kind],
    names: &[String],
    format: Option<&str>,
    detail: Detail,
    io: &mut Stdio,
) -> CmdResult {
    // Docker's inspect exits 64 on a template it cannot parse.
    let template = match format.filter(|f| !f.is_empty() && *f != "json") {
        Some(f) => Some(output::template(f).map_err(|e| e.with_status(64))?),
        None => None,
    };
    let mut found = Vec::new();
    let mut errors = Vec::new();
    'names: for name in names {
        for &kind in kinds {
            match fetch(client, kind, name, detail).await {
                Ok(raw) => {
                    found.push(raw);
                    continue 'names;
                }
                Err(e) if e.status() == Some(404) && kinds.len() > 1 => {}
                Err(e) => {
                    errors.push(e.to_string());
                    continue 'names;
                }
            }
        }
        errors.push(format!("Error: No such object: {name}"));
    }
    io.out(&print(&found, template.as_ref())?).await;
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::msg(errors.join("\n")))
    }
}

/// The found objects: a JSON array indented as Go's `json.Indent`, or
/// each through the template, one per line.
fn print(found: &[Bytes], template: Option<&Template>) -> Result<String, CliError> {
    let Some(t) = template else {
        if found.is_empty() {
            return Ok("[]\n".into());
        }
        let parts: Vec<String> = found
            .iter()
            .map(|raw| format!("    {}", indent_json(raw, 1)))
            .collect();
        return Ok(format!("[\n{}\n]\n", parts.join(",\n")));
    };
    let mut out = String::new();
    for raw in found {
        let v: Value = serde_json::from_slice(raw)
            .map_err(|e| CliError::msg(format!("unexpected answer from the daemon: {e}")))?;
        out.push_str(&t.render(&v).map_err(|e| CliError::msg(e.to_string()))?);
        out.push('\n');
    }
    Ok(out)
}

/// `image inspect`.
pub async fn image_inspect(client: &Client, args: &ImageInspectArgs, io: &mut Stdio) -> CmdResult {
    inspect_as(
        client,
        &[Kind::Image],
        &args.images,
        args.format.as_deref(),
        Detail::default(),
        io,
    )
    .await
}

/// `container inspect`.
pub async fn container_inspect(
    client: &Client,
    args: &ContainerInspectArgs,
    io: &mut Stdio,
) -> CmdResult {
    let detail = Detail {
        size: args.size,
        ..Detail::default()
    };
    let format = args.format.as_deref();
    inspect_as(client, &[Kind::Container], &args.names, format, detail, io).await
}

/// `volume inspect`.
pub async fn volume_inspect(
    client: &Client,
    args: &VolumeInspectArgs,
    io: &mut Stdio,
) -> CmdResult {
    let format = args.format.as_deref();
    let detail = Detail::default();
    inspect_as(client, &[Kind::Volume], &args.volumes, format, detail, io).await
}

/// `network inspect`.
pub async fn network_inspect(
    client: &Client,
    args: &NetworkInspectArgs,
    io: &mut Stdio,
) -> CmdResult {
    let detail = Detail {
        verbose: args.verbose,
        ..Detail::default()
    };
    let format = args.format.as_deref();
    inspect_as(client, &[Kind::Network], &args.networks, format, detail, io).await
}

/// `inspect [--type container|image|network]`.
pub async fn inspect(client: &Client, args: &InspectArgs, io: &mut Stdio) -> CmdResult {
    let kinds: &[Kind] = match args.kind.as_deref().unwrap_or_default() {
        "" => &[Kind::Container, Kind::Image],
        "container" => &[Kind::Container],
        "image" => &[Kind::Image],
        "network" => &[Kind::Network],
        other => {
            return Err(CliError::msg(format!(
                "\"{other}\" is not a valid value for --type"
            )))
        }
    };
    inspect_as(
        client,
        kinds,
        &args.names,
        args.format.as_deref(),
        Detail {
            size: args.size,
            ..Detail::default()
        },
        io,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_and_templates() {
        let found = vec![
            Bytes::from_static(br#"{"Id":"sha256:ab","Config":{"Cmd":["sh"]}}"#),
            Bytes::from_static(br#"{"Id":"sha256:cd","Config":{"Cmd":["a","b"]}}"#),
        ];
        assert_eq!(print(&[], None).unwrap(), "[]\n");
        let json = print(&found[..1], None).unwrap();
        assert_eq!(
            json,
            "[\n    {\n        \"Id\": \"sha256:ab\",\n        \"Config\": {\n            \"Cmd\": [\n                \"sh\"\n            ]\n        }\n    }\n]\n"
        );
        let t = Template::parse("{{.Id}} {{.Config.Cmd}}").unwrap();
        assert_eq!(
            print(&found, Some(&t)).unwrap(),
            "sha256:ab [sh]\nsha256:cd [a b]\n"
        );
    }
}
