# replenishd: `make demo` runs the main job, `make test` runs the tests. Both install what is
# missing on Debian 12 first (apt, with sudo when not root).

APT_PACKAGES := pkg-config libmosquitto-dev mosquitto mosquitto-clients libgpiod-dev gpiod \
                libsqlite3-dev sqlite3 libsystemd-dev systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
DAYS ?= 30

.PHONY: all deps build release demo test check-profiles check-gpiod2 clean

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

release: deps
	$(SWIFT) build -c release

demo: build
	.build/debug/replenishd demo --days $(DAYS)

check-profiles: build
	@for f in Hardware/profiles/*.yaml; do .build/debug/replenishd check --config $$f || exit 1; done

test: build check-profiles
	$(SWIFT) test

# The GPIO shim must also compile against libgpiod 2.x (Debian 13 and later); its headers come
# from PyPI's gpiod sdist.
check-gpiod2:
	Hardware/gpiod2/check.sh

clean:
	rm -rf .build
