"""bgagent's AWS deployment as Pulumi components, built from shared.topology."""
