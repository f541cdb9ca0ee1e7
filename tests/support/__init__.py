"""Helpers the test tiers share: point builders, the in-process CLI, manifest variants, stacks under the mock runtime."""
