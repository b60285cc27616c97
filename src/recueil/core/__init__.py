"""Foundations of every stage: diagnostics, safe YAML, input limits, remote images, atomic
writes, the build lock."""
