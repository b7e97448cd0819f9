#!/usr/bin/env python3
"""Builds the OCI test images as OCI layouts (as root, so owners, setuid bits and device nodes are real) and
pushes them with skopeo to the anonymous test registry; also writes a docker-archive (podman save) and an
oci-archive (skopeo). Cached: nothing is rebuilt while the stamp matches and the registry has every image.

usage: oci-fixtures.py OUT_DIR IMAGES_DIR REGISTRY"""
import gzip, hashlib, io, json, os, subprocess, sys, tarfile, urllib.request

VERSION = "3"
out, images, registry = sys.argv[1], sys.argv[2], sys.argv[3]
layouts = os.path.join(out, "layouts")
archives = os.path.join(out, "archives")
PUSHED = ["small:latest", "multi:latest", "layers:latest", "many:latest", "big:latest", "escape:latest", "zstd:latest"]


def registry_has(ref):
    name, tag = ref.split(":")
    req = urllib.request.Request(f"http://{registry}/v2/{name}/manifests/{tag}", method="HEAD",
                                 headers={"Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"})
    try:
        return urllib.request.urlopen(req, timeout=5).status == 200
    except Exception:
        return False


stamp = os.path.join(out, "stamp")
if os.path.exists(stamp) and open(stamp).read() == VERSION and all(registry_has(r) for r in PUSHED) \
        and os.path.exists(os.path.join(archives, "small-docker.tar")) and os.path.exists(os.path.join(archives, "small-oci.tar")):
    sys.exit(0)
subprocess.run(["rm", "-rf", out], check=True)
os.makedirs(layouts)
os.makedirs(archives)


class Layout:
    def __init__(self, name):
        self.dir = os.path.join(layouts, name)
        os.makedirs(os.path.join(self.dir, "blobs", "sha256"))
        with open(os.path.join(self.dir, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = []

    def blob(self, data, media_type):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.dir, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + d, "size": len(data)}

    def image(self, layers, config=None, arch="amd64", tag=None, index_entry=True):
        descs, diff_ids = [], []
        for raw in layers:
            diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
            descs.append(self.blob(gzip.compress(raw, compresslevel=1, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"))
        cfg = {"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
               "config": config or {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        cdesc = self.blob(json.dumps(cfg).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cdesc, "layers": descs}
        mdesc = self.blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
        mdesc["platform"] = {"architecture": arch, "os": "linux"}
        if tag:
            mdesc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        if index_entry:
            self.index.append(mdesc)
        return mdesc

    def write_index(self, entries=None):
        with open(os.path.join(self.dir, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": entries if entries is not None else self.index}, f)


def tar_bytes(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        add(t)
    return buf.getvalue()


def entry(t, name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, link="", dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime, ti.linkname = kind, mode, uid, gid, 1700000000, link
    ti.devmajor, ti.devminor = dev
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def tree(path, prefix=""):
    def add(t):
        t.add(path, arcname=prefix or ".", recursive=True)
    return add


busybox = tar_bytes(tree(os.path.join(images, "busybox")))
small_config = {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hello \"oci\" $world"],
                "Entrypoint": ["/bin/echo", "entry"], "Cmd": ["default-arg"],
                "Labels": {"org.burrow.test": "small"}, "WorkingDir": "/"}

small = Layout("small")
small.image([busybox], small_config, tag="latest")
small.write_index()

multi = Layout("multi")
amd = multi.image([busybox, tar_bytes(lambda t: entry(t, "arch", data=b"amd64\n"))], small_config, "amd64", index_entry=False)
arm = multi.image([tar_bytes(lambda t: entry(t, "arch", data=b"arm64\n"))], {}, "arm64", index_entry=False)
idx = multi.blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [amd, arm]}).encode(),
                 "application/vnd.oci.image.index.v1+json")
idx["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
multi.write_index([idx])


def layer1(t):
    entry(t, "data/", tarfile.DIRTYPE, mode=0o755)
    entry(t, "data/a", data=b"a\n")
    entry(t, "data/b", data=b"b-file\n")
    entry(t, "opq/", tarfile.DIRTYPE, mode=0o755)
    entry(t, "opq/x", data=b"x\n")
    entry(t, "opq/sub/", tarfile.DIRTYPE, mode=0o755)
    entry(t, "opq/sub/y", data=b"y\n")
    entry(t, "bin/", tarfile.DIRTYPE, mode=0o755)
    entry(t, "bin/suid", data=b"#!/bin/sh\necho suid\n", mode=0o4755)
    entry(t, "hl/", tarfile.DIRTYPE, mode=0o755)
    entry(t, "hl/orig", data=b"shared content\n", mode=0o640, uid=1234, gid=5678)
    entry(t, "dev/", tarfile.DIRTYPE, mode=0o755)
    entry(t, "dev/null-ish", tarfile.CHRTYPE, mode=0o666, dev=(1, 3))
    entry(t, "owned", data=b"owned\n", uid=1234, gid=5678)


def layer2(t):
    entry(t, "data/.wh.a")
    entry(t, "data/b/", tarfile.DIRTYPE, mode=0o700)
    entry(t, "data/b/inner", data=b"inner\n")
    entry(t, "opq/.wh..wh..opq")
    entry(t, "opq/new", data=b"new\n")
    entry(t, "hl/link", tarfile.LNKTYPE, link="hl/orig")


def layer3(t):
    entry(t, "hl/.wh.orig")


layers = Layout("layers")
layers.image([tar_bytes(layer1), tar_bytes(layer2), tar_bytes(layer3)], {"Cmd": ["/bin/sh"]}, tag="latest")
layers.write_index()


def many_files(t):
    for i in range(10000):
        entry(t, f"many/d{i // 1000:02}/f{i:05}", data=f"{i}\n".encode())


many = Layout("many")
many.image([busybox, tar_bytes(many_files)], small_config, tag="latest")
many.write_index()


def big_layer(t):
    t.add(os.path.join(images, "debian-sudo"), arcname=".", recursive=True)
    rnd = os.urandom(56 << 20)
    entry(t, "big/random.bin", data=rnd)


big = Layout("big")
big.image([tar_bytes(big_layer)], {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/bash"]}, tag="latest")
big.write_index()

escape = Layout("escape")
escape.image([tar_bytes(lambda t: (entry(t, "ok", data=b"ok\n"), entry(t, "../escape-victim", data=b"pwned\n")))], {}, tag="latest")
escape.write_index()


def push(name, tag, extra=()):
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *extra,
                    f"oci:{os.path.join(layouts, name)}:{tag}", f"docker://{registry}/{name}:{tag}"], check=True)


for name in ["small", "layers", "many", "big", "escape"]:
    push(name, "latest")
push("multi", "latest", ["--all"])
subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-compress", "--dest-compress-format", "zstd",
                "--dest-oci-accept-uncompressed-layers", "--format", "oci",
                f"oci:{os.path.join(layouts, 'small')}:latest", f"docker://{registry}/zstd:latest"], check=True)
subprocess.run(["skopeo", "copy", "--quiet", f"oci:{os.path.join(layouts, 'small')}:latest",
                f"oci-archive:{os.path.join(archives, 'small-oci.tar')}:latest"], check=True)
# docker-archive as podman save writes it (root podman; the image is removed again afterwards).
subprocess.run(["podman", "pull", "-q", f"oci:{os.path.join(layouts, 'small')}:latest"], check=True, stdout=subprocess.PIPE)
img = subprocess.run(["podman", "images", "-q", "--filter", "reference=*small*"], check=True, stdout=subprocess.PIPE, text=True).stdout.split()
subprocess.run(["podman", "tag", img[0], "localhost/burrow-small:latest"], check=True)
subprocess.run(["podman", "save", "-q", "--format", "docker-archive", "-o", os.path.join(archives, "small-docker.tar"),
                "localhost/burrow-small:latest"], check=True)
subprocess.run(["podman", "rmi", "-f", img[0]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
with open(stamp, "w") as f:
    f.write(VERSION)
