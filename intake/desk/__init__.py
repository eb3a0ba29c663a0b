"""The desk's keys and records: signed keyring, rotation, setup, audit, backup, restore."""
