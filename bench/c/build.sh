#!/bin/sh
# Builds the C twin of sae-edge's int8 encoder kernel with Debian's clang:
#   apt-get install -y clang-19 lld-19     (clang 14, Debian's default, lacks the relaxed dot builtin:
#                                           with it only the SIMD128 build is made)
set -eu
cd "$(dirname "$0")"
CC=$(command -v clang-19 || command -v clang)
FLAGS="--target=wasm32 -O3 -nostdlib -ffreestanding -fno-builtin -Wall -Wl,--no-entry -Wl,--max-memory=4294967296 -Wl,--strip-all"
$CC $FLAGS -msimd128 enc_i8.c -o enc_i8_simd128.wasm
if $CC $FLAGS -msimd128 -mrelaxed-simd -DRELAXED enc_i8.c -o enc_i8_relaxed.wasm 2>/dev/null; then
  echo "built enc_i8_simd128.wasm and enc_i8_relaxed.wasm with $($CC --version | head -1)"
else
  rm -f enc_i8_relaxed.wasm
  echo "built enc_i8_simd128.wasm with $($CC --version | head -1) (no relaxed SIMD: install clang-19)"
fi
