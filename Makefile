# quantscope: the targets live in make/*.mk, one file per area.
.DEFAULT_GOAL := help

.PHONY: help
help:
	@echo "targets: man completions install-completions install-man (see make/*.mk)"

include $(wildcard make/*.mk)
