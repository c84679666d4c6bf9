"""The YAML knowledge base (answers, examples, operator data) and its validating loader."""
