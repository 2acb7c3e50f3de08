# failoverd: build, test, install. `make check` is what CI and a newcomer run; it installs its own packages.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/failoverd
UNITDIR    ?= /usr/lib/systemd/system
DESTDIR    ?=
VERSION    := 0.1.0

PKGS       := libconfig libsystemd json-c libmnl
# libcurl: headers only; lib/check_http.c loads it when an http check first runs.
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
CC         ?= cc
CFLAGS     ?= -O2 -g
# -Werror for developers and `make check` (CI); a distribution build (`make deb`, `make rpm`, a newer
# compiler with new warnings) passes WERROR=0 and gets the warnings without failing on them.
WERROR     ?= 1
WFLAGS     := -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-missing-field-initializers
# Each object's header dependencies from the compiler (build/*/**.d), not every object on every header.
DEPFLAGS    = -MMD -MP
CPPFLAGS   += -D_GNU_SOURCE -DVERSION=\"$(VERSION)\" -DSYSCONFDIR=\"$(SYSCONFDIR)\" -iquote lib

ifeq ($(SANITIZE),1)
B          := build/san
CFLAGS     += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=address,undefined
else
B          := build/release
endif

PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CURL_CFLAGS)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_FLAGS = $(shell pkg-config --cflags --libs check 2>/dev/null)

LIB_SRC    := $(sort $(wildcard lib/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
LIB        := $(B)/libfailoverd.a
D_SRC      := $(filter-out agent/failoverctl.c,$(sort $(wildcard agent/*.c)))
CTL_SRC    := agent/failoverctl.c
# Every agent/ file but main()'s, linked into the unit runner too.
AGENT_SRC  := $(filter-out agent/failoverd.c,$(D_SRC))
UNIT_SRC   := $(sort $(wildcard test/unit/test_*.c))
UNIT_HELP  := $(filter-out $(UNIT_SRC) test/unit/runner.c,$(sort $(wildcard test/unit/*.c)))
SUITES     := $(patsubst test/unit/test_%.c,%,$(UNIT_SRC))

BINS       := $(B)/failoverd $(B)/failoverctl

.PHONY: all check unit integration golden-check golden deps need-deps install clean demo bench fuzz fuzz-short memcheck docs-check \
        deb rpm rpm-check check-debian13 monitoring-check

all: $(BINS)

$(B)/%.o: %.c $(B)/%.d
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(WFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/failoverd: $(D_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/failoverctl: $(if $(wildcard $(CTL_SRC)),$(CTL_SRC:%.c=$(B)/%.o)) $(LIB)
	$(if $(wildcard $(CTL_SRC)),$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS),@printf '#!/bin/sh\necho "failoverctl: not built yet" >&2; exit 2\n' > $@; chmod +x $@)

# One Check runner collects every suite: each test/unit/test_NAME.c defines Suite *NAME_suite(void).
$(B)/test/suites.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	@printf '%s\n' $(foreach s,$(SUITES),'SUITE($(s))') > $@

$(B)/test/unit/%.o: test/unit/%.c $(B)/test/unit/%.d $(B)/test/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) -iquote agent -I$(B)/test -DTEST_DIR=\"$(CURDIR)/test\" -DBUILD_DIR=\"$(CURDIR)/$(B)\" \
		$(WFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags check 2>/dev/null) -c -o $@ $<

$(B)/test/unit/runner: $(B)/test/unit/runner.o $(UNIT_SRC:%.c=$(B)/%.o) $(UNIT_HELP:%.c=$(B)/%.o) \
		$(AGENT_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_FLAGS)

# An object without its .d (a tree built before -MMD) is rebuilt once; the .d files then list the headers.
# The .d files are explicit targets: as a pattern rule's, make would take them as intermediate and ignore
# a missing one.
ALL_DEP    := $(patsubst %.c,$(B)/%.d,$(LIB_SRC) $(D_SRC) $(CTL_SRC) $(UNIT_SRC) $(UNIT_HELP) test/unit/runner.c)
$(ALL_DEP):
include $(wildcard $(ALL_DEP))

# Installs the Debian packages that build, tests and demo need. Needs root.
DEB_PKGS := build-essential pkg-config libconfig-dev libsystemd-dev libjson-c-dev libcurl4-openssl-dev libmnl-dev check frr \
            frr-pythontools iproute2 procps psmisc util-linux groff-base man-db systemd \
            valgrind clang libclang-rt-dev llvm python3 openssl dbus-daemon \
            dpkg-dev lintian debootstrap systemd-container prometheus rpm rpmlint bird2
# Unversioned names only (Debian 12 and 13 both have them; prometheus for promtool, rpm for rpmbuild, bird2 for
# the lab's BIRD route servers); llvm brings llvm-symbolizer, which LeakSanitizer
# needs to match test/fuzz/lsan.supp. Other apt runs (unattended upgrades, a second make) may hold the lock.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600
deps:
	$(APT_GET) update
	$(APT_GET) install -y --no-install-recommends $(DEB_PKGS)

need-deps:
	@test/need-deps || $(MAKE) --no-print-directory deps

unit: $(B)/test/unit/runner $(BINS)
	CK_DEFAULT_TIMEOUT=60 FAILOVERD_BIN=$(CURDIR)/$(B)/failoverd $(B)/test/unit/runner

golden-check: $(BINS)
	test/golden-check $(B)/failoverd

# Regenerates test/golden/*.out from *.in. Never run by `make check`: review the diff, then commit.
golden: $(BINS)
	test/golden-check --regenerate $(B)/failoverd

integration: $(BINS)
	FAILOVERD_BUILD=$(CURDIR)/$(B) test/run-integration

# Man pages render without warnings and document every key the parser accepts.
docs-check: $(BINS)
	@if [ -x test/docs-check ]; then test/docs-check; else echo "docs-check: test/docs-check not written yet"; fi

# The shipped Prometheus rules (promtool check and test rules) and Grafana dashboard (structure, PromQL,
# every series listed in docs/metrics.md).
monitoring-check:
	test/monitoring-check

# libFuzzer harnesses (clang): `make fuzz` runs each for FUZZ_SECONDS; `make check` runs a short bounded pass.
FUZZ_SECONDS ?= 60
fuzz:
	test/fuzz/run $(FUZZ_SECONDS)
fuzz-short:
	@if [ -x test/fuzz/run ]; then test/fuzz/run 10; else echo "fuzz: test/fuzz/run not written yet"; fi

# The unit suites under valgrind memcheck: zero errors, zero leaks.
memcheck: $(B)/test/unit/runner
	CK_FORK=no FAILOVERD_BIN=$(CURDIR)/$(B)/failoverd valgrind --error-exitcode=1 --leak-check=full \
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--child-silent-after-fork=yes --track-fds=no $(B)/test/unit/runner

demo: need-deps all
	test/demo/demo.sh

# keepalived only for the bench's side-by-side row (test/bench/native.sh), not a dependency of make check.
bench: need-deps all
	@[ -x /usr/sbin/keepalived ] || $(APT_GET) install -y --no-install-recommends keepalived
	test/bench/bench.sh

check: need-deps
	$(MAKE) --no-print-directory WERROR=1 all unit golden-check docs-check monitoring-check rpm-check
	$(MAKE) --no-print-directory WERROR=1 SANITIZE=1 all unit
	$(MAKE) --no-print-directory WERROR=1 SANITIZE=1 integration
	$(MAKE) --no-print-directory fuzz-short

# `make check` from a clean clone (committed work only) in a fresh minimal Debian 13 root: debootstrap once,
# cached in /var/cache/failoverd-ci; SUITE=bookworm or SUITE=sid for the other releases. Needs root.
SUITE ?= trixie
check-debian13:
	test/check-debian $(SUITE)

install: $(BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/failoverd/conf.d $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/failoverd/failoverd.conf || \
		install -m 0644 conf/failoverd.conf $(DESTDIR)$(SYSCONFDIR)/failoverd/failoverd.conf
	for u in units/*.service.in; do n=$${u##*/}; n=$${n%.in}; \
		sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$$n; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$n; done
	for m in docs/*.[58]; do [ -e "$$m" ] || continue; s=$${m##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR)/grafana
	install -m 0644 conf/prometheus/failoverd.rules.yml $(DESTDIR)$(DATADIR)/prometheus/
	install -m 0644 conf/grafana/failoverd.json $(DESTDIR)$(DATADIR)/grafana/

# build/failoverd_VERSION_ARCH.deb: hardened build, Depends from the shared libraries (units/debian/).
deb:
	units/debian/build-deb $(VERSION)

# build/rpm/RPMS/ARCH/failoverd-VERSION-1.ARCH.rpm with rpmbuild (RHEL, Rocky, Alma; Debian's rpm package
# builds it too): units/rpm/failoverd.spec. rpm-check builds it and runs rpmlint on it (make check).
rpm:
	units/rpm/build-rpm $(VERSION)
rpm-check:
	units/rpm/check-rpm $(VERSION)

clean:
	rm -rf build
