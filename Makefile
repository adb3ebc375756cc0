.PHONY: up test bootstrap
up:          ## start the embedded stack (installs what it needs); ARGS=--demo for the scripted model
	scripts/up $(ARGS)
test:        ## run the whole test suite (installs what it needs)
	scripts/test
bootstrap:   ## only install into .venv
	scripts/bootstrap
