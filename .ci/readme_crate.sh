#!/usr/bin/env bash
# The README's first Rust snippet, built and run as a user's program would be: in a
# fresh crate outside the workspace, depending on backprop alone, with the profile
# lines the README recommends.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
crate=$(mktemp -d)
trap 'rm -rf "$crate"' EXIT
mkdir -p "$crate/src"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "readme-snippet"
version = "0.1.0"
edition = "2024"

[dependencies]
backprop = { path = "$repo" }

[profile.dev.package."*"]
opt-level = 3
TOML
# The block's hidden lines (`# `) are shown; its last line returns the Result.
{
    echo 'fn main() -> Result<(), backprop::Error> {'
    awk '/^```rust$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' "$repo/README.md" |
        sed 's/^# //'
    echo '}'
} > "$crate/src/main.rs"
# The workspace's versions, and its build directory: only backprop itself is rebuilt.
cp "$repo/Cargo.lock" "$crate/Cargo.lock"
CARGO_TARGET_DIR="$repo/target" cargo run --quiet --manifest-path "$crate/Cargo.toml"
echo "the README's first snippet builds and runs in a fresh crate"
