#!/usr/bin/env python3
"""The registry scan's bench images (issue 28): scan-images.py LAYOUT COUNT writes COUNT images into one
OCI layout, tagged i0..i{COUNT-1}, built from 3 bases as ScanTests builds them, only larger: a base is
3,000 files (about 6 MB of tar) and a tools layer; each image adds its own small layer on top (some copy
a base file, which wastes it; some remove one). Prints each tag and the repository it goes to."""
import gzip, hashlib, io, json, os, random, sys, tarfile

root, count = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)


def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    p = os.path.join(root, "blobs", "sha256", d[7:])
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
    return d, len(data)


def layer(entries):
    """entries: (name, bytes or None for a directory); a gzip layer: (digest, size, diff id)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                t.addfile(ti, io.BytesIO(data))
    tar = buf.getvalue()
    digest, size = put(gzip.compress(tar, 6, mtime=0))
    return digest, size, "sha256:" + hashlib.sha256(tar).hexdigest()


def base(b):
    rnd = random.Random(b)
    files = [("etc", None), ("etc/os-release", f"ID=base{b}\n".encode()), ("usr", None), ("usr/lib", None)]
    for d in range(30):
        files.append((f"usr/lib/m{d}", None))
        for i in range(100):
            # half text (compresses), half random bytes
            n = 500 + (d * 100 + i) * 7 % 3500
            data = (f"module {d} file {i} base {b}\n" * (n // 28 + 1)).encode()[:n] if i % 2 else rnd.randbytes(n)
            files.append((f"usr/lib/m{d}/f{i}.so", data))
    tools = [("opt", None), ("opt/tool", rnd.randbytes(300_000 + b)), ("etc/os-release", f"ID=base{b}\nVERSION=2\n".encode())]
    return [layer(files), layer(tools)]


bases = [base(b) for b in range(3)]
manifests = []
for n in range(count):
    b, v = n % 3, n // 3
    own = [("app", None), ("app/version", f"{b}.{v}\n".encode())]
    if v % 3 == 0:
        own.append(("opt/tool", random.Random(100 + n).randbytes(300_000 + b + v)))  # wastes the base's copy
    if v % 4 == 1:
        own += [("usr/lib/m3", None), ("usr/lib/m3/.wh.f3.so", b"")]
    layers = bases[b] + [layer(own)]
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/app/run"]},
        "rootfs": {"type": "layers", "diff_ids": [l[2] for l in layers]},
        "history": [{"created_by": f"base {b}"}, {"created_by": f"base {b} tools"}, {"created_by": f"app {n}"}],
    }
    cd, cs = put(json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s} for d, s, _ in layers],
    }
    md, ms = put(json.dumps(manifest, sort_keys=True).encode())
    manifests.append({"mediaType": manifest["mediaType"], "digest": md, "size": ms,
                      "annotations": {"org.opencontainers.image.ref.name": f"i{n}"}})
    print(f"i{n}\tbase{b}-r{v % 5}:v{v}")
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": manifests}, f)
with open(os.path.join(root, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
