#!/usr/bin/env bash
# Builds LayerDive's container image from the top-level Containerfile and saves it as an OCI archive,
# layerdive-VERSION-image.tar, in OUTDIR (default release/out). The image is tagged layerdive:VERSION
# and layerdive:latest in the builder's store.
#
#   release/image.sh [OUTDIR]
#
# Variables:
#   BASE     the base image (default: the Containerfile's, gcr.io/distroless/base-debian12);
#            BASE=local builds one from this machine's files with release/base.sh first (where no
#            registry can be reached)
#   BUILDER  buildah, docker or podman (default: the first installed, in that order)
#   LAYERDIVE_EXECUTABLE  a native layerdive already published from this tree (else it is published
#            here with dotnet publish, which takes minutes)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/release/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

builder=${BUILDER:-}
if [[ -z $builder ]]; then
  for b in buildah docker podman; do command -v "$b" >/dev/null && { builder=$b; break; }; done
fi
[[ -n $builder ]] || { echo "image.sh: none of buildah, docker, podman is installed" >&2; exit 2; }
export BUILDER=$builder

version=$(cd "$repo" && dotnet msbuild src/LayerDive -getProperty:Version)
source_url=$(cd "$repo" && dotnet msbuild src/LayerDive -getProperty:RepositoryUrl)
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
# a tree with changes not committed is not that commit
[[ $revision != unknown && -n $(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null) ]] && revision+="-dirty"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the context is exactly what the image adds (the Containerfile copies it as one layer)
ctx=$work/context
app=$ctx/opt/layerdive
mkdir -p "$app/samples"

exe=${LAYERDIVE_EXECUTABLE:-}
if [[ -z $exe ]]; then
  echo "image.sh: publishing the native executable (dotnet publish -c Release)" >&2
  dotnet publish "$repo/src/LayerDive" -c Release -o "$work/publish" -nologo >&2
  exe=$work/publish/layerdive
fi
[[ -x $exe ]] || { echo "image.sh: $exe is not an executable" >&2; exit 2; }
cp "$exe" "$app/layerdive"
cp "$repo/samples/sample.oci.tar" "$app/samples/sample.oci.tar"

base_args=()
if [[ ${BASE:-} == local ]]; then
  BASE=$("$here/base.sh" localhost/layerdive-base:local "$app/layerdive")
fi
[[ -n ${BASE:-} ]] && base_args=(--build-arg "BASE=$BASE")

tag=layerdive:$version
args=(-f "$repo/Containerfile" "${base_args[@]}" --build-arg "VERSION=$version" --build-arg "REVISION=$revision"
  --build-arg "SOURCE=${source_url:-https://github.com/layerdive/layerdive}" -t "$tag" -t layerdive:latest)
archive=$out/layerdive-$version-image.tar
rm -f "$archive"
case $builder in
  buildah)
    # pull=false: a base named by BASE is used from local storage (nothing can be pulled here)
    buildah bud --quiet --layers=false --pull=false "${args[@]}" "$ctx" >/dev/null
    buildah push --quiet "$tag" "oci-archive:$archive:$tag" ;;
  podman)
    podman build --quiet --pull=never "${args[@]}" "$ctx" >/dev/null
    podman save --quiet --format oci-archive -o "$archive" "$tag" ;;
  docker)
    # the classic builder where the buildx plugin is missing (docker build needs one or the other)
    docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
    docker build --quiet "${args[@]}" "$ctx" >/dev/null
    docker save -o "$work/saved.tar" "$tag"
    # an engine before 25 saves the docker format only: make it OCI with skopeo where it is installed
    if tar -tf "$work/saved.tar" | grep -qx 'oci-layout'; then
      mv "$work/saved.tar" "$archive"
    elif command -v skopeo >/dev/null; then
      skopeo copy --quiet "docker-archive:$work/saved.tar" "oci-archive:$archive:$tag"
    else
      mv "$work/saved.tar" "$archive"
      echo "image.sh: note: $archive is a docker save archive (no skopeo here to make it OCI)" >&2
    fi ;;
  *) echo "image.sh: unknown BUILDER $builder" >&2; exit 2 ;;
esac
echo "$archive"
