# Folio's two commands:
#   make run    set everything up, build, and serve Folio on http://127.0.0.1:3000 (demo mode)
#   make test   set everything up and run every check and test
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# wasm-opt from .tools/ (see scripts/setup.sh) and cargo-installed tools come first.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos passes these to every build it runs. The checks and tests below pass the same
# values, so the dependencies that read them at compile time are built once, not twice.
export LEPTOS_OUTPUT_NAME := folio
export LEPTOS_SITE_ROOT := target/site
export LEPTOS_SITE_PKG_DIR := pkg

# cargo-leptos builds everything with `--cfg erase_components` (`always-erase-components` in
# Cargo.toml); the lint and test steps use the same flag so that they share those builds'
# dependencies.
lint unit scale: export RUSTFLAGS := --cfg erase_components

.PHONY: run test bench soak bench-micro release setup-run setup-test setup-bench fmt-check layout lint unit build scale e2e clean

run: setup-run
	cargo leptos serve --release --precompress

test: setup-test fmt-check layout lint unit build scale e2e
	@echo "make test: every check passed"

setup-run:
	scripts/setup.sh run

setup-test:
	scripts/setup.sh test

fmt-check:
	cargo fmt --all --check

# No import cycle between the top-level modules of a crate nor between the files of a folder,
# and no file too long to read (see the script).
layout:
	python3 scripts/check-layout.py --self-test

lint:
	cargo clippy --workspace --all-targets --features folio/ssr -- -D warnings
	cargo clippy -p folio --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
	@# The browser bundle must not carry server-only crates.
	@if cargo tree -p folio --no-default-features --features hydrate --target wasm32-unknown-unknown \
	    -e normal --prefix none | grep -E '^(reqwest|sqlx|tokio|mio|hyper|axum|flexportal) '; then \
	  echo "server-only crates in the WASM bundle"; exit 1; fi

# One test at a time: each test runs its own Tokio runtime, and Leptos' server rendering, built
# for one runtime per process, can stall a response when several run side by side in one
# process (about one page in a few thousand). Production has one runtime; tests/it/concurrency.rs
# loads the pages concurrently on one runtime, as it runs there.
unit:
	cargo test --workspace --features folio/ssr -- --test-threads=1

build:
	cargo leptos build

# Two instances of the built binary on one PostgreSQL database behind HAProxy: shared answers,
# sessions and budget, SIGTERM and SIGKILL under load (see crates/folio-bench/src/scale.rs).
scale:
	cargo run -p folio-bench -- scale --folio target/debug/folio

e2e:
	cd end2end && npx playwright test

# Benchmarks print their figures; they never fail on speed. `bench` writes bench/REPORT.md:
# the release build under wrk load beside a static ceiling, latency, upstream calls, the
# budget, memory, bundle sizes and Lighthouse (see crates/folio-bench).
bench: setup-bench release
	cargo run --release -p folio-bench -- bench

# Steady load for a few minutes while the stand-in injects 429 bursts, 500s and hangs; fails
# only on a correctness failure (an unintended 5xx, the budget overrun, memory growth).
soak: setup-bench release
	cargo run --release -p folio-bench -- soak

# In-process micro-benchmarks: sign-in timing, session lookups, the FlexPortal client.
bench-micro: setup-run
	cargo run --release -p flexportal --example client_bench
	cargo run --release --features ssr --example bench

release:
	cargo leptos build --release --precompress

setup-bench:
	scripts/setup.sh bench

clean:
	cargo clean
	rm -rf end2end/test-results
