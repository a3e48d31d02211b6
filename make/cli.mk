# CLI extras: manual pages and shell completions.
#   make man                    regenerate man/ from the CLI's help (scripts/gen-man)
#   make completions            write completions/ for bash, zsh and fish
#   make install-completions    copy them under $(DESTDIR)$(PREFIX)
#   make install-man            copy man/*.1 under $(DESTDIR)$(PREFIX)/share/man/man1

PREFIX ?= /usr/local
DESTDIR ?=
QUANTSCOPE_BIN ?= .build/debug/quantscope
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR ?= $(PREFIX)/share/zsh/site-functions
FISH_COMPLETION_DIR ?= $(PREFIX)/share/fish/vendor_completions.d
MAN1_DIR ?= $(PREFIX)/share/man/man1

.PHONY: man completions install-completions install-man

man:
	scripts/gen-man

# The default binary is rebuilt first (incremental), so completions match the sources.
completions:
	@if [ "$(QUANTSCOPE_BIN)" = ".build/debug/quantscope" ]; then swift build --product quantscope; fi
	mkdir -p completions
	$(QUANTSCOPE_BIN) --generate-completion-script bash > completions/quantscope.bash
	$(QUANTSCOPE_BIN) --generate-completion-script zsh > completions/_quantscope
	$(QUANTSCOPE_BIN) --generate-completion-script fish > completions/quantscope.fish

install-completions: completions
	install -d "$(DESTDIR)$(BASH_COMPLETION_DIR)" "$(DESTDIR)$(ZSH_COMPLETION_DIR)" "$(DESTDIR)$(FISH_COMPLETION_DIR)"
	install -m 644 completions/quantscope.bash "$(DESTDIR)$(BASH_COMPLETION_DIR)/quantscope"
	install -m 644 completions/_quantscope "$(DESTDIR)$(ZSH_COMPLETION_DIR)/_quantscope"
	install -m 644 completions/quantscope.fish "$(DESTDIR)$(FISH_COMPLETION_DIR)/quantscope.fish"

install-man:
	install -d "$(DESTDIR)$(MAN1_DIR)"
	install -m 644 man/*.1 "$(DESTDIR)$(MAN1_DIR)/"
