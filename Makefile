# The two commands: `make run` opens the app, `make test` runs every check.
# Both install what is missing first (see scripts/bootstrap.sh).
SHELL := bash
.DEFAULT_GOAL := help

.PHONY: help run test app ui bindings icons fmt fuzz bench package

help:
	@echo "make run       build and open the Doorstep desktop app"
	@echo "make test      run every check: formatting, lints, UI and Rust tests, the app window"
	@echo "make package   build the installable packages (.deb, .rpm) into target/release/bundle/"
	@echo "make bindings  regenerate ui/src/lib/bindings.ts from the Rust types"
	@echo "make icons     regenerate icons/ from icons/doorstep.svg"
	@echo "make fuzz      fuzz the signed formats' decoders, the cloud's handlers and its OpenAPI contract, longer than make test does"
	@echo "make bench     measure SPEC §8 on loopback beside NATS, Mosquitto, an empty Tauri window and Chromium (release build); BENCH_ARGS=--households=N"

run:
	@scripts/bootstrap.sh run
	@$(MAKE) --no-print-directory app
	@scripts/run-app.sh

test:
	@scripts/test.sh

ui:
	npm --prefix ui run --silent build

app: ui
	cargo build -p doorstep-app -p doorstep-app-e2e -p doorstep-cloud -p doorstep-lock -p doorstep-courier -p doorstep-cli -p doorstep-bench -p doorstep-empty-window --bins

package:
	@scripts/bootstrap.sh run
	@scripts/package.sh

bindings:
	DOORSTEP_UPDATE_BINDINGS=1 cargo test -p doorstep-core --lib ipc::tests::committed_typescript_bindings_match_the_rust_types

icons:
	cd ui && npx tauri icon ../icons/doorstep.svg -o ../icons && rm -rf ../icons/android ../icons/ios

fmt:
	cargo fmt --all

fuzz:
	scripts/fuzz.sh

bench:
	@scripts/bench.sh $(BENCH_ARGS)
