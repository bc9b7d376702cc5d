#!/usr/bin/env python3
"""A smoke test of Berth with docker-py, the Docker SDK most Python tools use.

Usage: DOCKER_HOST=unix:///path/berth.sock docker_py_smoke.py IMAGE

IMAGE must be in the registry and not yet in the daemon (the test pulls it).
Written for docker-py 5.0.3 (Debian's python3-docker) and 7.x (pip). Prints
one `docker-py smoke: OK ...` line and exits 0, or says what failed and exits
non-zero. Containers it made are force-removed whatever happens.
"""

import sys

try:
    import docker
    import docker.errors
except ImportError as e:  # The Rust test turns this into a clear failure.
    print(f"docker-py smoke: FAILED: cannot import docker ({e})", file=sys.stderr)
    sys.exit(3)


class SmokeFailure(Exception):
    """A check that did not hold."""


def check(cond, what):
    if not cond:
        raise SmokeFailure(what)


def split_reference(ref):
    """`host:port/repo:tag` -> (`host:port/repo`, `tag`); docker-py's pull
    wants them apart, and a registry port is not a tag."""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, "latest"


def smoke(client, ref, made, made_volumes):
    check(client.ping() is True, "ping did not answer OK")
    api_version = client.version().get("ApiVersion", "")
    check(api_version, "version has no ApiVersion")

    # The image is not there yet: pulling it is part of the test.
    try:
        client.images.get(ref)
        raise SmokeFailure(f"{ref} is already present before the pull")
    except docker.errors.ImageNotFound:
        pass
    repo, tag = split_reference(ref)
    image = client.images.pull(repo, tag=tag)
    check(ref in image.tags, f"pulled image tags {image.tags}, wanted {ref}")
    check(
        any(ref in i.tags for i in client.images.list()),
        f"{ref} missing from images.list()",
    )

    # Foreground run: create, start, wait, logs, remove.
    out = client.containers.run(ref, "echo hi", remove=True)
    check(out == b"hi\n", f"run echo hi returned {out!r}")

    # Detached run: an exit code, both streams in the log, a file from the
    # image's upper layer.
    c = client.containers.run(
        ref,
        ["sh", "-c", "cat /data/keep; echo err >&2; exit 3"],
        detach=True,
    )
    made.append(c.id)
    result = c.wait(timeout=60)
    check(result.get("StatusCode") == 3, f"wait returned {result}")
    logs = c.logs()
    check(logs == b"keep\nerr\n", f"logs returned {logs!r}")
    stdout = c.logs(stderr=False)
    check(stdout == b"keep\n", f"stdout-only logs returned {stdout!r}")
    c.reload()
    check(c.status == "exited", f"status {c.status!r} after wait")
    check(
        c.attrs["State"]["ExitCode"] == 3,
        f"inspect ExitCode {c.attrs['State']['ExitCode']}",
    )
    c.remove()
    made.remove(c.id)

    try:
        client.containers.get(c.id)
        raise SmokeFailure(f"container {c.id} still there after remove")
    except docker.errors.NotFound:
        pass
    left = client.containers.list(all=True)
    check(left == [], f"containers left: {[x.name for x in left]}")

    # Volumes: created with a label, pre-filled from the image on first
    # mount, kept across containers, listed, removed.
    vol = client.volumes.create(name="pyvol", labels={"made-by": "docker-py"})
    made_volumes.append(vol.name)
    check(vol.attrs["Labels"] == {"made-by": "docker-py"}, f"labels {vol.attrs}")
    out = client.containers.run(
        ref,
        ["sh", "-c", "cat /data/keep; echo new > /data/added"],
        volumes={"pyvol": {"bind": "/data", "mode": "rw"}},
        remove=True,
    )
    check(out == b"keep\n", f"the new volume was not pre-filled: {out!r}")
    out = client.containers.run(
        ref, "cat /v/added", volumes=["pyvol:/v:ro"], remove=True
    )
    check(out == b"new\n", f"the volume did not keep its data: {out!r}")
    names = [v.name for v in client.volumes.list(filters={"label": "made-by"})]
    check(names == ["pyvol"], f"volumes.list with a label filter: {names}")
    out = client.containers.run(ref, "grep -c ' /t tmpfs' /proc/mounts", tmpfs={"/t": ""}, remove=True)
    check(out == b"1\n", f"tmpfs: {out!r}")
    vol.remove()
    made_volumes.remove(vol.name)
    try:
        client.volumes.get("pyvol")
        raise SmokeFailure("volume pyvol still there after remove")
    except docker.errors.NotFound:
        pass
    return api_version


def main():
    if len(sys.argv) != 2:
        print("usage: docker_py_smoke.py IMAGE", file=sys.stderr)
        return 2
    ref = sys.argv[1]
    client = docker.from_env(timeout=120)
    made = []
    made_volumes = []
    try:
        api_version = smoke(client, ref, made, made_volumes)
    except (SmokeFailure, docker.errors.DockerException) as e:
        print(f"docker-py smoke: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        for cid in made:
            try:
                client.api.remove_container(cid, force=True)
            except docker.errors.DockerException:
                pass
        for name in made_volumes:
            try:
                client.api.remove_volume(name, force=True)
            except docker.errors.DockerException:
                pass
        client.close()
    print(
        f"docker-py smoke: OK (docker-py {docker.__version__}, API {api_version}):"
        " pull, run, run -d, wait, logs, rm, volumes, tmpfs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
