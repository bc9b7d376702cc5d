//! The `berth` CLI's image commands against a real berthd and the world's
//! registry (fixture repositories `busybox`, pre-pulled, and
//! `multilayer`): pull output as Docker prints it off a terminal, images,
//! tag, inspect, history, rmi (and its conflict with a container), save
//! then load, prune, and `run`'s pull of a missing image.

use std::path::Path;

use integration_tests::berthd::{cli, text, Berthd};
use integration_tests::daemon_world::DaemonWorld;
use integration_tests::workspace_bin;

/// Runs `berth args` against `d` with `stdin`.
fn berth_in(d: &Berthd, args: &[&str], stdin: &[u8]) -> (String, String, i32) {
    text(&cli(&workspace_bin("berth"), &d.sock, args, stdin))
}

fn berth(d: &Berthd, args: &[&str]) -> (String, String, i32) {
    berth_in(d, args, b"")
}

fn is_short_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The full image ID of `name`.
fn image_id(d: &Berthd, name: &str) -> String {
    let (out, err, code) = berth(d, &["image", "inspect", "-f", "{{.Id}}", name]);
    assert_eq!(code, 0, "inspect {name}: {err}");
    let id = out.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    id
}

/// Asserts `out` is a complete pull of `reference` as `docker pull`
/// prints it off a terminal.
fn assert_pulled(out: &str, reference: &str, fresh: bool) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Using default tag: latest", "{out}");
    assert_eq!(lines[1], "latest: Pulling from multilayer", "{out}");
    assert!(
        !out.contains('\x1b'),
        "no cursor movement off a terminal: {out:?}"
    );
    assert!(!out.contains("Downloading"), "no progress bars: {out}");
    let layers: Vec<&str> = lines[2..lines.len() - 3].to_vec();
    assert!(!layers.is_empty(), "{out}");
    for l in &layers {
        let (id, status) = l.split_once(": ").unwrap();
        assert!(is_short_id(id), "{l}");
        assert!(!status.is_empty(), "{l}");
    }
    if fresh {
        assert!(
            layers.iter().any(|l| l.ends_with(": Pull complete")),
            "{out}"
        );
    } else {
        assert!(
            layers.iter().all(|l| l.ends_with(": Already exists")),
            "{out}"
        );
    }
    let n = lines.len();
    assert!(lines[n - 3].starts_with("Digest: sha256:"), "{out}");
    let status = if fresh {
        "Status: Downloaded newer image for"
    } else {
        "Status: Image is up to date for"
    };
    assert_eq!(lines[n - 2], format!("{status} {reference}"), "{out}");
    assert_eq!(lines[n - 1], reference, "{out}");
}

#[test]
fn pull_list_tag_inspect_history_and_rmi() {
    let w = DaemonWorld::new();
    let d = Berthd::start(&w);
    let reg = w.reg.host();
    let ml = format!("{reg}/multilayer");
    let ml_latest = format!("{ml}:latest");

    // pull: status lines, digest, status, the reference; again: up to date.
    let (out, err, code) = berth(&d, &["pull", &ml]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_pulled(&out, &ml_latest, true);
    let (out, err, code) = berth(&d, &["pull", &ml]);
    assert_eq!(code, 0, "{err}");
    assert_pulled(&out, &ml_latest, false);
    let (out, err, code) = berth(&d, &["pull", &format!("{reg}/nosuch:v9")]);
    assert_eq!((out.as_str(), code), ("", 1));
    assert_eq!(
        err,
        format!(
            "Error response from daemon: manifest for {reg}/nosuch:v9 not found: manifest unknown: manifest unknown\n"
        )
    );

    // images: the classic table, IDs of 12 hex, -q, filters, templates.
    let ml_id = image_id(&d, &ml);
    let bb_id = image_id(&d, &w.image);
    let (out, err, code) = berth(&d, &["images"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    );
    assert!(lines[0].starts_with("REPOSITORY   "), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with(&format!("{ml} ")))
        .unwrap_or_else(|| panic!("{out}"))
        .split_whitespace()
        .collect();
    assert_eq!(&row[..3], [ml.as_str(), "latest", &ml_id[7..19]], "{out}");
    assert!(row[row.len() - 1].ends_with("MB"), "{out}");
    let (out, _, _) = berth(&d, &["images", "-q"]);
    let mut ids: Vec<&str> = out.lines().collect();
    ids.sort();
    let mut want = vec![&ml_id[7..19], &bb_id[7..19]];
    want.sort();
    assert_eq!(ids, want);
    let (out, _, _) = berth(
        &d,
        &[
            "images",
            "--filter",
            &format!("reference={ml}"),
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
        ],
    );
    assert_eq!(out, format!("{ml_latest} {}\n", &ml_id[7..19]));
    let (out, _, _) = berth(&d, &["images", "--no-trunc", "-q", &ml]);
    assert_eq!(out, format!("{ml_id}\n"));
    let (out, _, _) = berth(&d, &["images", "--format", "{{json .}}", &ml]);
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["Repository"], ml.as_str());
    assert_eq!(j["Tag"], "latest");
    assert!(j["CreatedSince"].as_str().unwrap().ends_with(" ago"), "{j}");
    let (out, _, _) = berth(&d, &["images", "--digests", "--format", "{{.Digest}}", &ml]);
    assert!(
        out.starts_with("sha256:") && out.trim().len() == 71,
        "{out}"
    );

    // tag: the new name lists beside the old one, and inspects to the ID.
    let (out, err, code) = berth(&d, &["tag", &ml, "mytag:v1"]);
    assert_eq!((out.as_str(), err.as_str(), code), ("", "", 0));
    let (out, _, _) = berth(&d, &["image", "ls"]);
    let row = out
        .lines()
        .find(|l| l.starts_with("mytag "))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        row.split_whitespace().take(3).collect::<Vec<_>>(),
        ["mytag", "v1", &ml_id[7..19]]
    );
    let (out, err, code) = berth(
        &d,
        &[
            "image",
            "inspect",
            "-f",
            "{{.Id}} {{.Config.Cmd}}",
            "mytag:v1",
        ],
    );
    assert_eq!((out, code), (format!("{ml_id} [sh]\n"), 0), "{err}");
    let (out, _, code) = berth(&d, &["inspect", "--format", "{{.Id}}", "mytag:v1"]);
    assert_eq!((out, code), (format!("{ml_id}\n"), 0));
    let (out, _, code) = berth(&d, &["image", "inspect", "mytag:v1"]);
    let arr: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((arr[0]["Id"].as_str(), code), (Some(ml_id.as_str()), 0));
    assert!(out.starts_with("[\n    {\n        \"Id\": "), "{out}");
    let (out, err, code) = berth(&d, &["image", "inspect", "nosuch"]);
    assert_eq!((out.as_str(), code), ("[]\n", 1));
    assert_eq!(
        err,
        "Error response from daemon: No such image: nosuch:latest\n"
    );
    let (_, err, code) = berth(&d, &["inspect", "nosuch"]);
    assert_eq!((err.as_str(), code), ("Error: No such object: nosuch\n", 1));

    // history: newest step first, the older ones `<missing>`.
    let (out, err, code) = berth(&d, &["history", &ml]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    );
    assert!(
        lines[1].starts_with(&format!("{}   ", &ml_id[7..19])),
        "{out}"
    );
    assert!(
        lines[2..].iter().all(|l| l.starts_with("<missing>   ")),
        "{out}"
    );
    assert!(lines[1].contains(" ago   berth fixtures: "), "{out}");
    let (out, _, _) = berth(&d, &["image", "history", "-q", &ml]);
    assert_eq!(out.lines().next(), Some(&ml_id[7..19]));
    let (out, _, _) = berth(
        &d,
        &["history", "--human=false", "--format", "{{.Size}}", &ml],
    );
    assert!(out.lines().all(|l| l.parse::<u64>().is_ok()), "{out}");

    // rmi: untag only while another name remains; errors in Docker's words.
    let (out, err, code) = berth(&d, &["rmi", "mytag:v1"]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("Untagged: mytag:v1\n", "", 0)
    );
    let (out, err, code) = berth(&d, &["rmi", "nosuch"]);
    assert_eq!((out.as_str(), code), ("", 1));
    assert_eq!(
        err,
        "Error response from daemon: No such image: nosuch:latest\n"
    );
    let (_, err, code) = berth(&d, &["rmi", "-f", "nosuch"]);
    assert_eq!(
        (err.as_str(), code),
        (
            "Error response from daemon: No such image: nosuch:latest\n",
            0
        )
    );

    // rmi of an image a running container uses: a conflict unless -f,
    // and even -f only untags it.
    let (cid, err, code) = berth(
        &d,
        &["run", "-d", "--name", "user", &w.image, "sleep", "1000"],
    );
    assert_eq!(code, 0, "{err}");
    let (out, err, code) = berth(&d, &["rmi", &w.image]);
    assert_eq!((out.as_str(), code), ("", 1));
    assert_eq!(
        err,
        format!(
            "Error response from daemon: conflict: unable to remove repository reference \"{}\" (must force) - container {} is using its referenced image {}\n",
            w.image,
            &cid[..12],
            &bb_id[7..19]
        )
    );
    let (out, err, code) = berth(&d, &["image", "rm", "-f", &w.image]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("Untagged: {}\n", w.image)),
        "{out}"
    );
    assert!(
        !out.contains("Deleted:"),
        "a running container keeps its image: {out}"
    );
    let (_, err, code) = berth(&d, &["rm", "-f", "user"]);
    assert_eq!(code, 0, "{err}");

    // rmi of the last name: every untag, then the image and its layers.
    let (out, err, code) = berth(&d, &["rmi", &ml]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("Untagged: {ml_latest}"));
    assert!(
        lines[1].starts_with(&format!("Untagged: {ml}@sha256:")),
        "{out}"
    );
    assert_eq!(lines[2], format!("Deleted: {ml_id}"));
    assert!(
        lines[3..].iter().all(|l| l.starts_with("Deleted: sha256:")),
        "{out}"
    );
}

#[test]
fn save_load_prune_and_run_pulls_a_missing_image() {
    let w = DaemonWorld::new();
    let d = Berthd::start(&w);
    let reg = w.reg.host();
    let ml = format!("{reg}/multilayer:latest");

    // A quiet pull prints the reference alone.
    let (out, err, code) = berth(&d, &["image", "pull", "-q", &ml]);
    assert_eq!((out, err.as_str(), code), (format!("{ml}\n"), "", 0));
    let id = image_id(&d, &ml);

    // save -o, rmi, load -i: the same image is back under its name.
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("ml.tar");
    let tar_s = tar.to_str().unwrap();
    let (out, err, code) = berth(&d, &["save", "-o", tar_s, &ml]);
    assert_eq!((out.as_str(), err.as_str(), code), ("", "", 0));
    assert_tar_holds_manifest(&tar);
    let only_tar: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        only_tar.len(),
        1,
        "no temporary file is left beside the tar"
    );
    let (_, err, code) = berth(&d, &["save", "-o", "/nonexistent-dir/x.tar", &ml]);
    assert_eq!(
        (err.as_str(), code),
        ("failed to save image: invalid output path: stat /nonexistent-dir: no such file or directory\n", 1)
    );
    let (_, err, code) = berth(&d, &["rmi", &ml]);
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = berth(&d, &["images", "-q", &ml]);
    assert_eq!(out, "");
    let (out, err, code) = berth(&d, &["load", "-i", tar_s]);
    assert_eq!(
        (out, err.as_str(), code),
        (format!("Loaded image: {ml}\n"), "", 0)
    );
    assert_eq!(image_id(&d, &ml), id);
    // The tar through stdin, with `image load`.
    let o = cli(
        &workspace_bin("berth"),
        &d.sock,
        &["image", "load", "-q"],
        &std::fs::read(&tar).unwrap(),
    );
    assert_eq!(
        text(&o),
        (format!("Loaded image: {ml}\n"), String::new(), 0)
    );
    let (_, err, code) = berth(&d, &["load", "-i", "/nonexistent.tar"]);
    assert_eq!(
        (err.as_str(), code),
        ("open /nonexistent.tar: no such file or directory\n", 1)
    );

    // prune: asks first (a "no" changes nothing); dangling only by
    // default; -a removes every image without a container.
    let (out, err, code) = berth_in(&d, &["image", "prune"], b"n\n");
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        (
            "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ",
            "",
            0
        )
    );
    let (out, _, code) = berth(&d, &["image", "prune", "-f"]);
    assert_eq!((out.as_str(), code), ("Total reclaimed space: 0B\n", 0));
    let (out, err, code) = berth_in(&d, &["image", "prune", "-a"], b"y\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] Deleted Images:\n"),
        "{out}"
    );
    assert!(out.contains(&format!("untagged: {ml}\n")), "{out}");
    assert!(out.contains(&format!("untagged: {}\n", w.image)), "{out}");
    assert!(out.contains(&format!("deleted: {id}\n")), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("Total reclaimed space: ") && last.ends_with("MB"),
        "{out}"
    );
    let (out, _, _) = berth(&d, &["images", "-q"]);
    assert_eq!(out, "");

    // run of an image not pulled yet: the notice and the pull on stderr,
    // then the container's output.
    let (out, err, code) = berth(&d, &["run", "--rm", &ml, "echo", "hi"]);
    assert_eq!((out.as_str(), code), ("hi\n", 0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], format!("Unable to find image '{ml}' locally"));
    assert_eq!(lines[1], "latest: Pulling from multilayer");
    assert!(
        lines.iter().any(|l| l.ends_with(": Pull complete")),
        "{err}"
    );
    assert_eq!(
        lines.last().copied(),
        Some(format!("Status: Downloaded newer image for {ml}").as_str())
    );
    assert_eq!(image_id(&d, &ml), id);
}

/// A `docker save` tar has a `manifest.json` naming the image.
fn assert_tar_holds_manifest(path: &Path) {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "manifest.json"), "{names:?}");
}
