#!/usr/bin/env python3
"""The 1 GB image plus one new layer (1,000 small files and 40 MB of random bytes), for the layer
cache's bench row: plus-one-layer.py BASE_LAYOUT PLUS_DIR ALONE_DIR writes PLUS_DIR (BASE's layers,
hard-linked by the caller, and the new one on top) and ALONE_DIR (the new layer as an image of its own)."""
import json, hashlib, tarfile, io, gzip, os, sys, random
src = sys.argv[1]
def blob(d): return os.path.join(src, "blobs", "sha256", d.split(":")[1])
def put(root, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    p = os.path.join(root, "blobs", "sha256", d.split(":")[1])
    if not os.path.exists(p):
        open(p, "wb").write(data)
    return d
# the new layer: 1000 small files and one 40 MB file
buf = io.BytesIO()
rnd = random.Random(7)
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo("newlayer"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
    for i in range(1000):
        data = (f"file {i}\n" * (i % 50 + 1)).encode()
        ti = tarfile.TarInfo(f"newlayer/f{i}.txt"); ti.size = len(data); ti.mode = 0o644; t.addfile(ti, io.BytesIO(data))
    data = rnd.randbytes(40 << 20)
    ti = tarfile.TarInfo("newlayer/big.bin"); ti.size = len(data); ti.mode = 0o644; t.addfile(ti, io.BytesIO(data))
tar = buf.getvalue()
gz = gzip.compress(tar, 6, mtime=0)
diff = "sha256:" + hashlib.sha256(tar).hexdigest()
def write_image(root, base_layers, base_diffs, base_hist, cfg0):
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    ld = put(root, gz)
    cfg = dict(cfg0)
    cfg["rootfs"] = {"type": "layers", "diff_ids": base_diffs + [diff]}
    cfg["history"] = base_hist + [{"created_by": "COPY newlayer /newlayer"}]
    cb = json.dumps(cfg).encode(); cd = put(root, cb)
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cb)},
           "layers": base_layers + [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": len(gz)}]}
    mb = json.dumps(man).encode(); md = put(root, mb)
    idx = {"schemaVersion": 2, "manifests": [{"mediaType": man["mediaType"], "digest": md, "size": len(mb), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    open(os.path.join(root, "index.json"), "w").write(json.dumps(idx))
    open(os.path.join(root, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
idx = json.load(open(os.path.join(src, "index.json")))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
c = json.load(open(blob(m["config"]["digest"])))
hist = [h for h in c.get("history", [])]
write_image(sys.argv[2], m["layers"], c["rootfs"]["diff_ids"], hist, c)
base = {k: v for k, v in c.items()}
write_image(sys.argv[3], [], [], [], base)
