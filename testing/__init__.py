"""What the tests share: factories, the outside services' mocks fed with the shared fixtures,
and helpers for databases, credits and races. The pytest fixtures built on them are in
`testing.fixtures`, which the root conftest.py loads as a plugin; tests import the rest from
here (never from conftest, which pytest advises against)."""
