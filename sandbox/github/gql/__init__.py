"""GitHub's GraphQL API over the sandbox world, validated and executed against GitHub's own schema.

`schema.graphql` is GitHub's public schema as published in `octokit/graphql-schema`
(MIT, see LICENSE.md beside it); every query is checked against it before it runs.
"""
