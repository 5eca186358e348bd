"""The model language: spec (what analysts write), load, expressions, compile."""
