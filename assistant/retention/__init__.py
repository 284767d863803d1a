"""Retention and deletion of personal data: what is stored where (registry.py), how long
(settings.py), purging old data and forgetting one customer (purge.py), `make purge` /
`make forget` (cli.py). docs/retention.md explains the policy."""
