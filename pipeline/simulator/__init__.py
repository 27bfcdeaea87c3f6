"""A local Shopify Admin GraphQL API: the demo, the tests and the benchmarks run against it."""
