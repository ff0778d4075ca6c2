#!/usr/bin/env bash
# Builds cityauth-ffi for this machine and generates the Kotlin and Swift bindings from the
# built library (uniffi "library mode"). The generated files are build output: never edit them.
#
#   ./bindings/build-bindings.sh [--release | --profile mobile]
#
# --profile mobile: the release settings optimised for size (Cargo.toml), what the apps ship.
#
# Writes:
#   bindings/out/kotlin/city/cityauth/ffi/cityauth.kt    (JVM: compiled by android/lib/pom.xml)
#   bindings/out/kotlin-android/city/cityauth/ffi/cityauth.kt
#       (Android, minSdk 26: uniffi's Android cleaner, bindings/uniffi-android.toml; compiled
#       by scripts/build-aar and the app)
#   ios/CityAuth/Sources/CityAuthFFI/CityAuthFFI.swift, cityauthFFI.h, cityauthFFI.modulemap
# and leaves the library in target/<profile>/libcityauth_ffi.so (.dylib on macOS).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
case "${1:-}" in
    "") ;;
    --release) profile=release ;;
    --profile) profile="${2:?--profile needs a name}" ;;
    *) echo "usage: $0 [--release | --profile NAME]" >&2; exit 2 ;;
esac

# The generator first, a debug build (a fat-LTO release build of it would take minutes).
# Building it builds the library with uniffi's `cli` feature, so the plain library is built
# after it and is the one left in place.
cargo build -p cityauth-ffi --features cli --bin uniffi-bindgen
cargo build -p cityauth-ffi --lib
if [[ "$profile" == mobile ]]; then
    # What the apps ship: no Rust transport, the platform's own (same interface, so the
    # bindings generated below fit it).
    cargo build --profile mobile -p cityauth-ffi --lib --no-default-features
elif [[ "$profile" != debug ]]; then
    cargo build --profile "$profile" -p cityauth-ffi --lib
fi

# The bindings are generated from the debug library: uniffi reads its metadata from symbols,
# which the release profile strips. Both builds come from the same source, so the interface
# and its checksums (verified by the generated code at load time) are the same.
# Where cargo put them: CARGO_TARGET_DIR, a .cargo/config.toml target-dir, or target/.
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[[ -n "$target_dir" ]] || { echo "build-bindings: no target_directory in cargo metadata" >&2; exit 1; }
case "$(uname -s)" in
    Darwin) suffix=dylib ;;
    *) suffix=so ;;
esac
metadata_library="$target_dir/debug/libcityauth_ffi.$suffix"
library="$target_dir/$profile/libcityauth_ffi.$suffix"
bindgen="$target_dir/debug/uniffi-bindgen"

rm -rf bindings/out/kotlin bindings/out/kotlin-android
"$bindgen" generate --no-format --library "$metadata_library" --language kotlin --out-dir bindings/out/kotlin
# The same interface for Android: only the object cleaner differs (the JVM one needs API 33).
"$bindgen" generate --no-format --library "$metadata_library" --language kotlin \
    --config bindings/uniffi-android.toml --out-dir bindings/out/kotlin-android
if ! grep -q 'android.system.SystemCleaner' bindings/out/kotlin-android/city/cityauth/ffi/cityauth.kt; then
    echo "build-bindings: bindings/uniffi-android.toml was not applied (no Android cleaner)" >&2
    exit 1
fi
swift_dir=ios/CityAuth/Sources/CityAuthFFI
mkdir -p "$swift_dir"
rm -f "$swift_dir/CityAuthFFI.swift" "$swift_dir/cityauthFFI.h" "$swift_dir/cityauthFFI.modulemap"
"$bindgen" generate --no-format --library "$metadata_library" --language swift --out-dir "$swift_dir"
echo "bindings: Kotlin in bindings/out/kotlin (JVM) and bindings/out/kotlin-android, Swift in $swift_dir, library $library"
