"""The root of the tests: the shared fixtures come from `testing.fixtures`; factories, mocks
and helpers are imported from the `testing` package."""

pytest_plugins = ["testing.fixtures"]
