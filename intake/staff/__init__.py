"""Reviewers and admins: accounts, key pairs, sessions, invites and key replacement."""
