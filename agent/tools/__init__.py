"""The client tools the model drives: bash and the text editor, confined to the workspace."""
