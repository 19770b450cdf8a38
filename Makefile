# replenishd: `make demo` runs the main job, `make test` runs the tests. Both install what is
# missing on Debian 12 first (apt, with sudo when not root).

APT_PACKAGES := pkg-config libmosquitto-dev libssl-dev mosquitto mosquitto-clients libgpiod-dev gpiod \
                libsqlite3-dev sqlite3 libsystemd-dev libyaml-dev systemd binutils dpkg python3-jsonschema
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
DAYS ?= 30
# Debian's python3, which the jsonschema of APT_PACKAGES belongs to (not a python3 of a virtualenv or pyenv).
PYTHON ?= /usr/bin/python3

MANDIR := .build/plugins/GenerateManual/outputs/replenishd
DESTDIR ?=
PREFIX ?= /usr

.PHONY: all deps build release release-flags order-file man demo test check-profiles check-gpiod2 deb check-deb check-footprint install test-emulator test-system powercut \
        bench fleet torture fuzz clean check-contract

all: build

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build

# The shipped binary: the Swift standard library linked in, so the board needs no Swift runtime.
# Every function in a section of its own (ours and the packages'), so that the linker can put the
# ones a start and an idle day run side by side (Sources/replenishd/startup.order, see
# `order-file`): the kernel maps 64 KiB of the binary around every page touched, so scattered hot
# code keeps most of the binary resident (issue 16).
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

# For scripts that build the release binary themselves (Benchmarks/bench.py).
release-flags:
	@echo $(RELEASE_FLAGS)

# Regenerates Sources/replenishd/startup.order: the functions the release binary runs from start
# through connect, start-up report, sampling and idle (the coffee-machine profile, simulated, with
# a private mosquitto), recorded with valgrind's callgrind. Names it no longer finds are ignored
# by the linker, so a stale list costs memory, not correctness; regenerate after large changes.
order-file: release
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(APT_PACKAGES) valgrind python3"
	python3 Benchmarks/order_file.py .build/release/replenishd Sources/replenishd/startup.order
	rm -f .build/release/replenishd  # SwiftPM does not see the list change: relink with it
	$(MAKE) --no-print-directory release

# The man page, every subcommand in one replenishd.1, from the command definitions
# (swift-argument-parser's generate-manual plugin). The plugin builds the package first: in debug,
# which `make test` has already done, not a second release build. Dated by the last commit, so
# the same source makes the same page.
MANDATE := $(shell git log -1 --format=%cs 2>/dev/null)
man: deps
	rm -rf $(MANDIR)
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --configuration debug \
	  $(if $(MANDATE),--date $(MANDATE))

# The Debian package: .build/deb/replenishd_<version>_<arch>.deb.
deb: deps
	$(MAKE) man
	$(MAKE) release
	packaging/build-deb.sh .build/release/replenishd $(MANDIR)

check-deb: deb
	packaging/check-deb.sh .build/deb/replenishd_*.deb

# The release binary links no full Foundation and no ICU (issue 16: one stray full-Foundation API
# adds 42 MB), and its stripped size stays within 20 MB, the board's budget (18.0 MB today, with
# the release link of Package.swift; `make bench` has the figures and the resident set).
check-footprint: release
	packaging/check-footprint.sh .build/release/replenishd 20

# A plain install of the same files (DESTDIR and PREFIX respected); run `systemd-sysusers`,
# `systemd-tmpfiles --create` and `udevadm control --reload` afterwards as the package does.
install: deps
	$(MAKE) man
	$(MAKE) release
	mkdir -p .build/completions
	.build/release/replenishd --generate-completion-script bash > .build/completions/replenishd.bash
	.build/release/replenishd --generate-completion-script zsh > .build/completions/_replenishd
	.build/release/replenishd --generate-completion-script fish > .build/completions/replenishd.fish
	packaging/install-files.sh "$(DESTDIR)" .build/release/replenishd $(MANDIR) .build/completions $(PREFIX)

# The demo's messages (and the commands its simulated cloud sends) are checked against the
# contract's schemas afterwards (schemas/, Tests/Contract/validate.py).
DEMO_CAPTURE := .build/demo-capture.jsonl
demo: build
	rm -f $(DEMO_CAPTURE)
	.build/debug/replenishd demo --days $(DAYS) --capture $(DEMO_CAPTURE)
	$(PYTHON) Tests/Contract/validate.py $(DEMO_CAPTURE)

check-profiles: build
	@for f in Hardware/profiles/*.yaml; do .build/debug/replenishd check --file-only --config $$f || exit 1; done

# The unit and integration tests, then the emulated board (Debian's kernel under qemu with
# gpio-sim and i2c-stub; a few power cuts). EMULATOR=0 skips the board. Tests/watchdog.sh ends a
# hung `swift test` after 30 minutes and names the tests that did not finish.
# Every message the tests' subscribers receive is captured (REPLENISHD_CAPTURE_DIR) and checked
# against the contract's schemas after the run (Tests/Contract/validate.py).
EMULATOR ?= 1
CONTRACT_CAPTURE := .build/contract-capture
test: build check-profiles check-contract
	rm -rf $(CONTRACT_CAPTURE) && mkdir -p $(CONTRACT_CAPTURE)
	REPLENISHD_CAPTURE_DIR=$(CURDIR)/$(CONTRACT_CAPTURE) SWIFT=$(SWIFT) Tests/watchdog.sh
	$(PYTHON) Tests/Contract/validate.py $(CONTRACT_CAPTURE)
	for profile in Hardware/profiles/*.yaml; do \
	  .build/debug/replenishd alexa-discovery --config $$profile > $(CONTRACT_CAPTURE)/discovery-$$(basename $$profile .yaml).json || exit 1; \
	done
	$(PYTHON) Tests/Contract/validate.py --discovery $(CONTRACT_CAPTURE)/discovery-*.json
	@if [ "$(EMULATOR)" = 1 ]; then $(MAKE) --no-print-directory test-emulator; fi

# The contract's schemas (schemas/): that they can fail (Tests/Contract/selfcheck.py: broken
# messages rejected, good ones accepted), and that the golden alexa members and the README's
# example messages are valid.
check-contract: deps
	$(PYTHON) Tests/Contract/selfcheck.py
	$(PYTHON) Tests/Contract/validate.py --golden Tests/ReplenishCoreTests/Golden --readme README.md

# The GPIO shim must also compile against libgpiod 2.x (Debian 13 and later); its headers come
# from PyPI's gpiod sdist.
check-gpiod2:
	Hardware/gpiod2/check.sh

# The emulated board (Hardware/emulator): the release build against Debian's kernel under qemu,
# with gpio-sim and i2c-stub for sensors, then a short power-cut series; beside them, on the
# other core, the simulated days (qemu's clock skipping idle time; its log is printed after).
# Installs qemu, the kernel and its sources on first run.
test-emulator: release
	Hardware/emulator/run.sh --prepare
	@Hardware/emulator/run.sh --days > .build/emulator-days.log 2>&1 & days=$$!; \
	 Hardware/emulator/run.sh && Hardware/emulator/run.sh --powercut 3; board=$$?; \
	 wait $$days; simulated=$$?; \
	 echo "--- simulated days"; cat .build/emulator-days.log; \
	 [ $$board = 0 ] && [ $$simulated = 0 ]

# The .deb under a real systemd (Hardware/system): a Debian 12 root file system from debootstrap
# (cached in .build/system), Debian's kernel under qemu with the emulated board's gpio-sim and
# i2c-stub, the package installed with apt, then systemctl, journalctl -o json and a broker in the
# guest: READY and STATUS, MESSAGE_IDs, devices, bad config, reload, kill -9, watchdog, reboot,
# purge. Prints boot-to-active, start-to-READY, the exposure score and an idle minute's journal.
test-system: deb
	Hardware/system/run.sh

# The power-cut series: qemu killed POWERCUTS times at random moments with the guest's state on
# a virtio disk and the broker on the host, which publishes desired configurations just before
# each cut; then integrity_check, every committed seq delivered, and the remote overlay left on
# disk whole, started on and answered (Hardware/emulator/check-powercut.py).
POWERCUTS ?= 50
powercut: release
	Hardware/emulator/run.sh --powercut $(POWERCUTS)

# Benchmarks (Benchmarks/): footprint, idle CPU, backlog drain, queueing and start-up side by side
# with their references; results in Benchmarks/results/latest.{md,json}. Figures, never pass/fail.
# BENCH_IDLE_SECONDS=10 (and BENCH_DRAIN_REPORTS, BENCH_QUEUE_REPORTS, BENCH_STARTUP_RUNS) shorten it.
BENCH_APT := python3 python3-venv gcc libc6-dev binutils

bench:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(APT_PACKAGES) $(BENCH_APT)"
	python3 Benchmarks/bench.py

# A fleet of replenishd processes against one mosquitto that is restarted mid-run: reconnect
# spread and delivery of every seq. FLEET_SIZE=20 for a quick run; results in Benchmarks/results/fleet.*
fleet:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(APT_PACKAGES) $(BENCH_APT)"
	$(SWIFT) build $(RELEASE_FLAGS)
	FLEET_BINARY=.build/release/replenishd python3 Benchmarks/fleet.py

# Torture (Benchmarks/torture.py): 100 SIGKILLs over an accelerated month with the broker
# flapping, 50 broker restarts, a full disk on a small tmpfs (root). Each prints produced,
# delivered, lost, duplicated and evicted; results in Benchmarks/results/torture.{md,json}.
torture: release
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(APT_PACKAGES) python3"
	TORTURE_BINARY=.build/release/replenishd python3 Benchmarks/torture.py

# libFuzzer (swiftc -sanitize=fuzzer) on the command decoder, the config decoder and command
# sequences applied to the books, FUZZ_RUNS executions each from the corpus in Tests/Fuzz/Corpus,
# which keeps what found new coverage. FUZZ_TARGETS picks some ("commands sequence").
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS ?= commands config sequence
FUZZ_BUILD = REPLENISHD_FUZZ=1 $(SWIFT) build --build-path .build/fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
fuzz: deps
	$(FUZZ_BUILD) --product fuzz-commands
	$(FUZZ_BUILD) --product fuzz-config
	$(FUZZ_BUILD) --product fuzz-sequence
	FUZZ_TARGETS="$(FUZZ_TARGETS)" Tests/Fuzz/run.sh $(FUZZ_RUNS)

clean:
	rm -rf .build
