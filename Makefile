# Convenience entry points; the build itself is Meson (meson.build).
#   make demo   install what is missing, build, install, run the CSPOT
#               demo apps on the user-space engine (no kernel module)
#   make test   install what is missing, build, install, run every test
#               suite (the apps and tests run from the build tree; a failed
#               install is reported and does not stop them)
#   make install  build, then install into /usr/local (libwoof, headers,
#               woof.pc, woofctl, woof-bench, man pages); sudo when not root
#   make install-kmod  build, then install woof.ko for the kernel it was
#               built for (/lib/modules/KVER/updates/), its udev rule, and
#               run depmod; then "modprobe woof" loads it
#   make install-dkms  install woof.ko's source as /usr/src/woof-VERSION/
#               and let DKMS build and install it for the running kernel
#               (and every later one); KVER=... for another kernel
#   (Documentation/kmod-install.md)
#   make        build only
#   make test-kasan  build a KASAN + UBSAN guest kernel from Debian's
#               linux-source-6.1 (an hour or more the first time, cached
#               after), then run the kernel tests and a long ioctl fuzz run
#               under it (selftests/vm/test-kasan.sh); not part of make test
BUILD ?= build
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

VERSION := $(shell sed -n "s/^  version: '\(.*\)',$$/\1/p" meson.build)

.PHONY: all build install install-kmod install-dkms demo test test-kasan clean

all: build

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

install: build
	$(SUDO) meson install -C $(BUILD) --quiet
	$(SUDO) ldconfig

install-kmod: build
	$(SUDO) env $(if $(DESTDIR),DESTDIR=$(DESTDIR)) kmod/install-kmod.sh module $(BUILD)/kmod/woof.ko . $(KVER)

install-dkms:
	$(SUDO) kmod/install-kmod.sh dkms-source . $(VERSION)
	$(SUDO) dkms install woof/$(VERSION) $(if $(KVER),-k $(KVER))

demo:
	tools/install-deps.sh demo
	$(MAKE) build
	$(MAKE) install || echo "make: woof was built but not installed" >&2
	apps/run-demo.sh $(BUILD)

test:
	tools/install-deps.sh test
	$(MAKE) build
	$(MAKE) install || echo "make: woof was built but not installed" >&2
	selftests/run-all.sh $(BUILD)

test-kasan: build
	selftests/vm/test-kasan.sh $(BUILD)

clean:
	rm -rf $(BUILD)
