"""The AI features, one module each. A module here declares `FEATURE = Feature(...)` (see
`ai_features.features.base`) and imports nothing of another feature; `registry` finds them all."""
