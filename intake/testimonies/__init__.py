"""What families send: storing it sealed, reading and triaging it, codes, files and links."""
