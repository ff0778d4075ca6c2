#!/usr/bin/env bash
# Builds the cityauth core for iOS as CityAuth/Frameworks/cityauthFFI.xcframework and
# generates the Swift bindings into CityAuth/Sources/CityAuthFFI/. Runs on a Mac with Xcode
# and rustup (see ios/README.md).
#
#   ios/build-xcframework.sh [--ios-only] [--debug] [--zip]
#
# --zip: also the release artefacts (ios/README.md, "Releases"): ios/build/release/
# cityauthFFI.xcframework.zip, its SwiftPM checksum (checksum.txt) and the binaryTarget lines
# a release's Package.swift carries.
#
# Slices: ios-arm64 (devices), ios-arm64_x86_64-simulator (lipo of the two simulator builds),
# and, unless --ios-only, macos-arm64_x86_64 so that `swift test` runs the XCTests on the Mac.
# Generated files are build output: never edit them, run this again.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

with_macos=1
zip_release=0
profile=release
cargo_profile=(--release)
for arg in "$@"; do
    case "$arg" in
        --ios-only) with_macos=0 ;;
        --debug) profile=debug; cargo_profile=() ;;
        --zip) zip_release=1 ;;
        *) echo "usage: $0 [--ios-only] [--debug] [--zip]" >&2; exit 2 ;;
    esac
done

if [[ "$(uname -s)" != Darwin ]]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 1
fi
for tool in cargo rustup xcodebuild lipo; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

ios_targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
mac_targets=(aarch64-apple-darwin x86_64-apple-darwin)
targets=("${ios_targets[@]}")
if [[ $with_macos == 1 ]]; then
    targets+=("${mac_targets[@]}")
fi
rustup target add "${targets[@]}"

# The minimum OS versions match Package.swift's platforms.
export IPHONEOS_DEPLOYMENT_TARGET=16.0
export MACOSX_DEPLOYMENT_TARGET=13.0

# Without the core's own HTTPS client: the app's URLSessionTransport carries every request
# (the platform's trust store, MDM CAs and proxies).
echo "== cargo build (${profile}, no Rust transport) for ${targets[*]}"
for target in "${targets[@]}"; do
    cargo build "${cargo_profile[@]}" -p cityauth-ffi --lib --no-default-features --target "$target"
done

target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
lib_of() { echo "$target_dir/$1/$profile/libcityauth_ffi.a"; }

echo "== Swift bindings (uniffi-bindgen, library mode, from the host debug build)"
# Library mode reads the interface from a built library; the host dylib has the same one as
# the iOS slices. The debug build is quick and unstripped (the release profile strips symbols).
cargo build -p cityauth-ffi --features cli --bin uniffi-bindgen
cargo build -p cityauth-ffi --lib
work="$root/ios/build"
rm -rf "$work"
mkdir -p "$work/swift" "$work/headers" "$work/ios-simulator" "$work/macos"
"$target_dir/debug/uniffi-bindgen" generate \
    --library "$target_dir/debug/libcityauth_ffi.dylib" \
    --language swift --out-dir "$work/swift"

# The XCFramework carries the C header as the `cityauthFFI` Clang module; the Swift file
# goes to the package's CityAuthFFI target, which imports that module.
cp "$work/swift/cityauthFFI.h" "$work/headers/"
cp "$work/swift/cityauthFFI.modulemap" "$work/headers/module.modulemap"
swift_dir="$root/ios/CityAuth/Sources/CityAuthFFI"
mkdir -p "$swift_dir"
rm -f "$swift_dir"/*.swift "$swift_dir/cityauthFFI.h" "$swift_dir/cityauthFFI.modulemap"
cp "$work/swift/"*.swift "$swift_dir/"

echo "== lipo: one fat library per platform variant"
lipo -create "$(lib_of aarch64-apple-ios-sim)" "$(lib_of x86_64-apple-ios)" \
    -output "$work/ios-simulator/libcityauth_ffi.a"
xcframework_args=(
    -library "$(lib_of aarch64-apple-ios)" -headers "$work/headers"
    -library "$work/ios-simulator/libcityauth_ffi.a" -headers "$work/headers"
)
if [[ $with_macos == 1 ]]; then
    lipo -create "$(lib_of aarch64-apple-darwin)" "$(lib_of x86_64-apple-darwin)" \
        -output "$work/macos/libcityauth_ffi.a"
    xcframework_args+=(-library "$work/macos/libcityauth_ffi.a" -headers "$work/headers")
fi

echo "== xcodebuild -create-xcframework"
framework="$root/ios/CityAuth/Frameworks/cityauthFFI.xcframework"
rm -rf "$framework"
mkdir -p "$(dirname "$framework")"
xcodebuild -create-xcframework "${xcframework_args[@]}" -output "$framework"

ls -l "$(lib_of aarch64-apple-ios)"
echo "built $framework and $swift_dir/$(ls "$work/swift" | grep '\.swift$')"

if [[ $zip_release == 1 ]]; then
    echo "== release: zipped XCFramework and its checksum"
    release="$work/release"
    mkdir -p "$release"
    zip_file="$release/cityauthFFI.xcframework.zip"
    rm -f "$zip_file"
    # ditto keeps the framework's symlinks and permissions, and --keepParent puts
    # cityauthFFI.xcframework/ at the top of the archive, where SwiftPM looks for it.
    ditto -c -k --sequesterRsrc --keepParent "$framework" "$zip_file"
    # SwiftPM's checksum is the SHA-256 of the archive; compute-checksum is its own word for it.
    checksum="$(cd "$root/ios/CityAuth" && swift package compute-checksum "$zip_file")"
    echo "$checksum" > "$release/checksum.txt"
    cat > "$release/binaryTarget.txt" <<SNIPPET
        .binaryTarget(
            name: "cityauthFFI",
            url: "https://RELEASES/cityauth/VERSION/cityauthFFI.xcframework.zip",
            checksum: "$checksum"
        ),
SNIPPET
    echo "release: $zip_file ($(wc -c < "$zip_file") bytes), checksum $checksum"
    echo "binaryTarget for the release's Package.swift: $release/binaryTarget.txt"
fi
